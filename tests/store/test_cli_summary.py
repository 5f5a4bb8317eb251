"""`trueup summary` and `trueup report` through the real console script, on both databases:
they print and write what `month_summary` gives back."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime
from io import BytesIO
from pathlib import Path

import polars as pl
import pytest
from pypdf import PdfReader

from report import figure_text, headline_rows
from store import Action, Store, current_cards, open_store
from store.decisions import decide_cards
from store.month import close_month, month_summary
from tests.conftest import run_trueup
from tests.store.factories import load_month

SEPTEMBER = datetime(2026, 9, 10, 9, tzinfo=UTC)
OCTOBER = datetime(2026, 10, 12, 9, tzinfo=UTC)


def decide_two_months(store: Store) -> None:
    """Approve two changes in September; in October the other increases, decreases and
    removals, and dismiss the card without vendor data."""
    load_month(store)
    cards = current_cards(store).cards.sort("account_id", "product_id")
    changes = cards.filter(pl.col("card_type").is_in(["increase", "decrease", "removal"]))
    decide_cards(store, changes.head(2), Action.APPROVE, user="ann", at=SEPTEMBER)
    decide_cards(store, changes, Action.APPROVE, user="ann", at=OCTOBER)
    no_data = cards.filter(pl.col("card_type") == "no_vendor_data")
    decide_cards(store, no_data, Action.DISMISS, user="ann", at=OCTOBER)


@pytest.fixture
def database(store_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """Point the `trueup` processes at this test's database, holding two months of decisions."""
    monkeypatch.setenv("DATABASE_URL", store_url)
    monkeypatch.setenv("TRUEUP_USER", "ann")
    store = open_store(store_url)
    try:
        decide_two_months(store)
    finally:
        store.dispose()
    return store_url


def october(url: str) -> dict:
    store = open_store(url)
    try:
        return month_summary(store, "2026-10").to_json()
    finally:
        store.dispose()


def test_summary_as_json_is_the_month_summary(database: str) -> None:
    result = run_trueup("summary", "--month", "2026-10", "--format", "json")

    assert result.returncode == 0, result.stderr
    figures = json.loads(result.stdout)
    assert figures == october(database)
    assert figures["headline"]["approved"] > 0 and len(figures["by_vendor"]) > 1


def test_summary_as_a_table_names_each_figure_and_vendor(database: str) -> None:
    result = run_trueup("summary", "--month", "2026-10")

    assert result.returncode == 0, result.stderr
    figures = october(database)
    lines = [" ".join(line.split()) for line in result.stdout.splitlines()]
    assert lines[0].startswith("October 2026: Live figures as of ")
    for row in headline_rows(figures["headline"], "USD"):
        assert " ".join(f"{row.label} {row.count} {row.money}".split()) in lines
    for vendor in figures["by_vendor"]:
        net = figure_text(vendor["net_change"], "USD")
        assert any(
            line.startswith(f"{vendor['vendor']} {vendor['approved']} {net}") for line in lines
        )


def test_summary_as_csv_has_the_month_then_each_vendor(database: str) -> None:
    result = run_trueup("summary", "--month", "2026-10", "--format", "csv")

    assert result.returncode == 0, result.stderr
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    figures = october(database)
    everything, vendors = rows[0], rows[1:]
    assert everything["vendor"] == "(all vendors)" and everything["month"] == "2026-10"
    assert everything == {
        "month": "2026-10",
        "vendor": "(all vendors)",
        **{k: "" if v is None else str(v) for k, v in figures["headline"].items()},
    }
    assert [
        {k: row[k] for k in ("vendor", "approved", "net_change", "recovered", "dismissed")}
        for row in vendors
    ] == [{k: str(v) for k, v in vendor.items()} for vendor in figures["by_vendor"]]
    assert all(row["at_risk"] == "" for row in vendors)  # a month-wide figure only


@pytest.mark.parametrize(
    ("month", "message"),
    [
        ("2026-13", "--month 2026-13: write the month as YYYY-MM, e.g. 2026-11"),
        ("Nov 2026", "--month Nov 2026: write the month as YYYY-MM"),
        ("2999-01", "2999-01 has not begun"),
    ],
)
def test_a_month_written_wrong_or_not_begun_exits_2(
    database: str, month: str, message: str
) -> None:
    result = run_trueup("summary", "--month", month)

    assert result.returncode == 2
    assert message in result.stderr and result.stdout == ""


def test_report_writes_one_page_with_every_headline_figure_and_vendor(
    database: str, tmp_path: Path
) -> None:
    store = open_store(database)
    try:
        close_month(store, "2026-10", user="maria.chen", at=datetime(2026, 10, 31, 18, tzinfo=UTC))
    finally:
        store.dispose()
    out = tmp_path / "october.pdf"

    result = run_trueup("report", "--month", "2026-10", "--out", out)

    assert result.returncode == 0, result.stderr
    figures = october(database)
    recovered = figure_text(figures["headline"]["recovered"], "USD")
    assert result.stdout.startswith(f"wrote the October 2026 report to {out}: ")
    assert f"revenue recovered {recovered}" in result.stdout
    reader = PdfReader(BytesIO(out.read_bytes()))
    assert len(reader.pages) == 1
    text = " ".join(reader.pages[0].extract_text().split())
    assert "Closed by maria.chen on 31 Oct 2026" in text
    for row in headline_rows(figures["headline"], "USD"):
        assert " ".join(f"{row.label} {row.count} {row.money}".split()) in text
    for vendor in figures["by_vendor"]:
        assert vendor["vendor"] in text


def test_close_month_freezes_the_month_and_reopen_makes_it_live(database: str) -> None:
    closed = run_trueup("close-month", "--month", "2026-10")

    assert closed.returncode == 0, closed.stderr
    assert closed.stdout.startswith("closed October 2026: revenue recovered ")
    summary = json.loads(run_trueup("summary", "--month", "2026-10", "--format", "json").stdout)
    assert summary["closed"]["by"] == "ann"
    again = run_trueup("close-month", "--month", "2026-10")
    assert again.returncode == 2 and "2026-10 is closed already" in again.stderr

    reopened = run_trueup("close-month", "--month", "2026-10", "--reopen")

    assert reopened.returncode == 0
    assert reopened.stdout == "reopened October 2026: its figures are live again\n"
    summary = json.loads(run_trueup("summary", "--month", "2026-10", "--format", "json").stdout)
    assert summary["closed"] is None
    nothing = run_trueup("close-month", "--month", "2026-10", "--reopen")
    assert nothing.returncode == 2 and "2026-10 is not closed" in nothing.stderr
