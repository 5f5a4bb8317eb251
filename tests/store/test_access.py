"""Roles enforced in the store (issue 8, items 2 and 7): each role against each change, on
SQLite and PostgreSQL. A change the role may not make raises NotAllowed and writes nothing,
whatever page, stale page or crafted request called it; the `trueup` command (the operator,
with no row in `users`) may do everything."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import polars as pl
import pytest
import sqlalchemy as sa

from errors import TrueUpError
from store import Action, Store, current_cards, import_csv, import_maps, reset_demo
from store import credentials as creds
from store.access import NotAllowed
from store.background import start_sync
from store.changes import export_changes
from store.config import set_setting
from store.decisions import decide, decide_cards, undo_last, undo_last_decision
from store.mapping import exclude_items, map_items, undo_map_action, unmap_items
from store.models import Base, User
from store.month import close_month, reopen_month
from store.prefs import set_pref
from store.sources import add_source, remove_source
from store.sync import sync_source
from store.types import Role
from store.writeback import apply_changes
from tests.conftest import MONTH
from tests.store.factories import load_month

AT = datetime(2026, 11, 14, 9, tzinfo=UTC)
PERIOD = "2026-11"
ACME = ("100", "M365BP")  # an increase
BETA = ("200", "EXO1")  # a decrease
COBALT = [{"vendor": "pax8", "vendor_id": "t-cobalt"}]
PAX8 = {"client_id": "pax8-client", "client_secret": "pax8-s3cret", "base_url": "https://p/v1"}


@pytest.fixture(autouse=True)
def no_secrets_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Run where there is no .streamlit/secrets.toml, with a key to encrypt credentials."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv(creds.KEY_ENV, creds.new_key())


def cards_of(store: Store, *keys: tuple[str, str]) -> pl.DataFrame:
    cards = current_cards(store).cards
    wanted = pl.DataFrame(keys, schema=["account_id", "product_id"], orient="row")
    return cards.join(wanted, on=["account_id", "product_id"], how="semi")


def add_person(store: Store, name: str, role: Role) -> None:
    with store.session() as session:
        session.add(User(username=name, role=role, created_at=AT, created_by="ops"))


def set_role(store: Store, name: str, role: Role) -> None:
    with store.session() as session:
        session.get_one(User, name).role = role


def everything(store: Store) -> dict[str, list[str]]:
    """Give back every row of every table (the audit log too), to see that nothing changed."""
    with store.session() as session:
        return {
            table.name: sorted(repr(tuple(row)) for row in session.execute(sa.select(table)))
            for table in Base.metadata.sorted_tables
        }


@dataclass(frozen=True)
class Change:
    """One change a person may try: the least role that may make it, how to make it as `user`,
    and what must be in place first (done as the same name before it has a row in `users`, as
    when the person was given a lesser role afterwards)."""

    role: Role
    make: Callable[[Store, str], Any]
    before: Callable[[Store, str], Any] | None = None
    writes: bool = True
    """False: allowed, it fails later for a reason of its own (a CSV source cannot sync by API)."""


def _in_session(act: Callable[..., Any]) -> Callable[[Store, str], Any]:
    def make(store: Store, user: str) -> Any:
        with store.session() as session:
            return act(session, user)

    return make


def _approve(store: Store, user: str) -> Any:
    return decide_cards(store, cards_of(store, ACME), Action.APPROVE, user=user, at=AT)


def _record_dismissal(store: Store, user: str) -> Any:
    beta = cards_of(store, BETA)
    with store.session() as session:
        return decide(session, beta, Action.DISMISS, user, AT)


CHANGES: dict[str, Change] = {
    "map": Change(
        Role.APPROVER,
        lambda s, u: map_items(s, "account", pl.DataFrame(COBALT), "100", user=u, at=AT),
    ),
    "exclude": Change(
        Role.APPROVER,
        lambda s, u: exclude_items(s, "account", pl.DataFrame(COBALT), "internal", user=u, at=AT),
    ),
    "unmap": Change(
        Role.APPROVER, lambda s, u: unmap_items(s, "account", pl.DataFrame(COBALT), user=u, at=AT)
    ),
    "undo map": Change(
        Role.APPROVER,
        lambda s, u: undo_map_action(s, user=u, at=AT),
        before=lambda s, u: unmap_items(s, "account", pl.DataFrame(COBALT), user=u, at=AT),
    ),
    "import map file": Change(
        Role.APPROVER,
        lambda s, u: import_maps(
            s, b"vendor,vendor_account_id,psa_account_id\npax8,t-x,100\n", user=u
        ),
    ),
    "approve": Change(Role.APPROVER, _approve),
    "approve in bulk": Change(
        Role.APPROVER,
        lambda s, u: decide_cards(s, cards_of(s, ACME, BETA), Action.APPROVE, user=u, at=AT),
    ),
    "dismiss": Change(
        Role.APPROVER,
        lambda s, u: decide_cards(s, cards_of(s, BETA), Action.DISMISS, user=u, at=AT),
    ),
    "schedule": Change(
        Role.APPROVER,
        lambda s, u: decide_cards(s, cards_of(s, BETA), Action.SCHEDULE, user=u, at=AT),
    ),
    "record a decision": Change(
        Role.APPROVER,
        _record_dismissal,
    ),
    "undo decision": Change(
        Role.APPROVER, lambda s, u: undo_last_decision(s, user=u, at=AT), before=_approve
    ),
    "undo the last decision": Change(
        Role.APPROVER, _in_session(lambda session, u: undo_last(session, u, AT)), before=_approve
    ),
    "export changes": Change(
        Role.APPROVER,
        lambda s, u: export_changes(s, user=u, at=AT),
        before=lambda s, _: _approve(s, "ops"),
    ),
    "import CSV": Change(
        Role.APPROVER,
        lambda s, u: import_csv(s, "pax8", "usage", MONTH / "usage-pax8.csv", user=u, at=AT),
    ),
    "sync source": Change(
        Role.APPROVER, lambda s, u: sync_source(s, "pax8", user=u, at=AT), writes=False
    ),
    "start background sync": Change(
        Role.APPROVER, lambda s, u: start_sync(s, "pax8", "quick", user=u), writes=False
    ),
    "close month": Change(Role.APPROVER, lambda s, u: close_month(s, PERIOD, user=u, at=AT)),
    "reopen month": Change(
        Role.APPROVER,
        lambda s, u: reopen_month(s, PERIOD, user=u, at=AT),
        before=lambda s, _: close_month(s, PERIOD, user="ops", at=AT),
    ),
    "add source": Change(
        Role.ADMIN,
        _in_session(
            lambda session, u: add_source(session, "pax8-api", "pax8", PAX8, user=u, at=AT)
        ),
    ),
    "remove source": Change(
        Role.ADMIN, _in_session(lambda session, u: remove_source(session, "pax8", user=u, at=AT))
    ),
    "apply changes": Change(
        Role.ADMIN,
        lambda s, u: apply_changes(s, user=u, at=AT),
        before=lambda s, _: _approve(s, "ops"),
        writes=False,
    ),
    "change a setting": Change(
        Role.ADMIN, _in_session(lambda session, u: set_setting(session, "keep_snapshots", "5", u))
    ),
    "keep a preference": Change(Role.VIEWER, lambda s, u: set_pref(s, u, "cards.view", "tiles")),
}

RANK = [Role.VIEWER, Role.APPROVER, Role.ADMIN]


@pytest.mark.parametrize("role", RANK)
@pytest.mark.parametrize("name", CHANGES)
def test_each_role_makes_exactly_the_changes_it_may(store: Store, name: str, role: Role) -> None:
    change = CHANGES[name]
    load_month(store)
    if change.before is not None:
        change.before(store, "pat")
    add_person(store, "pat", role)
    current_cards(store)  # reading cards stores exact-name maps: done before the snapshot
    before = everything(store)

    if RANK.index(role) < RANK.index(change.role):
        with pytest.raises(NotAllowed, match=f"pat is a {role.value} and may not"):
            change.make(store, "pat")
        assert everything(store) == before  # not a row, not half a change, no audit entry
    elif change.writes:
        change.make(store, "pat")
        assert everything(store) != before
    else:
        with pytest.raises(TrueUpError) as raised:
            change.make(store, "pat")
        assert not isinstance(raised.value, NotAllowed)


@pytest.mark.parametrize("name", [n for n, c in CHANGES.items() if c.writes])
def test_the_operator_with_no_users_row_may_make_every_change(store: Store, name: str) -> None:
    change = CHANGES[name]
    load_month(store)
    if change.before is not None:
        change.before(store, "ops")
    current_cards(store)
    before = everything(store)

    change.make(store, "ops")

    assert everything(store) != before


def test_a_viewer_cannot_approve_through_any_route(store: Store) -> None:
    load_month(store)
    _approve(store, "vera")  # before she was made a viewer: an approval of hers to undo
    add_person(store, "vera", Role.VIEWER)
    open_cards = current_cards(store).cards.filter(pl.col("status") == "open")
    beta = cards_of(store, BETA)
    before = everything(store)
    routes: dict[str, Callable[[], Any]] = {
        "one card": lambda: decide_cards(store, beta, Action.APPROVE, user="vera"),
        "every open card": lambda: decide_cards(store, open_cards, Action.APPROVE, user="vera"),
        "no card at all": lambda: decide_cards(
            store, open_cards.clear(), Action.APPROVE, user="vera"
        ),
        "schedule": lambda: decide_cards(store, open_cards, Action.SCHEDULE, user="vera"),
        "record": lambda: _in_session(
            lambda session, u: decide(session, open_cards, Action.APPROVE, u, AT)
        )(store, "vera"),
        "undo": lambda: undo_last_decision(store, user="vera"),
        "undo in a session": lambda: _in_session(lambda session, u: undo_last(session, u, AT))(
            store, "vera"
        ),
        "export": lambda: export_changes(store, user="vera"),
        "apply": lambda: apply_changes(store, user="vera"),
    }

    for route, attempt in routes.items():
        with pytest.raises(NotAllowed):
            attempt()
        assert everything(store) == before, route


def test_a_demoted_approver_is_refused_on_the_next_change(store: Store) -> None:
    load_month(store)
    add_person(store, "april", Role.APPROVER)
    _approve(store, "april")
    set_role(store, "april", Role.VIEWER)  # an admin changed her role meanwhile

    with pytest.raises(NotAllowed, match="april is a viewer"):
        undo_last_decision(store, user="april")


def test_a_reset_of_the_demo_is_for_admins_and_keeps_the_team(store: Store) -> None:
    load_month(store)
    add_person(store, "april", Role.APPROVER)
    add_person(store, "ada", Role.ADMIN)
    current_cards(store)
    before = everything(store)

    with pytest.raises(NotAllowed):
        reset_demo(store, user="april")
    assert everything(store) == before

    reset_demo(store, user="ada")
    with store.session() as session:
        team = session.execute(sa.select(User.username, User.role).order_by(User.username)).all()
    assert team == [("ada", Role.ADMIN), ("april", Role.APPROVER)]
