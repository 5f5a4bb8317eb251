"""The month's charts: the tables behind them add up to the summary, and the charts say what
they show (legend, colours, currency, months)."""

from __future__ import annotations

from decimal import Decimal

import polars as pl
import pytest

from engine.schema import MONEY
from report.charts import (
    OTHER_VENDORS,
    TYPE_COLOURS,
    TYPE_MEANINGS,
    chart_png,
    chart_tables,
    month_charts,
)
from store.month import MonthSummary
from tests.report.factories import month_row, summary_of


@pytest.fixture
def summary() -> MonthSummary:
    """Three months: nothing decided in September, a mixed October, and a November of gains."""
    return summary_of(
        [
            month_row("2026-09"),
            month_row(
                "2026-10",
                increase=(3, "120.50"),
                decrease=(2, "-51.00"),
                removal=(1, "-330.00"),
                new_revenue=(1, "1234.56"),
                dismissed=(1, "-8.00"),
            ),
            month_row("2026-11", increase=(1, "66.00"), still_open=(4, "-10.00", "42.00")),
        ],
        [
            ("2026-10", "Pax8", 5, "974.06", "1355.06", 1),
            ("2026-10", "SentinelOne", 2, "-0.00", "0.00", 0),
            ("2026-11", "Pax8", 1, "66.00", "66.00", 0),
        ],
    )


def test_the_tables_add_up_to_the_summary_in_exact_money(summary: MonthSummary) -> None:
    tables = chart_tables(summary)

    by_type = tables["by_type"]
    per_month = by_type.group_by("period").agg(pl.sum("cards", "monthly_value")).sort("period")
    figures = summary.figures.select("period", "approved", "net_change")
    assert per_month.rows() == figures.rows()  # every type's value, signed, adds to the net
    assert by_type.height == 3 * 4  # one row per month and type, zeros included
    assert by_type.schema["monthly_value"] == MONEY
    october = by_type.filter(pl.col("period") == "2026-10")
    assert dict(october.select("type", "monthly_value").iter_rows()) == {
        "Increase": Decimal("120.50"),
        "New Revenue": Decimal("1234.56"),
        "Decrease": Decimal("-51.00"),
        "Removal": Decimal("-330.00"),
    }
    assert tables["by_vendor"].columns == [
        "period",
        "vendor",
        "approved",
        "net_change",
        "recovered",
    ]
    assert tables["by_vendor"].get_column("net_change").sum() == Decimal("1040.06")
    recovered = tables["recovered"]
    assert recovered.get_column("cumulative_recovered").to_list() == [
        Decimal("0.00"),
        Decimal("1355.06"),
        Decimal("1421.06"),
    ]


def test_the_type_chart_explains_each_type_in_its_fixed_colour(summary: MonthSummary) -> None:
    spec = month_charts(summary, "EUR")["by_type"].to_dict()

    colour = spec["encoding"]["color"]
    meanings = dict(zip(colour["scale"]["domain"], colour["scale"]["range"], strict=True))
    assert meanings == {
        "Increase: more seats than billed": "#0072B2",
        "New Revenue: used, not billed yet": "#56B4E9",
        "Decrease: fewer seats than billed": "#E69F00",
        "Removal: no longer used": "#D55E00",
    }
    assert set(meanings) == set(TYPE_MEANINGS.values())
    assert set(meanings.values()) == set(TYPE_COLOURS.values())
    assert spec["encoding"]["y"]["title"] == "Monthly value (EUR)"
    assert spec["encoding"]["y"]["axis"]["format"] == ",.0f"  # thousands separators
    assert spec["encoding"]["x"]["scale"]["domain"] == ["Sep 2026", "Oct 2026", "Nov 2026"]
    values = {
        row["type"]: row["monthly_value"] for row in _data(spec) if row["month"] == "Oct 2026"
    }
    assert values["Removal"] == -330.0  # losses plot below zero


@pytest.mark.parametrize("key", ["by_type", "by_vendor", "recovered"])
def test_every_mark_has_a_tooltip_with_formatted_money(summary: MonthSummary, key: str) -> None:
    spec = month_charts(summary, "USD")[key].to_dict()

    layers = spec.get("layer", [spec])
    for layer in layers:
        tooltips = (layer.get("encoding") or spec["encoding"])["tooltip"]
        money = [t for t in tooltips if t["type"] == "quantitative" and "USD" in t["title"]]
        assert money and all(t["format"] == ",.2f" for t in money)


def test_beyond_six_vendors_the_rest_chart_as_other_vendors() -> None:
    vendors = [("2026-11", f"Vendor {i}", 1, f"{i}.00", f"{i}.00", 0) for i in range(1, 10)]
    summary = summary_of([month_row("2026-11", increase=(9, "45.00"))], vendors)

    rows = _data(month_charts(summary, "USD")["by_vendor"].to_dict())

    named = {row["vendor"]: row["net_change"] for row in rows}
    assert len(named) == 7 and named[OTHER_VENDORS] == 1 + 2 + 3
    assert sum(named.values()) == 45
    assert chart_tables(summary)["by_vendor"].height == 9  # the table keeps every vendor


def test_a_chart_draws_as_png(summary: MonthSummary) -> None:
    png = chart_png(month_charts(summary, "USD")["recovered"], width=200, scale=1)

    assert png.startswith(b"\x89PNG\r\n\x1a\n")


def _data(spec: dict) -> list[dict]:
    """Give back the rows a chart plots (Altair keeps inline data in `datasets`)."""
    (rows,) = spec["datasets"].values()
    return rows
