"""The Sync wizard in a real browser: upload a vendor file, correct a column, confirm, and see
Home's figures move.

The served store holds the fixture month without Pax8 (see conftest): SentinelOne's one
increase is the only open card, and nothing is unmapped. Pax8's file brings five more cards and
one unmapped account and service.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.browser.steps import choose, upload

MONTH = Path(__file__).resolve().parents[1] / "fixtures" / "month"

pytestmark = pytest.mark.browser


def metric(page, label: str) -> str:
    box = page.get_by_test_id("stMetric").filter(has_text=label).first
    return box.get_by_test_id("stMetricValue").inner_text()


def test_a_csv_uploaded_through_the_wizard_changes_the_figures_on_home(
    app_url, browser, tmp_path
) -> None:
    renamed = tmp_path / "pax8-november.csv"
    renamed.write_bytes(
        (MONTH / "usage-pax8.csv").read_bytes().replace(b",quantity,", b",Assigned Seats,", 1)
    )
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.goto(app_url)
    page.get_by_text("Next: ").wait_for(timeout=30_000)
    assert metric(page, "Open cards") == "1"
    assert metric(page, "Unmapped accounts") == "0"
    page.screenshot(path=tmp_path / "home-before.png", full_page=True)

    page.get_by_role("link", name="Sync", exact=True).click()
    page.get_by_role("heading", name="Upload a file").wait_for()
    choose(page, "Source", "New source…")
    # Each entry reruns the page; the name comes last, as its rerun brings the uploader.
    page.get_by_role("textbox", name="Distributor (optional)").fill("Pax8")
    name = page.get_by_role("textbox", name="Vendor name")
    name.fill("pax8")
    name.press("Enter")
    uploader = page.get_by_test_id("stFileUploader").filter(has_text="Vendor usage file")
    uploader.wait_for()
    upload(page, uploader, [renamed])

    # "Assigned Seats" is no known name for a quantity: the check says so, and waits.
    page.get_by_text("1 problem in pax8-november.csv: nothing will be stored").wait_for(
        timeout=30_000
    )
    choose(page, "Assigned Seats", "Quantity")
    page.get_by_text("ready to import into pax8").wait_for(timeout=30_000)
    page.screenshot(path=tmp_path / "sync.png", full_page=True)
    page.get_by_role("button", name="Import into pax8").click()
    page.get_by_text("9 rows stored from 9 in pax8-november.csv").wait_for(timeout=60_000)

    page.get_by_role("link", name="Home", exact=True).click()
    page.get_by_text("Next: ").wait_for(timeout=30_000)
    assert metric(page, "Open cards") == "6"
    assert metric(page, "Unmapped accounts") == "1"
    assert metric(page, "Unmapped services") == "1"
    page.screenshot(path=tmp_path / "home-after.png", full_page=True)
    page.close()
