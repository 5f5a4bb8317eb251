"""`trueup maps import`, `maps export` and `suggest` from the store, through the real console
script, on both databases."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from store import Store, import_csv, import_maps, open_store
from tests.conftest import MONTH, run_trueup
from tests.store.factories import load_month

ACCOUNT_HEADER = "vendor,vendor_account_id,psa_account_id,excluded,reason"
PRODUCT_HEADER = "vendor,vendor_product_id,psa_product_id,excluded,reason"


@pytest.fixture
def database(store_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """Point the `trueup` processes at this test's empty database."""
    monkeypatch.setenv("DATABASE_URL", store_url)
    monkeypatch.setenv("TRUEUP_USER", "ann")
    return store_url


def with_store(url: str, fill: Callable[[Store], object]) -> None:
    """Fill the store through the API: the commands under test are what runs as a process."""
    store = open_store(url)
    try:
        fill(store)
    finally:
        store.dispose()


def month_maps(store: Store) -> None:
    """Store the month's account and product maps."""
    import_maps(store, MONTH / "account-map.csv")
    import_maps(store, MONTH / "product-map.csv")


def import_both(*files: Path) -> list[str]:
    """Give back what `trueup maps import` said of each file, failing on an error."""
    said = []
    for file in files:
        result = run_trueup("maps", "import", file)
        assert result.returncode == 0, result.stderr
        said.append(result.stdout)
    return said


def test_import_says_what_changed_and_a_second_import_changes_nothing(database: str) -> None:
    first = import_both(MONTH / "account-map.csv", MONTH / "product-map.csv")
    again = run_trueup("maps", "import", MONTH / "account-map.csv")

    assert first == [
        "account maps from account-map.csv: 6 added, 0 changed, 0 unchanged\n",
        "product maps from product-map.csv: 5 added, 0 changed, 0 unchanged\n",
    ]
    assert again.stdout == "account maps from account-map.csv: 0 added, 0 changed, 6 unchanged\n"


def test_import_counts_a_changed_map_and_takes_the_vendor_option(
    database: str, tmp_path: Path
) -> None:
    with_store(database, lambda store: import_maps(store, MONTH / "account-map.csv"))
    edited = tmp_path / "pax8-accounts.csv"
    edited.write_text(
        "vendor_account_id,psa_account_id,excluded,reason\n"
        "t-cobalt,300,,\n"  # as stored
        "t-delta,200,,\n"  # was 400
        "t-golf,700,,\n"  # new
    )

    result = run_trueup("maps", "import", edited, "--vendor", "pax8")
    export = run_trueup("maps", "export", "--kind", "account")

    assert result.returncode == 0, result.stderr
    assert result.stdout == "account maps from pax8-accounts.csv: 1 added, 1 changed, 1 unchanged\n"
    assert "pax8,t-delta,200,," in export.stdout.replace('""', "")
    assert "pax8,t-golf,700,," in export.stdout.replace('""', "")


def test_an_exported_map_imports_back_unchanged(database: str, tmp_path: Path) -> None:
    with_store(database, month_maps)
    folder = tmp_path / "out"
    folder.mkdir()

    exported = run_trueup("maps", "export", "--out", folder / "maps.csv")
    accounts, products = folder / "maps-accounts.csv", folder / "maps-products.csv"
    again = import_both(accounts, products)

    assert exported.returncode == 0, exported.stderr
    assert exported.stdout == ""
    assert exported.stderr == (
        f"account maps: 6 rows to {accounts}\nproduct maps: 5 rows to {products}\n"
    )
    assert sorted(p.name for p in folder.iterdir()) == ["maps-accounts.csv", "maps-products.csv"]
    assert again == [
        "account maps from maps-accounts.csv: 0 added, 0 changed, 6 unchanged\n",
        "product maps from maps-products.csv: 0 added, 0 changed, 5 unchanged\n",
    ]
    account_lines = accounts.read_text().replace('""', "").splitlines()
    assert account_lines[0] == ACCOUNT_HEADER
    assert "pax8,t-internal,,yes,Our own tenant" in account_lines
    assert "sentinelone,s-cobalt,300,," in account_lines
    product_lines = products.read_text().replace('""', "").splitlines()
    assert product_lines[0] == PRODUCT_HEADER
    assert "pax8,TRIAL-COPILOT,,yes,Trial SKU" in product_lines
    assert len(product_lines) == 1 + 5


def test_export_kind_writes_that_map_to_stdout_or_out(database: str, tmp_path: Path) -> None:
    with_store(database, month_maps)
    out = tmp_path / "products.csv"

    accounts = run_trueup("maps", "export", "--kind", "account")
    dash = run_trueup("maps", "export", "--kind", "product", "--out", "-")
    products = run_trueup("maps", "export", "--kind", "product", "--out", out)

    assert accounts.returncode == dash.returncode == products.returncode == 0, accounts.stderr
    lines = accounts.stdout.replace('""', "").splitlines()
    assert lines == [
        ACCOUNT_HEADER,
        "datto,d-acme,100,,",
        "pax8,t-cobalt,300,,",
        "pax8,t-delta,400,,",
        "pax8,t-echo,500,,",
        "pax8,t-internal,,yes,Our own tenant",
        "sentinelone,s-cobalt,300,,",
    ]
    assert accounts.stderr == "account maps: 6 rows to stdout\n"
    assert dash.stdout.splitlines()[0] == PRODUCT_HEADER
    assert len(dash.stdout.splitlines()) == 1 + 5
    assert dash.stderr == "product maps: 5 rows to stdout\n"
    assert products.stdout == ""
    assert out.read_text() == dash.stdout
    assert products.stderr == f"product maps: 5 rows to {out}\n"


def test_export_of_both_maps_needs_a_file(database: str) -> None:
    result = run_trueup("maps", "export")

    assert result.returncode == 2
    assert result.stderr == (
        "error: account and product maps have different columns, so they are two files: "
        "give --out FILE, or --kind account|product to write one map to stdout\n"
    )
    assert result.stdout == ""


def test_a_bad_map_file_exits_2_and_stores_nothing(database: str, tmp_path: Path) -> None:
    bad = tmp_path / "accounts.csv"
    bad.write_text(
        "vendor,vendor_account_id,psa_account_id,excluded,reason\n"
        "pax8,t-1,100,,\n"
        "pax8,t-2,,maybe,\n"
    )

    result = run_trueup("maps", "import", bad)
    export = run_trueup("maps", "export", "--kind", "account")

    assert result.returncode == 2
    assert 'accounts.csv row 3, column "excluded": "maybe" is not yes or no' in result.stderr
    assert result.stderr.startswith("error: ")
    assert "Traceback" not in result.stderr
    assert result.stdout == ""
    assert export.stdout == ACCOUNT_HEADER + "\n"


def test_import_kind_map_still_imports_a_map_file(database: str) -> None:
    result = run_trueup("import", "--kind", "map", MONTH / "product-map.csv")

    assert result.returncode == 0, result.stderr
    assert result.stdout == "product maps from product-map.csv: 5 added, 0 changed, 0 unchanged\n"


def test_suggest_from_the_store_gives_the_rows_of_the_same_files(database: str) -> None:
    with_store(database, load_month)
    files = run_trueup(
        "suggest",
        *("--psa", MONTH / "psa.csv"),
        *("--usage", MONTH / "usage-pax8.csv", "--usage", MONTH / "usage-sentinelone.csv"),
        *("--account-map", MONTH / "account-map.csv", "--product-map", MONTH / "product-map.csv"),
    )

    stored = run_trueup("suggest")

    assert stored.returncode == 0, stored.stderr
    assert stored.stdout == files.stdout
    assert [line.rsplit(",", 1)[0] for line in stored.stdout.splitlines()] == [
        "kind,vendor,vendor_id,vendor_name,psa_id,psa_name,score",
        "account,pax8,t-foxtrot,Foxtrot Ltd,,,",
        "product,pax8,CFQ7TTC0RL1,Microsoft Teams Essentials,,,",
    ]
    assert stored.stderr == files.stderr


def test_suggest_from_the_store_counts_its_auto_maps_as_taken(
    database: str, tmp_path: Path
) -> None:
    psa = tmp_path / "psa.csv"
    psa.write_text(
        "account_id,account_name,contract_id,product_id,product_name,line_id,quantity\n"
        "100,Acme Corp,AG-1,M365BP,Microsoft 365 Business Premium,L1,10\n"
    )
    usage = tmp_path / "usage.csv"
    usage.write_text(
        "vendor,account_id,account_name,product_id,product_name,quantity\n"
        "pax8,t-1,Acme Corp,SKU-1,Microsoft 365 Business Premium,10\n"
        "pax8,t-2,Acme Corp HQ,SKU-1,Microsoft 365 Business Premium,3\n"
    )

    def sync(store: Store) -> None:
        import_csv(store, "psa", "psa", psa)
        import_csv(store, "pax8", "usage", usage)

    with_store(database, sync)

    # The first run makes and stores the auto-map of t-1; the second reads it as stored.
    first, second = run_trueup("suggest"), run_trueup("suggest")
    files = run_trueup("suggest", "--psa", psa, "--usage", usage)

    assert first.returncode == 0, first.stderr
    lines = first.stdout.splitlines()
    assert len(lines) == 2
    assert lines[1].startswith("account,pax8,t-2,Acme Corp HQ,100,Acme Corp,")
    assert "already has a pax8 account" in lines[1]
    assert second.stdout == first.stdout == files.stdout
