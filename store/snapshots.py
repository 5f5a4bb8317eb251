"""The current snapshots: what the store holds now, read back as the engine's input frames."""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl
import sqlalchemy as sa
from sqlalchemy.orm import Session

from engine.schema import PSA_LINES, USAGE
from store import bulk
from store.db import Store
from store.maps import read_maps
from store.models import Source, SyncRun
from store.types import SourceKind, SyncStatus


@dataclass(frozen=True)
class SourceState:
    """One source and its syncs: the last good one (its snapshot is current) and the last."""

    name: str
    kind: SourceKind
    distributor: str | None
    last_good: SyncRun | None
    last: SyncRun | None


@dataclass(frozen=True)
class CurrentInputs:
    """The engine's inputs from the current snapshots (DESIGN 2: the latest good per source)."""

    psa_lines: pl.DataFrame
    usage: pl.DataFrame
    """Usage of every vendor source, concatenated."""
    account_maps: pl.DataFrame
    product_maps: pl.DataFrame
    vendors_with_data: list[str]
    """The vendors of the good snapshots of vendor sources (DESIGN 4.6)."""
    snapshots: dict[str, int]
    """Source name to the sync run read: a key for caching what is derived from them."""


def source_states(session: Session) -> list[SourceState]:
    """Give back every source with its last good and last sync, sorted by kind then name."""
    # Run ids grow with time: a source's largest run id is its latest run.
    latest = sa.select(sa.func.max(SyncRun.id)).group_by(SyncRun.source_id)
    latest_good = latest.where(SyncRun.status == SyncStatus.OK)
    runs = session.scalars(sa.select(SyncRun).where(SyncRun.id.in_(latest.union(latest_good))))
    good: dict[int, SyncRun] = {}
    last: dict[int, SyncRun] = {}
    for run in sorted(runs, key=lambda r: r.id):
        last[run.source_id] = run
        if run.status is SyncStatus.OK:
            good[run.source_id] = run
    sources = session.scalars(sa.select(Source).order_by(Source.kind, Source.name))
    return [
        SourceState(s.name, s.kind, s.distributor, good.get(s.id), last.get(s.id)) for s in sources
    ]


def current_inputs(store: Store) -> CurrentInputs:
    """Give back the engine's input frames from the latest good snapshot of each source."""
    with store.session() as session:
        current = [(s, s.last_good) for s in source_states(session) if s.last_good is not None]
        psa_runs = [run.id for s, run in current if s.kind is SourceKind.PSA]
        usage_runs = [run.id for s, run in current if s.kind is SourceKind.VENDOR]
        connection = session.connection()
        psa_lines = bulk.read_rows(connection, "psa_lines", PSA_LINES, psa_runs)
        usage = bulk.read_rows(connection, "usage_lines", USAGE, usage_runs)
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
        vendors,
        {s.name: run.id for s, run in current},
    )
