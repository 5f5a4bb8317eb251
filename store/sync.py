"""Syncs from CSV files and APIs: each good one becomes a new snapshot of its source, all or
nothing."""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

import httpx
import polars as pl
import sqlalchemy as sa
from sqlalchemy.orm import Session

from connectors.csv import Imported, Source, read_catalog, read_psa, read_usage
from connectors.http import Meter, metering
from connectors.registry import Delta, Pulled
from engine.schema import CATALOG, PSA_LINES, USAGE
from errors import ConnectorError, TrueUpError
from store import bulk, credentials
from store.access import Permission, authorize
from store.audit import audit, current_user
from store.commitments import write_commitments
from store.db import Store
from store.models import Base, SyncRun
from store.models import Source as SourceRow
from store.retention import prune
from store.running import Heartbeat, claim, lock_source, this_host
from store.sources import ensure_source, source_config, source_named
from store.types import SnapshotKind, SourceKind, SyncMode, SyncStatus, now

ImportKind = Literal["psa", "usage", "catalog"]
TARGETS = {
    "psa": (SourceKind.PSA, "psa_lines", PSA_LINES),
    "usage": (SourceKind.VENDOR, "usage_lines", USAGE),
    # The catalogue is the PSA's: its own kind of snapshot of the PSA source.
    "catalog": (SourceKind.PSA, "catalog_lines", CATALOG),
}


@dataclass(frozen=True)
class ImportResult:
    """A good sync: its run, what was read and stored, and which old snapshots were pruned."""

    sync_run_id: int
    source: str
    rows_read: int
    rows_stored: int
    columns: dict[str, str]
    """Field to the header it was read from."""
    warnings: list[str]
    vendors: list[str]
    pruned: list[int]


def import_csv(
    store: Store,
    source_name: str,
    kind: ImportKind,
    file: Source,
    *,
    name: str | None = None,
    vendor: str | None = None,
    distributor: str | None = None,
    columns: dict[str, str] | None = None,
    decimal_comma: bool | None = None,
    sheet: str | None = None,
    user: str | None = None,
    at: datetime | None = None,
    on_progress: bulk.Progress | None = None,
) -> ImportResult:
    """Give back the sync run that made `file` (CSV or .xlsx) the source's current snapshot.

    Usage rows take their vendor from the file's vendor column, else `vendor`, else the
    source's name. `columns` and `decimal_comma`, when given, are remembered in the source's
    profile and used for its later files; a catalogue (another file of the PSA source, with
    other columns) shares only the profile's `decimal_comma`, and remembers nothing. The run is
    recorded as `running` first, so that an interrupted sync leaves a trace; its rows and its
    `ok` commit in one transaction. On any failure that transaction rolls back, the run is
    marked `failed` with the error, the previous snapshot of its kind stays current, and the
    error is raised again.
    """
    source_kind = TARGETS[kind][0]
    user = user or current_user()
    started = at or now()
    file_name = name or (None if isinstance(file, bytes) else Path(file).name)
    with store.session() as session:
        authorize(session, user, Permission.SYNC)
        source = ensure_source(session, source_name, source_kind, started, distributor)
        source_id, source_name = source.id, source.name
        remember = kind != "catalog"
        profile = columns if columns is not None or not remember else source.columns
        comma = decimal_comma if decimal_comma is not None else source.decimal_comma
        run = SyncRun(
            source_id=source_id,
            kind=SnapshotKind(kind),
            mode=SyncMode.CSV,
            status=SyncStatus.RUNNING,
            started_at=started,
            file_name=file_name,
            made_by=user,
            pruned=False,
            pid=os.getpid(),
            host=this_host(),
        )
        session.add(run)
        session.flush()
        run_id = run.id
        fill_distributor = source.distributor

    try:
        imported = _read(kind, file, name, vendor or source_name, profile, comma, sheet)
        frame = imported.frame
        vendors: list[str] = []
        if kind == "usage":
            if fill_distributor:
                frame = frame.with_columns(pl.col("distributor").fill_null(fill_distributor))
            vendors = sorted(frame.get_column("vendor").drop_nulls().unique().to_list())
            vendors = vendors or [vendor or source_name]
        with store.session() as session:
            finished = at or now()
            stored = store_snapshot(
                session,
                run_id,
                kind,
                frame,
                rows_read=imported.rows,
                vendors=vendors,
                warnings=imported.warnings,
                finished=finished,
                on_progress=on_progress,
            )
            if remember and (columns is not None or decimal_comma is not None):
                row = session.get_one(SourceRow, source_id)
                row.columns, row.decimal_comma = profile, comma
            audit(
                session,
                user,
                "sync",
                {
                    "source": source_name,
                    "kind": kind,
                    "sync_run": run_id,
                    "rows": stored,
                    "file": file_name,
                },
                finished,
            )
    except BaseException as error:  # an interrupt too: the run must not stay `running`
        _record_failure(store, run_id, source_name, error, user, at)
        raise
    warnings = list(imported.warnings)
    try:
        pruned = prune(store, source_id)
    except Exception as error:
        # The sync itself is done and current; the next sync prunes what this one could not.
        pruned = []
        warnings.append(f"old snapshots were not pruned this time: {error}")
    return ImportResult(
        run_id, source_name, imported.rows, stored, imported.columns, warnings, vendors, pruned
    )


def store_snapshot(
    session: Session,
    run_id: int,
    kind: ImportKind,
    frame: pl.DataFrame,
    *,
    rows_read: int,
    vendors: list[str],
    warnings: list[str],
    finished: datetime,
    on_progress: bulk.Progress | None = None,
) -> int:
    """Give back how many rows became the snapshot of the running sync `run_id`, after writing
    them and marking the run `ok`, in the caller's transaction."""
    _, table, schema = TARGETS[kind]
    stored = bulk.write_rows(session.connection(), table, schema, run_id, frame, on_progress)
    session.execute(
        sa.update(SyncRun)
        .where(SyncRun.id == run_id)
        .values(
            status=SyncStatus.OK,
            finished_at=finished,
            rows_read=rows_read,
            rows_stored=stored,
            vendors=vendors or None,
            warnings=warnings or None,
        )
    )
    return stored


def _read(
    kind: ImportKind,
    file: Source,
    name: str | None,
    vendor: str,
    columns: dict[str, str] | None,
    decimal_comma: bool,
    sheet: str | None,
) -> Imported:
    if kind == "psa":
        return read_psa(file, name=name, columns=columns, decimal_comma=decimal_comma, sheet=sheet)
    if kind == "catalog":
        return read_catalog(
            file, name=name, columns=columns, decimal_comma=decimal_comma, sheet=sheet
        )
    return read_usage(
        file, name=name, vendor=vendor, columns=columns, decimal_comma=decimal_comma, sheet=sheet
    )


def _record_failure(
    store: Store,
    run_id: int,
    source_name: str,
    error: BaseException,
    user: str,
    at: datetime | None,
    message: str | None = None,
    progress: dict[str, object] | None = None,
) -> None:
    if message is None:
        message = describe(error)
    finished = at or now()
    failed: dict[str, object] = {"status": SyncStatus.FAILED, "finished_at": finished}
    if progress is not None:
        failed["progress"] = progress
    # The store itself may be what failed; the caller must see the first error, not this one.
    with contextlib.suppress(Exception), store.session() as session:
        session.execute(
            sa.update(SyncRun).where(SyncRun.id == run_id).values(error=message, **failed)
        )
        audit(
            session,
            user,
            "sync_failed",
            {"source": source_name, "sync_run": run_id, "error": message},
            finished,
        )


def describe(error: BaseException) -> str:
    """Give back what a failed sync records: a TrueUpError's message, else the exception's."""
    return str(error) if isinstance(error, TrueUpError) else f"{type(error).__name__}: {error}"


# -- API syncs: a pull written exactly like a CSV import -----------------------------------------


@dataclass(frozen=True)
class SyncResult:
    """A good API sync: its runs (snapshot kind to run id), rows read and stored, how long."""

    source: str
    mode: SyncMode
    runs: dict[str, int]
    rows_read: int
    rows_stored: dict[str, int]
    seconds: float
    warnings: list[str]
    pruned: list[int]


def sync_source(
    store: Store,
    name: str,
    *,
    mode: SyncMode | str = SyncMode.QUICK,
    user: str | None = None,
    at: datetime | None = None,
    transport: httpx.BaseTransport | None = None,
) -> SyncResult:
    """Give back the sync that pulled the API source `name` into new current snapshots.

    A PSA gives two snapshots, its lines and its catalogue; a vendor one, its usage. Each run
    is recorded `running` first; the rows, the `ok`s and the source's next cursor commit in one
    transaction; on any failure every run is marked `failed` with the error (secrets masked),
    the previous snapshots stay current, and the error is raised again. A quick sync of a
    source whose API filters on changes reads only what changed since the cursor and merges it
    into the previous snapshot; otherwise (a full sync, no good sync yet, or an API with no
    such filter) everything is read.
    """
    mode = SyncMode(mode)
    if mode is SyncMode.CSV:
        raise TrueUpError("an API sync is quick or full")
    clock = time.monotonic()
    user = user or current_user()
    started = at or now()
    with store.session() as session:
        lock_source(session, name.strip())  # first: on SQLite a read first fails, not waits
        authorize(session, user, Permission.SYNC)
        source = source_named(session, name.strip())
        if source is None or source.type == "csv":
            source_config(session, name)  # raises: says what the name is instead
            raise AssertionError("unreachable")
        source_id, source_name, side = source.id, source.name, source.kind
        claim(session, source_id, source_name, now())
        kinds: list[ImportKind] = ["psa", "catalog"] if side is SourceKind.PSA else ["usage"]
        runs: dict[ImportKind, int] = {}
        for kind in kinds:
            run = SyncRun(
                source_id=source_id,
                kind=SnapshotKind(kind),
                mode=mode,
                status=SyncStatus.RUNNING,
                started_at=started,
                made_by=user,
                pruned=False,
                pid=os.getpid(),
                host=this_host(),
                heartbeat_at=now(),
                progress={"stage": "starting"},
            )
            session.add(run)
            session.flush()
            runs[kind] = run.id
    meter = Meter()
    beat = Heartbeat(store, runs.values(), meter)
    secrets: list[str] = []
    try:
        beat.start()
        with store.session() as session:
            config = source_config(session, source_name)
            secrets = config.secret_values
            previous = {kind: _last_good(session, source_id, kind) for kind in kinds}
        since = None
        if mode is SyncMode.QUICK and config.type.quick and previous.get("psa") is not None:
            since = config.cursor
        beat.stage("reading")
        with metering(meter):
            pulled = config.type.read(config.values, since=since, transport=transport)
        beat.stage("storing")
        frames = _frames(store, pulled, previous)
        vendors: list[str] = []
        if "usage" in frames:
            vendors = sorted(frames["usage"].get_column("vendor").drop_nulls().unique().to_list())
            vendors = vendors or [source_name]
        stored: dict[str, int] = {}
        gone: list[str] = []
        with store.session() as session:
            finished = at or now()
            for kind, frame in frames.items():
                stored[kind] = store_snapshot(
                    session,
                    runs[kind],
                    kind,
                    frame,
                    rows_read=pulled.records,
                    vendors=vendors if kind == "usage" else [],
                    warnings=list(pulled.warnings),
                    finished=finished,
                )
                said = _gone(session, kind, previous.get(kind), runs[kind], source_name)
                if said:
                    gone.append(said)
                    session.execute(
                        sa.update(SyncRun)
                        .where(SyncRun.id == runs[kind])
                        .values(warnings=[*pulled.warnings, said])
                    )
            if pulled.commitments is not None and "usage" in runs:
                write_commitments(session, runs["usage"], pulled.commitments)
            beat.stage("done")
            session.execute(
                sa.update(SyncRun)
                .where(SyncRun.id.in_(runs.values()))
                .values(heartbeat_at=finished, progress=beat.progress())
            )
            row = session.get_one(SourceRow, source_id)
            if pulled.cursor is not None:
                row.sync_cursor = pulled.cursor
            audit(
                session,
                user,
                "sync",
                {
                    "source": source_name,
                    "type": config.type.name,
                    "mode": mode.value,
                    "sync_runs": [runs[k] for k in kinds],
                    "rows": sum(stored.values()),
                },
                finished,
            )
    except BaseException as error:  # an interrupt too: no run may stay `running`
        beat.stop()
        message = credentials.redact(describe(error), secrets)
        failed = beat.progress(stage="failed")
        if isinstance(error, ConnectorError):
            failed["error_kind"] = error.kind.value
        for run_id in runs.values():
            _record_failure(store, run_id, source_name, error, user, at, message, failed)
        if isinstance(error, ConnectorError) and message != str(error):
            raise ConnectorError(message, kind=error.kind) from None
        if isinstance(error, TrueUpError) or not isinstance(error, Exception):
            raise
        raise TrueUpError(message) from None
    beat.stop()
    warnings = [*pulled.warnings, *gone]
    try:
        pruned = prune(store, source_id)
    except Exception as error:
        pruned = []
        warnings.append(f"old snapshots were not pruned this time: {error}")
    return SyncResult(
        source_name,
        mode,
        {k: runs[k] for k in kinds},
        pulled.records,
        stored,
        time.monotonic() - clock,
        warnings,
        pruned,
    )


GONE_KEYS: dict[ImportKind, tuple[str, str, tuple[str, ...]]] = {
    "psa": ("agreement line", "psa_lines", ("line_id",)),
    "usage": ("vendor count", "usage_lines", ("vendor", "account_id", "product_id")),
    "catalog": ("catalogue product", "catalog_lines", ("product_id",)),
}
"""What identifies a record of each kind of snapshot from one sync to the next."""


def _gone(
    session: Session, kind: ImportKind, previous: int | None, current: int, source: str
) -> str | None:
    """Give back a warning naming how many records of the previous snapshot `current` no
    longer holds (deleted or ended at the source), or None when none went (or there was no
    previous snapshot). A set difference, so it costs one pass over each snapshot."""
    if previous is None:
        return None
    what, name, columns = GONE_KEYS[kind]
    table = Base.metadata.tables[name]

    def keys(run: int) -> sa.Select[Any]:
        return sa.select(*(table.c[c] for c in columns)).where(table.c.sync_run_id == run)

    left = sa.except_(keys(previous), keys(current)).subquery()
    count = session.scalar(sa.select(sa.func.count()).select_from(left)) or 0
    if not count:
        return None
    plural = what if count == 1 else f"{what}s"
    return f"{count:,} {plural} of the last sync no longer in {source}: gone or ended there"


def _last_good(session: Session, source_id: int, kind: ImportKind) -> int | None:
    """Give back the id of the source's current snapshot of that kind, if it has one."""
    return session.scalar(
        sa.select(sa.func.max(SyncRun.id)).where(
            SyncRun.source_id == source_id,
            SyncRun.kind == SnapshotKind(kind),
            SyncRun.status == SyncStatus.OK,
        )
    )


def _frames(
    store: Store, pulled: Pulled, previous: dict[ImportKind, int | None]
) -> dict[ImportKind, pl.DataFrame]:
    """Give back the snapshots to write: a quick pull's changes merged into the previous ones."""
    if pulled.usage is not None:
        return {"usage": pulled.usage}
    lines = pulled.lines if pulled.lines is not None else pl.DataFrame(schema=PSA_LINES)
    catalog = pulled.catalog if pulled.catalog is not None else pl.DataFrame(schema=CATALOG)
    if pulled.delta is not None:
        with store.session() as session:
            connection = session.connection()
            old_lines = bulk.read_rows(
                connection, "psa_lines", PSA_LINES, [r for r in [previous["psa"]] if r]
            )
            old_catalog = bulk.read_rows(
                connection, "catalog_lines", CATALOG, [r for r in [previous["catalog"]] if r]
            )
        lines = merge_lines(old_lines, lines, pulled.delta)
        catalog = merge_catalog(old_catalog, catalog)
    return {"psa": lines, "catalog": catalog}


def merge_lines(previous: pl.DataFrame, changed: pl.DataFrame, delta: Delta) -> pl.DataFrame:
    """Give back the PSA lines after a quick pull: one row per line (PSA_LINES).

    The previous lines, less those of ended contracts, of contracts and accounts read again,
    cancelled ones and those read again, then the changed lines.
    """

    def among(column: str, ids: Iterable[str]) -> pl.Expr:
        return pl.col(column).is_in(list(ids)).fill_null(False)

    gone = (
        ~among("contract_id", delta.contracts)
        | among("contract_id", delta.reread_contracts)
        | among("account_id", delta.reread_accounts)
        | among("line_id", delta.cancelled)
        | among("line_id", changed.get_column("line_id").drop_nulls())
    )
    kept = previous.filter(~gone)
    return pl.concat([kept.select(changed.columns), changed]).sort(
        "contract_id", "line_id", nulls_last=True
    )


def merge_catalog(previous: pl.DataFrame, changed: pl.DataFrame) -> pl.DataFrame:
    """Give back the catalogue after a quick pull: the previous items, those changed replaced
    (one row per product, CATALOG)."""
    ids = changed.get_column("product_id").drop_nulls().to_list()
    kept = previous.filter(~pl.col("product_id").is_in(ids).fill_null(False))
    return pl.concat([kept.select(changed.columns), changed]).sort("product_id", nulls_last=True)
