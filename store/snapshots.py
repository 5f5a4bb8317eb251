"""The current snapshots: what the store holds now, read back as the engine's input frames."""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl
import sqlalchemy as sa
from sqlalchemy.orm import Session

from engine.schema import CATALOG, PSA_LINES, USAGE
from store import bulk
from store.db import Store
from store.maps import read_maps
from store.models import Source, SyncRun
from store.types import SnapshotKind, SourceKind, SyncStatus

CATALOG_KEY = "{} catalogue"
"""The key of a PSA source's catalogue snapshot in `CurrentInputs.snapshots`."""


@dataclass(frozen=True)
class SourceState:
    """One source and its syncs: the last good one (its snapshot is current) and the last.

    For the PSA these are syncs of its lines; its catalogue is synced apart (`catalog`).
    """

    name: str
    kind: SourceKind
    distributor: str | None
    last_good: SyncRun | None
    last: SyncRun | None
    catalog: SyncRun | None = None
    """The PSA's last good catalogue sync: its snapshot is the current catalogue."""


@dataclass(frozen=True)
class CurrentInputs:
    """The engine's inputs from the current snapshots (DESIGN 2: the latest good per source)."""

    psa_lines: pl.DataFrame
    usage: pl.DataFrame
    """Usage of every vendor source, concatenated."""
    account_maps: pl.DataFrame
    product_maps: pl.DataFrame
    catalog: pl.DataFrame
    """The PSA's current catalogue (CATALOG), empty where none was synced."""
    vendors_with_data: list[str]
    """The vendors of the good snapshots of vendor sources (DESIGN 4.6)."""
    snapshots: dict[str, int]
    """Source name to the sync run read: a key for caching what is derived from them."""


def source_states(session: Session) -> list[SourceState]:
    """Give back every source with its last good and last sync, sorted by kind then name."""
    # Run ids grow with time: a source's largest run id of a kind is its latest run.
    latest = sa.select(sa.func.max(SyncRun.id)).group_by(SyncRun.source_id, SyncRun.kind)
    latest_good = latest.where(SyncRun.status == SyncStatus.OK)
    runs = session.scalars(sa.select(SyncRun).where(SyncRun.id.in_(latest.union(latest_good))))
    good: dict[tuple[int, bool], SyncRun] = {}
    last: dict[tuple[int, bool], SyncRun] = {}
    for run in sorted(runs, key=lambda r: r.id):
        key = (run.source_id, run.kind is SnapshotKind.CATALOG)
        last[key] = run
        if run.status is SyncStatus.OK:
            good[key] = run
    sources = session.scalars(sa.select(Source).order_by(Source.kind, Source.name))
    return [
        SourceState(
            s.name,
            s.kind,
            s.distributor,
            good.get((s.id, False)),
            last.get((s.id, False)),
            good.get((s.id, True)),
        )
        for s in sources
    ]


def current_inputs(store: Store) -> CurrentInputs:
    """Give back the engine's input frames from the latest good snapshot of each source."""
    with store.session() as session:
        states = source_states(session)
        current = [(s, s.last_good) for s in states if s.last_good is not None]
        catalogs = [(s, s.catalog) for s in states if s.catalog is not None]
        psa_runs = [run.id for s, run in current if s.kind is SourceKind.PSA]
        usage_runs = [run.id for s, run in current if s.kind is SourceKind.VENDOR]
        connection = session.connection()
        psa_lines = bulk.read_rows(connection, "psa_lines", PSA_LINES, psa_runs)
        usage = bulk.read_rows(connection, "usage_lines", USAGE, usage_runs)
        catalog = bulk.read_rows(
            connection, "catalog_lines", CATALOG, [run.id for _, run in catalogs]
        )
        account_maps = read_maps(session, "account")
        product_maps = read_maps(session, "product")
    vendors = sorted(
        {
            vendor
            for s, run in current
            if s.kind is SourceKind.VENDOR
            for vendor in (run.vendors or [s.name])
        }
    )
    return CurrentInputs(
        psa_lines,
        usage,
        account_maps,
        product_maps,
        catalog,
        vendors,
        {s.name: run.id for s, run in current}
        | {CATALOG_KEY.format(s.name): run.id for s, run in catalogs},
    )
