"""`trueup approve`, `dismiss`, `schedule`, `undo` and `export-changes` through the real console
script, on both databases (issue 5.9)."""

from __future__ import annotations

import csv
from datetime import UTC, date, datetime
from pathlib import Path

import polars as pl
import pytest

from store import current_cards, open_store
from store.decisions import card_history, first_of_next_month
from tests.conftest import run_trueup
from tests.store.factories import load_month


@pytest.fixture
def database(store_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """Point the `trueup` processes at this test's database, holding the hand-checked month."""
    monkeypatch.setenv("DATABASE_URL", store_url)
    monkeypatch.setenv("TRUEUP_USER", "ann")
    store = open_store(store_url)
    try:
        load_month(store)
    finally:
        store.dispose()
    return store_url


def statuses(url: str) -> dict[str, str]:
    """Give back each card's status, read through the API (the commands are what is tested)."""
    store = open_store(url)
    try:
        cards = current_cards(store).cards
    finally:
        store.dispose()
    keys = cards.select(pl.concat_str("account_id", pl.lit(":"), "product_id"), "status")
    return dict(keys.iter_rows())


def history(url: str, key: str) -> pl.DataFrame:
    store = open_store(url)
    try:
        return card_history(store, *key.split(":", 1))
    finally:
        store.dispose()


def test_approve_dismiss_and_schedule_decide_the_cards_named(database: str) -> None:
    approved = run_trueup("approve", "100:M365BP", "200:EXO1", "--effective", "2026-03-15")
    dismissed = run_trueup(
        "dismiss", "300:M365BP", "100:SAAS-BACKUP"
    )  # no vendor data: dismissible
    scheduled = run_trueup("schedule", "400:M365BP", "--effective", "2026-04-15")

    assert approved.returncode == 0, approved.stderr
    assert approved.stdout == "approved 2 cards, effective 2026-03-15\n"
    assert dismissed.stdout == "dismissed 2 cards\n"
    assert scheduled.stdout == "scheduled 1 card, effective 2026-04-15\n"
    now = statuses(database)
    assert (now["100:M365BP"], now["200:EXO1"]) == ("approved", "approved")
    assert (now["300:M365BP"], now["100:SAAS-BACKUP"]) == ("dismissed", "dismissed")
    assert now["400:M365BP"] == "scheduled"
    first = history(database, "100:M365BP").row(0, named=True)
    assert (first["made_by"], first["effective_date"], first["contract_id"]) == (
        "ann",
        date(2026, 3, 15),
        "AG-1",
    )


def test_approving_a_scheduled_card_keeps_its_date(database: str) -> None:
    run_trueup("schedule", "100:M365BP", "--effective", "2026-04-15")

    result = run_trueup("approve", "100:M365BP", "200:EXO1")

    default = first_of_next_month(datetime.now(UTC))
    assert result.stdout == f"approved 2 cards, effective 2026-04-15, {default}\n"
    assert history(database, "100:M365BP")["effective_date"].to_list() == [date(2026, 4, 15)] * 2


def test_a_card_whose_decision_holds_is_left_as_it_is_and_exits_1(
    database: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    run_trueup("approve", "100:M365BP")
    monkeypatch.setenv("TRUEUP_USER", "bob")

    again = run_trueup("dismiss", "100:M365BP", "300:M365BP")

    assert again.returncode == 1
    assert again.stdout == "dismissed 1 card\n"
    assert again.stderr.startswith("100:M365BP: already approved by ann at ")
    assert again.stderr.endswith(" UTC; left as it is\n")
    assert history(database, "100:M365BP")["action"].to_list() == ["approve"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["approve", "999:M365BP", "100:M365BP"], "error: no such card: 999:M365BP"),
        (["dismiss", "100"], "error: not a card: 100: name a card as ACCOUNT_ID:PRODUCT_ID"),
        (
            ["approve", "200:M365BP"],
            "error: not an open card: 200:M365BP is unchanged: there is nothing to approve",
        ),
        (
            ["schedule", "100:SAAS-BACKUP", "--effective", "2026-04-01"],
            "error: not an open card: 100:SAAS-BACKUP is no_vendor_data: there is nothing to schedule",
        ),
        (
            ["schedule", "100:M365BP", "--effective", "1 April"],
            "error: --effective 1 April is not a date: give it as YYYY-MM-DD",
        ),
        (
            ["approve", "500:M365BP"],
            "error: 500:M365BP: New Revenue, and the account has no agreement to add it to: "
            "give one with --contract ID",
        ),
    ],
)
def test_a_key_that_names_no_open_card_exits_2_and_decides_nothing(
    database: str, args: list[str], message: str
) -> None:
    result = run_trueup(*args)

    assert result.returncode == 2
    assert result.stderr.startswith(message)
    assert set(statuses(database).values()) == {"open"}


def test_a_product_id_may_hold_a_colon(database: str) -> None:
    result = run_trueup("approve", "100:M365BP:EXTRA")

    assert result.returncode == 2
    assert result.stderr.startswith("error: no such card: 100:M365BP:EXTRA")


def test_new_revenue_is_approved_onto_the_contract_given(database: str) -> None:
    result = run_trueup("approve", "500:M365BP", "--contract", "AG-NEW")

    assert result.returncode == 0, result.stderr
    assert history(database, "500:M365BP")["contract_id"].to_list() == ["AG-NEW"]


def test_undo_reverses_the_users_last_action_as_a_whole(
    database: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    run_trueup("dismiss", "300:M365BP")
    run_trueup("approve", "100:M365BP", "200:EXO1")
    monkeypatch.setenv("TRUEUP_USER", "bob")
    run_trueup("dismiss", "400:M365BP")
    monkeypatch.setenv("TRUEUP_USER", "ann")

    first = run_trueup("undo")
    second = run_trueup("undo")
    third = run_trueup("undo")

    assert first.stdout == "undid approve of 2 cards\n"
    assert second.stdout == "undid dismiss of 1 card\n"
    assert third.stdout == "nothing to undo\n"
    assert third.returncode == 0
    now = statuses(database)
    assert now["400:M365BP"] == "dismissed"  # bob's
    assert [now[k] for k in ("100:M365BP", "200:EXO1", "300:M365BP")] == ["open"] * 3


def test_export_changes_writes_csv_once(database: str, tmp_path: Path) -> None:
    run_trueup("approve", "100:M365BP", "--effective", "2026-03-15")
    out = tmp_path / "changes.csv"

    first = run_trueup("export-changes", "--out", out)
    rows = list(csv.DictReader(out.open()))
    again = run_trueup("export-changes", "--out", tmp_path / "again.csv")

    assert first.returncode == 0, first.stderr
    assert first.stdout == f"exported 1 change to {out}\n"
    assert [
        (r["account_id"], r["line_id"], r["old_quantity"], r["new_quantity"]) for r in rows
    ] == [("100", "L1", "20", "23")]
    assert (rows[0]["prorated_amount"], rows[0]["approved_by"]) == ("36.19", "ann")
    assert again.stdout == f"exported 0 changes to {tmp_path / 'again.csv'}\n"
    assert history(database, "100:M365BP")["write_back"].to_list() == ["exported"]


def test_export_changes_writes_excel(database: str, tmp_path: Path) -> None:
    run_trueup("approve", "100:M365BP", "200:EXO1")
    out = tmp_path / "changes.xlsx"

    result = run_trueup("export-changes", "--out", out)

    assert result.returncode == 0, result.stderr
    book = pl.read_excel(out)
    assert book.select("account_id", "product_id").rows() == [("100", "M365BP"), ("200", "EXO1")]


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("changes.txt", "write the changes to a .csv or .xlsx file"),
        ("missing/changes.csv", "cannot write "),
    ],
)
def test_export_changes_that_cannot_be_written_marks_nothing(
    database: str, tmp_path: Path, name: str, message: str
) -> None:
    run_trueup("approve", "100:M365BP")

    result = run_trueup("export-changes", "--out", tmp_path / name)

    assert result.returncode == 2
    assert message in result.stderr
    assert history(database, "100:M365BP")["write_back"].to_list() == ["pending"]
