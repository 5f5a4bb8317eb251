"""Month summaries built by hand, so that the report is tested without a store."""

from __future__ import annotations

from decimal import Decimal

import polars as pl

from engine.month import BREAKDOWN, FIGURES
from store.month import Closed, MonthSummary

Figure = tuple[int, str]
"""A count and its monthly value: (3, "120.00")."""
NONE: Figure = (0, "0.00")


def month_row(
    period: str,
    *,
    increase: Figure = NONE,
    new_revenue: Figure = NONE,
    decrease: Figure = NONE,
    removal: Figure = NONE,
    dismissed: Figure = NONE,
    still_open: tuple[int, str, str] | None = None,
) -> dict[str, object]:
    """Give back one FIGURES row, its totals added up from the types given; `still_open` is
    (cards, monthly value, at risk), or none where the month kept no record of it."""
    types = {
        "increase": increase,
        "decrease": decrease,
        "removal": removal,
        "new_revenue": new_revenue,
    }
    row: dict[str, object] = {"period": period}
    for name, (cards, value) in types.items():
        row[name], row[f"{name}_value"] = cards, Decimal(value)
    row["approved"] = sum(cards for cards, _ in types.values())
    row["net_change"] = sum((Decimal(value) for _, value in types.values()), Decimal(0))
    row["recovered"] = Decimal(increase[1]) + Decimal(new_revenue[1])
    row["dismissed"], row["dismissed_value"] = dismissed[0], Decimal(dismissed[1])
    cards, value, at_risk = still_open or (None, None, None)
    row["open"] = cards
    row["open_value"] = None if value is None else Decimal(value)
    row["at_risk"] = None if at_risk is None else Decimal(at_risk)
    return row


def summary_of(
    rows: list[dict[str, object]],
    vendors: list[tuple[str, str, int, str, str, int]],
    *,
    closed: dict[str, Closed] | None = None,
) -> MonthSummary:
    """Give back the summary of the last of `rows`' months; `vendors` are (period, vendor,
    approved, net change, recovered, dismissed)."""
    by_vendor = pl.DataFrame(
        [
            (period, name, name, approved, Decimal(net), Decimal(got), dismissed)
            for period, name, approved, net, got, dismissed in vendors
        ],
        schema=BREAKDOWN,
        orient="row",
    )
    periods = [str(row["period"]) for row in rows]
    return MonthSummary(
        period=periods[-1],
        periods=periods,
        figures=pl.DataFrame(rows, schema=FIGURES),
        by_vendor=by_vendor,
        by_service=by_vendor.clear(),
        top_accounts=by_vendor.clear(),
        closed=closed or {},
    )
