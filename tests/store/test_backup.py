"""Backups: a workspace backed up from one kind of database restores into the other whole, a
backup taken while others write is of one moment, and a restore never mixes with data or
writes part of a damaged file."""

from __future__ import annotations

import json
import secrets
import zipfile
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import psycopg
import pytest
import sqlalchemy as sa
from polars.testing import assert_frame_equal
from psycopg import sql

from store import Store, current_cards, ensure_demo, open_store
from store import credentials as creds
from store.audit import audit
from store.backup import BackupError, backup, read_manifest, restore
from store.migrate import current, head, pending_changes
from store.models import AccountMap, AuditEntry, Decision, ProductMap, Source
from store.sources import add_source, source_config
from store.types import now
from tests.store.conftest import ADMIN_URL

TODAY = date(2026, 11, 20)
PAX8 = {"client_id": "pax8-client", "client_secret": "pax8-s3cret", "base_url": "https://p/v1"}


@pytest.fixture(autouse=True)
def secret_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """Run where there is no secrets file, with a key to encrypt source credentials."""
    monkeypatch.chdir(tmp_path)
    key = creds.new_key()
    monkeypatch.setenv(creds.KEY_ENV, key)
    return key


@pytest.fixture
def other(store: Store, tmp_path: Path) -> Iterator[Store]:
    """Give an empty store on the other kind of database than `store`."""
    if store.dialect == "postgresql":
        opened = open_store(f"sqlite:///{tmp_path / 'restored.db'}")
        yield opened
        opened.dispose()
        return
    name = f"trueup_restore_{secrets.token_hex(6)}"
    try:
        admin = psycopg.connect(ADMIN_URL, autocommit=True, connect_timeout=5)
    except psycopg.OperationalError as error:
        pytest.skip(f"PostgreSQL is unreachable at {ADMIN_URL}: {error}")
    with admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        opened = open_store(ADMIN_URL.rsplit("/", 1)[0] + "/" + name)
        try:
            yield opened
        finally:
            opened.dispose()
            admin.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(name)))


def seed(store: Store) -> None:
    """A working store: the demo's year of syncs, maps and decisions, and an API source whose
    credentials are stored encrypted."""
    ensure_demo(store, TODAY)
    with store.session() as session:
        add_source(session, "pax8 api", "pax8", PAX8, user="ann", at=now())


def rows(store: Store, model: type, order: sa.ColumnElement[object]) -> list[dict[str, object]]:
    with store.session() as session:
        found = session.scalars(sa.select(model).order_by(order)).all()
        return [
            {c.key: getattr(row, c.key) for c in sa.inspect(model).column_attrs} for row in found
        ]


def test_a_backup_restores_into_the_other_kind_of_database_whole(
    store: Store, other: Store, tmp_path: Path
) -> None:
    seed(store)
    file = tmp_path / "trueup.zip"

    made = backup(store, file)
    restored = restore(other, file)

    assert restored == read_manifest(file) == made
    assert made.rows["decisions"] > 100 and made.rows["usage_lines"] > 1000
    assert_frame_equal(current_cards(other).cards, current_cards(store).cards)
    for model, order in (
        (AccountMap, AccountMap.id),
        (ProductMap, ProductMap.id),
        (Decision, Decision.id),
        (AuditEntry, AuditEntry.id),
        (Source, Source.id),
    ):
        assert rows(other, model, order) == rows(store, model, order), model.__tablename__
    with other.session() as session:
        stored = session.scalars(sa.select(Source.secrets).where(Source.name == "pax8 api")).one()
        assert stored is not None and "pax8-s3cret" not in stored
        # The same key reads the restored credentials.
        assert source_config(session, "pax8 api").values["client_secret"] == "pax8-s3cret"
    with zipfile.ZipFile(file) as archive:
        assert "pax8-s3cret" not in archive.read("sources.jsonl").decode()


def test_new_rows_after_a_restore_take_new_ids(store: Store, other: Store, tmp_path: Path) -> None:
    seed(store)
    backup(store, tmp_path / "b.zip")
    restore(other, tmp_path / "b.zip")
    with other.session() as session:
        last = session.scalar(sa.select(sa.func.max(AuditEntry.id)))
        audit(session, "ann", "settings", {"after": "x"})
    with other.session() as session:
        assert session.scalar(sa.select(sa.func.max(AuditEntry.id))) == (last or 0) + 1


def test_a_backup_taken_while_another_connection_writes_is_of_one_moment(
    store: Store, tmp_path: Path
) -> None:
    seed(store)
    with store.session() as session:
        before = {
            "audit_log": session.scalar(sa.select(sa.func.count()).select_from(AuditEntry)),
            "sources": session.scalar(sa.select(sa.func.count()).select_from(Source)),
            "account_maps": session.scalar(sa.select(sa.func.count()).select_from(AccountMap)),
        }
    writes: list[str] = []

    def write_meanwhile(table: str, _rows: int) -> None:
        # Once the first table is written, another connection commits rows to it and to
        # tables the backup has not read yet.
        if not writes:
            writes.append(table)
            with store.session() as session:
                audit(session, "bob", "settings", {"after": "meanwhile"})
                session.add(Source(name="meanwhile", kind="vendor", created_at=now()))
                session.add(
                    AccountMap(
                        vendor="pax8",
                        vendor_account_id="meanwhile",
                        psa_account_id="1",
                        made_by="bob",
                        made_at=now(),
                    )
                )

    made = backup(store, tmp_path / "b.zip", progress=write_meanwhile)

    assert writes, "the writer ran during the backup"
    assert made.rows["audit_log"] == before["audit_log"]
    assert made.rows["sources"] == before["sources"]
    assert made.rows["account_maps"] == before["account_maps"]
    with store.session() as session:
        # The writes were committed: only the backup does not see them.
        assert session.scalar(sa.select(sa.func.count()).select_from(Source)) == (
            before["sources"] + 1
        )
        assert session.scalar(sa.select(sa.func.count()).select_from(AuditEntry)) == (
            before["audit_log"] + 1
        )


def test_restoring_into_a_database_that_holds_data_is_refused_and_changes_nothing(
    store: Store, other: Store, tmp_path: Path
) -> None:
    seed(store)
    backup(store, tmp_path / "b.zip")
    with other.session() as session:
        audit(session, "ann", "settings", {"after": "mine"})

    with pytest.raises(BackupError, match=r"already holds data .*audit_log.*empty database"):
        restore(other, tmp_path / "b.zip")

    with other.session() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(AuditEntry)) == 1
        assert session.scalar(sa.select(sa.func.count()).select_from(Decision)) == 0


def test_a_truncated_backup_is_refused_and_writes_nothing(
    store: Store, other: Store, tmp_path: Path
) -> None:
    seed(store)
    whole = tmp_path / "b.zip"
    backup(store, whole)
    cut = tmp_path / "cut.zip"
    cut.write_bytes(whole.read_bytes()[: whole.stat().st_size // 2])

    with pytest.raises(BackupError, match=r"not a whole TrueUp backup.*nothing was restored"):
        restore(other, cut)

    with other.session() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(Decision)) == 0


def test_a_backup_whose_rows_do_not_match_its_manifest_writes_nothing(
    store: Store, other: Store, tmp_path: Path
) -> None:
    # A table file lost its last rows, yet the zip itself is whole: the counts tell.
    seed(store)
    whole = tmp_path / "b.zip"
    backup(store, whole)
    damaged = tmp_path / "damaged.zip"
    with zipfile.ZipFile(whole) as source, zipfile.ZipFile(damaged, "w") as target:
        for item in source.infolist():
            data = source.read(item)
            if item.filename == "usage_lines.jsonl":
                data = b"".join(data.splitlines(keepends=True)[:-5])
            target.writestr(item, data)

    with pytest.raises(BackupError, match="damaged: its usage_lines holds"):
        restore(other, damaged)

    with other.session() as session:
        for model in (Source, Decision, AuditEntry):
            assert session.scalar(sa.select(sa.func.count()).select_from(model)) == 0


def test_a_file_that_is_not_a_backup_says_so(store: Store, tmp_path: Path) -> None:
    not_zip = tmp_path / "notes.txt"
    not_zip.write_text("hello")
    with pytest.raises(BackupError, match="not a whole TrueUp backup"):
        restore(store, not_zip)
    other_zip = tmp_path / "other.zip"
    with zipfile.ZipFile(other_zip, "w") as archive:
        archive.writestr("readme.txt", "hi")
    with pytest.raises(BackupError, match=r"has no manifest\.json"):
        restore(store, other_zip)


def relabelled(whole: Path, out: Path, revision: str) -> Path:
    """Give back a copy of a backup whose manifest names another schema revision."""
    with zipfile.ZipFile(whole) as source, zipfile.ZipFile(out, "w") as target:
        for item in source.infolist():
            data = source.read(item)
            if item.filename == "manifest.json":
                manifest = json.loads(data)
                manifest["revision"] = revision
                data = json.dumps(manifest).encode()
            target.writestr(item, data)
    return out


def test_a_backup_of_an_older_schema_restores_and_is_migrated_to_this_one(
    store: Store, other: Store, tmp_path: Path
) -> None:
    # Schema 0008 had no users table (0009 added it) and no audit trigger (0010): the demo's
    # rows are the same in both, so a backup of today's relabelled 0008 stands for an old one.
    seed(store)
    whole = tmp_path / "b.zip"
    made = backup(store, whole)
    assert made.rows["users"] == 0
    old = relabelled(whole, tmp_path / "old.zip", "0008")

    restore(other, old)

    with other.engine.connect() as connection:
        assert current(connection) == head()
    assert pending_changes(other) == []
    assert_frame_equal(current_cards(other).cards, current_cards(store).cards)
    assert rows(other, Decision, Decision.id) == rows(store, Decision, Decision.id)


def test_a_backup_from_a_newer_trueup_is_refused(
    store: Store, other: Store, tmp_path: Path
) -> None:
    seed(store)
    whole = tmp_path / "b.zip"
    backup(store, whole)
    newer = relabelled(whole, tmp_path / "newer.zip", "9999")

    with pytest.raises(BackupError, match=r"schema revision 9999.*newer than this one"):
        restore(other, newer)

    with other.session() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(Decision)) == 0


def test_rows_the_database_refuses_restore_nothing(
    store: Store, other: Store, tmp_path: Path
) -> None:
    # A file edited by hand: one decision given twice (the same id).
    seed(store)
    whole = tmp_path / "b.zip"
    backup(store, whole)
    edited = tmp_path / "edited.zip"
    with zipfile.ZipFile(whole) as source, zipfile.ZipFile(edited, "w") as target:
        for item in source.infolist():
            data = source.read(item)
            if item.filename == "decisions.jsonl":
                last = data.splitlines(keepends=True)[-1]
                data = data.replace(last, last + last)
            if item.filename == "manifest.json":
                manifest = json.loads(data)
                manifest["rows"]["decisions"] += 1
                data = json.dumps(manifest).encode()
            target.writestr(item, data)

    with pytest.raises(BackupError, match="holds rows the database refuses"):
        restore(other, edited)

    with other.session() as session:
        for model in (Source, Decision, AuditEntry):
            assert session.scalar(sa.select(sa.func.count()).select_from(model)) == 0
