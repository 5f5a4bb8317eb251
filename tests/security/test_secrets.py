"""API credentials never leave the store's encrypted column: not in a log record, the audit
log, a sync's recorded error, an error a user reads, an export or a backup.

Two API sources with recognisable secrets sync against fake ConnectWise and Pax8 servers on
127.0.0.1 (one good, one with a wrong secret that fails), their connections are tested (good
and wrong), the cards and approved changes are exported and the store is backed up; then every
output, log record, database text and the backup's bytes are searched for the secrets."""

from __future__ import annotations

import base64
import io
import logging
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from connectors.csv.export import write_cards, write_changes
from connectors.registry import source_type
from errors import TrueUpError
from store import Store, current_cards
from store.cards import is_open
from store.changes import export_changes
from store.credentials import new_key
from store.decisions import decide_cards
from store.models import Base
from store.sources import add_source, source_config
from store.sync import sync_source
from store.types import Action, now
from tests.fakes.connectwise import FakeConnectWise
from tests.fakes.pax8 import FakePax8
from tests.fakes.server import serving

CW_PUBLIC, CW_PRIVATE, CW_CLIENT = "PUBKEY-5c1e", "PRIVKEY-93fd", "CLIENTID-77ab"
PAX8_SECRET, WRONG_SECRET, WRONG_PRIVATE = "PAX8SECRET-41bb", "WRONGSECRET-0dd2", "WRONGPRIV-6a0c"
SECRETS = (CW_PUBLIC, CW_PRIVATE, CW_CLIENT, PAX8_SECRET, WRONG_SECRET, WRONG_PRIVATE)


def disguises(secret: str) -> set[str]:
    """Give the forms a secret could leak in: as it is, and in a Basic authorization."""
    forms = {secret}
    for pair in (f"acme+{CW_PUBLIC}:{secret}", f"acme+{secret}:{CW_PRIVATE}"):
        forms.add(base64.b64encode(pair.encode()).decode())
    return forms


@pytest.fixture(autouse=True)
def secret_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Encrypt under a key of this test; no secrets file but the test's own (an empty one)."""
    monkeypatch.setenv("TRUEUP_SECRET_KEY", new_key())
    monkeypatch.chdir(tmp_path)


@pytest.fixture
def fakes() -> Iterator[tuple[str, str]]:
    connectwise = FakeConnectWise(company="acme", public=CW_PUBLIC, private=CW_PRIVATE)
    pax8 = FakePax8(client_id="pax8-client", secret=PAX8_SECRET)
    with serving(connectwise) as cw_url, serving(pax8) as pax8_url:
        yield f"{cw_url}/v4_6_release/apis/3.0", pax8_url


def cw_values(url: str, private: str) -> dict[str, str]:
    return {"base_url": url, "company_id": "acme", "public_key": CW_PUBLIC,
            "private_key": private, "client_id": CW_CLIENT}  # fmt: skip


def pax8_values(url: str, secret: str) -> dict[str, str]:
    return {"client_id": "pax8-client", "client_secret": secret,
            "base_url": f"{url}/v1", "token_url": f"{url}/oauth/token"}  # fmt: skip


def database_text(store: Store) -> str:
    """Give every row of every table of the store, as text."""
    with store.engine.connect() as connection:
        return "\n".join(
            str(row)
            for table in Base.metadata.sorted_tables
            for row in connection.execute(sa.select(table))
        )


def test_no_secret_in_logs_errors_audit_exports_or_backups(
    store: Store, fakes: tuple[str, str], tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    cw_url, pax8_url = fakes
    said: list[str] = []  # every message a user reads
    with store.session() as session:
        add_source(
            session, "psa", "connectwise", cw_values(cw_url, CW_PRIVATE), user="ann", at=now()
        )
        add_source(
            session, "pax8", "pax8", pax8_values(pax8_url, PAX8_SECRET), user="ann", at=now()
        )
        add_source(
            session, "pax8-old", "pax8", pax8_values(pax8_url, WRONG_SECRET), user="ann", at=now()
        )

    for name in ("psa", "pax8"):
        said.append(repr(sync_source(store, name, mode="full", user="ann")))
    with pytest.raises(TrueUpError) as failed:
        sync_source(store, "pax8-old", mode="full", user="ann")
    said.append(str(failed.value))

    for name in ("psa", "pax8", "pax8-old"):
        with store.session() as session:
            config = source_config(session, name)
        try:
            config.type.test(config.values)
            said.append(f"{name}: connection ok")
        except TrueUpError as error:
            said.append(str(error))
    with pytest.raises(TrueUpError) as refused:
        source_type("connectwise").test(cw_values(cw_url, WRONG_PRIVATE))
    said.append(str(refused.value))
    assert "connection ok" in said[-4] and len(said) == 7

    cards = current_cards(store).cards.filter(is_open())
    assert cards.height > 0  # the good syncs made cards to export
    decide_cards(store, cards, Action.APPROVE, user="ann")
    exported = io.BytesIO()
    write_cards(current_cards(store).cards, exported)
    write_changes(export_changes(store, user="ann"), exported)
    write_changes(export_changes(store, user="ann"), tmp_path / "changes.xlsx")

    from store.backup import backup

    backup(store, tmp_path / "backup.zip")
    with zipfile.ZipFile(tmp_path / "backup.zip") as archive:
        backed_up = "\n".join(archive.read(n).decode(errors="replace") for n in archive.namelist())

    logged = "\n".join(f"{r.name} {r.getMessage()} {r.exc_text or ''}" for r in caplog.records)
    assert "GET" in logged  # the request log was captured
    outputs = {
        "messages": "\n".join(said),
        "logs": logged,
        "database": database_text(store),
        "exports": exported.getvalue().decode() + (tmp_path / "changes.xlsx").read_bytes().hex(),
        "backup": backed_up,
    }
    leaks = [
        (where, secret)
        for where, text in outputs.items()
        for secret in SECRETS
        for form in disguises(secret)
        if form in text
    ]
    assert leaks == []
