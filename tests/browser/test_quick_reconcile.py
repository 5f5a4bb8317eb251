"""Quick reconcile in a real browser: upload the fixture month, see the cards and their value."""

from __future__ import annotations

from pathlib import Path

import pytest

MONTH = Path(__file__).resolve().parents[1] / "fixtures" / "month"

pytestmark = pytest.mark.browser


def test_uploading_the_month_shows_cards_by_type_and_the_net_value(app_url, browser) -> None:
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.goto(app_url)  # the app opens on Home
    page.get_by_role("link", name="Quick reconcile", exact=True).click()
    page.get_by_text("Upload the PSA export").wait_for(timeout=30_000)

    files = page.locator('input[type="file"]')
    uploads = [
        ["psa.csv"],
        ["usage-pax8.csv", "usage-sentinelone.csv"],
        ["account-map.csv", "product-map.csv"],
        ["catalog.csv"],
    ]
    for position, names in enumerate(uploads):
        # Each upload reruns the page; one made into an uploader mid-rerun can be lost.
        page.locator('[data-testid="stApp"][data-test-script-state="notRunning"]').wait_for()
        files.nth(position).set_input_files([MONTH / name for name in names])
        chips = page.get_by_test_id("stFileUploader").nth(position).get_by_test_id("stFileChipName")
        chips.and_(page.get_by_title(names[-1])).wait_for()

    net = page.get_by_test_id("stMetric").filter(has_text="Net monthly value")
    net.get_by_text("-151.00 USD").wait_for(timeout=30_000)
    removal = page.get_by_test_id("stMetric").filter(has_text="Removal")
    assert "-330.00 USD" in removal.inner_text()
    # The page renders as its script runs: the table and its button come after the figures.
    page.get_by_test_id("stDownloadButton").filter(has_text="Download 6 cards").wait_for()
    page.close()
