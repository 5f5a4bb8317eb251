"""Steps the end-to-end tests of a PSA through the real `trueup` command share: running it, and
reading back cards and what the database holds (the `database` fixture is in conftest.py)."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from store import open_store
from store.models import AuditEntry, Source, SyncRun
from tests.conftest import run_trueup

OUTPUTS: list[str] = []
"""What every `trueup` run printed, for the tests that check no secret was ever shown."""


def trueup(tmp_path: Path, *args: str) -> Any:
    # In an empty folder: no .streamlit/secrets.toml but the test's own.
    result = run_trueup(*args, cwd=tmp_path)
    OUTPUTS.append(result.stdout + result.stderr)
    return result


def ok(tmp_path: Path, *args: str) -> str:
    """Give back what a command that must succeed printed."""
    result = trueup(tmp_path, *args)
    assert result.returncode == 0, result.stdout + result.stderr
    return str(result.stdout)


def cards(tmp_path: Path) -> dict[tuple[str, str], dict[str, str]]:
    rows = csv.DictReader(io.StringIO(ok(tmp_path, "cards", "--all")))
    return {(r["account_name"], r["product_name"]): r for r in rows}


def stored_text(url: str) -> str:
    """Give back every source, sync run and audit entry in the database, as text."""
    store = open_store(url)
    try:
        with store.engine.connect() as connection:
            rows = [
                row
                for table in (Source, SyncRun, AuditEntry)
                for row in connection.execute(sa.select(table.__table__))
            ]
    finally:
        store.dispose()
    return "\n".join(map(str, rows))
