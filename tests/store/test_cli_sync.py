"""`trueup source` and `trueup sync` end to end: the real console script against fake ConnectWise
and Pax8 servers on 127.0.0.1, on both databases."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from store.credentials import new_key
from tests.conftest import run_trueup
from tests.fakes.connectwise import FakeConnectWise
from tests.fakes.pax8 import FakePax8
from tests.fakes.server import serving
from tests.store.psa_cli import stored_text

SECRETS = ("priv-s3cret", "pub-key-9", "client-7f3a", "pax8-s3cret")


@pytest.fixture
def database(store_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """Point the `trueup` processes at this test's empty database, with a secret key."""
    monkeypatch.setenv("DATABASE_URL", store_url)
    monkeypatch.setenv("TRUEUP_USER", "ann")
    monkeypatch.setenv("TRUEUP_SECRET_KEY", new_key())
    return store_url


@pytest.fixture
def connectwise() -> Iterator[tuple[FakeConnectWise, str]]:
    fake = FakeConnectWise(company="acme", public="pub-key-9", private="priv-s3cret")
    with serving(fake) as url:
        yield fake, f"{url}/v4_6_release/apis/3.0"


@pytest.fixture
def pax8() -> Iterator[tuple[FakePax8, str]]:
    fake = FakePax8(client_id="pax8-client", secret="pax8-s3cret")
    with serving(fake) as url:
        yield fake, url


OUTPUTS: list[str] = []


def trueup(tmp_path: Path, *args: str) -> Any:
    # In an empty folder: no .streamlit/secrets.toml but the test's own.
    result = run_trueup(*args, cwd=tmp_path)
    OUTPUTS.append(result.stdout + result.stderr)
    return result


def add_sources(tmp_path: Path, cw_url: str, pax8_url: str, private: str = "priv-s3cret") -> None:
    added = trueup(
        tmp_path,
        "source", "add", "psa", "--type", "connectwise",
        "--set", f"base_url={cw_url}",
        "--set", "company_id=acme",
        "--set", "public_key=pub-key-9",
        "--set", f"private_key={private}",
        "--set", "client_id=client-7f3a",
    )  # fmt: skip
    assert added.returncode == 0, added.stderr
    assert 'source "psa" added (connectwise)' in added.stdout
    assert "secrets stored encrypted: client_id, private_key, public_key" in added.stdout
    added = trueup(
        tmp_path,
        "source", "add", "pax8", "--type", "pax8",
        "--set", "client_id=pax8-client",
        "--set", "client_secret=pax8-s3cret",
        "--set", f"base_url={pax8_url}/v1",
        "--set", f"token_url={pax8_url}/oauth/token",
    )  # fmt: skip
    assert added.returncode == 0, added.stderr


def cards(tmp_path: Path) -> dict[tuple[str, str], dict[str, str]]:
    shown = trueup(tmp_path, "cards", "--all")
    assert shown.returncode == 0, shown.stderr
    rows = csv.DictReader(io.StringIO(shown.stdout))
    return {(r["account_name"], r["product_name"]): r for r in rows}


def test_add_test_sync_and_quick_sync_move_the_cards(
    database: str,
    tmp_path: Path,
    connectwise: tuple[FakeConnectWise, str],
    pax8: tuple[FakePax8, str],
) -> None:
    cw, cw_url = connectwise
    px, px_url = pax8
    OUTPUTS.clear()
    add_sources(tmp_path, cw_url, px_url)

    for name in ("psa", "pax8"):
        tested = trueup(tmp_path, "source", "test", name)
        assert tested.returncode == 0, tested.stdout + tested.stderr
        assert tested.stdout.startswith(f"{name}: connection ok")

    listed = trueup(tmp_path, "source", "list")
    assert listed.stdout.splitlines() == [
        "psa (psa, connectwise): base_url, company_id, secrets (encrypted)",
        "pax8 (vendor, pax8): base_url, client_id, token_url, secrets (encrypted)",
    ]

    full = trueup(tmp_path, "sync", "--full")
    assert full.returncode == 0, full.stdout + full.stderr
    assert "psa: ok, full sync, 3 lines, 3 catalogue products" in full.stdout
    assert "pax8: ok, full sync, 3 usage rows from 217 records" in full.stdout
    before = cards(tmp_path)
    assert before[("Acme Dental", "Microsoft 365 Business Premium")]["change"] == "2"

    cw.set_quantity(100, 11)
    px.set_quantity("s-2", 7)
    quick = trueup(tmp_path, "sync", "--quick")
    assert quick.returncode == 0, quick.stdout + quick.stderr
    assert "psa: ok, quick sync, 3 lines" in quick.stdout
    changed = [r for r in cw.requests if "lastUpdated" in r]
    assert changed, "a quick sync asks ConnectWise only for what changed"
    after = cards(tmp_path)
    assert after[("Acme Dental", "Microsoft 365 Business Premium")]["change"] == "1"
    assert after[("Birch Law", "Microsoft 365 Business Premium")]["change"] == "2"

    text = stored_text(database)
    assert "source_added" in text and "client_secret" in text
    for secret in SECRETS:
        assert secret not in text, "a secret is in the database in clear text"
        assert not [out for out in OUTPUTS if secret in out], "a secret was shown"


def test_a_wrong_secret_is_bad_credentials_and_a_failed_sync_keeps_the_snapshot(
    database: str,
    tmp_path: Path,
    connectwise: tuple[FakeConnectWise, str],
    pax8: tuple[FakePax8, str],
) -> None:
    _, cw_url = connectwise
    _, px_url = pax8
    OUTPUTS.clear()
    add_sources(tmp_path, cw_url, px_url)
    assert trueup(tmp_path, "sync", "--full").returncode == 0
    wrong = trueup(tmp_path, "source", "add", "psa", "--type", "connectwise",
                   "--set", "private_key=wrong-s3cret")  # fmt: skip
    assert wrong.returncode == 0, wrong.stderr
    assert 'source "psa" changed' in wrong.stdout

    tested = trueup(tmp_path, "source", "test", "psa")
    synced = trueup(tmp_path, "sync", "--source", "psa")

    assert tested.returncode == 1
    assert tested.stdout.startswith("psa: bad credentials: ConnectWise refused the API keys")
    assert synced.returncode == 1
    assert synced.stdout.startswith("psa: failed after ")
    assert "ConnectWise refused the API keys" in synced.stdout
    status = trueup(tmp_path, "status")
    assert "psa (psa): last good sync" in status.stdout
    assert "; last sync failed" in status.stdout
    assert cards(tmp_path)[("Acme Dental", "Microsoft 365 Business Premium")]["change"] == "2"
    text = stored_text(database)
    for secret in (*SECRETS, "wrong-s3cret"):
        assert secret not in text
        assert not [out for out in OUTPUTS if secret in out]


def test_source_types_lists_each_type_and_its_settings(database: str, tmp_path: Path) -> None:
    shown = trueup(tmp_path, "source", "types")

    assert shown.returncode == 0
    assert "connectwise: ConnectWise PSA (psa; quick sync reads only changes)" in shown.stdout
    assert "  private_key (secret, required): The API member's private key." in shown.stdout
    assert "pax8: Pax8 (vendor; quick sync reads everything)" in shown.stdout


def test_source_add_refuses_what_it_cannot_use(database: str, tmp_path: Path) -> None:
    unknown_type = trueup(tmp_path, "source", "add", "x", "--type", "kaseya")
    unknown_key = trueup(tmp_path, "source", "add", "x", "--type", "pax8", "--set", "colour=red")
    missing = trueup(tmp_path, "source", "add", "x", "--type", "pax8", "--set", "client_id=a")

    assert unknown_type.returncode == 2
    assert 'unknown source type "kaseya": use one of connectwise, pax8' in unknown_type.stderr
    assert unknown_key.returncode == 2
    assert "pax8 has no setting colour: its settings are client_id, client_secret" in (
        unknown_key.stderr
    )
    assert missing.returncode == 2
    assert "a pax8 source needs client_secret" in missing.stderr


def test_with_no_key_a_secret_is_refused_but_may_live_in_secrets_toml(
    database: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    pax8: tuple[FakePax8, str],
) -> None:
    monkeypatch.delenv("TRUEUP_SECRET_KEY")
    _, url = pax8
    args = ("source", "add", "pax8", "--type", "pax8", "--set", "client_id=pax8-client",
            "--set", f"base_url={url}/v1", "--set", f"token_url={url}/oauth/token")  # fmt: skip
    refused = trueup(tmp_path, *args, "--set", "client_secret=pax8-s3cret")
    assert refused.returncode == 2
    assert "TrueUp has no secret key, so it will not store client_secret" in refused.stderr
    assert "[sources.pax8]" in refused.stderr
    assert "pax8-s3cret" not in refused.stderr

    (tmp_path / ".streamlit").mkdir()
    (tmp_path / ".streamlit" / "secrets.toml").write_text(
        '[sources.pax8]\nclient_secret = "pax8-s3cret"\n'
    )
    added = trueup(tmp_path, *args)
    assert added.returncode == 0, added.stderr
    assert "secrets read from .streamlit/secrets.toml: client_secret" in added.stdout
    assert trueup(tmp_path, "source", "test", "pax8").returncode == 0
    synced = trueup(tmp_path, "sync")
    assert synced.returncode == 0, synced.stdout
    assert "pax8: ok, quick sync, 3 usage rows" in synced.stdout
