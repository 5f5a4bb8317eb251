"""Steps that drive a Streamlit page in the browser and wait for it as a person would."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def idle(page: Any) -> None:
    """Wait until no run of the page's script is under way."""
    page.locator('[data-testid="stApp"][data-test-script-state="notRunning"]').wait_for()


def upload(page: Any, uploader: Any, files: list[Path]) -> None:
    """Upload `files` into the file uploader `uploader` (a locator), until they show in it.

    Each upload reruns the page, and an upload made while the page is being rerun can be lost
    with the element it went into (Streamlit): then it is made again.
    """
    for _ in range(3):
        idle(page)
        uploader.locator('input[type="file"]').set_input_files(files)
        chips = uploader.get_by_test_id("stFileChipName")
        try:
            chips.and_(page.get_by_title(files[-1].name)).wait_for(timeout=10_000)
            return
        except Exception:  # Playwright's TimeoutError: upload again
            continue
    raise AssertionError(f"the upload of {[f.name for f in files]} never showed")


def choose(page: Any, label: str, option: str) -> None:
    """Pick `option` in the selectbox labelled `label`, once the page has settled.

    A rerun that ends while the list is open draws the selectbox again and closes the list:
    then it is opened again.
    """
    box = page.get_by_test_id("stSelectbox").filter(has_text=label).first
    wanted = page.get_by_role("option", name=option, exact=True)
    for _ in range(3):
        idle(page)
        box.click()
        try:
            wanted.click(timeout=10_000)
            return
        except Exception:  # Playwright's TimeoutError: open the list again
            continue
    raise AssertionError(f'"{option}" never showed in the selectbox "{label}"')
