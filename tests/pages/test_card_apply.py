"""Apply to PSA on the Cards page, driven through AppTest: approved changes sent to a fake
ConnectWise on 127.0.0.1 (real HTTP), in bulk after a confirmation or per selected card; a held
change says when it goes; a conflict says why it did not.

The store syncs a fake ConnectWise and a fake Pax8 whose seats moved: Acme's Business Premium
10 -> 12, Birch's 5 -> 7, and Birch's E3 (New Revenue, 3).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import polars as pl
import pytest
from streamlit.testing.v1 import AppTest

from store import Store, current_cards, open_store
from store import credentials as creds
from store.decisions import decide_cards
from store.sources import add_source
from store.sync import sync_source
from store.types import Action, now, team_date
from tests.fakes.connectwise import FakeConnectWise
from tests.fakes.pax8 import FakePax8
from tests.fakes.server import serving
from tests.pages.test_cards import cards_page, select
from tests.store.factories import load_month

ACME_BP, BIRCH_BP, BIRCH_E3 = "1:M365-BP", "2:M365-BP", "2:M365-E3"


@pytest.fixture
def fakes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeConnectWise]:
    """Serve the fakes and give back ConnectWise, with the store's API sources synced."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv(creds.KEY_ENV, creds.new_key())
    monkeypatch.setenv("TRUEUP_USER", "ann")
    cw = FakeConnectWise(company="acme", public="pub", private="priv-s3cret")
    px = FakePax8(client_id="pax8-client", secret="pax8-s3cret")
    with serving(cw) as cw_url, serving(px) as px_url:
        store = open_store(f"sqlite:///{tmp_path / 'trueup.db'}")
        with store.session() as session:
            psa = {"base_url": f"{cw_url}/v4_6_release/apis/3.0", "company_id": "acme"}
            psa |= {"public_key": "pub", "private_key": "priv-s3cret", "client_id": "client-1"}
            add_source(session, "psa", "connectwise", psa, user="ann", at=now())
            pax8 = {"client_id": "pax8-client", "client_secret": "pax8-s3cret"}
            pax8 |= {"base_url": f"{px_url}/v1", "token_url": f"{px_url}/oauth/token"}
            add_source(session, "pax8", "pax8", pax8, user="ann", at=now(), distributor="Pax8")
        sync_source(store, "psa", mode="full")
        sync_source(store, "pax8", mode="full")
        px.set_quantity("s-2", 7)
        sync_source(store, "pax8", mode="full")
        store.dispose()
        yield cw


def approve(store: Store, keys: list[str], effective: date) -> None:
    cards = current_cards(store).cards
    chosen = cards.filter((pl.col("account_id") + ":" + pl.col("product_id")).is_in(keys))
    assert chosen.height == len(keys)
    decide_cards(store, chosen, Action.APPROVE, effective_date=effective, user="ann")


def outbox_table(at: AppTest) -> list[dict[str, str]]:
    table = next(t.value for t in at.dataframe if "State" in t.value.columns)
    return table.to_dict("records")


def test_apply_to_psa_sends_every_due_change_once_confirmed(
    workspace_url: str, fakes: FakeConnectWise
) -> None:
    store = open_store(workspace_url)
    approve(store, [ACME_BP, BIRCH_BP, BIRCH_E3], team_date(now()))
    at = cards_page()

    assert [row["State"] for row in outbox_table(at)] == ["○ to send"] * 3
    assert [row["Change"] for row in outbox_table(at)] == ["10 → 12", "5 → 7", "new line → 3"]
    assert not [b for b in at.button if b.label.startswith("Download")]  # no export: API PSA
    next(b for b in at.button if b.key == "cards.apply").click().run()
    assert "Send **3 approved changes** to **ConnectWise PSA (psa)**" in at.markdown[-1].value
    next(b for b in at.button if b.key == "apply.go").click().run()

    assert not at.exception
    assert at.success[0].value == "Sent to ConnectWise PSA (psa): 3 applied."
    assert [row["State"] for row in outbox_table(at)] == ["✓ applied"] * 3
    assert fakes.addition(100)["quantity"] == 12  # type: ignore[index]
    assert fakes.addition(200)["quantity"] == 7  # type: ignore[index]
    assert fakes.writes.total() == 3
    assert next(b for b in at.button if b.key == "cards.apply").disabled  # nothing left due


def test_a_held_change_waits_for_its_date_and_a_conflict_says_why(
    workspace_url: str, fakes: FakeConnectWise
) -> None:
    store = open_store(workspace_url)
    approve(store, [ACME_BP], date(2099, 1, 1))
    approve(store, [BIRCH_BP], team_date(now()))
    fakes.set_quantity(200, 6)  # someone changed Birch's seats in the PSA since
    at = cards_page()

    rows = {row["Account"]: row for row in outbox_table(at)}
    assert rows["Acme Dental"]["State"] == "◷ held"
    assert rows["Acme Dental"]["Note"] == "waits until 2099-01-01"
    next(b for b in at.button if b.key == "cards.apply").click().run()
    assert "Send **1 approved change**" in at.markdown[-1].value
    next(b for b in at.button if b.key == "apply.go").click().run()

    assert at.warning[0].value == (
        "Sent to ConnectWise PSA (psa): 1 held for their date (waits until 2099-01-01), 1 conflict."
    )
    problem = at.error[0].value
    assert "Birch Law / Microsoft 365 Business Premium: conflict:" in problem
    assert "shows 6 on addition 200" in problem and "nothing was written" in problem
    rows = {row["Account"]: row for row in outbox_table(at)}
    assert rows["Birch Law"]["State"] == "⚠ conflict"
    assert fakes.writes.total() == 0


def test_an_approved_card_is_applied_on_its_own(workspace_url: str, fakes: FakeConnectWise) -> None:
    store = open_store(workspace_url)
    approve(store, [ACME_BP, BIRCH_BP], team_date(now()))
    at = cards_page({"status": "approved"})
    select(at, store, [ACME_BP])

    next(b for b in at.button if b.key == "cards.apply_selected").click().run()

    assert at.success[0].value == "Sent to ConnectWise PSA (psa): 1 applied."
    assert fakes.addition(100)["quantity"] == 12  # type: ignore[index]
    assert fakes.addition(200)["quantity"] == 5  # type: ignore[index]  # not selected


def test_with_a_psa_synced_from_files_the_changes_are_exported_instead(
    workspace_url: str,
) -> None:
    load_month(open_store(workspace_url))
    at = cards_page()

    assert not [b for b in at.button if b.key in ("cards.apply", "cards.apply_selected")]
    assert not [e for e in at.expander if "ready to apply" in e.label]
