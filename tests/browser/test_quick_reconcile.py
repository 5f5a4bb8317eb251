"""Quick reconcile in a real browser: upload the fixture month, see the cards and their value."""

from __future__ import annotations

from pathlib import Path

import pytest

MONTH = Path(__file__).resolve().parents[1] / "fixtures" / "month"

pytestmark = pytest.mark.browser


def test_uploading_the_month_shows_cards_by_type_and_the_net_value(app_url, browser) -> None:
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.goto(app_url)
    page.get_by_text("Upload the PSA export").wait_for(timeout=30_000)

    files = page.locator('input[type="file"]')
    files.nth(0).set_input_files(MONTH / "psa.csv")
    files.nth(1).set_input_files([MONTH / "usage-pax8.csv", MONTH / "usage-sentinelone.csv"])
    files.nth(2).set_input_files([MONTH / "account-map.csv", MONTH / "product-map.csv"])
    files.nth(3).set_input_files(MONTH / "catalog.csv")

    net = page.get_by_test_id("stMetric").filter(has_text="Net monthly value")
    net.get_by_text("-151.00 USD").wait_for(timeout=30_000)
    removal = page.get_by_test_id("stMetric").filter(has_text="Removal")
    assert "-330.00 USD" in removal.inner_text()
    # The page renders as its script runs: the table and its button come after the figures.
    page.get_by_test_id("stDownloadButton").filter(has_text="Download 6 cards").wait_for()
    page.close()
