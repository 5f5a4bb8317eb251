"""Settings, driven through Streamlit's AppTest on a store of its own (see conftest)."""

from __future__ import annotations

from streamlit.testing.v1 import AppTest

from store import open_store, source_states
from store.config import get_setting
from tests.conftest import ROOT
from tests.store.factories import load_month


def settings_page() -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.switch_page("pages/settings.py").run()
    assert not at.exception
    return at


def test_the_snapshots_kept_are_saved_for_the_workspace(workspace_url: str) -> None:
    at = settings_page()
    at.number_input[0].set_value(5)
    at.button[0].click().run()

    assert "Saved" in at.success[0].value
    with open_store(workspace_url).session() as session:
        assert get_setting(session, "keep_snapshots") == "5"


def test_restoring_the_demo_replaces_the_workspace_only_once_confirmed(workspace_url: str) -> None:
    opened = open_store(workspace_url)
    load_month(opened)
    at = settings_page()
    restore = next(b for b in at.button if b.label == "Restore the demo workspace")
    assert restore.disabled

    at.checkbox[0].check().run()
    next(b for b in at.button if b.label == "Restore the demo workspace").click().run()

    assert "demo workspace is back" in at.success[0].value
    with opened.session() as session:
        names = {state.name for state in source_states(session)}
    assert "sentinelone" not in names  # the hand-checked month's sources are gone
    assert len(names) >= 3  # the demo's PSA and vendors
