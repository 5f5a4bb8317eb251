"""The retention rule: each month's last good snapshot and the last K of each source keep
their rows; the others are pruned, their sync runs kept as history."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa

from errors import InputError
from store import Store, import_csv
from store.config import set_setting
from store.models import SyncRun, UsageLine
from store.retention import kept
from tests.store.factories import seats


def day(month: int, day: int) -> datetime:
    return datetime(2026, month, day, 12, tzinfo=UTC)


@pytest.mark.parametrize(
    ("syncs", "keep", "expected"),
    [
        pytest.param([], 3, set(), id="nothing"),
        pytest.param([(1, 1, day(1, 5))], 3, {1}, id="one"),
        pytest.param(
            [(1, 1, day(1, 5)), (2, 1, day(1, 6)), (3, 1, day(1, 7)), (4, 1, day(1, 8))],
            3,
            {2, 3, 4},
            id="last-k-within-a-month",
        ),
        pytest.param(
            [(1, 1, day(1, 5)), (2, 1, day(1, 20)), (3, 1, day(2, 1)), (4, 1, day(2, 2))],
            1,
            {2, 4},
            id="k-1-keeps-month-ends",
        ),
        pytest.param(
            [(1, 1, day(1, 5)), (2, 2, day(1, 6)), (3, 1, day(1, 7)), (4, 2, day(1, 8))],
            1,
            {3, 4},
            id="per-source",
        ),
        pytest.param(
            # Month ends are by the instant in UTC: 23:30 on 31 January is January.
            [
                (1, 1, datetime(2026, 1, 31, 23, 30, tzinfo=UTC)),
                (2, 1, day(2, 1)),
                (3, 1, day(2, 2)),
            ],
            1,
            {1, 3},
            id="utc-month-boundary",
        ),
    ],
)
def test_kept(syncs: list[tuple[int, int, datetime]], keep: int, expected: set[int]) -> None:
    assert kept(syncs, keep) == expected


def test_after_nine_syncs_over_three_months_the_month_ends_and_the_last_three_remain(
    store: Store, tmp_path: Path
) -> None:
    dates = [day(1, 5), day(1, 20), day(2, 3), day(2, 17), day(2, 28)]
    dates += [day(3, 2), day(3, 9), day(3, 16), day(3, 23)]
    ids = [
        import_csv(
            store, "pax8", "usage", seats(tmp_path, f"{i}.csv", str(i + 1)), at=at
        ).sync_run_id
        for i, at in enumerate(dates)
    ]
    # A failed sync has no rows: it is neither counted among the last K nor pruned.
    with pytest.raises(InputError):
        import_csv(store, "pax8", "usage", seats(tmp_path, "bad.csv", "x"), at=day(3, 30))
    # Another source's syncs count for that source only.
    other = import_csv(store, "s1", "usage", seats(tmp_path, "s1.csv", "4", "s1"), at=day(1, 2))

    month_ends = {ids[1], ids[4], ids[8]}
    last_three = set(ids[-3:])
    with store.session() as session:
        with_rows = set(session.scalars(sa.select(UsageLine.sync_run_id).distinct()))
        pruned = set(session.scalars(sa.select(SyncRun.id).where(SyncRun.pruned)))
        total = session.scalar(sa.select(sa.func.count()).select_from(SyncRun))
    assert with_rows == month_ends | last_three | {other.sync_run_id}
    assert pruned == set(ids) - with_rows
    assert total == len(dates) + 2


def test_a_smaller_k_prunes_at_the_next_sync(store: Store, tmp_path: Path) -> None:
    ids = [
        import_csv(
            store, "pax8", "usage", seats(tmp_path, f"{d}.csv", str(d)), at=day(4, d)
        ).sync_run_id
        for d in (1, 2, 3)
    ]
    with store.session() as session:
        set_setting(session, "keep_snapshots", "1", "ann")

    last = import_csv(store, "pax8", "usage", seats(tmp_path, "4.csv", "4"), at=day(4, 4))

    assert sorted(last.pruned) == ids
    with store.session() as session:
        assert set(session.scalars(sa.select(UsageLine.sync_run_id))) == {last.sync_run_id}
