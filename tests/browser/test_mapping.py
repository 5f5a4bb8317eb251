"""The Mapping page in a real browser: map an account through its suggestion, exclude a SKU,
see both unmapped counts drop, and undo one.

The page is served on a store of its own, with the mapping scenario of tests/fixtures/mapping:
three unmapped accounts (two with a suggestion) and two unmapped services.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.browser.conftest import serve
from tests.browser.steps import idle

SCENARIO = Path(__file__).resolve().parents[1] / "fixtures" / "mapping"

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def mapping_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    from store import import_csv, open_store

    folder = tmp_path_factory.mktemp("mapping")
    url = f"sqlite:///{folder / 'trueup.db'}"
    store = open_store(url)
    try:
        import_csv(store, "psa", "psa", SCENARIO / "psa.csv")
        import_csv(store, "pax8", "usage", SCENARIO / "usage-pax8.csv")
    finally:
        store.dispose()
    with serve(folder, url) as app:
        yield app


def metric(page, label: str) -> str:
    box = page.get_by_test_id("stMetric").filter(has_text=label).first
    return box.get_by_test_id("stMetricValue").inner_text()


def metric_in(panel, label: str) -> str:
    box = panel.get_by_test_id("stMetric").filter(has_text=label).first
    return box.get_by_test_id("stMetricValue").inner_text()


def wait_for_metric(page, label: str, value: str) -> None:
    box = page.get_by_test_id("stMetric").filter(has_text=label).first
    box.get_by_test_id("stMetricValue").filter(has_text=value).wait_for(timeout=30_000)


def select_row(page, panel, row: int) -> None:
    """Tick the row's checkbox in the first table of `panel` (the grid is a canvas: the click
    lands where the row is drawn)."""
    grid = panel.get_by_test_id("stDataFrame").first
    grid.scroll_into_view_if_needed()
    row_height = 35
    grid.click(position={"x": 16, "y": row_height * (row + 1) + row_height / 2})
    idle(page)


def visible_panel(page):
    return page.get_by_role("tabpanel").locator("visible=true").first


def test_map_by_suggestion_exclude_a_sku_and_undo(mapping_url, browser, tmp_path) -> None:
    page = browser.new_page(viewport={"width": 1400, "height": 1100})
    page.goto(f"{mapping_url}/mapping")
    page.get_by_role("heading", name="Mapping").wait_for(timeout=30_000)
    wait_for_metric(page, "Unmapped accounts", "3")
    idle(page)

    accounts = visible_panel(page)
    select_row(page, accounts, 0)  # the surest suggestion comes first
    page.get_by_text("1 account selected").wait_for(timeout=30_000)
    page.screenshot(path=tmp_path / "mapping-selected.png", full_page=True)
    page.get_by_role("button", name="Accept 1 suggestion").click()
    page.get_by_text("Mapped 1 account as suggested.").wait_for(timeout=30_000)
    wait_for_metric(page, "Unmapped accounts", "2")
    page.get_by_text("Unmapped: 2 accounts · 2 services").wait_for(timeout=30_000)

    page.get_by_role("tab", name="Services").click()
    services = visible_panel(page)
    select_row(page, services, 1)  # the trial SKU: no suggestion, so it comes last
    page.get_by_text("1 service selected").wait_for(timeout=30_000)
    services.get_by_test_id("stSelectbox").filter(has_text="Reason").click()
    page.get_by_role("option", name="Trial SKU", exact=True).click()
    idle(page)
    page.get_by_role("button", name="Exclude").click()
    page.get_by_text("Excluded 1 service: its usage is ignored.").wait_for(timeout=30_000)
    page.get_by_text("Unmapped: 2 accounts · 1 service").wait_for(timeout=30_000)
    assert metric_in(services, "Unmapped services") == "1"
    page.screenshot(path=tmp_path / "mapping-after.png", full_page=True)

    page.get_by_role("button", name="Undo: exclude 1 service").click()
    page.get_by_text("Undone: exclude 1 service.").wait_for(timeout=30_000)
    page.get_by_text("Unmapped: 2 accounts · 2 services").wait_for(timeout=30_000)
    page.screenshot(path=tmp_path / "mapping-undone.png", full_page=True)
    page.close()
