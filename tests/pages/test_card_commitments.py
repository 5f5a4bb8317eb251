"""The Cards page warns, on a decrease or removal card over seats under an NCE commitment, that
the vendor cannot reduce them before the commitment ends (issue 7, item 8).

The store holds a PSA export, maps and a Pax8 sync (through the fake Pax8, in-process) whose
Acme Business Premium seats are committed; the grid's selection is injected as the browser
sends it (see test_cards)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from pages.card_view import View, commitment_warnings, filtered, grid_rows, loaded_cards
from store import Store, import_csv, import_maps, open_store
from store import credentials as creds
from store.sources import add_source
from store.sync import sync_source
from store.types import now
from tests.fakes.pax8 import COMMITTED_UNTIL, FakePax8
from tests.fakes.server import transport
from tests.pages.test_cards import cards_page, select

WARNING = (
    f"Pax8: 12 seats committed until {COMMITTED_UNTIL:%d %b %Y}; the vendor cannot reduce "
    "them before then."
)


@pytest.fixture
def workspace(workspace_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Store:
    """Give the test's store: Acme bills 20 Business Premium seats where Pax8 counts 12, all
    committed (a decrease); Birch bills 3 E3 where Pax8 counts 3 (unchanged) and 2 Business
    Premium against 5 (an increase)."""
    monkeypatch.setenv("TRUEUP_USER", "tester")
    monkeypatch.setenv(creds.KEY_ENV, creds.new_key())
    (tmp_path / "psa.csv").write_text(
        "account_id,account_name,contract_id,product_id,product_name,line_id,quantity,unit_price\n"
        "A1,Acme Dental,K1,M365BP,Business Premium,L1,20,22\n"
        "B1,Birch Law,K2,M365BP,Business Premium,L2,2,22\n"
        "B1,Birch Law,K2,M365E3,Microsoft 365 E3,L3,3,36\n"
    )
    (tmp_path / "accounts.csv").write_text(
        "vendor,vendor_account_id,psa_account_id\nPax8,c-acme,A1\nPax8,c-birch,B1\n"
    )
    (tmp_path / "products.csv").write_text(
        "vendor,vendor_product_id,psa_product_id\nPax8,p-bp,M365BP\nPax8,p-e3,M365E3\n"
    )
    opened = open_store(workspace_url)
    import_csv(opened, "psa", "psa", tmp_path / "psa.csv")
    import_maps(opened, tmp_path / "accounts.csv")
    import_maps(opened, tmp_path / "products.csv")
    values = {"client_id": "pax8-client", "client_secret": "pax8-s3cret"}
    with opened.session() as session:
        add_source(session, "pax8", "pax8", values, user="tester", at=now())
    sync_source(opened, "pax8", mode="full", transport=transport(FakePax8()))
    return opened


def test_only_the_committed_decrease_card_carries_the_warning(workspace: Store) -> None:
    cards = loaded_cards(workspace, date.today()).cards

    told = dict(zip(cards["key"], cards["commitment"], strict=True))
    # Birch's unchanged E3 is not listed at all.
    assert told == {"A1:M365BP": WARNING, "B1:M365BP": None}
    assert commitment_warnings(cards) == [f"Acme Dental, Business Premium: {WARNING}"]


def test_the_grid_flags_the_committed_card_and_its_tile_says_why(workspace: Store) -> None:
    cards = loaded_cards(workspace, date.today()).cards

    rows = grid_rows(filtered(cards, View()), "")
    flags = dict(zip(rows["row_id"], rows["flags"], strict=True))
    assert flags["A1:M365BP"] == "◷ committed" and not flags["B1:M365BP"]

    at = cards_page()
    at.segmented_control(key="cards.view").set_value("tiles").run()
    said = [c.value.replace("\\", "") for c in at.caption if c.value.startswith("◷")]
    assert said == [f"◷ {WARNING}"]


def test_a_commitment_that_has_ended_warns_no_more(workspace: Store) -> None:
    cards = loaded_cards(workspace, COMMITTED_UNTIL).cards

    assert cards["commitment"].null_count() == cards.height


def test_selecting_the_card_shows_the_commitment_warning(workspace: Store) -> None:
    at = cards_page()
    select(at, workspace, ["A1:M365BP"])

    shown = [w.value for w in at.warning if "committed until" in w.value]
    assert len(shown) == 1
    # Markdown-escaped on the page: compare the words.
    assert shown[0].replace("\\", "") == f"Acme Dental, Business Premium: {WARNING}"


def test_a_card_without_a_commitment_shows_no_warning(workspace: Store) -> None:
    at: AppTest = cards_page()
    select(at, workspace, ["B1:M365BP"])

    assert any("1 card selected" in m.value for m in at.markdown)
    assert not [w.value for w in at.warning if "committed until" in w.value]
