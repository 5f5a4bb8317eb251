"""The Cards page in a real browser: the free AG Grid opened through 127.0.0.1 (no licence
notice, no watermark, HTML names shown as text), a vendor filter, a group collapsed, a date
saved without approving, and two cards approved through the warning dialog.

The page is served on a store of its own: the hand-checked month (tests/fixtures/month) and a
vendor named `<img src=x onerror=alert(1)>` (tests/fixtures/cards). The tests run in order on
it: the last two decide cards.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.browser.conftest import serve
from tests.browser.steps import idle

CARDS = Path(__file__).resolve().parents[1] / "fixtures" / "cards"
XSS = "<img src=x onerror=alert(1)>"
GRID = (
    '[data-testid="stElementContainer"]:not([data-stale="true"]) '
    'iframe[title="st_aggrid.AgGrid.agGrid"]:not([width="-1"])'
)
"""The grid's frame; a grid replaced (a new view, or after an action) lingers a moment, stale
or with no width."""

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def cards_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    from store import import_csv, import_maps, open_store
    from tests.store.factories import load_month

    folder = tmp_path_factory.mktemp("cards")
    url = f"sqlite:///{folder / 'trueup.db'}"
    store = open_store(url)
    try:
        load_month(store)
        import_csv(store, XSS, "usage", CARDS / "usage-xss.csv")
        import_maps(store, CARDS / "account-map.csv")
        import_maps(store, CARDS / "product-map.csv")
    finally:
        store.dispose()
    with serve(folder, url) as app:
        yield app


def open_cards(browser, app: str, query: str = ""):
    """Open the Cards page and wait for the grid's rows; give back the page and the grid."""
    page = browser.new_page(viewport={"width": 1500, "height": 1200})
    page.goto(f"{app}/cards{query}")
    page.get_by_role("heading", name="Cards").wait_for(timeout=30_000)
    grid = grid_of(page)
    grid.locator(".ag-row").first.wait_for(timeout=30_000)
    idle(page)
    return page, grid


def grid_of(page):
    """Give back the grid, once the run is over and a grid replaced (new view, or after an
    action) has left the page."""
    idle(page)
    for _ in range(100):
        if page.locator(GRID).count() == 1:
            break
        page.wait_for_timeout(100)
    return page.frame_locator(GRID)


def card_row(grid, key: str):
    return grid.locator(f'.ag-row[row-id="{key}"]').first


def tick(page, grid, key: str) -> None:
    card_row(grid, key).locator("input[type=checkbox]").first.click()


def shown_keys(grid) -> set[str]:
    rows = grid.locator(".ag-center-cols-container .ag-row")
    return {k for k in rows.evaluate_all("rs => rs.map(r => r.getAttribute('row-id'))") if k}


def test_the_free_grid_opens_away_from_localhost_with_names_as_text(
    cards_url, browser, tmp_path
) -> None:
    assert cards_url.startswith("http://127.0.0.1:")  # AG Grid's trial notice shows off localhost
    page = browser.new_page(viewport={"width": 1500, "height": 1200})
    console: list[str] = []
    alerts: list[str] = []
    page.on("console", lambda m: console.append(f"{m.type}: {m.text}"))
    page.on("dialog", lambda d: (alerts.append(d.message), d.dismiss()))
    page.goto(f"{cards_url}/cards?group=vendor")
    grid = grid_of(page)
    grid.locator(".ag-row").first.wait_for(timeout=30_000)
    idle(page)
    page.wait_for_timeout(500)

    assert len(shown_keys(grid)) == 7
    header = grid.locator(".trueup-group", has_text=XSS)
    assert header.locator(".trueup-group-name").inner_text() == XSS
    assert card_row(grid, "100:EXO1").locator('[col-id="vendor"]').inner_text() == XSS
    assert grid.locator("img").count() == 0
    assert not alerts
    assert grid.locator(".ag-watermark, [class*=watermark]").count() == 0
    noise = [m for m in console if "ag-grid" in m.lower() or "licen" in m.lower()]
    assert not noise, noise
    page.screenshot(path=tmp_path / "cards-by-vendor.png", full_page=True)
    page.close()


def test_filter_by_vendor(cards_url, browser, tmp_path) -> None:
    page, grid = open_cards(browser, cards_url)

    page.get_by_test_id("stSelectbox").filter(has_text="Vendor or distributor").click()
    page.get_by_role("option", name="sentinelone", exact=True).click()
    page.get_by_text("1 card", exact=True).wait_for(timeout=30_000)
    grid = grid_of(page)
    card_row(grid, "300:S1-CORE").wait_for(timeout=30_000)

    assert shown_keys(grid) == {"300:S1-CORE"}
    assert "vendor=sentinelone" in page.url  # a link reproduces the view
    page.screenshot(path=tmp_path / "cards-sentinelone.png", full_page=True)
    page.close()


def test_the_header_checkbox_selects_the_filtered_cards_only(cards_url, browser, tmp_path) -> None:
    page, grid = open_cards(browser, cards_url)

    grid.locator('.ag-header-cell[col-id="account"] .ag-header-cell-filter-button').click()
    grid.locator(".ag-filter input[type=text]").first.fill("Cobalt")
    card_row(grid, "100:M365BP").wait_for(state="detached", timeout=10_000)
    grid.locator(".ag-filter input[type=text]").first.press("Escape")  # close the filter
    grid.locator(".ag-header-select-all input[type=checkbox]").first.click()

    page.get_by_text("2 cards selected").wait_for(timeout=30_000)
    page.get_by_role("button", name="Approve 2 cards").wait_for(timeout=30_000)
    page.screenshot(path=tmp_path / "cards-filtered-all.png", full_page=True)
    page.close()


def test_group_by_account_and_collapse_a_group(cards_url, browser, tmp_path) -> None:
    page, grid = open_cards(browser, cards_url)

    groups = page.get_by_test_id("stButtonGroup").filter(has_text="Group by")
    groups.get_by_text("Account", exact=True).click()
    grid = grid_of(page)
    cobalt = grid.locator(".trueup-group", has_text="Cobalt Law")
    cobalt.wait_for(timeout=30_000)
    assert "2 cards · net change +10 · 11.00 USD a month" in cobalt.inner_text()
    assert "group=account" in page.url
    assert {"300:M365BP", "300:S1-CORE"} <= shown_keys(grid)

    cobalt.get_by_role("button", name="Collapse Cobalt Law").click()
    card_row(grid, "300:M365BP").wait_for(state="detached", timeout=10_000)

    assert not {"300:M365BP", "300:S1-CORE"} & shown_keys(grid)
    assert "100:M365BP" in shown_keys(grid)  # the other groups stay open
    page.screenshot(path=tmp_path / "cards-collapsed.png", full_page=True)
    cobalt.get_by_role("button", name="Expand Cobalt Law").click()
    card_row(grid, "300:S1-CORE").wait_for(timeout=10_000)

    cobalt.get_by_role("checkbox").click()  # a group's header selects its cards
    page.get_by_text("2 cards selected").wait_for(timeout=30_000)
    assert card_row(grid, "300:M365BP").locator("input[type=checkbox]").first.is_checked()
    page.screenshot(path=tmp_path / "cards-group-selected.png", full_page=True)
    page.close()


def test_set_an_effective_date_without_approving(cards_url, browser, tmp_path) -> None:
    page, grid = open_cards(browser, cards_url)

    tick(page, grid, "200:EXO1")
    page.get_by_text("1 card selected").wait_for(timeout=30_000)
    page.get_by_role("button", name="Set effective date").click()
    date = page.get_by_test_id("stDateInput").locator("input[type=date]")
    date.fill("2031-01-15")
    idle(page)
    page.get_by_role("button", name="Save as scheduled").click()
    dialog = page.get_by_role("dialog").filter(has_text="Before a bulk action")
    dialog.get_by_text("Schedule 1 card").wait_for(timeout=30_000)
    page.screenshot(path=tmp_path / "cards-warning.png", full_page=True)
    dialog.get_by_role("button", name="Continue").click()
    page.get_by_text("Scheduled 1 card, effective 15 January 2031.").wait_for(timeout=30_000)
    idle(page)

    grid = grid_of(page)
    beta = card_row(grid, "200:EXO1")
    beta.wait_for(timeout=30_000)  # still open
    assert beta.locator('[col-id="status"]').inner_text() == "scheduled"
    assert beta.locator('[col-id="effective_date"]').inner_text() == "2031-01-15"
    page.screenshot(path=tmp_path / "cards-scheduled.png", full_page=True)
    page.close()


def test_select_two_cards_and_bulk_approve_through_the_warning(
    cards_url, browser, tmp_path
) -> None:
    page, grid = open_cards(browser, cards_url)

    tick(page, grid, "100:M365BP")
    page.get_by_text("1 card selected").wait_for(timeout=30_000)
    tick(page, grid, "300:M365BP")
    page.get_by_text("2 cards selected").wait_for(timeout=30_000)
    page.screenshot(path=tmp_path / "cards-selected.png", full_page=True)
    page.get_by_role("button", name="Approve 2 cards").click()
    dialog = page.get_by_role("dialog").filter(has_text="Before a bulk action")
    dialog.get_by_text("Approve 2 cards").wait_for(timeout=30_000)
    dialog.get_by_role("button", name="Continue").click()
    page.get_by_text("Approved 2 cards, effective").wait_for(timeout=30_000)
    idle(page)

    grid = grid_of(page)
    card_row(grid, "200:EXO1").wait_for(timeout=30_000)
    assert not {"100:M365BP", "300:M365BP"} & shown_keys(grid)
    page.get_by_role("button", name="Undo: approve 2 cards").wait_for(timeout=30_000)
    page.screenshot(path=tmp_path / "cards-approved.png", full_page=True)
    page.close()
