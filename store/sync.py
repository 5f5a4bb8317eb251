"""Syncs from CSV files: each good one becomes a new snapshot of its source, all or nothing."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Literal

import polars as pl
import sqlalchemy as sa

from connectors.csv import Imported, Source, read_catalog, read_psa, read_usage
from engine.schema import CATALOG, PSA_LINES, USAGE
from errors import TrueUpError
from store import bulk
from store.audit import audit, current_user
from store.db import Store
from store.models import Source as SourceRow
from store.models import SyncRun
from store.retention import prune
from store.sources import ensure_source
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
    source_kind, table, schema = TARGETS[kind]
    user = user or current_user()
    started = at or now()
    file_name = name or (None if isinstance(file, bytes) else Path(file).name)
    with store.session() as session:
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
            stored = bulk.write_rows(
                session.connection(), table, schema, run_id, frame, on_progress
            )
            finished = at or now()
            session.execute(
                sa.update(SyncRun)
                .where(SyncRun.id == run_id)
                .values(
                    status=SyncStatus.OK,
                    finished_at=finished,
                    rows_read=imported.rows,
                    rows_stored=stored,
                    vendors=vendors or None,
                    warnings=imported.warnings or None,
                )
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
) -> None:
    message = str(error) if isinstance(error, TrueUpError) else f"{type(error).__name__}: {error}"
    finished = at or now()
    # The store itself may be what failed; the caller must see the first error, not this one.
    with contextlib.suppress(Exception), store.session() as session:
        session.execute(
            sa.update(SyncRun)
            .where(SyncRun.id == run_id)
            .values(status=SyncStatus.FAILED, finished_at=finished, error=message)
        )
        audit(
            session,
            user,
            "sync_failed",
            {"source": source_name, "sync_run": run_id, "error": message},
            finished,
        )
