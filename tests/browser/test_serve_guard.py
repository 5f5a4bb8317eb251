"""Without sign-in, a real server started on every address serves no page, says why on the
page and in its log, and serves the app when started with `-- --allow-unauthenticated`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.browser.conftest import serve
from tests.browser.steps import idle

pytestmark = pytest.mark.browser

EVERY_ADDRESS = ("--server.address", "0.0.0.0")


def opened(browser: Any, url: str, heading: str) -> Any:
    page = browser.new_page(viewport={"width": 1300, "height": 800})
    page.goto(url)
    page.get_by_role("heading", name=heading).wait_for(timeout=60_000)
    idle(page)
    return page


def test_on_every_address_without_sign_in_nothing_is_served(browser: Any, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'trueup.db'}"
    with serve(tmp_path, url, *EVERY_ADDRESS) as app:
        page = opened(browser, f"{app}/cards", "TrueUp is not served without sign-in")
        assert page.get_by_text("--allow-unauthenticated").count()
        assert page.get_by_test_id("stTopNavLink").count() == 0
        assert not page.get_by_test_id("stDataFrame").count()
        page.screenshot(path=tmp_path / "refused.png", full_page=True)
        page.close()
    log = (tmp_path / "server.log").read_text()
    assert "TrueUp serves no page: the server listens on 0.0.0.0" in log


def test_allow_unauthenticated_serves_the_app_knowingly(browser: Any, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'trueup.db'}"
    with serve(tmp_path, url, *EVERY_ADDRESS, "--", "--allow-unauthenticated") as app:
        page = opened(browser, app, "Home")
        assert page.get_by_test_id("stTopNavLink").count()
        page.close()
