"""Every setting is documented where a user looks for it."""

from __future__ import annotations

import settings
from tests.conftest import ROOT


def test_every_setting_is_in_the_readme() -> None:
    readme = (ROOT / "README.md").read_text()
    for setting in settings.REGISTRY.values():
        assert f"`{setting.env}`" in readme, f"{setting.env} is not documented in README.md"


def test_the_environment_overrides_a_default(monkeypatch) -> None:
    monkeypatch.setenv("TRUEUP_CURRENCY", "EUR")
    assert settings.get("currency") == "EUR"
