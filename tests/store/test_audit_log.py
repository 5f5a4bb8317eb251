"""The audit log: every change a team makes leaves an entry saying who, when and what changed
(before and after), with no credential in it; the log reads back filtered, newest first, in
words; and the store offers no way to change an entry. On both databases."""

from __future__ import annotations

import ast
import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import polars as pl
import pytest
import sqlalchemy as sa

import store as store_package
from store import Action, Store, current_cards, import_csv
from store import credentials as creds
from store.audit import (
    audit,
    audit_entries,
    audit_kinds,
    audit_people,
    count_entries,
    label,
    what_changed,
)
from store.changes import export_changes
from store.config import set_setting
from store.decisions import decide_cards, undo_last_decision
from store.mapping import import_maps, undo_map_action
from store.models import AuditEntry
from store.month import close_month, current_period, reopen_month
from store.sources import add_source, remove_source
from store.sync import sync_source
from store.types import now
from store.writeback import apply_changes
from tests.fakes.connectwise import FakeConnectWise
from tests.fakes.server import transport

CW = {
    "base_url": "https://cw.example/v4_6_release/apis/3.0",
    "company_id": "acme",
    "public_key": "pub-key-9",
    "private_key": "priv-s3cret",
    "client_id": "client-7f3a",
}
PAX8 = {"client_id": "pax8-app", "client_secret": "pax8-s3cret"}
SECRETS = ("pub-key-9", "priv-s3cret", "client-7f3a", "pax8-s3cret")
USAGE = b"""vendor,account_name,product_name,quantity
pax8,Acme Dental,Microsoft 365 Business Premium,12
pax8,Birch Law,Microsoft 365 Business Premium,7
pax8,Birch Law,Microsoft 365 E3,3
"""
ACCOUNT_MAP = b"vendor,vendor_account_id,psa_account_id,excluded,reason\npax8,t-99,1,,\n"
ACME_BP = "1:M365-BP"


def entries(store: Store) -> list[AuditEntry]:
    with store.session() as session:
        return list(session.scalars(sa.select(AuditEntry).order_by(AuditEntry.id)))


def test_each_change_a_team_makes_leaves_an_entry_with_who_and_what_and_no_credential(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv(creds.KEY_ENV, creds.new_key())
    cw = FakeConnectWise(company="acme", public="pub-key-9", private="priv-s3cret")

    with store.session() as session:
        add_source(session, "psa", "connectwise", CW, user="ada", at=now())
        add_source(session, "psa", "connectwise", {"company_id": "acme2"}, user="ada", at=now())
        add_source(session, "psa", "connectwise", {"company_id": "acme"}, user="ada", at=now())
    sync_source(store, "psa", mode="full", user="ada", transport=transport(cw))
    import_csv(store, "pax8", "usage", USAGE, name="usage.csv", user="bob")
    import_maps(store, ACCOUNT_MAP, name="accounts.csv", user="bob")
    undo_map_action(store, user="bob")
    cards = current_cards(store).cards
    acme = cards.filter(pl.concat_str("account_id", pl.lit(":"), "product_id") == ACME_BP)
    decide_cards(store, acme, Action.DISMISS, user="bob")
    undo_last_decision(store, user="bob")
    decide_cards(store, acme, Action.APPROVE, effective_date=date(2026, 11, 28), user="bob")
    apply_changes(store, transport=transport(cw), user="ada", today=date(2026, 11, 28))
    with store.session() as session:
        set_setting(session, "keep_snapshots", "5", "ada")
    period = current_period()
    close_month(store, period, user="ada")
    reopen_month(store, period, user="ada")
    with store.session() as session:
        add_source(session, "pax8-api", "pax8", PAX8, user="ada", at=now())
        remove_source(session, "pax8-api", user="ada", at=now())

    logged = entries(store)
    kinds = [e.kind for e in logged]
    for kind in (
        "source_added",
        "source_changed",
        "sync",
        "account_maps_import",
        "account_maps_undo",
        "decision_dismiss",
        "decision_undo",
        "decision_approve",
        "write_back",
        "setting",
        "month_close",
        "month_reopen",
        "source_removed",
    ):
        assert kind in kinds, f"no {kind} entry in {kinds}"
    assert kinds.count("sync") == 2, "the API sync and the CSV import"
    # Maps made by exact name are the app's own, made as it works out the cards.
    people = {e.made_by for e in logged if not e.kind.endswith("_maps_auto")}
    assert people == {"ada", "bob"}
    assert all(e.at is not None for e in logged)
    text = json.dumps([e.detail for e in logged], default=str)
    for secret in SECRETS:
        assert secret not in text
    changed = next(e for e in logged if e.kind == "source_changed")
    assert changed.detail["settings_before"]["company_id"] == "acme"
    assert changed.detail["settings"]["company_id"] == "acme2"


def test_an_export_of_changes_leaves_an_entry(store: Store) -> None:
    import_csv(store, "psa", "psa", PSA, name="psa.csv", user="bob")
    import_csv(store, "pax8", "usage", USAGE, name="usage.csv", user="bob")
    cards = current_cards(store).cards
    decide_cards(store, cards.head(1), Action.APPROVE, user="bob")

    exported = export_changes(store, user="cy")

    entry = entries(store)[-1]
    assert (entry.kind, entry.made_by) == ("decision_export", "cy")
    assert entry.detail["changes"] == exported.height == 1


PSA = b"""account_id,account_name,product_id,product_name,quantity,unit_price
1,Acme Dental,M365-BP,Microsoft 365 Business Premium,10,22.00
"""
DAY = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)


@pytest.fixture
def logged(store: Store) -> Store:
    """A log of five entries by two people over three days."""
    with store.session() as session:
        audit(
            session, "ann", "setting", {"name": "keep_snapshots", "before": "3", "after": "5"}, DAY
        )
        audit(session, "bob", "decision_approve", {"cards": 3, "bulk_id": "b1"}, DAY)
        audit(
            session, "bob", "decision_undo", {"cards": 3, "bulk_id": "b1"}, DAY + timedelta(days=1)
        )
        audit(session, "ann", "month_close", {"period": "2026-10"}, DAY + timedelta(days=2))
        audit(session, "ann", "month_reopen", {"period": "2026-10"}, DAY + timedelta(days=2))
    return store


def test_the_log_reads_back_newest_first_in_words(logged: Store) -> None:
    with logged.session() as session:
        read = audit_entries(session)

    assert read.get_column("kind").to_list() == [
        "month_reopen",
        "month_close",
        "decision_undo",
        "decision_approve",
        "setting",
    ]
    assert read.get_column("what").to_list() == [
        "2026-10 reopened: its figures live again",
        "2026-10 closed: its summary frozen",
        "Last decision undone: 3 cards open again",
        "3 cards approved",
        "keep_snapshots: 3 → 5",
    ]
    assert json.loads(read.get_column("detail")[-1]) == {
        "name": "keep_snapshots",
        "before": "3",
        "after": "5",
    }
    assert read.get_column("at")[-1] == DAY


def test_the_log_filters_by_person_kind_and_dates_and_counts_what_it_lets_through(
    logged: Store,
) -> None:
    with logged.session() as session:
        by_ann = audit_entries(session, users=["ann"])
        decisions = audit_entries(session, kinds=["decision_approve", "decision_undo"])
        second_day = dict(since=DAY + timedelta(days=1), until=DAY + timedelta(days=2))
        on_the_day = audit_entries(session, **second_day)  # type: ignore[arg-type]
        newest = audit_entries(session, limit=2)
        counted = count_entries(session, users=["ann"], kinds=["setting", "month_close"])
        people, kinds = audit_people(session), audit_kinds(session)

    assert by_ann.get_column("made_by").unique().to_list() == ["ann"]
    assert by_ann.height == 3
    assert decisions.get_column("made_by").to_list() == ["bob", "bob"]
    assert on_the_day.get_column("kind").to_list() == ["decision_undo"]
    assert newest.get_column("kind").to_list() == ["month_reopen", "month_close"]
    assert counted == 2
    assert people == ["ann", "bob"]
    assert kinds == sorted(
        ["setting", "decision_approve", "decision_undo", "month_close", "month_reopen"]
    )


@pytest.mark.parametrize(
    ("kind", "shown"),
    [
        ("decision_approve", "Approval"),
        ("product_maps_exclude", "Service maps: excluded"),
        ("account_maps_import", "Account maps: map file imported"),
        ("sign_in", "Sign-in"),
        ("user_role", "Role changed"),
        ("backup_made", "Backup made"),
    ],
)
def test_each_kind_reads_as_a_person_says_it(kind: str, shown: str) -> None:
    assert label(kind) == shown


def test_a_map_change_says_what_each_map_was_and_became(store: Store) -> None:
    import_maps(store, ACCOUNT_MAP, name="accounts.csv", user="bob")

    with store.session() as session:
        what = audit_entries(session).get_column("what")[0]

    assert what == "1 map changed from accounts.csv: pax8 t-99: no map → mapped to 1"


STORE = Path(store_package.__file__).parent


def test_the_store_offers_no_way_to_change_or_delete_an_entry() -> None:
    """No store code updates or deletes an AuditEntry or `audit_log` (resetting the demo keeps
    the audit log)."""
    touching = []
    for path in sorted(STORE.rglob("*.py")):
        if "migrations" in path.parts:
            continue
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            called = ast.unparse(node.func)
            if called.endswith(("update", "delete")) and (
                "AuditEntry" in ast.unparse(node) or "audit_log" in ast.unparse(node)
            ):
                touching.append(f"{path.relative_to(STORE)}: {ast.unparse(node)}")
    assert touching == []
    import store.audit as module

    offered = [name for name in vars(module) if not name.startswith("_")]
    assert not [n for n in offered if any(w in n for w in ("update", "delete", "edit", "remove"))]


@pytest.mark.parametrize(
    ("kind", "detail", "said"),
    [
        ("sign_in", {"method": "password"}, "Signed in (password)"),
        ("sign_in_failed", {"username": "eve"}, "Sign-in refused for eve"),
        (
            "user_role",
            {"username": "bob", "before": {"role": "viewer"}, "after": {"role": "approver"}},
            "bob: role: viewer → role: approver",
        ),
        ("user_passwd", {"username": "bob"}, "bob's password changed"),
        (
            "source_changed",
            {
                "source": "psa",
                "type": "connectwise",
                "settings_before": {"company_id": "acme", "site": "na"},
                "settings": {"company_id": "acme2", "site": "na"},
                "secrets": ["private_key"],
            },
            "connectwise source psa changed; company_id: acme → acme2; "
            "credentials given: private_key",
        ),
        ("backup_made", {"before": None, "after": "nightly.zip"}, "nothing → nightly.zip"),
        ("backup_made", {"file": "nightly.zip"}, "file: nightly.zip"),
    ],
)
def test_each_entry_says_what_changed_in_words(
    kind: str, detail: dict[str, object], said: str
) -> None:
    assert what_changed(kind, detail) == said


@pytest.mark.parametrize(
    ("detail", "said"),
    [
        (
            {"source": "psa", "kind": "psa", "rows": 229, "file": "agreements.csv"},
            "229 PSA rows imported into psa from agreements.csv",
        ),
        ({"source": "pax8", "kind": "usage", "rows": 1}, "1 usage row imported into pax8"),
        (
            {"source": "cw", "type": "connectwise", "mode": "quick", "rows": 12},
            "12 rows synced from cw (connectwise, quick sync)",
        ),
    ],
)
def test_a_sync_says_how_many_rows_came_from_where(detail: dict[str, object], said: str) -> None:
    assert what_changed("sync", detail) == said


def test_the_database_refuses_to_change_an_entry_whoever_asks(store: Store) -> None:
    with store.session() as session:
        audit(session, "ann", "setting", {"name": "keep_snapshots", "before": "3", "after": "5"})
    attempts = [
        sa.update(AuditEntry).values(made_by="mallory"),
        sa.update(AuditEntry).values(detail={"name": "keep_snapshots", "after": "3"}),
        sa.text("UPDATE audit_log SET kind = 'nothing'"),
        sa.delete(AuditEntry),
        sa.text("DELETE FROM audit_log"),
    ]
    if store.dialect == "postgresql":
        attempts.append(sa.text("TRUNCATE audit_log"))

    for attempt in attempts:
        with pytest.raises(sa.exc.DBAPIError, match="append-only"), store.session() as session:
            session.execute(attempt)
    with pytest.raises(sa.exc.DBAPIError, match="append-only"), store.session() as session:
        session.scalars(sa.select(AuditEntry)).one().made_by = "mallory"

    with store.session() as session:
        entry = session.scalars(sa.select(AuditEntry)).one()
        assert (entry.made_by, entry.kind) == ("ann", "setting")
        assert entry.detail == {"name": "keep_snapshots", "before": "3", "after": "5"}
