"""An API sync started from the Sync page in a real browser: it runs in the background, shows
itself running with its progress, survives a reload, and ends ok on its own.

The app is served on a store of its own holding only a ConnectWise source, which points at a
fake ConnectWise on 127.0.0.1 served by this test; the fake holds the agreements' additions
until the test lets them go, so the sync is seen mid-way.
"""

from __future__ import annotations

import pytest

from store import credentials as creds
from store import open_store
from store.sources import add_source
from store.types import now
from tests.browser.conftest import serve
from tests.browser.steps import idle
from tests.fakes.connectwise import ROOT as CW_ROOT
from tests.fakes.server import serving
from tests.store.test_background import Held

pytestmark = pytest.mark.browser


def status(page, word: str):
    """The status of the source's row (bold), not the same word in the table of all sources."""
    return page.get_by_role("strong").get_by_text(word, exact=True)


def test_start_full_sync_runs_in_the_background_through_a_reload_and_ends_ok(
    browser, tmp_path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"sqlite:///{tmp_path / 'trueup.db'}"
    opened = open_store(url)
    monkeypatch.setenv(creds.KEY_ENV, creds.new_key())
    held = Held()
    try:
        with serving(held) as api, serve(tmp_path, url) as app:
            values = {
                "base_url": api + CW_ROOT.rstrip("/"),
                "company_id": "acme",
                "public_key": "pub",
                "private_key": "priv-s3cret",
                "client_id": "client-1",
            }
            with opened.session() as session:
                add_source(session, "psa", "connectwise", values, user="ann", at=now())
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.goto(f"{app}/sync")
            page.get_by_text("never synced").wait_for(timeout=30_000)
            assert page.get_by_text("ConnectWise PSA · PSA").is_visible()

            page.get_by_role("button", name="Start full sync").click()
            # A busy machine may take a while to start the sync's process: the page waits.
            status(page, "running").wait_for(timeout=90_000)
            page.get_by_text("Reading: ").wait_for(timeout=30_000)
            assert page.get_by_role("button", name="Start full sync").is_disabled()
            idle(page)
            page.screenshot(path=tmp_path / "sync-running.png", full_page=True)

            page.reload()
            status(page, "running").wait_for(timeout=30_000)
            assert held.holding.is_set(), "the sync is still held mid-way"

            held.release.set()
            # The section refreshes itself while the sync runs: no click, no reload.
            status(page, "ok").wait_for(timeout=60_000)
            page.get_by_text("Last good sync: just now").wait_for(timeout=30_000)
            page.get_by_text("Done: ").wait_for()
            idle(page)
            page.screenshot(path=tmp_path / "sync-done.png", full_page=True)
            assert page.get_by_role("button", name="Start full sync").is_enabled()
            page.close()
    finally:
        held.release.set()
        opened.dispose()
