"""`trueup import`, `status` and `cards` through the real console script, on both databases."""

from __future__ import annotations

from pathlib import Path

import pytest

from store import open_store
from tests.conftest import MONTH, run_trueup
from tests.store.factories import load_month


@pytest.fixture
def database(store_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """Point the `trueup` processes at this test's empty database."""
    monkeypatch.setenv("DATABASE_URL", store_url)
    monkeypatch.setenv("TRUEUP_USER", "ann")
    return store_url


def import_month(url: str) -> None:
    """Fill the store through the API: the commands under test are what runs as a process."""
    store = open_store(url)
    try:
        load_month(store)
    finally:
        store.dispose()


def test_import_says_what_it_stored(database: str) -> None:
    result = run_trueup("import", "--kind", "usage", "--source", "pax8", MONTH / "usage-pax8.csv")
    maps = run_trueup("import", "--kind", "map", MONTH / "account-map.csv")

    assert result.returncode == 0, result.stderr
    assert result.stdout == "pax8: sync 1 stored 9 rows from 9 in usage-pax8.csv\n"
    assert maps.stdout == "account maps from account-map.csv: 6 added, 0 changed, 0 unchanged\n"


def test_cards_are_the_reconcile_cards_with_their_status(database: str) -> None:
    import_month(database)
    reconciled = run_trueup(
        "reconcile",
        *("--psa", MONTH / "psa.csv"),
        *("--usage", MONTH / "usage-pax8.csv", "--usage", MONTH / "usage-sentinelone.csv"),
        *("--account-map", MONTH / "account-map.csv", "--product-map", MONTH / "product-map.csv"),
    )

    cards = run_trueup("cards")

    assert cards.returncode == 0, cards.stderr
    header, *rows = reconciled.stdout.splitlines()
    assert cards.stdout.splitlines() == [header + ",status", *(row + ",open" for row in rows)]
    assert (
        "open cards: 2 increase (120.00), 2 decrease (-51.00), 1 removal (-330.00), 1 new_revenue (0.00)"
        in cards.stderr
    )
    assert "net monthly value of open cards: -261.00 USD" in cards.stderr


def test_cards_all_writes_every_card_to_a_file(database: str, tmp_path: Path) -> None:
    import_month(database)
    out = tmp_path / "cards.csv"

    result = run_trueup("cards", "--all", "--out", out)

    assert result.returncode == 0, result.stderr
    assert result.stdout == ""
    lines = out.read_text().splitlines()
    assert len(lines) == 1 + 6 + 3
    assert (
        "100,Acme Corp,SAAS-BACKUP,Microsoft 365 Backup,AG-1,L9,20,,,no_vendor_data,3.00,,open"
        in lines
    )


def test_status_shows_sources_unmapped_counts_and_open_cards(database: str) -> None:
    import_month(database)

    result = run_trueup("status")

    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "sources:"
    assert lines[1].startswith("  psa (psa): last good sync ")
    assert lines[1].endswith(", 9 rows from psa.csv")
    assert lines[2].startswith("  pax8 (vendor): last good sync ")
    assert "unmapped: 1 accounts, 1 products" in lines
    assert "net monthly value of open cards: -261.00 USD" in lines


def test_a_bad_file_fails_like_reconcile_and_status_shows_the_failed_sync(
    database: str, tmp_path: Path
) -> None:
    import_month(database)
    bad = tmp_path / "pax8.csv"
    bad.write_text("account_id,product_id,quantity\nt-acme,CFQ7TTC0LCHC,lots\n")

    result = run_trueup("import", "--kind", "usage", "--source", "pax8", bad)
    status = run_trueup("status")

    assert result.returncode == 2
    assert result.stderr == 'error: pax8.csv row 2, column "quantity": "lots" is not a number\n'
    pax8 = next(line for line in status.stdout.splitlines() if line.startswith("  pax8 "))
    assert "9 rows from usage-pax8.csv; last sync failed " in pax8
    assert pax8.endswith(': pax8.csv row 2, column "quantity": "lots" is not a number')


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--kind", "usage", MONTH / "usage-pax8.csv"],
            "error: name the source this usage file is a sync of: --source NAME\n",
        ),
        (
            ["--kind", "psa", "--source", "psa", MONTH / "missing.csv"],
            f"error: {MONTH / 'missing.csv'}: the file does not exist\n",
        ),
    ],
)
def test_import_refuses_with_exit_2_and_no_traceback(
    database: str, args: list, message: str
) -> None:
    result = run_trueup("import", *args)

    assert result.returncode == 2
    assert result.stderr.startswith(message)
    assert "Traceback" not in result.stderr


def test_an_unreachable_database_is_an_error_not_a_traceback(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(
        "DATABASE_URL", "postgresql://postgres@127.0.0.1:9/nowhere?connect_timeout=2"
    )

    result = run_trueup("status")

    assert result.returncode == 2
    assert result.stderr.startswith(
        "error: cannot open the store at postgresql+psycopg://postgres@127.0.0.1:9/nowhere"
    )
    assert "Traceback" not in result.stderr
