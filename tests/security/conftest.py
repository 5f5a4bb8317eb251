"""Security tests: the hand-checked month (tests/fixtures/month) with hostile names in it.

Names come from PSA exports and vendors' files, which TrueUp does not control: these tests
put markup, script and spreadsheet formulas where the names go and check that every page
shows them as text and every export writes them as text.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path

import pytest

from store import Store, import_csv, import_maps, open_store
from tests.conftest import MONTH
from tests.store import conftest as store_fixtures

XSS = "<img src=x onerror=alert(1)>"
SCRIPT = "<script>alert(2)</script>"
BOLD = "**bold** :red[x]"
LINK = "[link](javascript:alert(3))"
MARKUP = (XSS, SCRIPT, BOLD, LINK)
"""Names that would render as HTML, script or Markdown if a page let them."""

FORMULA_ACCOUNT = "=cmd|' /C calc'!A0"
FORMULA_PRODUCT = "+SUM(1+1)"
FORMULA_CONTRACT = "-1+1 agreement"
FORMULA_UNMAPPED = "@SUM(A1)"
FORMULA_VENDOR = "=HYPERLINK(1)"
FORMULAS = (FORMULA_ACCOUNT, FORMULA_PRODUCT, FORMULA_CONTRACT, FORMULA_UNMAPPED, FORMULA_VENDOR)
"""Names a spreadsheet would run as formulas if an export wrote them as they are."""

# The store tests' fixtures: each test here that takes a store runs on SQLite and PostgreSQL.
postgres_url = store_fixtures.postgres_url
store_url = store_fixtures.store_url
store = store_fixtures.store

PSA_NAMES = {
    # (column, id column, id) -> the hostile name
    ("account_name", "account_id", "300"): FORMULA_ACCOUNT,
    ("account_name", "account_id", "400"): XSS,
    ("product_name", "product_id", "M365BP"): FORMULA_PRODUCT,
    ("product_name", "product_id", "S1-CORE"): LINK,
    ("product_name", "product_id", "EXO1"): BOLD,
    ("contract_name", "contract_id", "AG-3"): FORMULA_CONTRACT,
    ("contract_name", "contract_id", "AG-4"): SCRIPT,
}
USAGE_NAMES = {
    ("account_name", "account_id", "t-foxtrot"): FORMULA_UNMAPPED,
    ("product_name", "product_id", "CFQ7TTC0RL1"): SCRIPT,
}


def _renamed(source: Path, target: Path, names: dict[tuple[str, str, str], str]) -> Path:
    with source.open(newline="") as file:
        rows = list(csv.DictReader(file))
    for row in rows:
        for (column, key, value), name in names.items():
            if row[key] == value:
                row[column] = name
    with target.open("w", newline="") as file:
        writer = csv.DictWriter(file, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return target


@pytest.fixture
def hostile(tmp_path: Path) -> Path:
    """Give a folder with the hostile month's files (see `write_hostile`)."""
    return write_hostile(tmp_path / "hostile")


def write_hostile(folder: Path) -> Path:
    """Give `folder`, made, with the hand-checked month's files, names made hostile: the PSA's
    (accounts 300 and 400, three products, two contracts), Pax8's unmapped tenant and SKU, and
    two more vendors named as markup and as a formula (each with one tenant and SKU, mapped to
    Acme's labour and backup lines)."""
    folder.mkdir()
    _renamed(MONTH / "psa.csv", folder / "psa.csv", PSA_NAMES)
    _renamed(MONTH / "usage-pax8.csv", folder / "usage-pax8.csv", USAGE_NAMES)
    for name in ("usage-sentinelone.csv", "account-map.csv", "product-map.csv", "catalog.csv"):
        (folder / name).write_bytes((MONTH / name).read_bytes())
    # Each vendor of its own PSA line, so that its card and figures are its own.
    for slug, vendor, product in (
        ("xss", XSS, "LABOUR"),
        ("formula", FORMULA_VENDOR, "SAAS-BACKUP"),
    ):
        rows = [
            ["vendor", "account_id", "account_name", "product_id", "product_name", "quantity"],
            [vendor, f"{slug}-1", XSS, f"{slug.upper()}SKU", SCRIPT, "2"],
        ]
        with (folder / f"usage-{slug}.csv").open("w", newline="") as file:
            csv.writer(file).writerows(rows)
        with (folder / "account-map.csv").open("a", newline="") as file:
            csv.writer(file).writerow([vendor, f"{slug}-1", "100", "", ""])
        with (folder / "product-map.csv").open("a", newline="") as file:
            csv.writer(file).writerow([vendor, f"{slug.upper()}SKU", product, "", ""])
    return folder


def load_hostile(store: Store, folder: Path) -> None:
    """Sync the hostile month in `folder` into the store, maps included."""
    import_csv(store, "psa", "psa", folder / "psa.csv")
    import_csv(store, "pax8", "usage", folder / "usage-pax8.csv")
    import_csv(store, "sentinelone", "usage", folder / "usage-sentinelone.csv")
    import_csv(store, XSS, "usage", folder / "usage-xss.csv")
    import_csv(store, FORMULA_VENDOR, "usage", folder / "usage-formula.csv")
    import_maps(store, folder / "account-map.csv")
    import_maps(store, folder / "product-map.csv")


@pytest.fixture
def hostile_store(
    hostile: Path, store_url: str, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Store]:
    """Give a store (SQLite, then PostgreSQL) with the hostile month synced, set as the
    DATABASE_URL of the `trueup` commands a test runs."""
    opened = open_store(store_url)
    monkeypatch.setenv("DATABASE_URL", store_url)
    try:
        load_hostile(opened, hostile)
        yield opened
    finally:
        opened.dispose()
