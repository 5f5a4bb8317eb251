"""The month's charts: the tables behind them (exact decimals) and the Altair charts drawn from
them, one of each per key ("by_type", "by_vendor", "recovered").

The tables are what a user shows and downloads beside each chart; the charts convert money to
floats only to plot it, and format it back for their axes and tooltips.
"""

from __future__ import annotations

from typing import Final

import altair as alt
import polars as pl

from engine.schema import MONEY, CardType, Schema
from report import month_label
from store.month import MonthSummary

Chart = alt.Chart | alt.LayerChart

TYPE_NAMES: Final = {
    CardType.INCREASE: "Increase",
    CardType.NEW_REVENUE: "New Revenue",
    CardType.DECREASE: "Decrease",
    CardType.REMOVAL: "Removal",
}
TYPE_MEANINGS: Final = {
    CardType.INCREASE: "Increase: more seats than billed",
    CardType.NEW_REVENUE: "New Revenue: used, not billed yet",
    CardType.DECREASE: "Decrease: fewer seats than billed",
    CardType.REMOVAL: "Removal: no longer used",
}
"""The legend's label of each type: what the type means, for a reader who never saw a card."""
TYPE_COLOURS: Final = {
    CardType.INCREASE: "#0072B2",  # Okabe-Ito blue and sky blue: gains
    CardType.NEW_REVENUE: "#56B4E9",
    CardType.DECREASE: "#E69F00",  # Okabe-Ito orange and vermillion: losses
    CardType.REMOVAL: "#D55E00",
}
"""Fixed per type, so that a type keeps its colour in every month; blue against orange stays
apart for the common colour blindnesses (Okabe & Ito's palette)."""
LEGEND_ORDER: Final = (CardType.INCREASE, CardType.NEW_REVENUE, CardType.DECREASE, CardType.REMOVAL)
VENDOR_COLOURS: Final = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00")
OTHER_VENDORS: Final = "Other vendors"
OTHER_COLOUR: Final = "#999999"
HEIGHT: Final = 300
MONEY_AXIS: Final = ",.0f"
MONEY_TIP: Final = ",.2f"

BY_TYPE: Schema = {
    "period": pl.String,
    "type": pl.String,
    "cards": pl.Int64,
    "monthly_value": MONEY,
}
"""Approved changes: one row per period and card type (decreases and removals negative)."""
BY_VENDOR: Schema = {
    "period": pl.String,
    "vendor": pl.String,
    "approved": pl.Int64,
    "net_change": MONEY,
    "recovered": MONEY,
}
"""Approved changes: one row per period and vendor or distributor."""
RECOVERED: Schema = {
    "period": pl.String,
    "recovered": MONEY,
    "cumulative_recovered": MONEY,
}
"""Revenue recovered: one row per period, with its running total over the periods shown."""


def chart_tables(summary: MonthSummary) -> dict[str, pl.DataFrame]:
    """Give back the table behind each chart, keyed as `month_charts`, with exact money."""
    figures = summary.figures
    by_type = pl.concat(
        [
            figures.select(
                "period",
                pl.lit(TYPE_NAMES[t]).alias("type"),
                pl.col(t.value).fill_null(0).alias("cards"),
                pl.col(f"{t.value}_value").fill_null(0).alias("monthly_value"),
            )
            for t in LEGEND_ORDER
        ]
    )
    order = {TYPE_NAMES[t]: i for i, t in enumerate(LEGEND_ORDER)}
    by_type = by_type.sort(
        "period", pl.col("type").replace_strict(order, return_dtype=pl.Int64)
    ).cast(pl.Schema(BY_TYPE))
    by_vendor = summary.by_vendor.select(
        "period", pl.col("key").alias("vendor"), "approved", "net_change", "recovered"
    ).cast(pl.Schema(BY_VENDOR))
    recovered = figures.select(
        "period",
        pl.col("recovered").fill_null(0).cast(MONEY),
        pl.col("recovered").fill_null(0).cum_sum().cast(MONEY).alias("cumulative_recovered"),
    )
    return {"by_type": by_type, "by_vendor": by_vendor, "recovered": recovered}


def month_charts(summary: MonthSummary, currency: str) -> dict[str, Chart]:
    """Give back the month's charts, each as wide as its container: approved changes by type
    per month, net change by vendor per month, and revenue recovered, cumulative."""
    tables = chart_tables(summary)
    months = [month_label(p) for p in summary.periods]
    return {
        "by_type": _by_type(tables["by_type"], months, currency),
        "by_vendor": _by_vendor(tables["by_vendor"], months, currency),
        "recovered": _recovered(tables["recovered"], months, currency),
    }


def chart_png(chart: Chart, *, width: int = 640, scale: float = 2) -> bytes:
    """Give back the chart drawn as PNG, `width` pixels wide (times `scale`) for its plot area.

    Drawn by vl-convert, without a browser: the first chart of a process takes a second or two
    (its JavaScript engine starts), later ones a few tenths.
    """
    # Imported here: the Month page draws its charts in the browser and needs this only when
    # someone downloads one (a quarter of a second off its first render).
    import vl_convert

    spec = chart.properties(width=width).to_json()
    return bytes(vl_convert.vegalite_to_png(spec, scale=scale))


def _by_type(table: pl.DataFrame, months: list[str], currency: str) -> alt.Chart:
    names = {TYPE_NAMES[t]: TYPE_MEANINGS[t] for t in LEGEND_ORDER}
    data = _plotted(table, "monthly_value").with_columns(
        pl.col("type").replace_strict(names).alias("meaning")
    )
    return (
        alt.Chart(data)
        .mark_bar()
        .encode(
            x=_month_axis(months),
            y=alt.Y("monthly_value:Q", title=f"Monthly value ({currency})", stack="zero").axis(
                format=MONEY_AXIS
            ),
            color=alt.Color("meaning:N", title="Approved change")
            .scale(
                domain=[TYPE_MEANINGS[t] for t in LEGEND_ORDER],
                range=[TYPE_COLOURS[t] for t in LEGEND_ORDER],
            )
            .legend(orient="bottom", columns=2, labelLimit=300),
            order=alt.Order("order:Q"),
            tooltip=[
                alt.Tooltip("month:N", title="Month"),
                alt.Tooltip("type:N", title="Type"),
                alt.Tooltip("cards:Q", title="Cards", format=","),
                alt.Tooltip(
                    "monthly_value:Q", title=f"Monthly value ({currency})", format=MONEY_TIP
                ),
            ],
        )
        .properties(height=HEIGHT)
    )


def _by_vendor(table: pl.DataFrame, months: list[str], currency: str) -> alt.Chart:
    data = _plotted(_fewer_vendors(table), "net_change", "recovered")
    vendors = data.get_column("vendor").unique(maintain_order=True).to_list()
    named = [v for v in vendors if v != OTHER_VENDORS]
    domain = named + ([OTHER_VENDORS] if OTHER_VENDORS in vendors else [])
    colours = [VENDOR_COLOURS[i % len(VENDOR_COLOURS)] for i in range(len(named))]
    return (
        alt.Chart(data)
        .mark_bar()
        .encode(
            x=_month_axis(months),
            y=alt.Y("net_change:Q", title=f"Net change a month ({currency})", stack="zero").axis(
                format=MONEY_AXIS
            ),
            color=alt.Color("vendor:N", title="Vendor or distributor")
            .scale(domain=domain, range=colours + [OTHER_COLOUR] * (len(domain) - len(named)))
            .legend(orient="bottom", columns=3),
            tooltip=[
                alt.Tooltip("month:N", title="Month"),
                alt.Tooltip("vendor:N", title="Vendor or distributor"),
                alt.Tooltip("approved:Q", title="Approved changes", format=","),
                alt.Tooltip("net_change:Q", title=f"Net change ({currency})", format=MONEY_TIP),
                alt.Tooltip("recovered:Q", title=f"Recovered ({currency})", format=MONEY_TIP),
            ],
        )
        .properties(height=HEIGHT)
    )


def _recovered(table: pl.DataFrame, months: list[str], currency: str) -> alt.LayerChart:
    data = _plotted(table, "recovered", "cumulative_recovered")
    base = alt.Chart(data).encode(
        x=_month_axis(months),
        y=alt.Y("cumulative_recovered:Q", title=f"Recovered, cumulative ({currency})").axis(
            format=MONEY_AXIS
        ),
        tooltip=[
            alt.Tooltip("month:N", title="Month"),
            alt.Tooltip(
                "recovered:Q", title=f"Recovered that month ({currency})", format=MONEY_TIP
            ),
            alt.Tooltip(
                "cumulative_recovered:Q", title=f"Recovered so far ({currency})", format=MONEY_TIP
            ),
        ],
    )
    colour = TYPE_COLOURS[CardType.INCREASE]
    area = base.mark_area(color=colour, opacity=0.15)
    line = base.mark_line(color=colour, point=alt.OverlayMarkDef(color=colour, size=40))
    return alt.LayerChart(layer=[area, line]).properties(height=HEIGHT)


def _month_axis(months: list[str]) -> alt.X:
    """Give back the x axis: every month shown, in order, also those without a change."""
    return (
        alt.X("month:O", title=None, sort=months)
        .scale(domain=months)
        .axis(labelAngle=0, labelOverlap=True)
    )


def _plotted(table: pl.DataFrame, *money: str) -> pl.DataFrame:
    """Give back the table ready to plot: its month as an axis names it, money as floats, and
    each row's place (legend order) for stacking."""
    labels = {period: month_label(period) for period in table.get_column("period").unique()}
    frame = table.with_columns(
        pl.col("period").replace_strict(labels, return_dtype=pl.String).alias("month"),
        *(pl.col(name).cast(pl.Float64) for name in money),
    )
    return frame.with_row_index("order")


def _fewer_vendors(table: pl.DataFrame) -> pl.DataFrame:
    """Give back the table with the vendors beyond the first few (by their largest change over
    the months shown) summed as "Other vendors": more colours than that no eye tells apart."""
    kept = (
        table.group_by("vendor")
        .agg(pl.col("net_change").abs().sum().alias("size"))
        .sort("size", "vendor", descending=[True, False])
        .head(len(VENDOR_COLOURS))
        .get_column("vendor")
    )
    if kept.len() == table.get_column("vendor").n_unique():
        return table
    named = table.filter(pl.col("vendor").is_in(kept.implode()))
    others = (
        table.filter(~pl.col("vendor").is_in(kept.implode()))
        .group_by("period")
        .agg(pl.lit(OTHER_VENDORS).alias("vendor"), pl.sum("approved", "net_change", "recovered"))
        .select(table.columns)
        .cast(table.schema)
    )
    return pl.concat([named, others]).sort("period", maintain_order=True)
