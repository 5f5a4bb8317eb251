"""`trueup suggest` on files, through the real console script."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

from tests.conftest import MONTH, run_trueup

HEADER = "kind,vendor,vendor_id,vendor_name,psa_id,psa_name,score,reason"

FILES = [
    "--psa", MONTH / "psa.csv",
    "--usage", MONTH / "usage-pax8.csv",
    "--usage", MONTH / "usage-sentinelone.csv",
]  # fmt: skip
MAPS = [
    "--account-map", MONTH / "account-map.csv",
    "--product-map", MONTH / "product-map.csv",
    "--catalog", MONTH / "catalog.csv",
]  # fmt: skip

PSA_HEADER = "account_id,account_name,contract_id,product_id,product_name,line_id,quantity\n"
USAGE_HEADER = "vendor,account_id,account_name,product_id,product_name,quantity\n"


def rows(output: str) -> dict[tuple[str, str], dict[str, str]]:
    """Give back the suggestions CSV keyed by (vendor, vendor_id)."""
    return {(r["vendor"], r["vendor_id"]): r for r in csv.DictReader(io.StringIO(output))}


def month_of(folder: Path, psa: list[str], usage: list[str]) -> list[str | Path]:
    """Write a PSA export and a usage file of these rows; give back the options that read them."""
    (folder / "psa.csv").write_text(PSA_HEADER + "".join(f"{row}\n" for row in psa))
    (folder / "usage.csv").write_text(USAGE_HEADER + "".join(f"{row}\n" for row in usage))
    return ["--psa", folder / "psa.csv", "--usage", folder / "usage.csv"]


def test_the_month_has_one_row_per_unmapped_item_and_nothing_to_suggest() -> None:
    result = run_trueup("suggest", *FILES, *MAPS)

    assert result.returncode == 0, result.stderr
    header, *lines = result.stdout.splitlines()
    assert header == HEADER
    # The items `reconcile --unmapped-out` lists, in its order; no PSA item is near either.
    assert [line.rsplit(",", 1)[0] for line in lines] == [
        "account,pax8,t-foxtrot,Foxtrot Ltd,,,",
        "product,pax8,CFQ7TTC0RL1,Microsoft Teams Essentials,,,",
    ]
    expected = (MONTH / "expected-unmapped.csv").read_text().splitlines()[1:]
    assert [line.split(",")[:4] for line in expected] == [line.split(",")[:4] for line in lines]
    assert all(line.rsplit(",", 1)[1] for line in lines), "a reason says why nothing is offered"
    assert result.stderr == (
        "unmapped: 1 accounts, 1 products\nsuggestions: 0 of 1 accounts, 0 of 1 products\n"
    )


def test_without_maps_the_month_suggests_near_names_and_auto_maps_exact_ones(
    tmp_path: Path,
) -> None:
    out = tmp_path / "suggestions.csv"
    result = run_trueup("suggest", *FILES, "--catalog", MONTH / "catalog.csv", "--out", out)

    assert result.returncode == 0, result.stderr
    assert result.stdout == ""
    lines = out.read_text().splitlines()
    assert lines[0] == HEADER
    found = rows(out.read_text())
    # Exact names (Acme Corp, "beta  dental") are auto-maps, not suggestions.
    assert ("pax8", "t-acme") not in found
    assert ("pax8", "t-beta") not in found
    assert ("pax8", "CFQ7TTC0LCHC") not in found
    assert len(lines) == 1 + len(found) == 1 + 5 + 4
    cobalt = found["pax8", "t-cobalt"]
    assert (cobalt["psa_id"], cobalt["psa_name"]) == ("300", "Cobalt Law")
    assert 75 <= int(cobalt["score"]) < 100
    assert "LLP" in cobalt["reason"]
    exchange = found["pax8", "CFQ7TTC0LH18"]
    assert (exchange["psa_id"], exchange["psa_name"]) == ("EXO1", "Exchange Online Plan 1")
    assert found["pax8", "t-foxtrot"]["psa_id"] == ""
    assert found["pax8", "t-foxtrot"]["score"] == ""
    assert "unmapped: 5 accounts, 4 products" in result.stderr
    assert "suggestions: 2 of 5 accounts, 1 of 4 products" in result.stderr


def test_a_company_name_with_its_legal_form_is_suggested_and_a_stranger_is_not(
    tmp_path: Path,
) -> None:
    files = month_of(
        tmp_path,
        psa=[
            '900,"Windward Capital Partners, LLC",AG-9,M365BP,Microsoft 365 Business Premium,L1,10',
            "901,Harbor Veterinary Clinic,AG-10,M365BP,Microsoft 365 Business Premium,L2,5",
        ],
        usage=[
            "pax8,t-ww,Windward Capital,SKU-1,Microsoft 365 Business Premium,10",
            "pax8,t-zz,Zephyr Robotics,SKU-1,Microsoft 365 Business Premium,3",
        ],
    )

    result = run_trueup("suggest", *files)

    assert result.returncode == 0, result.stderr
    found = rows(result.stdout)
    assert list(found) == [("pax8", "t-ww"), ("pax8", "t-zz")]
    windward = found["pax8", "t-ww"]
    assert (windward["psa_id"], windward["psa_name"]) == ("900", "Windward Capital Partners, LLC")
    assert 75 <= int(windward["score"]) <= 100
    assert "LLC" in windward["reason"]
    zephyr = found["pax8", "t-zz"]
    assert (zephyr["psa_id"], zephyr["psa_name"], zephyr["score"]) == ("", "", "")
    assert zephyr["reason"]
    assert "suggestions: 1 of 2 accounts, 0 of 0 products" in result.stderr


def test_an_account_auto_mapped_in_this_run_counts_as_taken(tmp_path: Path) -> None:
    files = month_of(
        tmp_path,
        psa=["100,Acme Corp,AG-1,M365BP,Microsoft 365 Business Premium,L1,10"],
        usage=[
            "pax8,t-1,Acme Corp,SKU-1,Microsoft 365 Business Premium,10",
            "pax8,t-2,Acme Corp HQ,SKU-1,Microsoft 365 Business Premium,3",
        ],
    )

    auto = run_trueup("suggest", *files)
    by_hand = run_trueup("suggest", *files, "--no-auto-map")

    assert auto.returncode == by_hand.returncode == 0, auto.stderr + by_hand.stderr
    # t-1 took Acme Corp by exact name: t-2 is offered it only as a second account of pax8.
    assert list(rows(auto.stdout)) == [("pax8", "t-2")]
    second = rows(auto.stdout)["pax8", "t-2"]
    assert second["psa_id"] == "100"
    assert "already has a pax8 account" in second["reason"]
    alone = rows(by_hand.stdout)["pax8", "t-2"]
    assert "already has" not in alone["reason"]
    assert int(alone["score"]) > int(second["score"])
    assert rows(by_hand.stdout)["pax8", "t-1"]["reason"] == "same name"


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        (
            "usage.csv",
            "vendor,account_name,product_name,quantity\npax8,Acme Corp,M365,12 seats\n",
            'usage.csv row 2, column "quantity": "12 seats" is not a number',
        ),
        (
            "map.csv",
            "vendor,vendor_account_id,psa_account_id,excluded\npax8,t-1,100,\npax8,t-2,,maybe\n",
            'map.csv row 3, column "excluded": "maybe" is not yes or no',
        ),
    ],
)
def test_a_bad_file_exits_2_naming_file_row_and_column(
    tmp_path: Path, name: str, content: str, message: str
) -> None:
    bad = tmp_path / name
    bad.write_text(content)
    option = "--usage" if name == "usage.csv" else "--account-map"
    usage = [] if option == "--usage" else ["--usage", MONTH / "usage-pax8.csv"]

    result = run_trueup("suggest", "--psa", MONTH / "psa.csv", *usage, option, bad)

    assert result.returncode == 2
    assert message in result.stderr
    assert result.stderr.startswith("error: ")
    assert "Traceback" not in result.stderr
    assert result.stdout == ""


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--account-map", MONTH / "account-map.csv"],
            "error: --account-map is for suggesting from files: give --psa and --usage too, "
            "or leave it out to suggest from the store\n",
        ),
        (
            ["--usage", MONTH / "usage-pax8.csv", "--no-auto-map"],
            "error: --usage, --no-auto-map are for suggesting from files: give --psa and --usage "
            "too, or leave them out to suggest from the store\n",
        ),
        (
            ["--psa", MONTH / "psa.csv"],
            "error: suggesting from files needs vendor usage too: --usage FILE\n",
        ),
    ],
)
def test_mixing_files_and_the_store_is_a_usage_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, args: list, message: str
) -> None:
    # Were the mix taken for store mode, it would read this empty store and exit 0.
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'trueup.db'}")

    result = run_trueup("suggest", *args)

    assert result.returncode == 2
    assert result.stderr == message
    assert result.stdout == ""


def test_an_unwritable_out_exits_2_saying_why(tmp_path: Path) -> None:
    out = tmp_path / "missing" / "suggestions.csv"

    result = run_trueup("suggest", *FILES, "--out", out)

    assert result.returncode == 2
    assert result.stderr == f"error: cannot write {out}: No such file or directory\n"
