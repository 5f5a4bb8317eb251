"""The Cards page, driven through Streamlit's AppTest on a store of its own (see conftest).

The grid is a custom component AppTest cannot click: its selection is injected as the browser
sends it, `{"selected": [card keys]}` under the grid's key. The browser test clicks it."""

from __future__ import annotations

from datetime import date

import polars as pl
import pytest
from streamlit.testing.v1 import AppTest

from pages.card_view import View, filtered, grid_rows, loaded_cards
from store import Store, current_cards, import_csv, import_maps, open_store
from store.decisions import decide_cards
from store.prefs import get_pref
from store.summary import state_key
from store.types import Action
from tests.conftest import ROOT
from tests.store.factories import load_month

CARDS = ROOT / "tests" / "fixtures" / "cards"
XSS = "<img src=x onerror=alert(1)>"
USER = "tester"


@pytest.fixture
def workspace(workspace_url: str, monkeypatch: pytest.MonkeyPatch) -> Store:
    """Give the test's store: the hand-checked month, and a vendor named as HTML whose card is
    New Revenue for Acme (see tests/fixtures/cards)."""
    monkeypatch.setenv("TRUEUP_USER", USER)
    opened = open_store(workspace_url)
    load_month(opened)
    import_csv(opened, XSS, "usage", CARDS / "usage-xss.csv")
    import_maps(opened, CARDS / "account-map.csv")
    import_maps(opened, CARDS / "product-map.csv")
    return opened


def cards_page(query: dict[str, str] | None = None) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    for name, value in (query or {}).items():
        at.query_params[name] = value
    at.run()
    at.switch_page("pages/cards.py").run()
    assert not at.exception
    assert not at.error
    return at


def select(at: AppTest, store: Store, keys: list[str]) -> None:
    """Select cards in the grid, as a click in the browser would send it."""
    version = at.session_state["cards.version"] if "cards.version" in at.session_state else 0  # noqa: SIM401 - no .get()
    view = View.from_query(
        {k: v[0] if isinstance(v, list) else v for k, v in at.query_params.items()}
    )
    with store.session() as session:
        state = state_key(session)
    at.session_state[f"cards.grid.{version}.{view.id}.{state[:12]}"] = {"selected": keys}
    at.run()


def button(at: AppTest, key: str):
    return next(b for b in at.button if b.key == key)


def headline(at: AppTest) -> str:
    return next(m.value for m in at.markdown if " · net " in m.value and "selected" not in m.value)


def statuses(store: Store) -> dict[str, str]:
    cards = current_cards(store).cards
    return {f"{a}:{p}": s for a, p, s in cards.select("account_id", "product_id", "status").rows()}


def test_the_page_lists_the_open_cards_with_the_unmapped_banner(workspace: Store) -> None:
    at = cards_page()

    assert headline(at).startswith("**7 cards**")  # the month's six and the HTML vendor's
    assert any("unmapped" in w.value for w in at.warning)  # Foxtrot and Teams Essentials
    assert any("Tick cards" in c.value for c in at.caption)


def test_the_view_comes_from_the_address_and_goes_back_to_it(workspace: Store) -> None:
    at = cards_page({"vendor": "sentinelone", "group": "account"})

    assert headline(at).startswith("**1 card**")
    assert at.selectbox(key="cards.source").value == "sentinelone"
    at.toggle(key="cards.flagged").set_value(True).run()
    assert dict(at.query_params) == {
        "vendor": ["sentinelone"],
        "group": ["account"],
        "flagged": ["1"],
    } or dict(at.query_params) == {"vendor": "sentinelone", "group": "account", "flagged": "1"}


def test_a_selection_shows_its_count_and_net_value(workspace: Store) -> None:
    at = cards_page()
    select(at, workspace, ["100:M365BP", "400:M365BP"])

    assert any(
        m.value == "**2 cards selected** · net -264.00 USD a month · 1 outlier" for m in at.markdown
    )
    assert button(at, "cards.approve").label == "Approve 2 cards"


def test_bulk_approve_goes_through_the_warning_and_the_spot_check(workspace: Store) -> None:
    at = cards_page()
    select(at, workspace, ["100:M365BP", "400:M365BP"])

    button(at, "cards.approve").click().run()
    assert any("**Approve 2 cards** (1 outlier among them)" in m.value for m in at.markdown)
    at.checkbox(key="cards.silence").check().run()
    button(at, "cards.warned_ok").click().run()
    assert any(m.value == "**Outliers: 1 card**" for m in at.markdown)  # Delta: 15 to 0
    button(at, "cards.spot_ok").click().run()

    assert at.success[0].value.startswith("Approved 2 cards, effective 01 ")
    assert statuses(workspace)["100:M365BP"] == "approved"
    assert statuses(workspace)["400:M365BP"] == "approved"
    assert headline(at).startswith("**5 cards**")
    assert get_pref(workspace, USER, "cards.bulk_warning.off") == "1"
    assert button(at, "cards.undo").label == "Undo: approve 2 cards"


def test_leaving_the_outliers_out_approves_the_rest(workspace: Store) -> None:
    at = cards_page()
    select(at, workspace, ["100:M365BP", "400:M365BP"])
    button(at, "cards.approve").click().run()
    button(at, "cards.warned_ok").click().run()

    button(at, "cards.drop_out").click().run()
    assert button(at, "cards.spot_ok").label == "Approve 1 card"
    button(at, "cards.spot_ok").click().run()

    assert statuses(workspace)["100:M365BP"] == "approved"
    assert statuses(workspace)["400:M365BP"] == "open"


def test_new_revenue_is_approved_into_the_agreement_picked(workspace: Store) -> None:
    at = cards_page()
    select(at, workspace, ["100:EXO1"])
    button(at, "cards.approve").click().run()
    button(at, "cards.warned_ok").click().run()

    assert any(m.value == "**New Revenue: 1 card**" for m in at.markdown)
    assert at.selectbox(key="cards.contract.100:EXO1").value == "AG-1"  # Acme's agreement
    button(at, "cards.spot_ok").click().run()

    assert statuses(workspace)["100:EXO1"] == "approved"


def test_a_date_saved_without_approving_schedules_the_cards(workspace: Store) -> None:
    at = cards_page()
    select(at, workspace, ["200:EXO1"])
    at.date_input[0].set_value(date(2031, 1, 15)).run()

    button(at, "cards.schedule").click().run()
    button(at, "cards.warned_ok").click().run()

    assert at.success[0].value == "Scheduled 1 card, effective 15 January 2031."
    cards = current_cards(workspace).cards.filter(
        (pl.col("account_id") == "200") & (pl.col("product_id") == "EXO1")
    )
    assert cards.get_column("status").to_list() == ["scheduled"]
    assert cards.get_column("effective_date").to_list() == [date(2031, 1, 15)]
    assert headline(at).startswith("**7 cards**")  # a scheduled card stays open


def test_approving_a_scheduled_card_keeps_its_date(workspace: Store) -> None:
    beta = current_cards(workspace).cards.filter(
        (pl.col("account_id") == "200") & (pl.col("product_id") == "EXO1")
    )
    decide_cards(workspace, beta, Action.SCHEDULE, effective_date=date(2031, 1, 15), user=USER)
    at = cards_page()
    select(at, workspace, ["200:EXO1"])

    button(at, "cards.approve").click().run()
    button(at, "cards.warned_ok").click().run()

    assert at.success[0].value == "Approved 1 card, effective 15 January 2031."


def test_a_card_decided_meanwhile_is_reported_with_who_and_when(workspace: Store) -> None:
    at = cards_page()
    select(at, workspace, ["100:M365BP", "200:EXO1"])
    button(at, "cards.dismiss").click().run()  # the warning is open...
    acme = current_cards(workspace).cards.filter(
        (pl.col("account_id") == "100") & (pl.col("product_id") == "M365BP")
    )
    decide_cards(workspace, acme, Action.DISMISS, user="ana")  # ...when Ana dismisses one

    button(at, "cards.warned_ok").click().run()

    assert at.success[0].value == "Dismissed 1 card."
    assert any(
        "Acme Corp · Microsoft 365 Business Premium: already dismissed by ana" in w.value
        for w in at.warning
    )


def test_undo_takes_the_last_action_back(workspace: Store) -> None:
    at = cards_page()
    select(at, workspace, ["200:EXO1"])
    button(at, "cards.dismiss").click().run()
    button(at, "cards.warned_ok").click().run()
    assert statuses(workspace)["200:EXO1"] == "dismissed"

    button(at, "cards.undo").click().run()

    assert statuses(workspace)["200:EXO1"] == "open"
    assert at.success[0].value.startswith("Undone: dismiss 1 card")


def test_the_list_or_tile_choice_is_remembered_per_user(workspace: Store) -> None:
    at = cards_page()
    at.segmented_control(key="cards.view").set_value("tiles").run()
    assert get_pref(workspace, USER, "cards.view") == "tiles"

    again = cards_page()
    assert again.segmented_control(key="cards.view").value == "tiles"
    assert any(c.label.startswith("Acme Corp") for c in again.checkbox)


def test_group_rows_carry_count_net_change_and_value(workspace: Store) -> None:
    cards = loaded_cards(workspace, date(2026, 11, 27)).cards
    rows = grid_rows(filtered(cards, View(group="account")), "account")

    heads = rows.filter(pl.col("kind") == "group")
    cobalt = heads.filter(pl.col("group_label") == "Cobalt Law").row(0, named=True)
    assert cobalt["group_figures"] == "2 cards · net change +10 · 11.00 USD a month"
    # each header comes right before its cards
    after = rows.get_column("row_id").to_list().index(cobalt["row_id"])
    assert (
        rows.row(after + 1, named=True)["group"]
        == rows.row(after + 2, named=True)["group"]
        == "300"
    )


def test_a_vendor_named_as_html_is_data_never_markup(workspace: Store) -> None:
    cards = loaded_cards(workspace, date(2026, 11, 27)).cards
    rows = grid_rows(filtered(cards, View(source=XSS, group="vendor")), "vendor")

    assert rows.filter(pl.col("kind") == "group").get_column("group_label").to_list() == [XSS]
    assert rows.filter(pl.col("kind") == "card").get_column("vendor").to_list() == [XSS]


def test_approved_changes_download_as_csv_and_excel_and_are_marked_exported(
    workspace: Store,
) -> None:
    at = cards_page()
    select(at, workspace, ["100:M365BP"])
    button(at, "cards.approve").click().run()
    button(at, "cards.warned_ok").click().run()

    assert any(e.label == "Approved changes to apply in the PSA: 1" for e in at.expander)
    button(at, "cards.export").click().run()

    assert at.success[0].value == "Marked 1 change exported."
    assert any(e.label == "Approved changes to apply in the PSA: 0" for e in at.expander)
