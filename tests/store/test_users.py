"""People who may sign in: passwords kept only as hashes, roles, and an audited trail."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from store import Store
from store.access import NotAllowed, role_of
from store.models import AuditEntry, User
from store.types import Role
from store.users import (
    UserError,
    add_user,
    change_password,
    change_role,
    has_local_accounts,
    locked_out,
    people,
    record_failed_sign_in,
    record_sign_in,
    remember_token,
    remembered,
    remove_user,
    sso_user,
    verify,
)

PASSWORD = "correct horse battery"
OPERATOR = "root"  # no users row: the install's operator, as the `trueup` command runs


def add(store: Store, name: str, role: Role, password: str | None = PASSWORD) -> None:
    with store.session() as session:
        add_user(session, name, role, password=password, by=OPERATOR)


def entries(store: Store) -> list[AuditEntry]:
    with store.session() as session:
        return list(session.scalars(sa.select(AuditEntry).order_by(AuditEntry.id)))


def test_a_password_is_kept_only_as_a_hash_that_verifies(store: Store) -> None:
    add(store, "Dana", Role.ADMIN)
    with store.session() as session:
        user = session.get(User, "dana")
        assert user is not None and user.password_hash is not None
        assert PASSWORD not in user.password_hash
        assert user.password_hash.startswith("$argon2id$")
        found = verify(session, "dana", PASSWORD)
        assert found is not None and found.role is Role.ADMIN
        # people type their username in any case
        assert verify(session, " DANA ", PASSWORD) is not None


@pytest.mark.parametrize(
    ("username", "password"),
    [("dana", "correct horse battery!"), ("dana", ""), ("nobody", PASSWORD), ("", PASSWORD)],
)
def test_a_wrong_username_or_password_signs_no_one_in(
    store: Store, username: str, password: str
) -> None:
    add(store, "dana", Role.ADMIN)
    with store.session() as session:
        assert verify(session, username, password) is None


def test_a_single_sign_on_identity_has_no_password_and_cannot_sign_in_with_one(
    store: Store,
) -> None:
    add(store, "alice@example.com", Role.APPROVER, password=None)
    with store.session() as session:
        assert verify(session, "alice@example.com", "") is None
        assert not has_local_accounts(session)
        assert role_of(session, "alice@example.com") is Role.APPROVER


def test_a_weak_password_is_refused_with_what_to_do(store: Store) -> None:
    with store.session() as session, pytest.raises(UserError, match="at least 12"):
        add_user(session, "dana", Role.ADMIN, password="short pass", by=OPERATOR)
    add(store, "dana", Role.ADMIN)
    with store.session() as session, pytest.raises(UserError, match="too short"):
        change_password(session, "dana", "12345678901", by=OPERATOR)
    with store.session() as session:
        assert verify(session, "dana", PASSWORD) is not None


def test_a_changed_password_replaces_the_old_one(store: Store) -> None:
    add(store, "dana", Role.ADMIN)
    with store.session() as session:
        change_password(session, "dana", "a much longer new one", by=OPERATOR)
    with store.session() as session:
        assert verify(session, "dana", PASSWORD) is None
        assert verify(session, "dana", "a much longer new one") is not None


def test_roles_change_and_removed_people_can_no_longer_sign_in(store: Store) -> None:
    add(store, "dana", Role.ADMIN)
    add(store, "vic", Role.VIEWER)
    with store.session() as session:
        change_role(session, "vic", Role.APPROVER, by="dana")
    with store.session() as session:
        assert role_of(session, "vic") is Role.APPROVER
        remove_user(session, "vic", by="dana")
    with store.session() as session:
        assert verify(session, "vic", PASSWORD) is None
        assert [user.username for user in people(session)] == ["dana"]


def test_the_same_person_cannot_be_added_twice(store: Store) -> None:
    add(store, "dana", Role.ADMIN)
    with store.session() as session, pytest.raises(UserError, match="already exists"):
        add_user(session, "Dana", Role.VIEWER, password=PASSWORD, by=OPERATOR)


@pytest.mark.parametrize("role", [Role.VIEWER, Role.APPROVER])
def test_only_an_admin_manages_people(store: Store, role: Role) -> None:
    add(store, "dana", Role.ADMIN)
    add(store, "pat", role)
    for change in (
        lambda s: add_user(s, "eve", Role.ADMIN, password=PASSWORD, by="pat"),
        lambda s: change_role(s, "pat", Role.ADMIN, by="pat"),
        lambda s: change_password(s, "dana", "taken over at last", by="pat"),
        lambda s: remove_user(s, "dana", by="pat"),
    ):
        with store.session() as session, pytest.raises(NotAllowed):
            change(session)
    with store.session() as session:
        assert role_of(session, "pat") is role
        assert verify(session, "dana", PASSWORD) is not None
        assert session.get(User, "eve") is None
        # their own password they may change
        change_password(session, "pat", "my own new password", by="pat")


def test_every_change_is_audited_without_a_password_or_hash(store: Store) -> None:
    add(store, "dana", Role.ADMIN)
    with store.session() as session:
        add_user(session, "vic", Role.VIEWER, password="vic's first password", by="dana")
        change_password(session, "vic", "vic's second password", by="dana")
        change_role(session, "vic", Role.APPROVER, by="dana")
        remove_user(session, "vic", by="dana")
        record_sign_in(session, "dana", "password")
        record_failed_sign_in(session, "vic")
    with store.session() as session:
        hashes = [u.password_hash for u in people(session)]
    log = entries(store)
    assert [(e.made_by, e.kind) for e in log] == [
        (OPERATOR, "user_add"),
        ("dana", "user_add"),
        ("dana", "user_passwd"),
        ("dana", "user_role"),
        ("dana", "user_remove"),
        ("dana", "sign_in"),
        ("vic", "sign_in_failed"),
    ]
    assert log[3].detail == {
        "username": "vic",
        "before": {"role": "viewer"},
        "after": {"role": "approver"},
    }
    assert log[1].detail["after"] == {
        "role": "viewer",
        "display_name": None,
        "sign_in": "password",
    }
    text = json.dumps([e.detail for e in log])
    for secret in (PASSWORD, "first password", "second password", "argon2", *hashes):
        assert secret and secret not in text


def test_single_sign_on_people_get_the_default_role_unless_an_admin_added_them(
    store: Store,
) -> None:
    add(store, "alice@example.com", Role.ADMIN, password=None)
    with store.session() as session:
        alice = sso_user(session, "Alice@Example.com", Role.VIEWER)
        assert alice is not None and alice.role is Role.ADMIN
        bob = sso_user(session, "bob@example.com", Role.VIEWER)
        assert bob is not None and bob.role is Role.VIEWER
        assert sso_user(session, "carol@example.com", None) is None
    with store.session() as session:
        # bob's row is kept, so the store knows his role when he acts
        assert role_of(session, "bob@example.com") is Role.VIEWER
        assert session.get(User, "carol@example.com") is None


def test_a_username_refused_five_times_is_locked_out_for_fifteen_minutes(store: Store) -> None:
    start = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
    with store.session() as session:
        for minute in range(4):
            record_failed_sign_in(session, "Dana", at=start + timedelta(minutes=minute))
        assert not locked_out(session, "dana", at=start + timedelta(minutes=4))
        record_failed_sign_in(session, "dana", at=start + timedelta(minutes=4))
        assert locked_out(session, "DANA ", at=start + timedelta(minutes=5))
        assert not locked_out(session, "vic", at=start + timedelta(minutes=5))
        # the first refusals age out: 15 minutes after the first, four remain
        assert not locked_out(session, "dana", at=start + timedelta(minutes=15, seconds=1))


KEY = b"k" * 32


def test_a_remembered_browser_is_signed_in_until_it_expires_or_the_password_changes(
    store: Store,
) -> None:
    add(store, "dana", Role.ADMIN)
    at = datetime(2026, 11, 28, 9, tzinfo=UTC)
    with store.session() as session:
        token = remember_token(session.get_one(User, "dana"), KEY, at)
        assert "dana" not in token and PASSWORD not in token
        found = remembered(session, token, KEY, at + timedelta(days=6))
        assert found is not None and found.username == "dana"
        assert remembered(session, token, KEY, at + timedelta(days=8)) is None, "expired"
        assert remembered(session, token, b"x" * 32, at) is None, "another install's key"
        name, expires, signature = token.split(".")
        later = f"{name}.{int(expires) + 86_400}.{signature}"
        assert remembered(session, later, KEY, at) is None, "an expiry moved by hand"
        assert remembered(session, "not a token", KEY, at) is None
        change_password(session, "dana", "a much longer new one", by=OPERATOR)
    with store.session() as session:
        assert remembered(session, token, KEY, at) is None, "a new password ends it"
        fresh = remember_token(session.get_one(User, "dana"), KEY, at)
        remove_user(session, "dana", by=OPERATOR)
    with store.session() as session:
        assert remembered(session, fresh, KEY, at) is None, "a removed account ends it"
