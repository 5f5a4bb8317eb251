"""The Month page in a real browser, on the demo workspace (a year of closed months): the
headline figures are the store's, the three charts draw, a chart downloads as PNG and the month
as a one-page PDF report holding the page's figures. The tests keep a screenshot of the page
(`month.png` in their temporary folder) to look at."""

from __future__ import annotations

import io
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from tests.browser.conftest import serve
from tests.browser.steps import idle

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    """Give back the app's address and its store's URL: the demo, seeded for today."""
    from store import open_store
    from store.demo import seed_demo
    from store.summary import refresh_summary

    folder = tmp_path_factory.mktemp("month")
    url = f"sqlite:///{folder / 'trueup.db'}"
    store = open_store(url)
    try:
        seed_demo(store, today=datetime.now(UTC).date())
        refresh_summary(store)
    finally:
        store.dispose()
    with serve(folder, url) as app:
        yield app, url


def last_month() -> str:
    from engine.month import periods_until
    from store.month import current_period

    return periods_until(current_period(), 2)[0]


def headline(store_url: str, month: str) -> dict[str, Any]:
    """Give back the month's headline as `trueup summary --format json` prints it."""
    from store import open_store
    from store.month import month_summary

    store = open_store(store_url)
    try:
        return month_summary(store, month).to_json()["headline"]
    finally:
        store.dispose()


def open_month(browser: Any, app: str, month: str) -> Any:
    page = browser.new_page(viewport={"width": 1500, "height": 1100}, accept_downloads=True)
    page.goto(f"{app}/month?month={month}")
    page.get_by_test_id("stMetric").first.wait_for(timeout=60_000)
    idle(page)
    # Vega draws each chart once its data is in.
    page.get_by_test_id("stVegaLiteChart").nth(2).wait_for(timeout=30_000)
    return page


def test_the_month_page_shows_the_stores_figures_and_its_charts(
    browser: Any, demo: tuple[str, str], tmp_path: Path
) -> None:
    from report import figure_text

    app, store_url = demo
    month = last_month()
    figures = headline(store_url, month)
    page = open_month(browser, app, month)

    metrics = " ".join(page.get_by_test_id("stMetric").all_inner_texts())
    assert figure_text(figures["recovered"], "USD") in metrics
    assert figure_text(figures["at_risk"], "USD") in metrics
    assert page.get_by_test_id("stVegaLiteChart").count() == 3
    assert page.get_by_text("is closed: closed by maria.chen").is_visible()
    page.wait_for_timeout(1_000)  # the charts' drawing settles
    page.screenshot(path=tmp_path / "month.png", full_page=True)
    page.close()


def test_a_chart_downloads_as_png_and_the_month_as_a_one_page_pdf(
    browser: Any, demo: tuple[str, str]
) -> None:
    from pypdf import PdfReader

    from report import figure_text

    app, store_url = demo
    month = last_month()
    figures = headline(store_url, month)
    page = open_month(browser, app, month)

    with page.expect_download(timeout=60_000) as png:
        page.get_by_test_id("stDownloadButton").filter(has_text="PNG").first.click()
    assert png.value.suggested_filename == f"trueup-by_type-{month}.png"
    assert Path(png.value.path()).read_bytes().startswith(b"\x89PNG\r\n\x1a\n")

    with page.expect_download(timeout=60_000) as pdf:
        page.get_by_test_id("stDownloadButton").filter(has_text="Report (PDF)").click()
    reader = PdfReader(io.BytesIO(Path(pdf.value.path()).read_bytes()))
    assert len(reader.pages) == 1
    text = reader.pages[0].extract_text()
    for name in ("recovered", "net_change", "at_risk"):
        assert figure_text(figures[name], "USD") in text, name
    page.close()
