"""API sources in the store: credentials encrypted under a key kept outside the database, and
API syncs written like CSV imports (a failed one changes nothing current)."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest
import sqlalchemy as sa

from connectors.registry import Delta
from errors import ConnectorError, ConnectorErrorKind
from store import Store, current_inputs
from store import credentials as creds
from store.models import AuditEntry, Source, SyncRun
from store.sources import add_source, source_config
from store.sync import merge_catalog, merge_lines, sync_source
from store.types import SyncMode, SyncStatus, now
from tests.fakes.connectwise import FakeConnectWise
from tests.fakes.pax8 import FakePax8
from tests.fakes.server import transport

CW = {
    "base_url": "https://cw.example/v4_6_release/apis/3.0",
    "company_id": "acme",
    "public_key": "pub",
    "private_key": "priv-s3cret",
    "client_id": "client-1",
}
PAX8 = {"client_id": "pax8-client", "client_secret": "pax8-s3cret", "base_url": "https://p/v1"}


@pytest.fixture(autouse=True)
def no_secrets_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Run where there is no .streamlit/secrets.toml, with a key unless a test removes it."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv(creds.KEY_ENV, creds.new_key())


def add(store: Store, name: str, kind: str, values: dict[str, str]) -> None:
    with store.session() as session:
        add_source(session, name, kind, values, user="ann", at=now())


def runs(store: Store) -> list[tuple[str, SyncStatus, SyncMode, str | None]]:
    with store.session() as session:
        query = sa.select(SyncRun).order_by(SyncRun.id)
        return [(r.kind.value, r.status, r.mode, r.error) for r in session.scalars(query)]


def test_credentials_round_trip_and_a_wrong_key_says_what_to_do() -> None:
    key = creds.new_key()
    token = creds.encrypt({"private_key": "priv-s3cret"}, key)

    assert "priv-s3cret" not in token
    assert creds.decrypt(token, key, "psa") == {"private_key": "priv-s3cret"}
    with pytest.raises(creds.CredentialsError, match="was TRUEUP_SECRET_KEY changed"):
        creds.decrypt(token, creds.new_key(), "psa")
    with pytest.raises(creds.CredentialsError, match="not a valid key"):
        creds.encrypt({}, "hunter2")


def test_the_key_may_come_from_secrets_toml(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(creds.KEY_ENV)
    assert creds.secret_key() is None
    Path(".streamlit").mkdir()
    Path(".streamlit/secrets.toml").write_text('[trueup]\nsecret_key = "k"\n[sources.x]\na = 1\n')

    assert creds.secret_key() == "k"
    assert creds.file_secrets("x") == {"a": "1"}


def test_with_no_key_a_secret_is_refused_and_nothing_is_stored(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(creds.KEY_ENV)
    with pytest.raises(creds.CredentialsError) as refused:
        add(store, "psa", "connectwise", CW)

    message = str(refused.value)
    assert message.startswith("TrueUp has no secret key, so it will not store public_key")
    assert "[sources.psa]" in message and 'private_key = "..."' in message
    assert "priv-s3cret" not in message
    with store.session() as session:
        assert session.scalars(sa.select(Source)).all() == []


def test_secrets_are_stored_encrypted_and_audited_by_name_only(store: Store) -> None:
    add(store, "psa", "connectwise", CW)

    with store.session() as session:
        row = session.scalars(sa.select(Source)).one()
        config = source_config(session, "psa")
        entry = session.scalars(sa.select(AuditEntry)).one()
        shown = [repr(row), repr(config), str(row.settings), str(entry.detail), row.secrets or ""]
    assert row.type == "connectwise" and row.settings == {
        "base_url": CW["base_url"],
        "company_id": "acme",
    }
    assert config.values == CW
    assert entry.kind == "source_added"
    assert entry.detail["secrets"] == ["client_id", "private_key", "public_key"]
    for secret in ("pub", "priv-s3cret", "client-1"):
        assert not [text for text in shown if f"'{secret}'" in text or secret + '"' in text]
    assert "priv-s3cret" not in (row.secrets or "")


def test_a_second_add_changes_one_setting_and_keeps_the_others(store: Store) -> None:
    add(store, "psa", "connectwise", CW)
    add(store, "psa", "connectwise", {"private_key": "new-s3cret"})

    with store.session() as session:
        values = source_config(session, "psa").values
        kinds = list(session.scalars(sa.select(AuditEntry.kind).order_by(AuditEntry.id)))
    assert values == CW | {"private_key": "new-s3cret"}
    assert kinds == ["source_added", "source_changed"]


def test_a_failed_api_sync_leaves_the_previous_snapshot_current(store: Store) -> None:
    fake = FakeConnectWise(company="acme", public="pub", private="priv-s3cret")
    add(store, "psa", "connectwise", CW)
    good = sync_source(store, "psa", mode="full", transport=transport(fake))
    add(store, "psa", "connectwise", {"private_key": "wrong"})

    with pytest.raises(ConnectorError) as failed:
        sync_source(store, "psa", mode="quick", transport=transport(fake))

    assert failed.value.kind is ConnectorErrorKind.AUTH
    assert [(kind, status) for kind, status, _, _ in runs(store)] == [
        ("psa", SyncStatus.OK),
        ("catalog", SyncStatus.OK),
        ("psa", SyncStatus.FAILED),
        ("catalog", SyncStatus.FAILED),
    ]
    assert "refused the API keys" in (runs(store)[-1][3] or "")
    current = current_inputs(store)
    assert current.snapshots == {"psa": good.runs["psa"], "psa catalogue": good.runs["catalog"]}
    assert current.psa_lines.height == 3 and current.catalog.height == 3


def test_a_quick_connectwise_sync_merges_the_changed_lines(store: Store) -> None:
    fake = FakeConnectWise(company="acme", public="pub", private="priv-s3cret")
    add(store, "psa", "connectwise", CW)
    sync_source(store, "psa", mode="full", transport=transport(fake))
    fake.set_quantity(100, 11)
    fake.requests.clear()

    quick = sync_source(store, "psa", mode="quick", transport=transport(fake))

    assert quick.mode is SyncMode.QUICK and quick.rows_stored == {"psa": 3, "catalog": 3}
    assert any("lastUpdated" in r for r in fake.requests)
    lines = current_inputs(store).psa_lines.sort("line_id")
    assert lines.get_column("line_id").to_list() == ["100", "200", "201"]
    assert [str(q) for q in lines.get_column("quantity")] == ["11.0000", "5.0000", "1.0000"]


def test_a_full_sync_says_how_many_records_went_since_the_last_one(store: Store) -> None:
    fake = FakeConnectWise(company="acme", public="pub", private="priv-s3cret")
    add(store, "psa", "connectwise", CW)
    first = sync_source(store, "psa", mode="full", transport=transport(fake))
    del fake.additions[20][1]  # Birch's labour line deleted in ConnectWise
    fake.catalog.pop()  # and its catalogue item

    again = sync_source(store, "psa", mode="full", transport=transport(fake))

    assert not first.warnings, "a first sync has nothing to compare with"
    said = [
        "1 agreement line of the last sync no longer in psa: gone or ended there",
        "1 catalogue product of the last sync no longer in psa: gone or ended there",
    ]
    assert again.warnings == said
    with store.session() as session:
        kept = session.scalars(
            sa.select(SyncRun.warnings).where(SyncRun.id.in_(again.runs.values()))
        )
        assert sorted(w for run in kept for w in run or []) == said
    assert sync_source(store, "psa", mode="full", transport=transport(fake)).warnings == []


def test_a_quick_pax8_sync_is_a_full_pull(store: Store) -> None:
    fake = FakePax8()
    add(store, "pax8", "pax8", PAX8 | {"token_url": "https://p/oauth/token"})

    first = sync_source(store, "pax8", mode="quick", transport=transport(fake))

    assert first.rows_stored == {"usage": 3}
    assert runs(store) == [("usage", SyncStatus.OK, SyncMode.QUICK, None)]
    assert current_inputs(store).vendors_with_data == ["Pax8"]


def test_merged_lines_drop_ended_reread_and_cancelled_lines() -> None:
    def lines(*rows: tuple[str, str, str, int]) -> pl.DataFrame:
        return pl.DataFrame(
            [
                {"account_id": a, "contract_id": c, "line_id": line, "quantity": q}
                for a, c, line, q in rows
            ]
        )

    previous = lines(
        ("1", "10", "100", 1),  # kept
        ("1", "10", "101", 1),  # cancelled
        ("1", "11", "110", 1),  # its contract ended
        ("2", "20", "200", 1),  # its contract was read again, without this line
        ("3", "30", "300", 1),  # its account was read again, without this line
        ("1", "10", "102", 1),  # changed
    )
    changed = lines(("1", "10", "102", 5), ("2", "20", "201", 2))
    delta = Delta(
        contracts=frozenset({"10", "20", "30"}),
        reread_contracts=frozenset({"20"}),
        reread_accounts=frozenset({"3"}),
        cancelled=frozenset({"101"}),
    )

    merged = merge_lines(previous, changed, delta)

    assert merged.rows() == [("1", "10", "100", 1), ("1", "10", "102", 5), ("2", "20", "201", 2)]


def test_a_merged_catalogue_replaces_the_changed_items() -> None:
    previous = pl.DataFrame({"product_id": ["A", "B"], "unit_price": [1, 2]})
    changed = pl.DataFrame({"product_id": ["B", "C"], "unit_price": [3, 4]})

    assert merge_catalog(previous, changed).rows() == [("A", 1), ("B", 3), ("C", 4)]


def test_redact_masks_every_secret_value() -> None:
    assert creds.redact("key priv-s3cret refused", ["priv-s3cret", ""]) == "key *** refused"


def test_another_site_resets_the_cursor_so_the_next_sync_is_full(store: Store) -> None:
    fake = FakeConnectWise(company="acme", public="pub", private="priv-s3cret")
    add(store, "psa", "connectwise", CW)
    sync_source(store, "psa", mode="full", transport=transport(fake))
    add(store, "psa", "connectwise", {"private_key": "priv-s3cret"})
    with store.session() as session:
        assert source_config(session, "psa").cursor is not None

    add(store, "psa", "connectwise", {"base_url": "https://cw2.example/v4_6_release/apis/3.0"})

    with store.session() as session:
        assert source_config(session, "psa").cursor is None
