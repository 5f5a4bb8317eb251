"""The month report: its charts and its one-page PDF, shared by the Month page and `trueup report`.

It reads a MonthSummary (store.month) and draws it; it never queries the store itself, and never
imports Streamlit, so that the CLI can print what the page shows.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any, Final

NOT_RECORDED = "not recorded"
"""What a figure reads where the month kept no record of it (a past month never closed)."""


def money_text(amount: Decimal, currency: str) -> str:
    """Give back an amount as the report writes money: `1,234.50 USD`, `-12.00 USD`."""
    return f"{amount:,.2f} {currency}"


def figure_text(amount: Decimal | str | None, currency: str) -> str:
    """Give back a money figure of `MonthSummary.to_json()` (text) or of its frames, or
    "not recorded" where it is null."""
    return NOT_RECORDED if amount is None else money_text(Decimal(amount), currency)


def month_name(period: str) -> str:
    """Give back "November 2026" for "2026-11"."""
    return f"{_first_day(period):%B %Y}"


def month_label(period: str) -> str:
    """Give back "Nov 2026" for "2026-11": a month as an axis names it."""
    return f"{_first_day(period):%b %Y}"


def _first_day(period: str) -> date:
    year, month = (int(part) for part in period.split("-"))
    return date(year, month, 1)


HEADLINE: Final = (
    ("Revenue recovered", None, "recovered"),
    ("Net change in billed MRR", None, "net_change"),
    ("Revenue at risk", None, "at_risk"),
    ("Approved changes", "approved", None),
    ("Increases", "increase", "increase_value"),
    ("Decreases", "decrease", "decrease_value"),
    ("Removals", "removal", "removal_value"),
    ("New Revenue", "new_revenue", "new_revenue_value"),
    ("Dismissed", "dismissed", "dismissed_value"),
    ("Still open", "open", "open_value"),
)
"""The headline figures as the report and `trueup summary` name them: label, count, money
(keys of `MonthSummary.to_json()["headline"]`)."""
APPROVED_PARTS: Final = frozenset({"increase", "decrease", "removal", "new_revenue"})


@dataclass(frozen=True)
class HeadlineRow:
    """One headline figure, as printed: its label, count and money (either may be blank)."""

    label: str
    count: str
    money: str
    part: bool
    """Whether it is a part of the approved changes (printed indented)."""


def headline_rows(headline: dict[str, Any], currency: str) -> list[HeadlineRow]:
    """Give back the headline figures of `MonthSummary.to_json()` as printed: counts with
    thousands separators, money by `money_text`, "not recorded" where the month kept none."""
    rows = []
    for label, count, money in HEADLINE:
        cards = "" if count is None or headline[count] is None else f"{headline[count]:,}"
        value = "" if money is None else figure_text(headline[money], currency)
        rows.append(HeadlineRow(label, cards, value, count in APPROVED_PARTS))
    return rows


def status_text(figures: dict[str, Any], at: datetime) -> str:
    """Give back whether the month of `MonthSummary.to_json()` is closed, and by whom, or as of
    when its live figures were read."""
    closed = figures["closed"]
    if closed is not None:
        when = datetime.fromisoformat(closed["at"])
        return f"Closed by {closed['by']} on {when.day} {when:%b %Y}"
    now = at.astimezone(UTC)
    return f"Live figures as of {now.day} {now:%b %Y %H:%M} UTC: the month is not closed"
