"""Page tests run the real app on a store of their own: an empty SQLite file per test."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import streamlit as st

import store


@pytest.fixture(autouse=True)
def workspace_url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """Give the URL of this test's store, set as DATABASE_URL for the app; the demo month,
    which the app seeds into an empty store, is left out so that tests see only their data."""
    url = f"sqlite:///{tmp_path / 'trueup.db'}"
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setattr(store, "ensure_demo", lambda *args, **kwargs: None, raising=False)
    yield url
    # The app keeps the stores it opened, and what it read, for the process: not past a test.
    st.cache_resource.clear()
    st.cache_data.clear()
