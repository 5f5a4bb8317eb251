"""The engine stays pure: it imports only Polars, rapidfuzz and the standard library."""

from __future__ import annotations

import ast
import sys

from tests.conftest import ROOT

ALLOWED = {"polars", "rapidfuzz", "engine"} | set(sys.stdlib_module_names)


def test_engine_imports_nothing_but_polars_rapidfuzz_and_the_standard_library() -> None:
    for path in sorted((ROOT / "engine").rglob("*.py")):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                assert name.split(".")[0] in ALLOWED, f"{path.name} imports {name}"


def test_connectors_do_not_import_pages_or_streamlit() -> None:
    for path in sorted((ROOT / "connectors").rglob("*.py")):
        source = path.read_text()
        assert "import streamlit" not in source and "from pages" not in source, path.name
