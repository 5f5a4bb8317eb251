"""`trueup user add|passwd|role|remove|list` through the real console script, on both
databases."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa

from store import open_store
from store.models import AuditEntry
from store.types import Role
from store.users import people, verify

TRUEUP = Path(sys.executable).with_name("trueup")


@pytest.fixture
def database(store_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """Point the `trueup` processes at this test's database, run by the operator "ops"."""
    monkeypatch.setenv("DATABASE_URL", store_url)
    monkeypatch.setenv("TRUEUP_USER", "ops")
    return store_url


def trueup(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(TRUEUP), *args], input=stdin, capture_output=True, text=True, check=False
    )


def accounts(url: str) -> dict[str, tuple[Role, bool]]:
    """Give back each person's role and whether they have a password."""
    store = open_store(url)
    try:
        with store.session() as session:
            return {u.username: (u.role, u.password_hash is not None) for u in people(session)}
    finally:
        store.dispose()


def signs_in(url: str, username: str, password: str) -> bool:
    store = open_store(url)
    try:
        with store.session() as session:
            return verify(session, username, password) is not None
    finally:
        store.dispose()


def test_a_team_of_three_is_added_and_listed(database: str) -> None:
    for name, role in (("dana", "admin"), ("pat", "approver"), ("vic", "viewer")):
        added = trueup(
            "user", "add", name, "--role", role, "--password-stdin", stdin=f"{name} secret pass\n"
        )
        assert added.returncode == 0, added.stderr
        assert f"{name} added as {role}" in added.stdout
    sso = trueup(
        "user", "add", "Alice@Example.com", "--role", "approver", "--sso", "--name", "Alice"
    )
    assert sso.returncode == 0, sso.stderr

    assert accounts(database) == {
        "alice@example.com": (Role.APPROVER, False),
        "dana": (Role.ADMIN, True),
        "pat": (Role.APPROVER, True),
        "vic": (Role.VIEWER, True),
    }
    assert signs_in(database, "pat", "pat secret pass")
    listed = trueup("user", "list")
    assert listed.stdout.splitlines() == [
        "alice@example.com (Alice): approver, single sign-on",
        "dana: admin, password",
        "pat: approver, password",
        "vic: viewer, password",
    ]


def test_the_password_is_asked_twice_when_not_piped(database: str) -> None:
    added = trueup(
        "user", "add", "dana", "--role", "admin", stdin="typed twice ok\ntyped twice ok\n"
    )
    assert added.returncode == 0, added.stderr
    assert "typed twice ok" not in added.stdout + added.stderr
    assert signs_in(database, "dana", "typed twice ok")


def test_a_weak_password_is_refused_and_nothing_is_added(database: str) -> None:
    refused = trueup(
        "user", "add", "dana", "--role", "admin", "--password-stdin", stdin="dana123\n"
    )
    assert refused.returncode == 2
    assert "too short (7 characters): use at least 12" in refused.stderr
    assert accounts(database) == {}


def test_an_unknown_role_or_person_is_refused_plainly(database: str) -> None:
    refused = trueup("user", "add", "dana", "--role", "owner", "--sso")
    assert refused.returncode == 2
    assert '"owner" is not a role: use viewer, approver or admin' in refused.stderr
    missing = trueup("user", "remove", "nobody")
    assert missing.returncode == 2
    assert 'there is no user "nobody"' in missing.stderr


def test_passwd_role_and_remove_change_a_person_and_are_audited(database: str) -> None:
    trueup("user", "add", "vic", "--role", "viewer", "--password-stdin", stdin="first password!\n")
    changed = trueup("user", "passwd", "vic", "--password-stdin", stdin="second password!\n")
    assert changed.returncode == 0, changed.stderr
    assert signs_in(database, "vic", "second password!")
    assert not signs_in(database, "vic", "first password!")

    promoted = trueup("user", "role", "vic", "approver")
    assert promoted.returncode == 0, promoted.stderr
    assert accounts(database) == {"vic": (Role.APPROVER, True)}

    removed = trueup("user", "remove", "vic")
    assert removed.returncode == 0, removed.stderr
    assert accounts(database) == {}

    store = open_store(database)
    try:
        with store.session() as session:
            log = [(e.made_by, e.kind) for e in session.scalars(sa.select(AuditEntry))]
    finally:
        store.dispose()
    assert log == [
        ("ops", "user_add"),
        ("ops", "user_passwd"),
        ("ops", "user_role"),
        ("ops", "user_remove"),
    ]
