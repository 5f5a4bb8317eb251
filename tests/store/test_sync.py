"""Syncs from CSV: every good one is a new snapshot, a failed one changes nothing current."""

from __future__ import annotations

import re
from pathlib import Path

import polars as pl
import pytest
import sqlalchemy as sa

from errors import InputError, TrueUpError
from store import Store, SyncStatus, bulk, current_inputs, import_csv
from store.models import Source, SyncRun, UsageLine
from tests.conftest import MONTH
from tests.store.factories import seats, usage_file


def runs(store: Store) -> list[tuple[int, SyncStatus, int | None, str | None]]:
    with store.session() as session:
        query = sa.select(SyncRun.id, SyncRun.status, SyncRun.rows_stored, SyncRun.error)
        return [
            (r.id, r.status, r.rows_stored, r.error)
            for r in session.execute(query.order_by(SyncRun.id))
        ]


def stored_rows(store: Store) -> dict[int, int]:
    with store.session() as session:
        query = sa.select(UsageLine.sync_run_id, sa.func.count()).group_by(UsageLine.sync_run_id)
        return {run: count for run, count in session.execute(query)}


def test_a_reupload_becomes_current_and_the_earlier_snapshot_stays_as_history(
    store: Store, tmp_path: Path
) -> None:
    first = import_csv(store, "pax8", "usage", seats(tmp_path, "a.csv", "10"))
    second = import_csv(store, "pax8", "usage", seats(tmp_path, "b.csv", "12"))

    current = current_inputs(store)
    assert current.usage.get_column("quantity").to_list() == [12]
    assert current.snapshots == {"pax8": second.sync_run_id}
    assert stored_rows(store) == {first.sync_run_id: 1, second.sync_run_id: 1}
    assert [r[1] for r in runs(store)] == [SyncStatus.OK, SyncStatus.OK]


def test_a_bad_file_records_a_failed_run_and_leaves_the_previous_snapshot_current(
    store: Store, tmp_path: Path
) -> None:
    good = import_csv(store, "pax8", "usage", MONTH / "usage-pax8.csv")
    bad = seats(tmp_path, "bad.csv", "twelve")

    with pytest.raises(InputError, match=re.escape('bad.csv row 2, column "quantity"')):
        import_csv(store, "pax8", "usage", bad)

    assert runs(store) == [
        (good.sync_run_id, SyncStatus.OK, 9, None),
        (
            good.sync_run_id + 1,
            SyncStatus.FAILED,
            None,
            'bad.csv row 2, column "quantity": "twelve" is not a number',
        ),
    ]
    assert current_inputs(store).snapshots == {"pax8": good.sync_run_id}
    assert current_inputs(store).usage.height == 9


def test_a_failure_half_way_through_the_rows_rolls_all_of_them_back(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    good = import_csv(store, "pax8", "usage", MONTH / "usage-pax8.csv")
    before = current_inputs(store)
    written: list[int] = []

    def fail_on_the_third_chunk(write: bulk.Write, chunk: pl.DataFrame) -> None:
        if len(written) == 2:
            raise OSError("disk full")
        write(chunk)
        written.append(chunk.height)

    monkeypatch.setattr(bulk, "CHUNK_ROWS", 3)
    monkeypatch.setattr(bulk, "write_chunk", fail_on_the_third_chunk)
    bigger = usage_file(
        tmp_path, "bigger.csv", [("pax8", f"t-{i}", f"T{i}", "S", "S", "1") for i in range(9)]
    )
    with pytest.raises(OSError, match="disk full"):
        import_csv(store, "pax8", "usage", bigger)

    assert written == [3, 3]  # rows did reach the database before the failure
    assert stored_rows(store) == {good.sync_run_id: 9}
    assert runs(store)[-1][1:] == (SyncStatus.FAILED, None, "OSError: disk full")
    after = current_inputs(store)
    assert after.snapshots == before.snapshots
    assert after.usage.equals(before.usage)


def test_usage_takes_its_vendor_from_the_file_else_the_option_else_the_source(
    store: Store, tmp_path: Path
) -> None:
    header = "account_id,account_name,product_id,product_name,quantity\n"
    no_column = usage_file(tmp_path, "s1.csv", [("s-1", "One", "CORE", "Core", "5")], header)
    import_csv(store, "sentinelone", "usage", no_column)
    import_csv(store, "datto-csv", "usage", no_column, vendor="datto")
    import_csv(store, "distributor-csv", "usage", MONTH / "usage-pax8.csv", vendor="ignored")

    current = current_inputs(store)
    assert sorted(current.usage.get_column("vendor").unique().to_list()) == [
        "datto",
        "pax8",
        "sentinelone",
    ]
    assert current.vendors_with_data == ["datto", "pax8", "sentinelone"]


def test_column_choices_and_decimal_comma_are_remembered_for_the_source(
    store: Store, tmp_path: Path
) -> None:
    header = "Org,Plan,Users\n"
    path = usage_file(tmp_path, "odd.csv", [("Acme", "Backup", '"1,5"')], header)
    choices = {"account_name": "Org", "product_name": "Plan", "quantity": "Users"}
    import_csv(store, "backup", "usage", path, columns=choices, decimal_comma=True)

    result = import_csv(store, "backup", "usage", path)

    assert result.columns == choices
    assert current_inputs(store).usage.get_column("quantity").cast(pl.String).to_list() == [
        "1.5000"
    ]
    with store.session() as session:
        source = session.scalars(sa.select(Source)).one()
        assert (source.columns, source.decimal_comma) == (choices, True)


def test_there_is_one_psa_and_a_source_keeps_its_kind(store: Store) -> None:
    import_csv(store, "connectwise", "psa", MONTH / "psa.csv")

    with pytest.raises(TrueUpError, match='the PSA is already the source "connectwise"'):
        import_csv(store, "autotask", "psa", MONTH / "psa.csv")
    with pytest.raises(TrueUpError, match='source "connectwise" is a psa source'):
        import_csv(store, "connectwise", "usage", MONTH / "usage-pax8.csv")
    assert len(runs(store)) == 1


def test_the_distributor_of_a_source_fills_rows_without_one(store: Store, tmp_path: Path) -> None:
    import_csv(store, "sherweb-csv", "usage", seats(tmp_path, "a.csv", "3"), distributor="sherweb")

    assert current_inputs(store).usage.get_column("distributor").to_list() == ["sherweb"]
