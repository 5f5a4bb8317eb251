"""The vendor connectors end to end: the real `trueup` console script against fake SentinelOne,
Datto SaaS Protection, Partner Center and Pax8 servers on 127.0.0.1, on both databases.

Each vendor is added, tested and fully synced beside a PSA export and maps, so that its counts
reach cards (only active subscriptions, sites or billable seats count). Then a count changes on
the fake, a subscription (or site, or seat) stops being active and a record disappears: behind
a wrong secret, `source test` says "bad credentials", the sync exits non-zero and the last
snapshot stays current; with the right secret, a quick sync (a full pull, as none of these APIs
can filter on changes) shows all three. Pax8 and Partner Center also keep the NCE commitment,
which the decrease card carries.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from store import current_cards, open_store
from store.commitments import commitments_of_cards, current_commitments
from store.credentials import new_key
from store.models import CommitmentLine
from store.snapshots import current_inputs
from tests.conftest import run_trueup
from tests.fakes import pax8 as pax8_fake
from tests.fakes.dattosaas import FakeDattoSaas
from tests.fakes.partnercenter import COMMITTED_UNTIL as PC_COMMITTED_UNTIL
from tests.fakes.partnercenter import (
    TENANT,
    FakePartnerCenter,
    certificate,
    tls_context,
)
from tests.fakes.pax8 import FakePax8
from tests.fakes.sentinelone import FakeSentinelOne
from tests.fakes.server import serving
from tests.store.psa_cli import stored_text

Counts = dict[tuple[str, str], str]
"""(PSA account name, PSA product name) to the vendor quantity on its card."""


@dataclass(frozen=True)
class Vendor:
    """One vendor's scenario: its fake, settings, PSA lines and maps, and what cards show."""

    type: str
    vendor: str
    """The `vendor` of its usage rows, as the maps name it."""
    fake: Callable[[], Any]
    settings: Callable[[str], list[str]]
    """`KEY=VALUE` settings, given the fake's root URL."""
    secrets: tuple[str, ...]
    wrong: str
    """The setting that, changed, makes the credentials bad."""
    psa: list[tuple[str, str, str, str, int]]
    """PSA lines: account id, account name, product id, product name, quantity."""
    accounts: dict[str, str]
    """Vendor account id to PSA account id."""
    products: dict[str, str]
    before: Counts
    change: Callable[[Any], None]
    """Moves a count, ends a subscription's activity and removes a record on the fake."""
    after: Counts
    gone: str
    """The vendor account id whose record disappeared: its usage rows must be gone."""
    usage_rows: tuple[int, int]
    """Usage rows stored by the full sync and by the quick one."""


def _s1_change(fake: FakeSentinelOne) -> None:
    fake.site("s-acme")["activeLicenses"] = 42
    fake.site("s-birch")["state"] = "expired"
    fake.remove("s-cedar")


def _datto_change(fake: FakeDattoSaas) -> None:
    fake.add_seat(1001, "a-u4", "User")
    fake.set_billable("b-site1", False)
    fake.remove_domain(1003)


def _pc_change(fake: FakePartnerCenter) -> None:
    fake.subscription("sub-birch-bp")["quantity"] = 12
    fake.subscription("sub-acme-def")["status"] = "suspended"
    fake.remove_customer("Echo Arts")


def _pax8(fake: FakePax8 | None = None) -> FakePax8:
    fake = fake or FakePax8(client_id="pax8-client", secret="pax8-s3cret")
    fake.add_subscription("s-4", "c-acme", "p-e3", 2)
    return fake


def _pax8_change(fake: FakePax8) -> None:
    fake.set_quantity("s-2", 7)
    fake.set_status("s-3", "Cancelled")
    fake.remove("s-4")


PC = FakePartnerCenter()
ACME, BIRCH, CEDAR, _, ECHO = (c["id"] for c in PC.customers)

VENDORS = {
    "sentinelone": Vendor(
        type="sentinelone",
        vendor="SentinelOne",
        fake=FakeSentinelOne,
        settings=lambda url: ["console_url=" + url, "api_token=s1-t0ken"],
        secrets=("s1-t0ken",),
        wrong="api_token",
        psa=[
            ("A1", "Acme Dental", "EDR-C", "SentinelOne Complete", 45),
            ("B1", "Birch Law", "EDR-X", "SentinelOne Control", 12),
            ("C1", "Cedar Clinic", "EDR-C", "SentinelOne Complete", 8),
            ("D1", "Delta Trial", "EDR-C", "SentinelOne Complete", 5),
            ("E1", "Echo Old", "EDR-CORE", "SentinelOne Core", 3),
        ],
        accounts={"s-acme": "A1", "s-birch": "B1", "s-cedar": "C1", "s-trial": "D1", "s-old": "E1"},
        products={"Complete": "EDR-C", "Control": "EDR-X", "Core": "EDR-CORE"},
        # A trial site and an expired one count nothing.
        before={
            ("Acme Dental", "SentinelOne Complete"): "40",
            ("Birch Law", "SentinelOne Control"): "12",
            ("Cedar Clinic", "SentinelOne Complete"): "8",
            ("Delta Trial", "SentinelOne Complete"): "0",
            ("Echo Old", "SentinelOne Core"): "0",
        },
        change=_s1_change,
        after={
            ("Acme Dental", "SentinelOne Complete"): "42",
            ("Birch Law", "SentinelOne Control"): "0",
            ("Cedar Clinic", "SentinelOne Complete"): "0",
        },
        gone="s-cedar",
        usage_rows=(5, 4),
    ),
    "dattosaas": Vendor(
        type="dattosaas",
        vendor="Datto",
        fake=FakeDattoSaas,
        settings=lambda url: [
            "public_key=datto-pub",
            "secret_key=datto-s3cret",
            f"base_url={url}/v1",
        ],
        secrets=("datto-s3cret",),
        wrong="secret_key",
        psa=[
            ("A1", "Acme Dental", "BCK-U", "SaaS Protection user", 6),
            ("A1", "Acme Dental", "BCK-SM", "SaaS Protection mailbox", 1),
            ("B1", "Birch Law", "BCK-U", "SaaS Protection user", 2),
            ("B1", "Birch Law", "BCK-SITE", "SaaS Protection site", 1),
            ("C1", "Cedar Clinic", "BCK-U", "SaaS Protection user", 1),
        ],
        accounts={"1001": "A1", "1002": "B1", "1003": "C1"},
        products={"User": "BCK-U", "SharedMailbox": "BCK-SM", "TeamSite": "BCK-SITE"},
        # Acme's fifth user is not billable.
        before={
            ("Acme Dental", "SaaS Protection user"): "4",
            ("Acme Dental", "SaaS Protection mailbox"): "1",
            ("Birch Law", "SaaS Protection user"): "2",
            ("Birch Law", "SaaS Protection site"): "1",
            ("Cedar Clinic", "SaaS Protection user"): "1",
        },
        change=_datto_change,
        after={
            ("Acme Dental", "SaaS Protection user"): "5",
            ("Birch Law", "SaaS Protection site"): "0",
            ("Cedar Clinic", "SaaS Protection user"): "0",
        },
        gone="1003",
        usage_rows=(5, 4),
    ),
    "partnercenter": Vendor(
        type="partnercenter",
        vendor="Microsoft",
        fake=FakePartnerCenter,
        settings=lambda url: [
            f"tenant_id={TENANT}",
            "app_id=pc-app",
            "app_secret=pc-s3cret",
            f"base_url={url}/v1",
            f"authority={url}",
        ],
        secrets=("pc-s3cret",),
        wrong="app_secret",
        psa=[
            ("A1", "Acme Dental", "M365BP", "Business Premium", 30),
            ("A1", "Acme Dental", "DEF", "Defender for Business", 25),
            ("B1", "Birch Law", "M365BP", "Business Premium", 10),
            ("B1", "Birch Law", "M365E3", "Microsoft 365 E3", 5),
            ("C1", "Cedar Clinic", "M365BP", "Business Premium", 25),
            ("E1", "Echo Arts", "M365BP", "Business Premium", 1),
        ],
        accounts={ACME: "A1", BIRCH: "B1", CEDAR: "C1", ECHO: "E1"},
        products={
            "CFQ7TTC0LCHC:0002": "M365BP",
            "CFQ7TTC0HCHC:0001": "DEF",
            "CFQ7TTC0LFLX:0001": "M365E3",
        },
        # Birch's E3 is suspended and Cedar's seats are a trial: neither counts.
        before={
            ("Acme Dental", "Business Premium"): "25",
            ("Acme Dental", "Defender for Business"): "25",
            ("Birch Law", "Business Premium"): "10",
            ("Birch Law", "Microsoft 365 E3"): "0",
            ("Cedar Clinic", "Business Premium"): "0",
            ("Echo Arts", "Business Premium"): "1",
        },
        change=_pc_change,
        after={
            ("Birch Law", "Business Premium"): "12",
            ("Acme Dental", "Defender for Business"): "0",
            ("Echo Arts", "Business Premium"): "0",
        },
        gone=ECHO,
        usage_rows=(6, 5),
    ),
    "pax8": Vendor(
        type="pax8",
        vendor="Pax8",
        fake=_pax8,
        settings=lambda url: [
            "client_id=pax8-client",
            "client_secret=pax8-s3cret",
            f"base_url={url}/v1",
            f"token_url={url}/oauth/token",
        ],
        secrets=("pax8-s3cret",),
        wrong="client_secret",
        psa=[
            ("A1", "Acme Dental", "M365BP", "Business Premium", 20),
            ("A1", "Acme Dental", "M365E3", "Microsoft 365 E3", 2),
            ("B1", "Birch Law", "M365BP", "Business Premium", 5),
            ("B1", "Birch Law", "M365E3", "Microsoft 365 E3", 3),
        ],
        accounts={"c-acme": "A1", "c-birch": "B1"},
        products={"p-bp": "M365BP", "p-e3": "M365E3"},
        before={
            ("Acme Dental", "Business Premium"): "12",
            ("Acme Dental", "Microsoft 365 E3"): "2",
            ("Birch Law", "Business Premium"): "5",
            ("Birch Law", "Microsoft 365 E3"): "3",
        },
        change=_pax8_change,
        after={
            ("Birch Law", "Business Premium"): "7",
            ("Birch Law", "Microsoft 365 E3"): "0",
            ("Acme Dental", "Microsoft 365 E3"): "0",
        },
        gone="s-4",  # not an account: see test
        usage_rows=(4, 3),
    ),
}

COMMITTED = {
    "partnercenter": ("A1", "M365BP", "Microsoft", PC_COMMITTED_UNTIL, Decimal(25)),
    "pax8": ("A1", "M365BP", "Pax8", pax8_fake.COMMITTED_UNTIL, Decimal(12)),
}
"""The decrease card each vendor's commitment lands on: PSA account and product, vendor, end
date and seats (the same before and after the quick sync's changes)."""


@pytest.fixture
def database(store_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """Point the `trueup` processes at this test's empty database, with a secret key."""
    monkeypatch.setenv("DATABASE_URL", store_url)
    monkeypatch.setenv("TRUEUP_USER", "ann")
    monkeypatch.setenv("TRUEUP_SECRET_KEY", new_key())
    return store_url


@pytest.fixture(params=list(VENDORS))
def vendor(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[tuple[Vendor, Any, str]]:  # fmt: skip
    """Give a vendor's scenario, its fake and the fake's root URL while it serves."""
    spec = VENDORS[request.param]
    fake = spec.fake()
    tls = None
    if spec.type == "partnercenter":
        # msal signs in only over HTTPS: the fake's certificate is the one the processes trust.
        cert, key = certificate(tmp_path_factory.mktemp("tls"))
        monkeypatch.setenv("SSL_CERT_FILE", str(cert))
        tls = tls_context(cert, key)
    with serving(fake, tls) as url:
        yield spec, fake, url


OUTPUTS: list[str] = []


def trueup(folder: Path, *args: str) -> Any:
    # In an empty folder: no .streamlit/secrets.toml.
    result = run_trueup(*args, cwd=folder)
    OUTPUTS.append(result.stdout + result.stderr)
    return result


def write_inputs(folder: Path, spec: Vendor) -> None:
    """Write the PSA export and the account and product maps of the scenario."""
    psa = [
        "account_id,account_name,contract_id,product_id,product_name,line_id,quantity,unit_price"
    ]
    for n, (account, name, product, product_name, quantity) in enumerate(spec.psa):
        psa.append(f"{account},{name},K-{account},{product},{product_name},L{n},{quantity},10")
    (folder / "psa.csv").write_text("\n".join(psa) + "\n")
    accounts = ["vendor,vendor_account_id,psa_account_id"]
    accounts += [f"{spec.vendor},{v},{p}" for v, p in spec.accounts.items()]
    (folder / "accounts.csv").write_text("\n".join(accounts) + "\n")
    products = ["vendor,vendor_product_id,psa_product_id"]
    products += [f"{spec.vendor},{v},{p}" for v, p in spec.products.items()]
    (folder / "products.csv").write_text("\n".join(products) + "\n")


def cards(folder: Path) -> dict[tuple[str, str], dict[str, str]]:
    shown = trueup(folder, "cards", "--all")
    assert shown.returncode == 0, shown.stderr
    return {(r["account_name"], r["product_name"]): r for r in csv.DictReader(io.StringIO(shown.stdout))}  # fmt: skip


def vendor_counts(folder: Path) -> Counts:
    return {key: card["vendor_quantity"] for key, card in cards(folder).items()}


def stored_usage(url: str, vendor: str) -> list[dict[str, Any]]:
    """Give back the rows of the vendor's current usage snapshot."""
    store = open_store(url)
    try:
        usage = current_inputs(store).usage
    finally:
        store.dispose()
    return usage.filter(usage["vendor"] == vendor).to_dicts()


def test_a_vendor_is_added_tested_and_synced_and_a_wrong_secret_changes_nothing(
    database: str, tmp_path: Path, vendor: tuple[Vendor, Any, str]
) -> None:
    spec, fake, url = vendor
    OUTPUTS.clear()
    write_inputs(tmp_path, spec)
    for file, kind in (("psa.csv", "psa"), ("accounts.csv", "map"), ("products.csv", "map")):
        imported = trueup(tmp_path, "import", file, "--kind", kind, "--source", "psa")
        assert imported.returncode == 0, imported.stdout + imported.stderr
    sets = [arg for setting in spec.settings(url) for arg in ("--set", setting)]

    added = trueup(tmp_path, "source", "add", "v", "--type", spec.type, *sets)
    assert added.returncode == 0, added.stdout + added.stderr
    assert f'source "v" added ({spec.type})' in added.stdout
    tested = trueup(tmp_path, "source", "test", "v")
    assert tested.returncode == 0, tested.stdout + tested.stderr
    assert tested.stdout.startswith("v: connection ok")
    full = trueup(tmp_path, "sync", "--full", "--source", "v")
    assert full.returncode == 0, full.stdout + full.stderr
    assert full.stdout.startswith(f"v: ok, full sync, {spec.usage_rows[0]} usage rows from ")
    assert vendor_counts(tmp_path).items() >= spec.before.items()

    # A wrong secret: bad credentials, and the changes on the fake stay unseen.
    wrong = trueup(tmp_path, "source", "add", "v", "--type", spec.type,
                   "--set", f"{spec.wrong}=wrong-s3cret")  # fmt: skip
    assert wrong.returncode == 0, wrong.stderr
    spec.change(fake)
    tested = trueup(tmp_path, "source", "test", "v")
    assert tested.returncode == 1
    assert tested.stdout.startswith("v: bad credentials: "), tested.stdout
    failed = trueup(tmp_path, "sync", "--source", "v")
    assert failed.returncode == 1
    assert failed.stdout.startswith("v: failed after "), failed.stdout
    status = trueup(tmp_path, "status")
    assert "v (vendor): last good sync" in status.stdout
    assert "; last sync failed" in status.stdout
    assert vendor_counts(tmp_path).items() >= spec.before.items()

    # The right secret again: a quick sync (a full pull) shows every change.
    right = [arg for setting in spec.settings(url) for arg in ("--set", setting)
             if setting.startswith(f"{spec.wrong}=")]  # fmt: skip
    assert trueup(tmp_path, "source", "add", "v", "--type", spec.type, *right).returncode == 0
    quick = trueup(tmp_path, "sync", "--source", "v")
    assert quick.returncode == 0, quick.stdout + quick.stderr
    assert quick.stdout.startswith(f"v: ok, quick sync, {spec.usage_rows[1]} usage rows from ")
    after = vendor_counts(tmp_path)
    assert after.items() >= spec.after.items()
    unchanged = {k: v for k, v in spec.before.items() if k not in spec.after}
    assert after.items() >= unchanged.items()
    usage = stored_usage(database, spec.vendor)
    assert len(usage) == spec.usage_rows[1]
    if spec.type == "pax8":  # the subscription removed was Acme's only E3 one
        assert ("c-acme", "p-e3") not in {(r["account_id"], r["product_id"]) for r in usage}
    else:
        assert spec.gone not in {r["account_id"] for r in usage}, "a vanished record is kept"
    if spec.type in COMMITTED:
        assert_commitments(database, spec.type)

    text = stored_text(database)
    for secret in (*spec.secrets, "wrong-s3cret"):
        assert secret not in text, "a secret is in the database in clear text"
        assert not [out for out in OUTPUTS if secret in out], "a secret was shown"


def assert_commitments(url: str, kind: str) -> None:
    """The NCE seats were kept with each good sync, and the current ones reach the decrease
    card."""
    account, product, vendor_name, until, seats = COMMITTED[kind]
    store = open_store(url)
    try:
        with store.session() as session:
            current = current_commitments(session).to_dicts()
            kept = session.scalar(sa.select(sa.func.count()).select_from(CommitmentLine))
        cards = current_cards(store)
        on_cards = commitments_of_cards(store, cards, date.today()).to_dicts()
    finally:
        store.dispose()
    assert kept == 2, "each good sync keeps its own; the failed one none"
    assert [(c["vendor"], c["commitment_end"], c["quantity"]) for c in current] == [
        (vendor_name, until, seats)
    ]
    card = cards.cards.filter(
        (cards.cards["account_id"] == account) & (cards.cards["product_id"] == product)
    )
    assert card["card_type"].to_list() == ["decrease"]
    assert on_cards == [
        {
            "account_id": account,
            "product_id": product,
            "vendor": vendor_name,
            "commitment_end": until,
            "quantity": seats,
        }
    ]


def test_a_vendor_without_terms_stores_no_commitments(
    database: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with serving(FakeSentinelOne()) as url:
        sets = ["--set", f"console_url={url}", "--set", "api_token=s1-t0ken"]
        assert (
            trueup(tmp_path, "source", "add", "s1", "--type", "sentinelone", *sets).returncode == 0
        )
        assert trueup(tmp_path, "sync", "--full").returncode == 0
    store = open_store(database)
    try:
        with store.session() as session:
            assert session.scalar(sa.select(sa.func.count()).select_from(CommitmentLine)) == 0
            assert current_commitments(session).is_empty()
    finally:
        store.dispose()
