"""The store is the only place that talks SQL (DESIGN 2)."""

from __future__ import annotations

import ast

from tests.conftest import ROOT

DATABASE_PACKAGES = {"sqlalchemy", "alembic", "psycopg"}
OUTSIDE_THE_STORE = ["engine", "connectors", "pages", "app.py", "cli.py"]


def test_only_the_store_imports_database_packages() -> None:
    for name in OUTSIDE_THE_STORE:
        folder = ROOT / name
        for path in sorted(folder.rglob("*.py") if folder.is_dir() else [folder]):
            for node in ast.walk(ast.parse(path.read_text())):
                if isinstance(node, ast.Import):
                    names = [alias.name for alias in node.names]
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    names = [node.module]
                else:
                    continue
                for imported in names:
                    assert imported.split(".")[0] not in DATABASE_PACKAGES, (
                        f"{path.relative_to(ROOT)} imports {imported}: go through store/"
                    )
