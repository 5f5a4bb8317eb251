"""The report draws a MonthSummary: it reads no store but store.month, and never imports
Streamlit or the pages, so that `trueup report` prints what the Month page shows."""

from __future__ import annotations

import ast
import sys

from tests.conftest import ROOT

ALLOWED = {"altair", "polars", "vl_convert", "fpdf", "engine", "report", "settings"}
ALLOWED |= set(sys.stdlib_module_names)


def test_the_report_imports_only_charts_pdf_the_engine_and_store_month() -> None:
    for path in sorted((ROOT / "report").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                allowed = name.split(".")[0] in ALLOWED or name == "store.month"
                assert allowed, f"{path.name} imports {name}"
