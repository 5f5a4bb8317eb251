"""Quick reconcile in a real browser: upload the fixture month, see the cards and their value."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.browser.steps import upload

MONTH = Path(__file__).resolve().parents[1] / "fixtures" / "month"

pytestmark = pytest.mark.browser


def test_uploading_the_month_shows_cards_by_type_and_the_net_value(app_url, browser) -> None:
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.goto(app_url)  # the app opens on Home
    page.get_by_role("link", name="Quick reconcile", exact=True).click()
    page.get_by_text("Upload the PSA export").wait_for(timeout=30_000)

    uploaders = page.get_by_test_id("stFileUploader")
    upload(page, uploaders.nth(0), [MONTH / "psa.csv"])
    upload(page, uploaders.nth(1), [MONTH / "usage-pax8.csv", MONTH / "usage-sentinelone.csv"])
    upload(page, uploaders.nth(2), [MONTH / "account-map.csv", MONTH / "product-map.csv"])
    upload(page, uploaders.nth(3), [MONTH / "catalog.csv"])

    net = page.get_by_test_id("stMetric").filter(has_text="Net monthly value")
    net.get_by_text("-151.00 USD").wait_for(timeout=30_000)
    removal = page.get_by_test_id("stMetric").filter(has_text="Removal")
    assert "-330.00 USD" in removal.inner_text()
    # The page renders as its script runs: the table and its button come after the figures.
    page.get_by_test_id("stDownloadButton").filter(has_text="Download 6 cards").wait_for()
    page.close()
