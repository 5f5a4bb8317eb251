"""`trueup reconcile` through the real console script."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import MONTH, run_trueup

MONTH_ARGS = [
    "--psa", MONTH / "psa.csv",
    "--usage", MONTH / "usage-pax8.csv",
    "--usage", MONTH / "usage-sentinelone.csv",
    "--account-map", MONTH / "account-map.csv",
    "--product-map", MONTH / "product-map.csv",
    "--catalog", MONTH / "catalog.csv",
]  # fmt: skip


def test_writes_the_open_cards_to_stdout_sorted_and_summarises_on_stderr() -> None:
    result = run_trueup("reconcile", *MONTH_ARGS)

    assert result.returncode == 0, result.stderr
    assert result.stdout == (MONTH / "expected-cards.csv").read_text()
    assert (
        "cards: 2 increase, 2 decrease, 1 removal, 1 new_revenue, 2 unchanged, 1 no_vendor_data"
        in result.stderr
    )
    assert "unmapped: 1 accounts, 1 products" in result.stderr
    assert "net monthly value of open cards: -151.00 USD" in result.stderr


def test_all_adds_unchanged_and_no_vendor_data_cards(tmp_path: Path) -> None:
    out = tmp_path / "cards.csv"
    result = run_trueup("reconcile", *MONTH_ARGS, "--all", "--out", out)

    assert result.returncode == 0, result.stderr
    assert result.stdout == ""
    lines = out.read_text().splitlines()
    assert len(lines) == 1 + 6 + 3
    assert "100,Acme Corp,S1-CORE,SentinelOne Core,AG-1,L2,25,25,0,unchanged,4.50,0.00" in lines
    assert (
        "200,Beta Dental,M365BP,Microsoft 365 Business Premium,AG-2,L4,10,10,0,unchanged,22.00,0.00"
        in lines
    )
    # Datto has maps but no file: its line is "no vendor data", never a removal.
    assert (
        "100,Acme Corp,SAAS-BACKUP,Microsoft 365 Backup,AG-1,L9,20,,,no_vendor_data,3.00," in lines
    )


def test_unmapped_out_lists_vendor_accounts_and_products_with_their_usage(tmp_path: Path) -> None:
    out = tmp_path / "unmapped.csv"
    result = run_trueup("reconcile", *MONTH_ARGS, "--unmapped-out", out)

    assert result.returncode == 0, result.stderr
    assert out.read_text() == (MONTH / "expected-unmapped.csv").read_text()


def test_no_auto_map_leaves_exact_name_matches_unmapped(tmp_path: Path) -> None:
    out = tmp_path / "unmapped.csv"
    result = run_trueup("reconcile", *MONTH_ARGS, "--no-auto-map", "--unmapped-out", out)

    assert result.returncode == 0, result.stderr
    unmapped = out.read_text()
    assert "account,pax8,t-acme,Acme Corp,27" in unmapped
    assert "account,sentinelone,s-acme,ACME corp,25" in unmapped
    assert "100,Acme Corp" not in result.stdout


def test_vendor_and_explicit_columns_read_a_portal_export(tmp_path: Path) -> None:
    export = tmp_path / "datto.csv"
    export.write_text("Org,Seat count,Plan\nAcme Corp,18,DATTO-SAAS\n")
    result = run_trueup(
        "reconcile",
        "--psa", MONTH / "psa.csv",
        "--account-map", MONTH / "account-map.csv",
        "--product-map", MONTH / "product-map.csv",
        "--usage", export,
        "--vendor", "datto",
        "--columns", "account_name=Org,quantity=Seat count,product_id=Plan",
    )  # fmt: skip

    assert result.returncode == 0, result.stderr
    # The export has names only: "Acme Corp" is its id too, and it maps by exact name.
    assert (
        "100,Acme Corp,SAAS-BACKUP,Microsoft 365 Backup,AG-1,L9,20,18,-2,decrease,3.00,-6.00"
        in result.stdout
    )


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (
            "vendor,account_name,product_name,quantity\npax8,Acme Corp,M365,12 seats\n",
            'bad.csv row 2, column "quantity": "12 seats" is not a number',
        ),
        (
            "vendor,account_name,product_name,quantity\npax8,Acme Corp,M365,-3\n",
            'bad.csv row 2, column "quantity"',
        ),
    ],
)
def test_bad_usage_exits_2_naming_file_row_and_column(
    tmp_path: Path, content: str, message: str
) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text(content)
    result = run_trueup("reconcile", "--psa", MONTH / "psa.csv", "--usage", bad)

    assert result.returncode == 2
    assert message in result.stderr
    assert "Traceback" not in result.stderr
    assert result.stdout == ""


def test_a_missing_file_exits_2_without_a_traceback(tmp_path: Path) -> None:
    result = run_trueup(
        "reconcile", "--psa", tmp_path / "nope.csv", "--usage", MONTH / "usage-pax8.csv"
    )

    assert result.returncode == 2
    assert "nope.csv" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_product_map_given_as_account_map_is_refused() -> None:
    result = run_trueup(
        "reconcile", "--psa", MONTH / "psa.csv", "--usage", MONTH / "usage-pax8.csv",
        "--account-map", MONTH / "product-map.csv",
    )  # fmt: skip

    assert result.returncode == 2
    assert "product-map.csv: this is a product map; give it with --product-map" in result.stderr
