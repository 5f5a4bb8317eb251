"""The month report as one page of PDF: the headline figures, the month per vendor, two charts.

The page is US Letter, landscape: most MSPs this serves bill in USD from a US PSA and print on
Letter, and landscape gives the charts their width beside the figures. (A4 prints it scaled to
fit without losing anything.) It always stays one page: the vendor table shows the first
MAX_VENDORS and says how many more there are.

Every figure printed is read from `MonthSummary.to_json()`, so the PDF says what
`trueup summary --format json` says. The text uses Helvetica, a PDF core font, which writes
Latin-1 only: other characters are replaced (`printable`).
"""

from __future__ import annotations

from datetime import UTC, datetime
from io import BytesIO
from typing import Any, Final

from fpdf import FPDF
from fpdf.enums import Align, XPos, YPos

from report import figure_text, headline_rows, month_name, status_text
from report.charts import chart_png, month_charts
from store.month import MonthSummary

MAX_VENDORS: Final = 12
MARGIN: Final = 12.0
LEFT_WIDTH: Final = 118.0
GAP: Final = 8.0
ROW: Final = 5.6
CHART_WIDTH_PX: Final = 460
CHART_HEIGHT_PX: Final = 190
"""Smaller than on the page, so that the charts' labels stay legible when fitted beside the
figures."""
CHARTS: Final = {
    "by_type": "Approved changes by type, per month",
    "recovered": "Revenue recovered, cumulative",
}
VENDOR_COLUMNS: Final = (
    ("Vendor or distributor", 34.0, Align.L),
    ("Approved", 15.0, Align.R),
    ("Net change", 26.0, Align.R),
    ("Recovered", 26.0, Align.R),
    ("Dismissed", 17.0, Align.R),
)
_LOOKALIKES: Final = str.maketrans(
    {"—": "-", "–": "-", "−": "-", "‘": "'", "’": "'", "“": '"', "”": '"', "…": "..."}
)


def month_report(summary: MonthSummary, currency: str, *, at: datetime | None = None) -> bytes:
    """Give back the month's report: one page of PDF.

    `at` is when the figures were read, printed on a month that is not closed (default: now).
    """
    figures = summary.to_json()
    pdf = FPDF(orientation="landscape", unit="mm", format="Letter")
    pdf.set_auto_page_break(False)
    pdf.set_margins(MARGIN, MARGIN, MARGIN)
    title = f"TrueUp - month summary, {month_name(summary.period)}"
    pdf.set_title(title)
    pdf.set_creator("TrueUp")
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 16)
    _line(pdf, title, 9)
    pdf.set_font("Helvetica", "", 10)
    _line(pdf, status_text(figures, at or datetime.now(UTC)), 6)
    pdf.set_text_color(90)
    pdf.set_font("Helvetica", "", 8)
    _line(pdf, f"Money in {currency} a month. A month counts the decisions made in it.", 6)
    pdf.set_text_color(0)
    top = pdf.get_y() + 3
    pdf.set_y(top)
    _headline(pdf, figures["headline"], currency)
    pdf.set_y(pdf.get_y() + 4)
    _vendors(pdf, figures["by_vendor"], currency)
    _charts(pdf, summary, currency, top)
    return bytes(pdf.output())


def printable(text: str) -> str:
    """Give back the text as Helvetica can write it: Latin-1, dashes and quotes made plain,
    anything else as "?"."""
    return text.translate(_LOOKALIKES).encode("latin-1", "replace").decode("latin-1")


def _headline(pdf: FPDF, headline: dict[str, Any], currency: str) -> None:
    _heading(pdf, "The month")
    for row in headline_rows(headline, currency):
        pdf.set_font("Helvetica", "" if row.part else "B", 10)
        pdf.cell(58, ROW, ("   " if row.part else "") + row.label)
        pdf.set_font("Helvetica", "", 10)
        pdf.cell(24, ROW, row.count, align=Align.R)
        pdf.cell(
            LEFT_WIDTH - 82, ROW, row.money, align=Align.R, new_x=XPos.LMARGIN, new_y=YPos.NEXT
        )


def _vendors(pdf: FPDF, vendors: list[dict[str, Any]], currency: str) -> None:
    _heading(pdf, "By vendor or distributor")
    pdf.set_font("Helvetica", "B", 8)
    for name, width, align in VENDOR_COLUMNS:
        pdf.cell(width, ROW, name, align=align, border="B")
    pdf.ln(ROW)
    pdf.set_font("Helvetica", "", 9)
    if not vendors:
        _line(pdf, "No decisions this month.", ROW)
    for vendor in vendors[:MAX_VENDORS]:
        cells = (
            _fitted(pdf, printable(vendor["vendor"]), VENDOR_COLUMNS[0][1] - 1),
            f"{vendor['approved']:,}",
            figure_text(vendor["net_change"], currency),
            figure_text(vendor["recovered"], currency),
            f"{vendor['dismissed']:,}",
        )
        for text, (_, width, align) in zip(cells, VENDOR_COLUMNS, strict=True):
            pdf.cell(width, ROW, text, align=align)
        pdf.ln(ROW)
    if len(vendors) > MAX_VENDORS:
        more = len(vendors) - MAX_VENDORS
        pdf.set_font("Helvetica", "I", 9)
        _line(pdf, f"and {more:,} more: `trueup summary` lists them all", ROW)


def _charts(pdf: FPDF, summary: MonthSummary, currency: str, top: float) -> None:
    charts = month_charts(summary, currency)
    left = MARGIN + LEFT_WIDTH + GAP
    width = pdf.w - MARGIN - left
    height = (pdf.h - MARGIN - top) / len(CHARTS)
    for i, (key, title) in enumerate(CHARTS.items()):
        y = top + i * height
        pdf.set_xy(left, y)
        pdf.set_font("Helvetica", "B", 10)
        pdf.cell(width, 6, title)
        chart = charts[key].properties(height=CHART_HEIGHT_PX)
        png = chart_png(chart, width=CHART_WIDTH_PX)
        pdf.image(BytesIO(png), x=left, y=y + 7, w=width, h=height - 10, keep_aspect_ratio=True)


def _heading(pdf: FPDF, text: str) -> None:
    pdf.set_font("Helvetica", "B", 11)
    _line(pdf, text, 7)


def _line(pdf: FPDF, text: str, height: float) -> None:
    pdf.cell(0, height, printable(text), new_x=XPos.LMARGIN, new_y=YPos.NEXT)


def _fitted(pdf: FPDF, text: str, width: float) -> str:
    """Give back the text, shortened with "..." where it is wider than `width` (mm)."""
    if pdf.get_string_width(text) <= width:
        return text
    while text and pdf.get_string_width(text + "...") > width:
        text = text[:-1]
    return text + "..."
