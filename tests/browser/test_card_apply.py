"""Apply to PSA in a real browser: the Cards page's outbox sends approved changes to a fake
ConnectWise on 127.0.0.1 once confirmed in its dialog, and says what came of each.

Served on a store of its own (synced from fake ConnectWise and Pax8 APIs), with a secret key,
so the session's shared store is left as the other browser tests expect it.
"""

from __future__ import annotations

from datetime import date

import polars as pl
import pytest

from store import credentials as creds
from store import current_cards, open_store
from store.decisions import decide_cards
from store.sources import add_source
from store.sync import sync_source
from store.types import Action, now, team_date
from tests.browser.conftest import serve
from tests.browser.steps import idle
from tests.fakes.connectwise import FakeConnectWise
from tests.fakes.pax8 import FakePax8
from tests.fakes.server import serving

pytestmark = pytest.mark.browser


def test_approved_changes_are_applied_to_the_psa_from_the_cards_page(
    browser, tmp_path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(creds.KEY_ENV, creds.new_key())
    url = f"sqlite:///{tmp_path / 'trueup.db'}"
    cw = FakeConnectWise(company="acme", public="pub", private="priv-s3cret")
    px = FakePax8(client_id="pax8-client", secret="pax8-s3cret")
    with serving(cw) as cw_url, serving(px) as px_url:
        store = open_store(url)
        with store.session() as session:
            psa = {"base_url": f"{cw_url}/v4_6_release/apis/3.0", "company_id": "acme"}
            psa |= {"public_key": "pub", "private_key": "priv-s3cret", "client_id": "client-1"}
            add_source(session, "psa", "connectwise", psa, user="ann", at=now())
            pax8 = {"client_id": "pax8-client", "client_secret": "pax8-s3cret"}
            pax8 |= {"base_url": f"{px_url}/v1", "token_url": f"{px_url}/oauth/token"}
            add_source(session, "pax8", "pax8", pax8, user="ann", at=now())
        sync_source(store, "psa", mode="full")
        px.set_quantity("s-2", 7)
        sync_source(store, "pax8", mode="full")
        cards = current_cards(store).cards
        key = pl.col("account_id") + ":" + pl.col("product_id")
        later, today = date(2099, 1, 1), team_date(now())
        decide_cards(store, cards.filter(key == "1:M365-BP"), Action.APPROVE, effective_date=later)
        decide_cards(store, cards.filter(key == "2:M365-BP"), Action.APPROVE, effective_date=today)
        store.dispose()

        with serve(tmp_path, url) as app:
            page = browser.new_page(viewport={"width": 1400, "height": 1100})
            page.goto(f"{app}/cards")
            outbox = page.get_by_text("Approved changes for ConnectWise PSA (psa): 1 ready")
            outbox.wait_for(timeout=60_000)
            outbox.click()
            page.get_by_role("button", name="Apply to PSA (1)").click()
            dialog = page.get_by_role("dialog")
            dialog.get_by_text("Send 1 approved change to ConnectWise PSA (psa) now?").wait_for()
            dialog.get_by_role("button", name="Apply them").click()
            page.get_by_text(
                "Sent to ConnectWise PSA (psa): 1 applied, 1 held for their date "
                "(waits until 2099-01-01)."
            ).wait_for(timeout=60_000)
            idle(page)
            page.screenshot(path=tmp_path / "applied.png", full_page=True)
            page.close()

    assert cw.addition(200)["quantity"] == 7  # type: ignore[index]
    assert cw.addition(100)["quantity"] == 10  # type: ignore[index]  # held till 2099
    assert cw.writes.total() == 1
