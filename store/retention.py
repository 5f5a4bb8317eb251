"""The retention rule: which snapshots keep their rows, so the store does not grow unbounded.

Per source and kind of snapshot (the PSA's lines and its catalogue are kept apart), of its good
snapshots, keep the last K (setting `keep_snapshots`, default 3) and the last one of each
calendar month (UTC, by when the sync started); delete the rows of the others (a usage
snapshot's commitments with its usage). Their sync runs
stay, marked `pruned`, so the history of syncs remains complete. Failed runs have no rows and
are never pruned.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Hashable
from datetime import datetime

import sqlalchemy as sa

from store.config import get_setting
from store.db import Store
from store.models import CatalogLine, CommitmentLine, PsaLine, SyncRun, UsageLine
from store.types import SyncStatus


def kept(runs: list[tuple[int, Hashable, datetime]], keep: int) -> set[int]:
    """Give back the ids of the runs the rule keeps, of (id, snapshot series, started_at)
    triples of good runs, a series being a source (and kind); later ids are later syncs."""
    by_series: dict[Hashable, list[tuple[int, datetime]]] = defaultdict(list)
    for run_id, series, started in sorted(runs, key=lambda run: run[0]):
        by_series[series].append((run_id, started))
    keeping: set[int] = set()
    for series_runs in by_series.values():
        keeping.update(run_id for run_id, _ in series_runs[-keep:])
        last_of_month = {(started.year, started.month): run_id for run_id, started in series_runs}
        keeping.update(last_of_month.values())
    return keeping


def prune(store: Store, source_id: int | None = None) -> list[int]:
    """Delete the rows of the snapshots the rule no longer keeps (of one source, or all);
    give back the ids of the runs pruned."""
    with store.session() as session:
        keep = max(1, int(get_setting(session, "keep_snapshots")))
        query = sa.select(SyncRun.id, SyncRun.source_id, SyncRun.kind, SyncRun.started_at).where(
            SyncRun.status == SyncStatus.OK, SyncRun.pruned.is_(False)
        )
        if source_id is not None:
            query = query.where(SyncRun.source_id == source_id)
        runs: list[tuple[int, Hashable, datetime]] = [
            (r.id, (r.source_id, r.kind), r.started_at) for r in session.execute(query)
        ]
        doomed = sorted({run_id for run_id, _, _ in runs} - kept(runs, keep))
        if doomed:
            for table in (PsaLine, UsageLine, CatalogLine, CommitmentLine):
                session.execute(
                    sa.delete(table).where(table.sync_run_id.in_(doomed)),
                    execution_options={"synchronize_session": False},
                )
            session.execute(sa.update(SyncRun).where(SyncRun.id.in_(doomed)).values(pruned=True))
    return doomed
