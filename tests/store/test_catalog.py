"""The PSA's product catalogue in the store: its own kind of snapshot of the PSA source, and the
prices of New Revenue cards (DESIGN 4.8)."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command
from polars.testing import assert_frame_equal

from connectors.csv.inputs import read_inputs
from engine import reconcile
from errors import InputError, TrueUpError
from store import Store, SyncStatus, current_cards, current_inputs, import_csv, open_store
from store.config import set_setting
from store.migrate import config
from store.models import CatalogLine, PsaLine, Source, SyncRun
from store.snapshots import source_states
from store.types import SnapshotKind
from tests.conftest import MONTH, run_trueup
from tests.store.factories import load_month

CATALOG_HEADER = "product_id,product_name,unit_price,unit_cost,billing_cycle\n"


def catalog_file(folder: Path, name: str, price: str) -> Path:
    path = folder / name
    path.write_text(
        CATALOG_HEADER + f"M365BP,Microsoft 365 Business Premium,{price},18.70,monthly\n"
    )
    return path


def card(store: Store, account: str, product: str) -> dict:
    return (
        current_cards(store).cards.filter(account_id=account, product_id=product).row(0, named=True)
    )


def test_new_revenue_takes_its_price_from_the_catalogue(store: Store, tmp_path: Path) -> None:
    load_month(store)
    # Account 500 has no PSA line of M365BP; Pax8 reports 5 seats.
    before = card(store, "500", "M365BP")
    assert (before["card_type"], before["unit_price"], before["monthly_value"]) == (
        "new_revenue",
        None,
        None,
    )

    import_csv(store, "psa", "catalog", catalog_file(tmp_path, "catalog.csv", "23.50"))

    after = card(store, "500", "M365BP")
    assert after["unit_price"] == Decimal("23.50")
    assert after["monthly_value"] == Decimal("117.50")
    # A card with a PSA line keeps the price of its line, not the catalogue's.
    assert card(store, "100", "M365BP")["unit_price"] == Decimal("22.00")


def test_the_current_cards_are_the_engines_over_the_month_with_its_catalogue(
    store: Store,
) -> None:
    load_month(store)
    import_csv(store, "psa", "catalog", MONTH / "catalog.csv")
    files = read_inputs(
        MONTH / "psa.csv",
        [MONTH / "usage-pax8.csv", MONTH / "usage-sentinelone.csv"],
        [(MONTH / "account-map.csv", "account"), (MONTH / "product-map.csv", "product")],
        MONTH / "catalog.csv",
    )
    expected = reconcile(
        files.psa_lines, files.usage, files.account_maps, files.product_maps, files.catalog
    )

    current = current_cards(store)

    assert files.catalog is not None
    assert_frame_equal(current.inputs.catalog, files.catalog)
    assert_frame_equal(current.result.cards, expected.cards)
    assert_frame_equal(current.result.unmapped, expected.unmapped)
    assert current.cards.filter(card_type="new_revenue").get_column("monthly_value").to_list() == [
        Decimal("110.00")
    ]


def test_the_catalogue_and_the_lines_are_each_the_latest_of_their_kind(
    store: Store, tmp_path: Path
) -> None:
    lines = import_csv(store, "psa", "psa", MONTH / "psa.csv")
    first = import_csv(store, "psa", "catalog", catalog_file(tmp_path, "a.csv", "22.00"))
    second = import_csv(store, "psa", "catalog", catalog_file(tmp_path, "b.csv", "24.00"))
    bad = tmp_path / "bad.csv"
    bad.write_text(CATALOG_HEADER + "M365BP,Microsoft 365 Business Premium,cheap,,monthly\n")

    with pytest.raises(InputError, match=re.escape('bad.csv row 2, column "unit_price"')):
        import_csv(store, "psa", "catalog", bad)

    current = current_inputs(store)
    assert current.psa_lines.height == 9  # a catalogue does not replace the lines
    assert current.catalog.get_column("unit_price").to_list() == [Decimal("24.00")]
    assert current.snapshots == {"psa": lines.sync_run_id, "psa catalogue": second.sync_run_id}
    with store.session() as session:
        (psa,) = source_states(session)
        assert psa.last_good is not None and psa.last_good.id == lines.sync_run_id
        assert psa.catalog is not None and psa.catalog.id == second.sync_run_id
        kinds = session.execute(sa.select(SyncRun.kind, SyncRun.status).order_by(SyncRun.id))
        assert list(kinds) == [
            (SnapshotKind.PSA, SyncStatus.OK),
            (SnapshotKind.CATALOG, SyncStatus.OK),
            (SnapshotKind.CATALOG, SyncStatus.OK),
            (SnapshotKind.CATALOG, SyncStatus.FAILED),
        ]
    assert first.sync_run_id < second.sync_run_id


def test_retention_counts_catalogues_apart_from_the_lines(store: Store, tmp_path: Path) -> None:
    with store.session() as session:
        set_setting(session, "keep_snapshots", "1", "ann")
    at = datetime(2026, 3, 2, 9, tzinfo=UTC)
    lines = import_csv(store, "psa", "psa", MONTH / "psa.csv", at=at)

    # Three catalogues later in the same month: only the last catalogue keeps its rows, and
    # the lines, the only snapshot of their kind, keep theirs.
    for day, price in ((3, "22.00"), (4, "23.00"), (5, "24.00")):
        import_csv(
            store,
            "psa",
            "catalog",
            catalog_file(tmp_path, f"{day}.csv", price),
            at=at.replace(day=day),
        )

    with store.session() as session:
        kept_lines = session.scalar(sa.select(sa.func.count()).select_from(PsaLine))
        catalogues = session.execute(
            sa.select(CatalogLine.sync_run_id, CatalogLine.unit_price)
        ).all()
    assert kept_lines == 9
    assert catalogues == [(lines.sync_run_id + 3, Decimal("24.00"))]


def test_a_catalogue_belongs_to_the_psa_not_to_a_vendor(store: Store) -> None:
    import_csv(store, "pax8", "usage", MONTH / "usage-pax8.csv")

    with pytest.raises(TrueUpError, match='source "pax8" is a vendor source'):
        import_csv(store, "pax8", "catalog", MONTH / "catalog.csv")


def test_a_catalogue_does_not_take_the_psa_files_remembered_columns(
    store: Store, tmp_path: Path
) -> None:
    psa = tmp_path / "psa.csv"
    psa.write_text(
        "Company,Agreement,Product,Qty\nAcme Corp,AG-1,Microsoft 365 Business Premium,20\n"
    )
    import_csv(store, "psa", "psa", psa, columns={"quantity": "Qty"})

    result = import_csv(store, "psa", "catalog", MONTH / "catalog.csv")

    assert result.rows_stored == 4
    with store.session() as session:
        source = session.scalars(sa.select(Source)).one()
        assert source.columns == {"quantity": "Qty"}


def test_the_migration_marks_earlier_runs_with_what_their_source_syncs(store_url: str) -> None:
    store = open_store(store_url)
    try:
        with store.engine.begin() as connection:
            command.downgrade(config(connection), "0001")
            connection.exec_driver_sql(
                "INSERT INTO sources (id, name, kind, decimal_comma, created_at) VALUES "
                "(1, 'psa', 'psa', false, '2026-01-01'), (2, 'pax8', 'vendor', false, '2026-01-01')"
            )
            connection.exec_driver_sql(
                "INSERT INTO sync_runs (id, source_id, mode, status, started_at, made_by, pruned) "
                "VALUES (1, 1, 'csv', 'ok', '2026-01-01', 'ann', false), "
                "(2, 2, 'csv', 'ok', '2026-01-01', 'ann', false)"
            )
        with store.engine.begin() as connection:
            command.upgrade(config(connection), "head")
        with store.session() as session:
            kinds = session.execute(sa.select(SyncRun.id, SyncRun.kind).order_by(SyncRun.id))
            assert list(kinds) == [(1, SnapshotKind.PSA), (2, SnapshotKind.USAGE)]
    finally:
        store.dispose()


def test_trueup_import_kind_catalog_and_status(
    store_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DATABASE_URL", store_url)
    monkeypatch.setenv("TRUEUP_USER", "ann")

    imported = run_trueup("import", "--kind", "catalog", "--source", "psa", MONTH / "catalog.csv")
    status = run_trueup("status")

    assert imported.returncode == 0, imported.stderr
    assert imported.stdout == "psa: sync 1 stored 4 rows from 4 in catalog.csv\n"
    lines = status.stdout.splitlines()
    assert lines[1] == "  psa (psa): no good sync yet"
    assert lines[2].startswith("    catalogue: last good sync ")
    assert lines[2].endswith(" UTC, 4 products from catalog.csv")
