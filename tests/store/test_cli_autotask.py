"""Autotask end to end through the real console script, against the fake Autotask on 127.0.0.1,
on both databases: add and test the source, sync, import vendor usage and maps so there are
cards, see a change made in Autotask move its card on the next sync, then approve and apply."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import pytest

from tests.fakes.autotask import FakeAutotask
from tests.fakes.server import serving
from tests.store.psa_cli import OUTPUTS, cards, ok, stored_text, trueup

SECRETS = ("at-s3cret", "AT-TRACKING-1")
USAGE = """vendor,account_id,account_name,product_id,product_name,quantity
pax8,c-acme,Acme Dental,p-bp,Microsoft 365 Business Premium,12
pax8,c-birch,Birch Law,p-bp,Microsoft 365 Business Premium,5
pax8,c-birch-llp,Birch Law LLP,p-e3,Microsoft 365 E3,4
"""
ACCOUNT_MAP = "vendor,vendor_account_id,psa_account_id,excluded,reason\npax8,c-birch-llp,2,,\n"
PRODUCT_MAP = "vendor,vendor_product_id,psa_product_id,excluded,reason\npax8,p-e3,502,,\n"


@pytest.fixture
def autotask() -> Iterator[tuple[FakeAutotask, str]]:
    fake = FakeAutotask(username="api@acme.example", secret="at-s3cret")
    with serving(fake) as url:
        yield fake, url


def synced_with_cards(tmp_path: Path, url: str) -> None:
    """Add the Autotask source, sync it in full, and import vendor usage and maps."""
    added = ok(
        tmp_path,
        "source", "add", "psa", "--type", "autotask",
        "--set", "username=api@acme.example",
        "--set", "secret=at-s3cret",
        "--set", "integration_code=AT-TRACKING-1",
        "--set", f"discovery_url={url}/atservicesrest/v1.0/",
    )  # fmt: skip
    assert 'source "psa" added (autotask)' in added
    assert "secrets stored encrypted: integration_code, secret" in added
    assert ok(tmp_path, "source", "test", "psa").startswith("psa: connection ok (Autotask PSA)")
    full = ok(tmp_path, "sync", "--full")
    assert "psa: ok, full sync, 3 lines, 3 catalogue products" in full
    (tmp_path / "usage.csv").write_text(USAGE)
    (tmp_path / "accounts.csv").write_text(ACCOUNT_MAP)
    (tmp_path / "products.csv").write_text(PRODUCT_MAP)
    ok(tmp_path, "import", str(tmp_path / "usage.csv"), "--kind", "usage", "--source", "pax8")
    ok(tmp_path, "maps", "import", str(tmp_path / "accounts.csv"))
    ok(tmp_path, "maps", "import", str(tmp_path / "products.csv"))


def test_a_sync_brings_autotask_lines_and_a_change_there_moves_the_card(
    database: str, tmp_path: Path, autotask: tuple[FakeAutotask, str]
) -> None:
    fake, url = autotask
    OUTPUTS.clear()
    synced_with_cards(tmp_path, url)

    before = cards(tmp_path)
    acme = before[("Acme Dental", "Microsoft 365 Business Premium")]
    assert (acme["psa_quantity"], acme["vendor_quantity"], acme["change"]) == ("10", "12", "2")
    assert (acme["contract_id"], acme["line_id"]) == ("10", "1000")
    assert before[("Birch Law", "Microsoft 365 Business Premium")]["card_type"] == "unchanged"
    e3 = before[("Birch Law", "Microsoft 365 E3")]
    assert (e3["card_type"], e3["vendor_quantity"]) == ("new_revenue", "4")
    pages = [r for r in fake.requests if r.endswith("Companies/query/next")]
    assert len(pages) >= 2, "the companies came in several pages, by nextPageUrl"

    fake.set_units(1000, 11)
    again = ok(tmp_path, "sync")

    assert "psa: ok" in again and "3 lines" in again
    moved = cards(tmp_path)[("Acme Dental", "Microsoft 365 Business Premium")]
    assert (moved["psa_quantity"], moved["change"]) == ("11", "1")
    text = stored_text(database)
    for secret in SECRETS:
        assert secret not in text, "a secret is in the database in clear text"
        assert not [out for out in OUTPUTS if secret in out], "a secret was shown"
    assert fake.writes == [], "a sync writes nothing"


def test_an_approved_change_is_applied_once_as_an_adjustment_and_new_revenue_is_refused(
    database: str, tmp_path: Path, autotask: tuple[FakeAutotask, str]
) -> None:
    fake, url = autotask
    OUTPUTS.clear()
    synced_with_cards(tmp_path, url)
    come = (date.today() - timedelta(days=1)).isoformat()
    ok(tmp_path, "approve", "1:500", "2:502", "--effective", come)

    tried = trueup(tmp_path, "apply", "--dry-run")
    assert fake.adjustments() == [], "a dry run sends nothing"
    applied = trueup(tmp_path, "apply")

    assert tried.returncode == 1, "New Revenue is refused even in a dry run"
    assert (
        "1:500 Acme Dental / Microsoft 365 Business Premium: 10 -> 12: would apply (dry run: "
        "nothing sent; 10 units would become 12)" in tried.stdout.splitlines()
    )
    assert applied.returncode == 1, applied.stdout + applied.stderr
    said = applied.stdout.splitlines()
    assert "1:500 Acme Dental / Microsoft 365 Business Premium: 10 -> 12: applied" in said
    refused = "2:502 Birch Law / Microsoft 365 E3: new line -> 4: rejected (TrueUp does not add "
    assert [line for line in said if line.startswith(refused)]
    assert "add service 502 to contract 20 in Autotask" in applied.stdout
    assert fake.adjustments() == [
        {
            "contractID": 10,
            "contractServiceID": 1000,
            "serviceID": 500,
            "effectiveDate": f"{come}T00:00:00Z",
            "unitChange": 2,
        }
    ]
    assert fake.units(1000) == 12

    again = trueup(tmp_path, "apply")

    assert again.returncode == 0, again.stdout + again.stderr
    assert again.stdout == "nothing to apply\n"
    assert len(fake.adjustments()) == 1, "a second apply sends nothing"
    ok(tmp_path, "sync")
    after = cards(tmp_path)[("Acme Dental", "Microsoft 365 Business Premium")]
    assert (after["psa_quantity"], after["change"]) == ("12", "0")
    for secret in SECRETS:
        assert not [out for out in OUTPUTS if secret in out], "a secret was shown"


def test_units_changed_in_autotask_after_the_approval_are_a_conflict_and_nothing_is_sent(
    database: str, tmp_path: Path, autotask: tuple[FakeAutotask, str]
) -> None:
    fake, url = autotask
    synced_with_cards(tmp_path, url)
    come = (date.today() - timedelta(days=1)).isoformat()
    ok(tmp_path, "approve", "1:500", "--effective", come)
    fake.set_units(1000, 11)

    applied = trueup(tmp_path, "apply")

    assert applied.returncode == 1
    assert applied.stdout.startswith(
        "1:500 Acme Dental / Microsoft 365 Business Premium: 10 -> 12: conflict (Autotask's "
        "contract service 1000 has 11 units"
    )
    assert fake.adjustments() == []
    assert fake.units(1000) == 11
