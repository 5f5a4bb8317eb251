"""Shared test helpers: where the fixture files live and how to run the real `trueup`."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"
MONTH = FIXTURES / "month"


@pytest.fixture
def month() -> Path:
    """The small hand-checked month: a PSA export, two vendors' usage, maps and a catalogue."""
    return MONTH


def run_trueup(*args: str | Path, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """Run the installed `trueup` console script, as a user would."""
    trueup = Path(sys.executable).with_name("trueup")
    return subprocess.run(
        [str(trueup), *map(str, args)], capture_output=True, text=True, cwd=cwd, check=False
    )
