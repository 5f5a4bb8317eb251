"""The month report: one page whatever the month holds, in Latin-1 text a PDF core font writes."""

from __future__ import annotations

from datetime import UTC, datetime
from io import BytesIO

from pypdf import PdfReader

from report import headline_rows
from report.pdf import MAX_VENDORS, month_report, printable
from store.month import Closed
from tests.report.factories import month_row, summary_of


def text_of(pdf: bytes) -> tuple[int, str]:
    """Give back the PDF's page count and its text, whitespace made single spaces."""
    reader = PdfReader(BytesIO(pdf))
    return len(reader.pages), " ".join(" ".join(p.extract_text() for p in reader.pages).split())


def test_many_vendors_and_names_beyond_latin_1_still_make_one_page() -> None:
    vendors = [("2026-11", "Ωmega — Cloud", 1, "-1234.50", "0.00", 0)] + [
        ("2026-11", f"Vendor {i:02}", 1, f"{i}.00", f"{i}.00", 0) for i in range(1, 30)
    ]
    summary = summary_of(
        [
            month_row("2026-10"),
            month_row(
                "2026-11",
                increase=(29, "435.00"),
                removal=(1, "-1234.50"),
                still_open=(1200, "98765.43", "12345.67"),
            ),
        ],
        vendors,
        closed={"2026-11": Closed("maria.chen", datetime(2026, 11, 30, 17, tzinfo=UTC))},
    )

    pages, text = text_of(month_report(summary, "USD"))

    assert pages == 1
    assert "TrueUp - month summary, November 2026" in text
    assert "Closed by maria.chen on 30 Nov 2026" in text
    assert "?mega - Cloud 1 -1,234.50 USD" in text  # Ω is not Latin-1; the em dash reads as "-"
    assert printable("Ωmega — Cloud") == "?mega - Cloud"
    assert f"and {30 - MAX_VENDORS} more" in text
    for row in headline_rows(summary.to_json()["headline"], "USD"):
        assert " ".join(f"{row.label} {row.count} {row.money}".split()) in text
    assert "Still open 1,200 98,765.43 USD" in text


def test_a_live_month_says_so_and_what_it_did_not_record() -> None:
    summary = summary_of([month_row("2026-10", increase=(1, "10.00"))], [])

    pages, text = text_of(month_report(summary, "EUR", at=datetime(2026, 11, 2, 9, 30, tzinfo=UTC)))

    assert pages == 1
    assert "Live figures as of 2 Nov 2026 09:30 UTC: the month is not closed" in text
    assert "Revenue at risk not recorded" in text
    assert "Revenue recovered 10.00 EUR" in text
    assert "No decisions this month." in text
