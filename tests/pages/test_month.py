"""The Month page, driven through Streamlit's AppTest on a store of its own (see conftest): the
hand-checked month, with cards decided this month and last month."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from streamlit.testing.v1 import AppTest

from engine.month import periods_until
from pages.workspace import money
from report import month_name
from store import Store, current_cards, import_csv, import_maps, open_store
from store.cards import is_open
from store.decisions import decide_cards
from store.models import MonthClose
from store.month import current_period, month_summary
from store.types import Action
from tests.conftest import ROOT
from tests.store.factories import load_month

CARDS = ROOT / "tests" / "fixtures" / "cards"
NOW = datetime.now(UTC)
THIS_MONTH = current_period(NOW)
LAST_MONTH = periods_until(THIS_MONTH, 2)[0]


@pytest.fixture
def workspace(workspace_url: str) -> Store:
    """Give the test's store: the hand-checked month and a vendor named as HTML; two cards
    approved and one dismissed last month, one more approved this month."""
    opened = open_store(workspace_url)
    load_month(opened)
    import_csv(opened, "<img src=x onerror=alert(1)>", "usage", CARDS / "usage-xss.csv")
    import_maps(opened, CARDS / "account-map.csv")
    import_maps(opened, CARDS / "product-map.csv")
    last_month = datetime.strptime(LAST_MONTH + "-10", "%Y-%m-%d").replace(tzinfo=UTC)
    cards = current_cards(opened).cards.filter(is_open()).sort("account_id", "product_id")
    decide_cards(opened, cards[0:2], Action.APPROVE, user="ann", at=last_month)
    decide_cards(opened, cards[2:3], Action.DISMISS, user="ann", at=last_month)
    decide_cards(opened, cards[3:4], Action.APPROVE, user="ann", at=NOW - timedelta(seconds=5))
    return opened


def month_page(month: str | None = None) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    if month:
        at.query_params["month"] = month
    at.run()
    at.switch_page("pages/month.py").run()
    assert not at.exception
    assert not at.error
    return at


def shown(at: AppTest) -> dict[str, str]:
    return {metric.label: metric.value for metric in at.metric}


def test_the_month_opens_on_this_month_with_its_figures(workspace: Store) -> None:
    at = month_page()
    summary = month_summary(workspace)
    row = summary.headline

    assert at.selectbox[0].value == THIS_MONTH
    assert at.subheader[0].value == f"{month_name(THIS_MONTH)}: live figures"
    figures = shown(at)
    assert figures["Revenue recovered"] == money(row["recovered"])
    assert figures["Revenue at risk"] == money(row["at_risk"])
    assert figures["Cards still open"] == f"{row['open']:,}"
    assert row["approved"] == 1
    # The month over month charts: by type, by vendor, recovered.
    assert len(at.get("vega_lite_chart")) == 3


def test_a_month_is_chosen_in_the_address_and_shows_where_its_changes_were(
    workspace: Store,
) -> None:
    at = month_page(LAST_MONTH)
    row = month_summary(workspace, LAST_MONTH).headline

    assert at.selectbox[0].value == LAST_MONTH
    assert shown(at)["Revenue recovered"] == money(row["recovered"])
    # A past month that was never closed has no record of what was left open in it.
    assert shown(at)["Revenue at risk"] == "not recorded"
    assert row["approved"] == 2 and row["dismissed"] == 1
    tables = at.dataframe
    vendors = tables[0].value
    assert set(vendors["name"]) <= {"pax8", "sentinelone", "<img src=x onerror=alert(1)>"}
    assert len(vendors) >= 1


def test_closing_a_month_with_steps_left_asks_first_then_freezes_it(workspace: Store) -> None:
    at = month_page(LAST_MONTH)
    close = next(b for b in at.button if b.label.startswith("Close"))
    assert close.disabled  # steps are left: the checkbox first

    at.checkbox[0].check().run()
    next(b for b in at.button if b.label.startswith("Close")).click().run()

    assert not at.exception
    with workspace.session() as session:
        closed = session.scalars(sa.select(MonthClose.period)).all()
    assert closed == [LAST_MONTH]
    assert at.subheader[0].value == f"{month_name(LAST_MONTH)}: closed"
    # Closed at the moment of the close: this month's open cards are what was left undone.
    assert shown(at)["Cards still open"] != "not recorded"

    next(b for b in at.button if b.label.startswith("Reopen")).click().run()

    with workspace.session() as session:
        assert session.scalars(sa.select(MonthClose.period)).all() == []
    assert at.subheader[0].value == f"{month_name(LAST_MONTH)}: live figures"


def test_the_checklist_says_what_is_left_and_where_to_do_it(workspace: Store) -> None:
    at = month_page()

    texts = " ".join(m.value for m in at.markdown)
    assert "Month close:" in texts and "of 5 done" in texts
    assert "Every card actioned" in texts
    assert at.info and at.info[0].value.startswith("**Next:")


def test_the_months_to_choose_reach_back_to_the_first_decision(workspace: Store) -> None:
    at = month_page()

    # This month and the twelve before it, newest first (no decision is older here).
    assert at.selectbox[0].options[:2] == [
        f"{month_name(THIS_MONTH)} (this month)",
        month_name(LAST_MONTH),
    ]
    assert len(at.selectbox[0].options) == 13


def test_an_unknown_month_in_the_address_falls_back_to_this_month(workspace: Store) -> None:
    at = month_page("not-a-month")

    assert at.selectbox[0].value == THIS_MONTH
    assert at.query_params["month"] in (THIS_MONTH, [THIS_MONTH])
