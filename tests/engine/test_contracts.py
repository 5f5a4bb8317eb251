"""Contracts of approved changes: New Revenue's default agreement (issue 5.5), and the changes to
apply in the PSA with their prorated amounts (DESIGN 6)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from engine.contracts import (
    APPROVALS,
    CHANGES,
    DEFAULT_CONTRACTS,
    changes_to_apply,
    default_contracts,
)
from engine.schema import CARDS, PSA_LINES
from tests.engine.factories import frame, psa_line

AT = datetime(2026, 3, 14, 9, tzinfo=UTC)


def card(account: str, product: str, card_type: str = "new_revenue", **values: Any) -> dict:
    return {"account_id": account, "product_id": product, "card_type": card_type, **values}


RECONCILED = [card("A", "M365"), card("Z", "S1", "increase")]
"""Cards of the reconciled products M365 and S1; a new M365 card for account A."""


@pytest.mark.parametrize(
    ("lines", "expected"),
    [
        pytest.param([], None, id="no-lines-no-contract"),
        pytest.param([psa_line("B", "S1", 1, contract="C9")], None, id="other-accounts-lines"),
        pytest.param([psa_line("A", "S1", 1, contract="C2")], "C2", id="its-one-agreement"),
        pytest.param(
            [
                psa_line("A", "LABOUR", 1, contract="C1"),
                psa_line("A", "HARDWARE", 1, contract="C1"),
                psa_line("A", "S1", 1, contract="C2"),
            ],
            "C2",
            id="most-reconciled-lines-not-most-lines",
        ),
        pytest.param(
            [
                psa_line("A", "S1", 1, contract="C2", line="1"),
                psa_line("A", "S1", 1, contract="C2", line="2"),
                psa_line("A", "M365", 1, contract="C1"),
            ],
            "C2",
            id="most-reconciled-lines",
        ),
        pytest.param(
            [psa_line("A", "S1", 1, contract="C2"), psa_line("A", "S1", 1, contract="C10")],
            "C10",
            id="tie-smallest-id-as-text",
        ),
        pytest.param(
            [
                psa_line("A", "LABOUR", 1, contract="C1"),
                psa_line("A", "LABOUR", 1, contract="C3", line="1"),
                psa_line("A", "HARDWARE", 1, contract="C3", line="2"),
            ],
            "C3",
            id="no-reconciled-lines-most-lines",
        ),
        pytest.param(
            [psa_line("A", "S1", 1, contract=None), psa_line("A", "LABOUR", 1, contract="C4")],
            "C4",
            id="a-line-without-contract-is-no-agreement",
        ),
    ],
)
def test_new_revenue_defaults_to_the_agreement_holding_most_reconciled_lines(
    lines: list[dict], expected: str | None
) -> None:
    result = default_contracts(frame(RECONCILED, CARDS), frame(lines, PSA_LINES))

    assert_frame_equal(
        result,
        pl.DataFrame([("A", "M365", expected)], schema=DEFAULT_CONTRACTS, orient="row"),
    )


def test_only_new_revenue_cards_get_a_default() -> None:
    cards = frame([card("A", "M365", "increase"), card("B", "M365", "removal")], CARDS)
    lines = frame([psa_line("A", "M365", 1), psa_line("B", "M365", 1)], PSA_LINES)

    assert default_contracts(cards, lines).is_empty()


LINES = [
    psa_line("A", "M365", 20, price="22.00", contract="AG1", line="L1", prorate=True),
    psa_line("A", "EXO", 5, price="48.00", contract="AG1", line="L2", prorate=False, months=12),
    psa_line("B", "LABOUR", 1, price="100", contract="AG2", line="L3", prorate=True),
    psa_line("C", "LABOUR", 1, price="100", contract="AG3", line="L4", prorate=False),
]


def change_card(account: str, product: str, psa: str, vendor: str, **values: Any) -> dict:
    return {
        "account_id": account,
        "account_name": f"{account} Ltd",
        "product_id": product,
        "product_name": f"{product} plan",
        "psa_quantity": psa,
        "vendor_quantity": vendor,
        "change": str(int(vendor) - int(psa)),
        **values,
    }


CARD_ROWS = [
    change_card(
        "A", "M365", "20", "23", contract_id="AG1", line_id="L1", unit_price="22.00",
        prorate=True, billing_months=1, monthly_value="66.00", card_type="increase",
    ),
    change_card(
        "A", "EXO", "5", "3", contract_id="AG1", line_id="L2", unit_price="48.00",
        prorate=False, billing_months=12, monthly_value="-8.00", card_type="decrease",
    ),
    change_card(
        "B", "M365", "0", "1", unit_price="22.00", monthly_value="22.00", card_type="new_revenue"
    ),
    change_card(
        "C", "M365", "0", "1", unit_price="22.00", monthly_value="22.00", card_type="new_revenue"
    ),
    change_card(
        "D", "M365", "0", "2", unit_price="22.00", monthly_value="44.00", card_type="new_revenue"
    ),
]  # fmt: skip


def approval(account: str, product: str, contract: str | None, effective: date) -> tuple:
    return (account, product, contract, effective, "ann", AT)


@pytest.mark.parametrize(
    ("approved", "expected"),
    [
        pytest.param(
            approval("A", "M365", "AG1", date(2026, 3, 15)),
            ("AG1", "L1", "20", "23", "36.19"),  # 3 × 22 × 17/31
            id="line-prorates",
        ),
        pytest.param(
            approval("A", "M365", "AG1", date(2026, 4, 1)),
            ("AG1", "L1", "20", "23", "66.00"),
            id="from-the-first-the-whole-month",
        ),
        pytest.param(
            approval("A", "EXO", "AG1", date(2026, 3, 15)),
            ("AG1", "L2", "5", "3", None),
            id="line-does-not-prorate",
        ),
        pytest.param(
            approval("B", "M365", "AG2", date(2026, 3, 15)),
            ("AG2", None, "0", "1", "12.06"),  # DESIGN 6's worked example
            id="new-revenue-on-a-prorating-agreement",
        ),
        pytest.param(
            approval("C", "M365", "AG3", date(2026, 3, 15)),
            ("AG3", None, "0", "1", None),
            id="new-revenue-on-an-agreement-that-does-not-prorate",
        ),
        pytest.param(
            approval("D", "M365", "AG-NEW", date(2026, 3, 15)),
            ("AG-NEW", None, "0", "2", None),
            id="new-revenue-on-an-agreement-with-no-lines",
        ),
    ],
)
def test_a_change_to_apply_is_prorated_where_its_line_or_agreement_prorates(
    approved: tuple, expected: tuple
) -> None:
    approvals = pl.DataFrame([approved], schema=APPROVALS, orient="row")

    changes = changes_to_apply(frame(CARD_ROWS, CARDS), approvals, frame(LINES, PSA_LINES))

    assert changes.schema == pl.Schema(CHANGES)
    assert changes.height == 1
    row = changes.row(0, named=True)
    got = (
        row["contract_id"],
        row["line_id"],
        f"{row['old_quantity']:f}".rstrip("0").rstrip("."),
        f"{row['new_quantity']:f}".rstrip("0").rstrip("."),
        None if row["prorated_amount"] is None else str(row["prorated_amount"]),
    )
    assert got == expected
    assert (row["effective_date"], row["approved_by"], row["approved_at"]) == approved[3:]
    assert row["account_name"] == f"{approved[0]} Ltd"


def test_only_approved_cards_are_changes_to_apply() -> None:
    approvals = pl.DataFrame(
        [approval("A", "EXO", "AG1", date(2026, 4, 1)), approval("X", "M365", "AG9", AT.date())],
        schema=APPROVALS,
        orient="row",
    )

    changes = changes_to_apply(frame(CARD_ROWS, CARDS), approvals, frame(LINES, PSA_LINES))

    assert changes.select("account_id", "product_id").rows() == [("A", "EXO")]
