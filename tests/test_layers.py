"""The layers stay apart (STYLE 1): the engine is pure, connectors and the report never reach
for Streamlit or the pages, and only the store talks SQL (DESIGN 2)."""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterator
from pathlib import Path

from tests.conftest import ROOT

STANDARD = set(sys.stdlib_module_names)
DATABASE_PACKAGES = {"sqlalchemy", "alembic", "psycopg"}
OUTSIDE_THE_STORE = ["engine", "connectors", "report", "pages", "app.py", "cli.py"]


def imports(*names: str) -> Iterator[tuple[Path, str]]:
    """Give back each absolute import of the Python files of the folders or files `names`
    (under the checkout), beside the file that makes it."""
    for name in names:
        folder = ROOT / name
        for path in sorted(folder.rglob("*.py") if folder.is_dir() else [folder]):
            for node in ast.walk(ast.parse(path.read_text())):
                if isinstance(node, ast.Import):
                    yield from ((path, alias.name) for alias in node.names)
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    yield path, node.module


def test_engine_imports_nothing_but_polars_rapidfuzz_and_the_standard_library() -> None:
    allowed = {"polars", "rapidfuzz", "engine"} | STANDARD
    for path, name in imports("engine"):
        assert name.split(".")[0] in allowed, f"{path.name} imports {name}"


def test_connectors_do_not_import_pages_or_streamlit() -> None:
    for path, name in imports("connectors"):
        assert name.split(".")[0] not in ("streamlit", "pages"), f"{path.name} imports {name}"


def test_the_report_draws_a_month_summary_and_reads_no_store_but_store_month() -> None:
    # So that `trueup report` prints what the Month page shows, without Streamlit.
    allowed = {"altair", "polars", "vl_convert", "fpdf", "engine", "report", "settings"}
    for path, name in imports("report"):
        ok = name.split(".")[0] in allowed | STANDARD or name == "store.month"
        assert ok, f"{path.name} imports {name}"


def test_only_the_store_imports_database_packages() -> None:
    for path, name in imports(*OUTSIDE_THE_STORE):
        assert name.split(".")[0] not in DATABASE_PACKAGES, (
            f"{path.relative_to(ROOT)} imports {name}: go through store/"
        )
