"""The month summary (engine.month): what each month's decisions changed, and what was left open.

The fixture month (tests/fixtures/month_summary) holds 22 decisions over 2026-11, 2026-12 and
2027-01, and the open cards of 2027-01 only; 2026-10 has no decisions at all. The expected
figures below are worked out by hand from those files, decision by decision (ids in brackets).
"""

from __future__ import annotations

from decimal import Decimal

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from engine.month import (
    BREAKDOWN,
    DECISIONS,
    FIGURES,
    OPEN,
    Breakdown,
    counted,
    month_breakdown,
    month_figures,
    periods_since,
    periods_until,
)
from engine.schema import MONEY, Schema
from tests.conftest import FIXTURES

FOLDER = FIXTURES / "month_summary"
PERIODS = ["2026-10", "2026-11", "2026-12", "2027-01"]


def read(name: str, schema: Schema) -> pl.DataFrame:
    """Give back a fixture file as text cells cast to `schema`: money goes from its text
    straight to an exact decimal, never through a float."""
    text = pl.read_csv(FOLDER / name, infer_schema=False)
    booleans = [n for n, t in schema.items() if t == pl.Boolean]
    return text.with_columns(pl.col(booleans) == "true").select(
        pl.col(n).cast(t) for n, t in schema.items()
    )


def decisions() -> pl.DataFrame:
    return read("decisions.csv", DECISIONS)


def open_cards() -> pl.DataFrame:
    return read("open.csv", OPEN)


Pair = tuple[int, str]
NONE: Pair = (0, "0.00")


def figures(
    period: str,
    *,
    increase: Pair = NONE,
    decrease: Pair = NONE,
    removal: Pair = NONE,
    new_revenue: Pair = NONE,
    approved: int = 0,
    net_change: str = "0.00",
    recovered: str = "0.00",
    dismissed: Pair = NONE,
    still_open: tuple[int, str, str] | None = None,
) -> pl.DataFrame:
    """Give back one FIGURES row; `still_open` is (open, open_value, at_risk), None when the
    month's open cards are not known."""
    pairs = (increase, decrease, removal, new_revenue)
    row = (
        period,
        *(x for n, v in pairs for x in (n, Decimal(v))),
        approved,
        Decimal(net_change),
        Decimal(recovered),
        dismissed[0],
        Decimal(dismissed[1]),
        *(
            (None, None, None)
            if still_open is None
            else (still_open[0], Decimal(still_open[1]), Decimal(still_open[2]))
        ),
    )
    return pl.DataFrame([row], schema=FIGURES, orient="row")


EXPECTED = {
    # No decisions: every count and value zero; its open cards are not known, so null.
    "2026-10": figures("2026-10"),
    # Counted, one per card: [1] Acme increase +66.00; [2] Beta approval undone: nothing;
    # Cobalt M365 [3] approved then [5] dismissed: the dismissal counts, -43.00 dismissed;
    # [4] scheduled: nothing; [6] Delta removal -330.00; [7] Echo New Revenue +110.00;
    # [8] a no_vendor_data card dismissed: one more dismissal, no value; [9] an undo: nothing.
    # approved = 3; net_change = 66.00 - 330.00 + 110.00 = -154.00;
    # recovered = 66.00 (increase) + 110.00 (New Revenue) = 176.00;
    # dismissed = 2 worth -43.00 + 0 = -43.00. Open cards not known: null.
    "2026-11": figures(
        "2026-11",
        increase=(1, "66.00"),
        removal=(1, "-330.00"),
        new_revenue=(1, "110.00"),
        approved=3,
        net_change="-154.00",
        recovered="176.00",
        dismissed=(2, "-43.00"),
    ),
    # Cents that floats get wrong: increases [10] 0.10 (Acme M365, counted in November too)
    # + [11] 0.20 + [12] 33.33 (scheduled in November, approved now) = 33.63 exactly
    # (as floats 0.1 + 0.2 + 33.33 = 33.629999...); New Revenue [13] 33.33 + [14] null = 33.33
    # over 2 cards (a card without a price counts, adding nothing); decreases [15] -0.01 +
    # [16] -0.02 + [17] -21.50 = -21.53 (Cobalt M365's dismissal [18] was undone, so its
    # approval [17] is its last decision that holds; [19] is that undo).
    # approved = 3 + 2 + 3 = 8; net_change = 33.63 + 33.33 - 21.53 = 45.43;
    # recovered = 33.63 + 33.33 = 66.96; nothing dismissed.
    "2026-12": figures(
        "2026-12",
        increase=(3, "33.63"),
        decrease=(3, "-21.53"),
        new_revenue=(2, "33.33"),
        approved=8,
        net_change="45.43",
        recovered="66.96",
    ),
    # Across the year: [20] Acme M365 approved a third month +22.00; [21] scheduled: nothing;
    # [22] Beta M365 dismissed at 0.20 (its December approval stays December's).
    # Open cards known (open.csv): 2 + 1 + 1 + 2 = 6 cards worth
    # 54.00 - 8.00 - 330.00 + 110.00 = -174.00; at risk: the open increases and New Revenue only,
    # 54.00 + 110.00 = 164.00.
    "2027-01": figures(
        "2027-01",
        increase=(1, "22.00"),
        approved=1,
        net_change="22.00",
        recovered="22.00",
        dismissed=(1, "0.20"),
        still_open=(6, "-174.00", "164.00"),
    ),
}


def test_the_fixture_months_figures_are_the_hand_worked_ones() -> None:
    result = month_figures(decisions(), open_cards(), PERIODS)

    assert_frame_equal(result, pl.concat([EXPECTED[p] for p in PERIODS]))


@pytest.mark.parametrize("period", PERIODS)
def test_a_months_figures_do_not_depend_on_the_months_asked_beside_it(period: str) -> None:
    assert_frame_equal(month_figures(decisions(), open_cards(), [period]), EXPECTED[period])


def test_periods_come_back_in_the_order_asked() -> None:
    result = month_figures(decisions(), open_cards(), ["2027-01", "2026-10", "2026-12"])

    assert result["period"].to_list() == ["2027-01", "2026-10", "2026-12"]


def test_money_adds_the_cards_cents_exactly_never_as_floats() -> None:
    december = month_figures(decisions(), open_cards(), ["2026-12"]).row(0, named=True)

    assert 0.10 + 0.20 + 33.33 != 33.63  # what a float total would show
    assert december["increase_value"] == Decimal("33.63")
    assert december["net_change"] == Decimal("45.43")
    # December's open cards are not known: its open_value and at_risk are null.
    known = [n for n, t in FIGURES.items() if t == MONEY and n not in ("open_value", "at_risk")]
    assert all(isinstance(december[n], Decimal) for n in known)


@pytest.mark.parametrize(
    ("rows", "expected"),
    [
        pytest.param([], None, id="not-known"),
        pytest.param([("2026-10", "increase", 0, "0.00")], (0, "0.00", "0.00"), id="none-open"),
        pytest.param(
            [("2026-10", "decrease", 3, "-9.99"), ("2026-10", "removal", 1, "-0.01")],
            (4, "-10.00", "0.00"),
            id="decreases-put-nothing-at-risk",
        ),
        pytest.param(
            [("2026-10", "new_revenue", 1, None), ("2026-10", "increase", 1, "0.01")],
            (2, "0.01", "0.01"),
            id="new-revenue-without-a-price-counts-as-a-card",
        ),
        pytest.param([("2026-11", "increase", 5, "50.00")], None, id="another-months-open-cards"),
    ],
)
def test_open_cards_of_a_month_without_decisions(
    rows: list[tuple], expected: tuple[int, str, str] | None
) -> None:
    given = pl.DataFrame(
        [(p, t, n, None if v is None else Decimal(v)) for p, t, n, v in rows],
        schema=OPEN,
        orient="row",
    )

    result = month_figures(pl.DataFrame(schema=DECISIONS), given, ["2026-10"])

    assert_frame_equal(result, figures("2026-10", still_open=expected))


def test_counted_keeps_each_cards_last_decision_of_the_month_that_holds() -> None:
    # Gone: [2] undone, [3] followed by [5], [4] and [21] schedules, [9] and [19] undos,
    # [18] undone (so [17] is Cobalt M365's December decision).
    kept = counted(decisions()).sort("id")["id"].to_list()

    assert kept == [1, 5, 6, 7, 8, 10, 11, 12, 13, 14, 15, 16, 17, 20, 22]


def breakdown(rows: list[tuple]) -> pl.DataFrame:
    return pl.DataFrame(
        [(p, k, n, a, Decimal(c), Decimal(r), d) for p, k, n, a, c, r, d in rows],
        schema=BREAKDOWN,
        orient="row",
    )


@pytest.mark.parametrize(
    ("by", "expected"),
    [
        pytest.param(
            Breakdown.VENDOR,
            [
                # November: pax8 [1] 66.00, [6] -330.00, [7] 110.00 approved, [5] dismissed;
                # datto only the dismissed no_vendor_data card [8].
                ("2026-11", "pax8", "pax8", 3, "-154.00", "176.00", 1),
                ("2026-11", "datto", "datto", 0, "0.00", "0.00", 1),
                # December: sentinelone [12] 33.33 + [14] null first, as it changed more than
                # pax8: [10] 0.10 + [11] 0.20 + [13] 33.33 - [15] 0.01 - [16] 0.02 - [17] 21.50.
                ("2026-12", "sentinelone", "sentinelone", 2, "33.33", "33.33", 0),
                ("2026-12", "pax8", "pax8", 6, "12.10", "33.63", 0),
                # January: [20] approved, [22] dismissed, [21] scheduled (nothing).
                ("2027-01", "pax8", "pax8", 1, "22.00", "22.00", 1),
            ],
            id="vendor",
        ),
        pytest.param(
            Breakdown.SERVICE,
            [
                ("2026-11", "P1", "M365 Business Premium", 3, "-154.00", "176.00", 1),
                ("2026-11", "P4", "M365 Backup", 0, "0.00", "0.00", 1),
                # P3: [12] 33.33 + [14] null; P1: [10] + [11] + [13] - [17] = 12.13;
                # P2: [15] + [16] = -0.03, nothing recovered.
                ("2026-12", "P3", "SentinelOne Core", 2, "33.33", "33.33", 0),
                ("2026-12", "P1", "M365 Business Premium", 4, "12.13", "33.63", 0),
                ("2026-12", "P2", "Exchange Online Plan 1", 2, "-0.03", "0.00", 0),
                ("2027-01", "P1", "M365 Business Premium", 1, "22.00", "22.00", 1),
            ],
            id="service",
        ),
        pytest.param(
            "account",
            [
                # The largest change either way first: Delta's -330.00 before Echo's +110.00.
                # Echo (A5) has no name yet (New Revenue before a PSA sync): its id stands in.
                # Beta (A2) is absent: its one November decision was undone.
                ("2026-11", "A4", "Delta Freight", 1, "-330.00", "0.00", 0),
                ("2026-11", "A5", "A5", 1, "110.00", "110.00", 0),
                ("2026-11", "A1", "Acme Corp", 1, "66.00", "66.00", 1),
                ("2026-11", "A3", "Cobalt Law", 0, "0.00", "0.00", 1),
                # Foxtrot [13] + [14]; Cobalt [12] 33.33 - [17] 21.50; Beta [11] 0.20 - [16] 0.02;
                # Acme [10]; Delta [15].
                ("2026-12", "A6", "Foxtrot Ltd", 2, "33.33", "33.33", 0),
                ("2026-12", "A3", "Cobalt Law", 2, "11.83", "33.33", 0),
                ("2026-12", "A2", "Beta Dental", 2, "0.18", "0.20", 0),
                ("2026-12", "A1", "Acme Corp", 1, "0.10", "0.10", 0),
                ("2026-12", "A4", "Delta Freight", 1, "-0.01", "0.00", 0),
                ("2027-01", "A1", "Acme Corp", 1, "22.00", "22.00", 0),
                ("2027-01", "A2", "Beta Dental", 0, "0.00", "0.00", 1),
            ],
            id="account-by-its-text-name",
        ),
    ],
)
def test_breakdown_groups_names_and_puts_the_largest_change_first(
    by: Breakdown | str, expected: list[tuple]
) -> None:
    result = month_breakdown(decisions(), by, PERIODS)

    assert_frame_equal(result, breakdown(expected))


def test_breakdown_ties_go_to_more_approvals_then_the_key() -> None:
    rows = [
        (1, "B", "pax8", "increase", "approve", "10.00"),
        (2, "A", "sherweb", "decrease", "approve", "-5.00"),
        (3, "A", "sherweb", "decrease", "approve", "-5.00"),
        (4, "C", "datto", "removal", "approve", "-10.00"),
        (5, "D", "arrow", "increase", "approve", "10.00"),
    ]
    given = pl.DataFrame(
        [
            (i, "2026-11", f"A{i}", None, p, None, v, t, a, Decimal(m), False)
            for i, p, v, t, a, m in rows
        ],
        schema=DECISIONS,
        orient="row",
    )

    result = month_breakdown(given, Breakdown.VENDOR, ["2026-11"])

    # |10.00| four ways: sherweb's two approvals first, then arrow, datto, pax8 by name.
    assert result["key"].to_list() == ["sherweb", "arrow", "datto", "pax8"]
    assert result["net_change"].to_list() == [Decimal(v) for v in ("-10", "10", "-10", "10")]


def test_breakdown_of_months_without_decisions_is_empty() -> None:
    result = month_breakdown(decisions(), Breakdown.ACCOUNT, ["2026-10", "2027-02"])

    assert_frame_equal(result, pl.DataFrame(schema=BREAKDOWN))


@pytest.mark.parametrize(
    ("period", "months", "expected"),
    [
        pytest.param("2026-11", 1, ["2026-11"], id="one"),
        pytest.param("2027-01", 3, ["2026-11", "2026-12", "2027-01"], id="across-new-year"),
        pytest.param("2026-12", 2, ["2026-11", "2026-12"], id="december"),
        pytest.param(
            "2027-02",
            13,
            [f"2026-{m:02d}" for m in range(2, 13)] + ["2027-01", "2027-02"],
            id="thirteen-months",
        ),
    ],
)
def test_periods_until(period: str, months: int, expected: list[str]) -> None:
    assert periods_until(period, months) == expected


@pytest.mark.parametrize(
    ("first", "last", "at_least", "expected"),
    [
        (None, "2026-11", 2, ["2026-10", "2026-11"]),
        ("2026-10", "2026-11", 3, ["2026-09", "2026-10", "2026-11"]),
        ("2024-11", "2026-11", 13, periods_until("2026-11", 25)),
        ("2026-12", "2026-11", 1, ["2026-11"]),
    ],
)
def test_periods_since_reach_back_to_the_first_and_never_fewer_than_asked(
    first: str | None, last: str, at_least: int, expected: list[str]
) -> None:
    assert periods_since(first, last, at_least=at_least) == expected
