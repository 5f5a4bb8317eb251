"""Every export people open in a spreadsheet writes a hostile name as text, never as a formula
(`=`, `+`, `-`, `@`, tab or CR first gains a leading `'`), while quantities and money, negative
ones included, stay numbers."""

from __future__ import annotations

import csv
import io
import re
import zipfile
from pathlib import Path

import polars as pl
import pytest

from connectors.csv.export import neutralised_frame
from store import Store, current_cards
from store.cards import is_open
from store.decisions import decide_cards
from store.types import Action
from tests.conftest import run_trueup
from tests.pages import test_audit as audit_page_tests
from tests.security import test_markup as markup_tests
from tests.security.conftest import (
    FORMULA_ACCOUNT,
    FORMULA_PRODUCT,
    FORMULA_UNMAPPED,
    FORMULA_VENDOR,
    FORMULAS,
)

NUMBER = re.compile(r"-?\d+(\.\d+)?")


def read_csv(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def no_formula_in(rows: list[dict[str, str]], *numbers: str) -> None:
    """Check that no text cell would run as a formula and that the `numbers` columns are
    plain numbers (or empty)."""
    for row in rows:
        for column, cell in row.items():
            if column in numbers:
                assert cell == "" or NUMBER.fullmatch(cell), (column, cell)
            else:
                assert not re.match(r"[=+\-@\t\r]", cell), (column, cell)


def test_reconcile_cards_and_unmapped_csv_neutralise_names_and_keep_numbers(
    hostile: Path, tmp_path: Path
) -> None:
    cards, unmapped = tmp_path / "cards.csv", tmp_path / "unmapped.csv"
    usage = [arg for name in ("pax8", "sentinelone", "formula") for arg in
             ("--usage", hostile / f"usage-{name}.csv")]  # fmt: skip

    result = run_trueup(
        "reconcile", "--psa", hostile / "psa.csv", *usage,
        "--account-map", hostile / "account-map.csv",
        "--product-map", hostile / "product-map.csv",
        "--all", "--out", cards, "--unmapped-out", unmapped,
    )  # fmt: skip

    assert result.returncode == 0, result.stderr
    rows = read_csv(cards.read_text())
    numbers = ("psa_quantity", "vendor_quantity", "change", "unit_price", "monthly_value")
    no_formula_in(rows, *numbers)
    cobalt = [r for r in rows if r["account_id"] == "300" and r["product_id"] == "M365BP"]
    assert cobalt == [
        cobalt[0]
        | {
            "account_name": f"'{FORMULA_ACCOUNT}",
            "product_name": f"'{FORMULA_PRODUCT}",
            "change": "-2",
            "monthly_value": "-43.00",
        }
    ]
    lost = read_csv(unmapped.read_text())
    no_formula_in(lost, "quantity")
    assert {"kind": "account", "vendor": "pax8", "vendor_id": "t-foxtrot",
            "vendor_name": f"'{FORMULA_UNMAPPED}", "quantity": "4"} in lost  # fmt: skip


def decided(store: Store) -> None:
    """Approve every open card of the store this month."""
    cards = current_cards(store).cards.filter(is_open())
    decide_cards(store, cards, Action.APPROVE, user="ann")


def test_store_cards_csv_neutralises_names(hostile_store: Store, tmp_path: Path) -> None:
    out = tmp_path / "cards.csv"

    result = run_trueup("cards", "--all", "--out", out)

    assert result.returncode == 0, result.stderr
    rows = read_csv(out.read_text())
    no_formula_in(rows, "psa_quantity", "vendor_quantity", "change", "unit_price", "monthly_value")
    assert f"'{FORMULA_ACCOUNT}" in {r["account_name"] for r in rows}


def test_month_summary_csv_neutralises_vendor_names(hostile_store: Store) -> None:
    decided(hostile_store)

    result = run_trueup("summary", "--format", "csv")

    assert result.returncode == 0, result.stderr
    rows = read_csv(result.stdout)
    money = [c for c in rows[0] if c not in ("month", "vendor")]
    no_formula_in(rows, *money)
    assert f"'{FORMULA_VENDOR}" in {r["vendor"] for r in rows}
    assert any(r["net_change"].startswith("-") for r in rows)


def test_changes_csv_neutralises_names_and_keeps_negative_numbers(
    hostile_store: Store, tmp_path: Path
) -> None:
    decided(hostile_store)
    out = tmp_path / "changes.csv"

    result = run_trueup("export-changes", "--out", out)

    assert result.returncode == 0, result.stderr
    rows = read_csv(out.read_text())
    numbers = ("old_quantity", "new_quantity", "prorated_amount", "monthly_value")
    no_formula_in(rows, *numbers)
    assert f"'{FORMULA_ACCOUNT}" in {r["account_name"] for r in rows}
    assert any(r["monthly_value"].startswith("-") for r in rows)


def test_changes_excel_writes_names_as_text_and_numbers_as_numbers(
    hostile_store: Store, tmp_path: Path
) -> None:
    decided(hostile_store)
    out = tmp_path / "changes.xlsx"

    result = run_trueup("export-changes", "--out", out)

    assert result.returncode == 0, result.stderr
    with zipfile.ZipFile(out) as book:
        strings = re.findall(r"<t[^>]*>([^<]*)</t>", book.read("xl/sharedStrings.xml").decode())
        sheet = book.read("xl/worksheets/sheet1.xml").decode()
    assert "<f>" not in sheet  # no cell is a formula
    unescaped = [s.replace("&amp;", "&").replace("&apos;", "'") for s in strings]
    assert f"'{FORMULA_ACCOUNT}" in unescaped and f"'{FORMULA_PRODUCT}" in unescaped
    assert not any(re.match(r"[=+\-@]", s) for s in unescaped)
    # A decrease's new quantity and negative value are number cells, not text.
    assert re.search(r'<c r="[A-Z]+\d+"[^>]*><v>-\d+(\.\d+)?</v></c>', sheet)


@pytest.mark.parametrize("start", ["=", "+", "-", "@", "\t", "\r"])
def test_every_formula_start_gains_a_quote_and_other_columns_keep_their_type(start: str) -> None:
    frame = pl.DataFrame({"name": [f"{start}1+1", "Acme - East", None], "seats": [-3, 4, 5]})

    safe = neutralised_frame(frame)

    assert safe["name"].to_list() == [f"'{start}1+1", "Acme - East", None]
    assert safe["seats"].to_list() == [-3, 4, 5]


def test_the_hostile_names_all_start_as_formulas() -> None:
    # Guards the other tests here: a payload that no longer starts a formula tests nothing.
    assert all(re.match(r"[=+\-@]", name) for name in FORMULAS)


# The pages' downloads, on the hostile month served to AppTest (see test_markup.py).
workspace = markup_tests.workspace
downloads = audit_page_tests.downloads


def test_month_page_chart_csvs_neutralise_vendor_names(
    workspace: Store, downloads: dict[str, bytes]
) -> None:
    decided(workspace)

    at = markup_tests.opened("pages/month.py")

    assert not at.exception
    tables = {name: data.decode() for name, data in downloads.items() if name.endswith(".csv")}
    assert tables, downloads.keys()
    for text in tables.values():
        rows = read_csv(text)
        no_formula_in(rows, *(c for c in rows[0] if c not in ("period", "vendor", "type")))
    by_vendor = next(text for name, text in tables.items() if "by_vendor" in name)
    assert f"'{FORMULA_VENDOR}" in by_vendor


def test_quick_reconcile_csvs_neutralise_names(
    workspace: Store, hostile: Path, downloads: dict[str, bytes]
) -> None:
    at = markup_tests.opened("pages/quick_reconcile.py")
    psa, usage, maps, _ = at.file_uploader
    psa.set_value(("psa.csv", (hostile / "psa.csv").read_bytes(), "text/csv"))
    usage.set_value(("usage-pax8.csv", (hostile / "usage-pax8.csv").read_bytes(), "text/csv"))
    maps.set_value(
        [
            (n, (hostile / n).read_bytes(), "text/csv")
            for n in ("account-map.csv", "product-map.csv")
        ]
    )
    at.run()

    assert not at.exception and not at.error
    texts = [data.decode() for name, data in downloads.items() if name.endswith(".csv")]
    assert len(texts) == 2  # the cards and the unmapped list
    names = set()
    for text in texts:
        rows = read_csv(text)
        numbers = ("psa_quantity", "vendor_quantity", "change", "unit_price", "monthly_value")
        no_formula_in(rows, *numbers, "quantity")
        names |= {r.get("account_name") or r.get("vendor_name") for r in rows}
    assert f"'{FORMULA_ACCOUNT}" in names and f"'{FORMULA_UNMAPPED}" in names
