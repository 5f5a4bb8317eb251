"""The approved changes written out as CSV and Excel: exact money, and text cells that no
spreadsheet runs as a formula (issue 5.10)."""

from __future__ import annotations

import csv
import io
import re
import zipfile
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import polars as pl
import pytest

from connectors.csv.export import write_changes
from engine.contracts import CHANGES

AT = datetime(2026, 3, 14, 9, 30, tzinfo=UTC)


def changes(*names: str) -> pl.DataFrame:
    """Give back one change per account name, the second without a prorated amount."""
    rows = [
        (
            f"A{i}",
            name,
            "AG-1",
            None if i else "L1",
            "M365",
            "Microsoft 365",
            Decimal("20"),
            Decimal("23.5") if i == 0 else Decimal("0"),
            date(2026, 3, 15),
            Decimal("-12.06") if i == 0 else None,
            Decimal("66.00"),
            "ann",
            AT,
        )
        for i, name in enumerate(names)
    ]
    return pl.DataFrame(rows, schema=CHANGES, orient="row")


DANGEROUS = ['=HYPERLINK("http://x")', "+1+1", "-2+3", "@SUM(A1)", "\tTab", "\rCR"]


def test_csv_cells_are_exact_and_formulas_are_neutralised() -> None:
    out = io.BytesIO()

    write_changes(changes("Acme", "Beta", *DANGEROUS), out)

    rows = list(csv.DictReader(io.StringIO(out.getvalue().decode())))
    assert list(rows[0]) == list(CHANGES)
    assert [r["account_name"] for r in rows] == ["Acme", "Beta", *(f"'{d}" for d in DANGEROUS)]
    first, second = rows[0], rows[1]
    assert (first["old_quantity"], first["new_quantity"]) == ("20", "23.5")
    assert (first["prorated_amount"], first["monthly_value"]) == ("-12.06", "66.00")
    assert (second["line_id"], second["prorated_amount"], second["new_quantity"]) == ("", "", "0")
    assert first["effective_date"] == "2026-03-15"
    assert first["approved_at"] == "2026-03-14T09:30:00Z"


def sheet_cells(book: bytes) -> tuple[list[str], str]:
    """Give back the shared strings of the first sheet of a workbook, and its XML."""
    with zipfile.ZipFile(io.BytesIO(book)) as archive:
        strings = re.findall(r"<t[^>]*>([^<]*)</t>", archive.read("xl/sharedStrings.xml").decode())
        return strings, archive.read("xl/worksheets/sheet1.xml").decode()


@pytest.mark.parametrize("how", ["path", "named-buffer", "excel-flag"])
def test_excel_by_suffix_or_flag_keeps_money_exact_and_neutralises_formulas(
    tmp_path: Path, how: str
) -> None:
    frame = changes("Acme", "=cmd|' /C calc'!A0")
    if how == "path":
        path = tmp_path / "changes.XLSX"
        write_changes(frame, path)
        book = path.read_bytes()
    else:
        buffer = io.BytesIO()
        if how == "named-buffer":
            buffer.name = "approved-changes.xlsx"
            write_changes(frame, buffer)
        else:
            write_changes(frame, buffer, excel=True)
        book = buffer.getvalue()

    strings, sheet = sheet_cells(book)
    assert "'=cmd|' /C calc'!A0" in strings
    assert not any(s.startswith("=") for s in strings)
    assert "<f>" not in sheet  # no cell is a formula
    assert "<v>-12.06</v>" in sheet and "<v>23.5" in sheet  # numbers, written exactly
    read = pl.read_excel(book)
    assert read["account_name"].to_list() == ["Acme", "'=cmd|' /C calc'!A0"]
    assert read["monthly_value"].to_list() == [66, 66]


def test_a_file_not_named_xlsx_is_csv(tmp_path: Path) -> None:
    path = tmp_path / "changes.csv"

    write_changes(changes("Acme"), path)

    assert path.read_text().startswith("account_id,account_name,contract_id,")
