"""Hostile names in a real browser (the security tests' hostile month, tests/security): every page of the app, served on the hostile month (see
conftest), shows them as text. No element is injected (no `img[src=x]`, no inline script
from a name, no `javascript:` link, in the page or the grid's frame) and no dialog opens
(`alert` from an `onerror` or a script)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.browser.conftest import serve
from tests.browser.steps import idle
from tests.security.conftest import XSS, load_hostile, write_hostile

pytestmark = pytest.mark.browser

INJECTED = """() => [
    ...document.querySelectorAll('img[src="x"], img[onerror]'),
    ...[...document.querySelectorAll('script:not([src])')].filter(s => s.text.includes('alert(')),
    ...document.querySelectorAll('a[href^="javascript:"]'),
].map(e => e.outerHTML)"""
"""Gives back the elements a hostile name would have made, had it rendered as markup."""

PAGES = ["", "sync", "mapping", "cards", "month", "audit", "settings"]


@pytest.fixture(scope="module")
def app_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Give the address of the app served on the hostile month, its cards all approved but one
    per vendor left open (so that the month and audit pages show the names too)."""
    from store import current_cards, open_store
    from store.cards import is_open
    from store.decisions import decide_cards
    from store.types import Action

    folder = tmp_path_factory.mktemp("hostile-app")
    url = f"sqlite:///{folder / 'trueup.db'}"
    store = open_store(url)
    try:
        load_hostile(store, write_hostile(folder / "files"))
        cards = current_cards(store).cards.filter(is_open()).sort("account_id", "product_id")
        decide_cards(store, cards[: cards.height // 2], Action.APPROVE, user="ann")
    finally:
        store.dispose()
    with serve(folder, url) as app:
        yield app


def visited(browser, url: str, dialogs: list[str]):
    page = browser.new_page(viewport={"width": 1500, "height": 1200})
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    page.goto(url)
    page.get_by_test_id("stMain").wait_for(timeout=30_000)
    idle(page)
    page.wait_for_load_state("networkidle")
    idle(page)
    return page


def injected(page) -> list[str]:
    return [html for frame in page.frames for html in frame.evaluate(INJECTED)]


@pytest.mark.parametrize("path", PAGES)
def test_no_page_runs_a_hostile_name(browser, app_url: str, path: str) -> None:
    dialogs: list[str] = []
    page = visited(browser, f"{app_url}/{path}", dialogs)
    try:
        assert page.get_by_test_id("stException").count() == 0
        assert injected(page) == []
        assert dialogs == []
    finally:
        page.close()


def test_the_cards_tiles_show_the_html_name_as_text(browser, app_url: str) -> None:
    dialogs: list[str] = []
    page = visited(browser, f"{app_url}/cards", dialogs)
    try:
        page.get_by_test_id("stButtonGroup").get_by_text("Cards", exact=True).click()
        idle(page)
        tiles = page.get_by_test_id("stCheckbox").filter(has_text=XSS)
        tiles.first.wait_for(timeout=30_000)
        tiles.first.click()  # a tile ticked: the selection bar shows
        idle(page)
        page.get_by_text("1 card selected").first.wait_for(timeout=30_000)
        assert injected(page) == []
        assert dialogs == []
    finally:
        page.close()


def test_the_check_finds_an_injected_image(browser) -> None:
    # Guards the checks above: markup that did render is found, and its alert is heard.
    dialogs: list[str] = []
    page = browser.new_page()
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    try:
        with page.expect_event("dialog", timeout=10_000):  # the image's error calls alert
            page.set_content(f"<p>{XSS}</p>")
        assert len(injected(page)) == 1
        assert dialogs == ["1"]
    finally:
        page.close()
