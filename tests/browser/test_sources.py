"""Settings > Sources in a real browser: the CSV PSA becomes a ConnectWise source pointing at a
fake ConnectWise on 127.0.0.1, its connection tested before it is saved.

The app is served on a store of its own (the fixture month's CSV PSA), with a secret key, so
the session's shared store is left as the other browser tests expect it.
"""

from __future__ import annotations

import pytest

from store import credentials as creds
from store import import_csv, open_store
from store.sources import source_config
from tests.browser.conftest import MONTH, serve
from tests.browser.steps import idle
from tests.fakes.connectwise import ROOT as CW_ROOT
from tests.fakes.connectwise import FakeConnectWise
from tests.fakes.server import serving

pytestmark = pytest.mark.browser


def test_a_connectwise_source_is_tested_then_added_from_settings(
    browser, tmp_path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"sqlite:///{tmp_path / 'trueup.db'}"
    opened = open_store(url)
    import_csv(opened, "psa", "psa", MONTH / "psa.csv")
    monkeypatch.setenv(creds.KEY_ENV, creds.new_key())
    fake = FakeConnectWise(company="acme", public="pub", private="priv-s3cret")
    with serving(fake) as api, serve(tmp_path, url) as app:
        address = api + CW_ROOT.rstrip("/")
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.goto(f"{app}/settings")
        page.get_by_text("Add an API source").wait_for(timeout=30_000)
        page.get_by_text('The PSA "psa" syncs from CSV uploads now').wait_for()

        for label, value in (
            ("Base URL", address),
            ("Company ID *", "acme"),
            ("Public key *", "pub"),
            ("Private key *", "wrong-k3y"),
            ("Client ID *", "client-1"),
        ):
            page.get_by_label(label, exact=True).fill(value)
        page.get_by_role("button", name="Test connection").click()
        page.get_by_text("Bad credentials.").wait_for(timeout=30_000)

        page.get_by_label("Private key *", exact=True).fill("priv-s3cret")
        page.get_by_role("button", name="Test connection").click()
        page.get_by_text("Connection OK").wait_for(timeout=30_000)
        idle(page)
        page.screenshot(path=tmp_path / "sources-tested.png", full_page=True)

        page.get_by_role("button", name="Add source").click()
        page.get_by_text('Source "psa" added (ConnectWise PSA)').wait_for(timeout=30_000)
        idle(page)
        page.screenshot(path=tmp_path / "sources-added.png", full_page=True)
        assert "priv-s3cret" not in page.content()
        page.close()

    assert "priv-s3cret" not in (tmp_path / "server.log").read_text()  # nor in the app's log
    with opened.session() as session:
        config = source_config(session, "psa")
    assert config.type.name == "connectwise"
    assert config.values["base_url"] == address and config.values["private_key"] == "priv-s3cret"
    opened.dispose()
