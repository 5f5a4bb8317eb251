"""HaloPSA end to end through the real console script, against the fake Halo on 127.0.0.1,
on both databases: add and test the source, sync, import vendor usage and maps so there are
cards, see a change made in Halo move its card on the next sync, then approve and apply."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import pytest

from tests.fakes.halopsa import FakeHalo
from tests.fakes.server import serving
from tests.store.psa_cli import OUTPUTS, cards, ok, stored_text, trueup

SECRETS = ("halo-s3cret",)
USAGE = """vendor,account_id,account_name,product_id,product_name,quantity
pax8,c-acme,Acme Dental,p-bp,Microsoft 365 Business Premium,12
pax8,c-birch,Birch Law,p-bp,Microsoft 365 Business Premium,6
pax8,c-birch-llp,Birch Law LLP,p-e3,Microsoft 365 E3,4
"""
ACCOUNT_MAP = "vendor,vendor_account_id,psa_account_id,excluded,reason\npax8,c-birch-llp,2,,\n"
PRODUCT_MAP = "vendor,vendor_product_id,psa_product_id,excluded,reason\npax8,p-e3,502,,\n"


@pytest.fixture
def halo() -> Iterator[tuple[FakeHalo, str]]:
    fake = FakeHalo(client_id="halo-client", secret="halo-s3cret")
    with serving(fake) as url:
        yield fake, url


def synced_with_cards(tmp_path: Path, url: str) -> None:
    """Add the Halo source, sync it in full, and import vendor usage and maps."""
    added = ok(
        tmp_path,
        "source", "add", "psa", "--type", "halopsa",
        "--set", f"base_url={url}/api",
        "--set", "client_id=halo-client",
        "--set", "client_secret=halo-s3cret",
    )  # fmt: skip
    assert 'source "psa" added (halopsa)' in added
    assert "secrets stored encrypted: client_secret" in added
    assert ok(tmp_path, "source", "test", "psa").startswith("psa: connection ok (HaloPSA)")
    full = ok(tmp_path, "sync", "--full")
    assert "psa: ok, full sync, 3 lines, 3 catalogue products" in full
    (tmp_path / "usage.csv").write_text(USAGE)
    (tmp_path / "accounts.csv").write_text(ACCOUNT_MAP)
    (tmp_path / "products.csv").write_text(PRODUCT_MAP)
    ok(tmp_path, "import", str(tmp_path / "usage.csv"), "--kind", "usage", "--source", "pax8")
    ok(tmp_path, "maps", "import", str(tmp_path / "accounts.csv"))
    ok(tmp_path, "maps", "import", str(tmp_path / "products.csv"))


def test_a_sync_brings_halo_lines_and_a_change_there_moves_the_card(
    database: str, tmp_path: Path, halo: tuple[FakeHalo, str]
) -> None:
    fake, url = halo
    OUTPUTS.clear()
    synced_with_cards(tmp_path, url)

    before = cards(tmp_path)
    acme = before[("Acme Dental", "Microsoft 365 Business Premium")]
    assert (acme["psa_quantity"], acme["vendor_quantity"], acme["change"]) == ("10", "12", "2")
    assert (acme["contract_id"], acme["line_id"]) == ("10", "1000")
    assert before[("Birch Law", "Microsoft 365 Business Premium")]["change"] == "1"
    e3 = before[("Birch Law", "Microsoft 365 E3")]
    assert (e3["card_type"], e3["vendor_quantity"]) == ("new_revenue", "4")
    pages = [r for r in fake.requests if r == "GET /api/Client"]
    assert len(pages) >= 3, "the clients came in several pages"

    fake.set_quantity(1000, 11)
    again = ok(tmp_path, "sync")

    assert "psa: ok" in again and "3 lines" in again
    moved = cards(tmp_path)[("Acme Dental", "Microsoft 365 Business Premium")]
    assert (moved["psa_quantity"], moved["change"]) == ("11", "1")
    text = stored_text(database)
    for secret in SECRETS:
        assert secret not in text, "a secret is in the database in clear text"
        assert not [out for out in OUTPUTS if secret in out], "a secret was shown"
    assert fake.writes == [], "a sync writes nothing"


def test_approved_changes_are_applied_once_when_due_and_new_revenue_adds_a_line(
    database: str, tmp_path: Path, halo: tuple[FakeHalo, str]
) -> None:
    fake, url = halo
    OUTPUTS.clear()
    synced_with_cards(tmp_path, url)
    come = (date.today() - timedelta(days=1)).isoformat()
    later = (date.today() + timedelta(days=40)).isoformat()
    ok(tmp_path, "approve", "1:500", "2:502", "--effective", come)
    ok(tmp_path, "approve", "2:500", "--effective", later)

    applied = trueup(tmp_path, "apply")

    assert applied.returncode == 0, applied.stdout + applied.stderr
    said = applied.stdout.splitlines()
    assert "1:500 Acme Dental / Microsoft 365 Business Premium: 10 -> 12: applied" in said
    assert "2:502 Birch Law / Microsoft 365 E3: new line -> 4: applied" in said
    assert [line for line in said if line.startswith("2:500 Birch Law") and ": held" in line]
    assert fake.writes == [
        ("POST", "RecurringInvoice/updatelines", [{"id": 1000, "ihid": 10, "qty_order": 12}]),
        ("POST", "RecurringInvoice/Lines", [{"ihid": 20, "_itemid": 502, "qty_order": 4}]),
    ]
    assert (fake.line(1000) or {})["qty_order"] == 12
    assert (fake.line(2000) or {})["qty_order"] == 5, "a change not yet due is held"

    again = trueup(tmp_path, "apply")

    assert again.returncode == 0, again.stdout + again.stderr
    assert "applied" not in again.stdout
    assert len(fake.writes) == 2, "a second apply sends nothing"
    ok(tmp_path, "sync")
    after = cards(tmp_path)
    acme = after[("Acme Dental", "Microsoft 365 Business Premium")]
    assert (acme["psa_quantity"], acme["change"]) == ("12", "0")
    e3 = after[("Birch Law", "Microsoft 365 E3")]
    assert (e3["psa_quantity"], e3["change"], e3["line_id"]) == ("4", "0", "3003")
    for secret in SECRETS:
        assert not [out for out in OUTPUTS if secret in out], "a secret was shown"
