"""The Audit log page in a real browser, on the demo workspace (a year of a team's syncs, maps,
decisions and closed months) and one entry by a person named as a formula: the page counts the
last 30 days' entries as the store does, and downloads them as CSV with the formula neutralised.
The test keeps a screenshot of the page (`audit.png` in its temporary folder) to look at."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.browser.conftest import serve
from tests.browser.steps import idle

pytestmark = pytest.mark.browser

FORMULA = "=cmd|' /C calc'!A0"


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, int]]:
    """Give back the app's address and how many entries its last 30 days hold: the demo,
    seeded for today, and a setting changed by a person named as a formula."""
    from store import open_store
    from store.audit import audit, count_entries
    from store.demo import seed_demo
    from store.types import now

    folder = tmp_path_factory.mktemp("audit")
    url = f"sqlite:///{folder / 'trueup.db'}"
    store = open_store(url)
    try:
        seed_demo(store, today=datetime.now(UTC).date())
        with store.session() as session:
            detail = {"name": "keep_snapshots", "before": "3", "after": "4"}
            audit(session, FORMULA, "setting", detail)
        today = now().date()
        since = datetime.combine(today - timedelta(days=29), datetime.min.time(), UTC)
        with store.session() as session:
            recent = count_entries(session, since=since)
    finally:
        store.dispose()
    with serve(folder, url) as app:
        yield app, recent


def test_the_audit_log_counts_the_last_30_days_and_downloads_them_as_csv(
    browser: Any, demo: tuple[str, int], tmp_path: Path
) -> None:
    app, recent = demo
    page = browser.new_page(viewport={"width": 1500, "height": 1000}, accept_downloads=True)
    page.goto(f"{app}/audit")
    page.get_by_test_id("stDataFrame").wait_for(timeout=60_000)
    idle(page)

    assert page.get_by_role("heading", name="Audit log").is_visible()
    noun = "entry" if recent == 1 else "entries"
    assert page.get_by_text(f"{recent:,} {noun}", exact=True).is_visible()
    page.screenshot(path=tmp_path / "audit.png", full_page=True)

    with page.expect_download(timeout=60_000) as download:
        page.get_by_test_id("stDownloadButton").filter(has_text="Download CSV").click()
    assert download.value.suggested_filename.startswith("trueup-audit-")
    text = Path(download.value.path()).read_text()
    rows = list(csv.DictReader(io.StringIO(text)))
    assert len(rows) == recent
    assert list(rows[0]) == ["when", "who", "kind", "what", "detail"]
    assert (rows[0]["who"], rows[0]["kind"]) == (f"'{FORMULA}", "Setting")
    assert rows[0]["what"] == "keep_snapshots: 3 → 4"
    assert not [r for r in rows if r["who"].startswith(("=", "+", "-", "@"))]
    page.close()
