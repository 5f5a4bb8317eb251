"""Browser tests: the app served by a real Streamlit server, driven in a real Chromium.

Chromium is Debian's (`apt-get install -y chromium`) or one Playwright installed; without one
the tests skip, except under CI=true, where a missing browser fails the run.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
MONTH = ROOT / "tests" / "fixtures" / "month"


def chromium_path() -> str | None:
    """Give back a Chromium to drive: Debian's, else Playwright's own, else None."""
    for name in ("chromium", "chromium-browser"):
        found = shutil.which(name)
        if found:
            return found
    cache = Path.home() / ".cache" / "ms-playwright"
    bundled = sorted(cache.glob("chromium-*/chrome-linux*/chrome"))
    return str(bundled[-1]) if bundled else None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="session")
def workspace_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    """Give back the URL of the served app's store: a SQLite file of this test session, with
    the fixture month's PSA, SentinelOne usage and maps synced (Pax8 is left to upload)."""
    from store import import_csv, import_maps, open_store

    url = f"sqlite:///{tmp_path_factory.mktemp('workspace') / 'trueup.db'}"
    store = open_store(url)
    try:
        import_csv(store, "psa", "psa", MONTH / "psa.csv")
        import_csv(store, "sentinelone", "usage", MONTH / "usage-sentinelone.csv")
        import_maps(store, MONTH / "account-map.csv")
        import_maps(store, MONTH / "product-map.csv")
    finally:
        store.dispose()
    return url


@contextmanager
def serve(folder: Path, workspace_url: str, *args: str) -> Iterator[str]:
    """Give back the address of the app served by `streamlit run` on its own store
    (`workspace_url`), never the checkout's data/trueup.db; its log goes to `folder`. `args`
    go after the others: `--server.address 0.0.0.0`, or `--` and the app's own."""
    port = _free_port()
    log = (folder / "server.log").open("w")
    server = subprocess.Popen(
        [
            sys.executable, "-m", "streamlit", "run", str(ROOT / "app.py"),
            "--server.port", str(port), "--server.headless", "true",
            "--browser.gatherUsageStats", "false", *args,
        ],
        cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
        env={**os.environ, "TRUEUP_CURRENCY": "USD", "DATABASE_URL": workspace_url},
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                    if response.status == 200:
                        break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise RuntimeError(f"the app did not start; see {log.name}") from None
                time.sleep(0.3)
        yield url
    finally:
        server.terminate()
        server.wait(timeout=20)
        log.close()


@pytest.fixture(scope="session")
def app_url(tmp_path_factory: pytest.TempPathFactory, workspace_url: str) -> Iterator[str]:
    """Give back the address of the app, served for this test session on `workspace_url`."""
    with serve(tmp_path_factory.mktemp("streamlit"), workspace_url) as url:
        yield url


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    """Give back a headless Chromium driven by Playwright."""
    executable = chromium_path()
    if executable is None:
        if os.environ.get("CI") == "true":
            pytest.fail("no Chromium found: install Debian's chromium (apt-get install chromium)")
        pytest.skip("no Chromium found")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=executable,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        yield browser
        browser.close()
