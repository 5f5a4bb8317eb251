"""What each role sees on each page (issue 8, item 2), driven through AppTest: a viewer reads
every page but has no control that changes anything; an approver maps, decides, exports
changes, uploads, syncs and closes months; an admin does all. And a stale page: the store
refuses what the page still offers (issue 8, item 7)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
import sqlalchemy as sa
from streamlit.testing.v1 import AppTest

from pages.card_actions import PENDING, Pending
from pages.card_view import View
from pages.workspace import PERSON, Person
from store import Store, current_cards, open_store
from store import credentials as creds
from store.decisions import decide_cards
from store.models import Decision, User
from store.sources import add_source
from store.summary import state_key
from store.types import Action, Role, now, team_date
from tests.conftest import ROOT
from tests.pages.test_card_apply import ACME_BP, approve, fakes  # noqa: F401 - a fixture
from tests.pages.test_cards import select
from tests.store.factories import load_month

PEOPLE = {Role.VIEWER: "vera", Role.APPROVER: "april", Role.ADMIN: "ada"}
PAX8_API = {"client_id": "pax8-client", "client_secret": "s3cret", "base_url": "https://p/v1"}
ACME = "100:M365BP"
PAGES = [
    "pages/home.py",
    "pages/sync.py",
    "pages/mapping.py",
    "pages/cards.py",
    "pages/month.py",
    "pages/quick_reconcile.py",
]


@pytest.fixture
def workspace(workspace_url: str, monkeypatch: pytest.MonkeyPatch) -> Store:
    """Give the test's store: the hand-checked month, an API source, one approved change
    waiting for export, and a team of three (single sign-on identities: no password)."""
    monkeypatch.setenv(creds.KEY_ENV, creds.new_key())
    opened = open_store(workspace_url)
    load_month(opened)
    with opened.session() as session:
        add_source(session, "pax8-api", "pax8", PAX8_API, user="ops", at=now())
        for role, name in PEOPLE.items():
            session.add(User(username=name, role=role, created_at=now(), created_by="ops"))
    beta = current_cards(opened).cards.filter(account_id="200", product_id="EXO1")
    decide_cards(opened, beta, Action.APPROVE, user="ops")
    return opened


def page(path: str, role: Role, query: dict[str, str] | None = None) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=90)
    at.session_state[PERSON] = Person(PEOPLE[role], role)
    for name, value in (query or {}).items():
        at.query_params[name] = value
    at.run()
    at.switch_page(path).run()
    assert not at.exception
    return at


def labels(at: AppTest) -> set[str]:
    return {b.label for b in at.button}


def captions(at: AppTest) -> str:
    return "\n".join(c.value for c in at.caption)


def uploaders(at: AppTest) -> list[str]:
    return [u.label for u in at.file_uploader]


def select_cards(at: AppTest, store: Store, keys: list[str]) -> None:
    """Select cards in the grid, as a click in the browser would send it."""
    version = at.session_state["cards.version"] if "cards.version" in at.session_state else 0  # noqa: SIM401 - no .get()
    with store.session() as session:
        state = state_key(session)
    at.session_state[f"cards.grid.{version}.{View.from_query({}).id}.{state[:12]}"] = {
        "selected": keys
    }
    at.run()


@pytest.mark.parametrize("role", list(PEOPLE))
@pytest.mark.parametrize("path", PAGES)
def test_every_role_reads_every_page(workspace: Store, path: str, role: Role) -> None:
    at = page(path, role)

    assert not [e.value for e in at.error]
    assert at.markdown or at.title  # the page itself
    assert not [i for i in at.text_input if "password" in i.label.lower()]  # not a sign-in


@pytest.mark.parametrize(
    ("role", "decides"), [(Role.VIEWER, False), (Role.APPROVER, True), (Role.ADMIN, True)]
)
def test_cards_offer_decisions_and_the_export_only_to_approvers_and_admins(
    workspace: Store, role: Role, decides: bool
) -> None:
    at = page("pages/cards.py", role)
    select_cards(at, workspace, [ACME])

    approve = [b for b in at.button if b.key == "cards.approve"]
    assert bool(approve) is decides
    assert bool([b for b in at.button if b.key == "cards.export"]) is decides
    assert bool([b for b in at.get("download_button")]) is decides
    assert ("Approvers and admins decide cards." in captions(at)) is not decides
    assert ("Approvers and admins download" in captions(at)) is not decides


@pytest.mark.parametrize(
    ("role", "maps"), [(Role.VIEWER, False), (Role.APPROVER, True), (Role.ADMIN, True)]
)
def test_mapping_offers_its_changes_only_to_approvers_and_admins(
    workspace: Store, role: Role, maps: bool
) -> None:
    at = page("pages/mapping.py", role)

    assert ("Import a map file" in uploaders(at)) is maps
    assert ("Approvers and admins map and exclude accounts." in captions(at)) is not maps
    assert at.get("download_button")  # the map files are read by everyone


@pytest.mark.parametrize(
    ("role", "syncs"), [(Role.VIEWER, False), (Role.APPROVER, True), (Role.ADMIN, True)]
)
def test_sync_offers_uploads_and_syncs_only_to_approvers_and_admins(
    workspace: Store, role: Role, syncs: bool
) -> None:
    at = page("pages/sync.py", role)

    assert bool(uploaders(at)) is syncs  # the upload wizard and the map files
    assert ("Quick sync" in labels(at)) is syncs
    assert ("Quick sync all" in labels(at)) is syncs
    assert ("Approvers and admins upload files." in captions(at)) is not syncs
    assert ("Approvers and admins start syncs." in captions(at)) is not syncs
    assert any("pax8-api" in m.value for m in at.markdown)  # the source is read by everyone


@pytest.mark.parametrize(
    ("role", "closes"), [(Role.VIEWER, False), (Role.APPROVER, True), (Role.ADMIN, True)]
)
def test_the_month_is_closed_only_by_approvers_and_admins(
    workspace: Store, role: Role, closes: bool
) -> None:
    at = page("pages/month.py", role)

    assert any(label.startswith("Close ") for label in labels(at)) is closes
    assert ("Approvers and admins close and reopen months." in captions(at)) is not closes
    assert at.get("download_button")  # the month summary's exports: every role


def test_settings_and_sources_are_an_admins(workspace: Store) -> None:
    at = page("pages/settings.py", Role.ADMIN)

    assert at.number_input  # the workspace's settings
    assert "Restore the demo workspace" in labels(at)
    assert "Add source" in labels(at)


@pytest.mark.parametrize("role", [Role.VIEWER, Role.APPROVER])
def test_settings_are_not_offered_to_other_roles(workspace: Store, role: Role) -> None:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=90)
    at.session_state[PERSON] = Person(PEOPLE[role], role)
    at.run()

    with pytest.raises(ValueError, match="Could not find a navigation page"):
        at.switch_page("pages/settings.py")


def click_through_approve(at: AppTest) -> None:
    """Approve the selected cards, through the warning and the spot check where they show."""
    next(b for b in at.button if b.key == "cards.approve").click().run()
    for key in ("cards.warned_ok", "cards.spot_ok"):
        found = [b for b in at.button if b.key == key]
        if found:
            found[0].click().run()


def decisions_by(store: Store, user: str) -> list[Any]:
    with store.session() as session:
        return list(session.scalars(sa.select(Decision.id).where(Decision.made_by == user)))


def test_an_approver_demoted_meanwhile_is_refused_by_the_store_on_a_stale_page(
    workspace: Store,
) -> None:
    at = page("pages/cards.py", Role.APPROVER)
    select_cards(at, workspace, [ACME])
    assert [b for b in at.button if b.key == "cards.approve"]  # the page has the button
    with workspace.session() as session:
        session.get_one(User, "april").role = Role.VIEWER  # an admin changed her role

    click_through_approve(at)

    assert decisions_by(workspace, "april") == []
    errors = [e.value for e in at.error]
    assert any("**Not allowed**" in e and "april is a viewer" in e for e in errors), errors


def test_a_viewers_session_crafted_to_approve_is_refused(workspace: Store) -> None:
    at = page("pages/cards.py", Role.VIEWER)
    # A crafted session: an approval asked for as if the bar had been there.
    at.session_state[PENDING] = Pending(Action.APPROVE, (ACME,), datetime.now(UTC).date(), "go")
    at.run()

    assert decisions_by(workspace, "vera") == []


@pytest.mark.usefixtures("fakes")
@pytest.mark.parametrize(("role", "applies"), [(Role.APPROVER, False), (Role.ADMIN, True)])
def test_apply_to_psa_is_offered_to_admins_only(
    workspace_url: str, role: Role, applies: bool
) -> None:
    opened = open_store(workspace_url)
    approve(opened, [ACME_BP], team_date(now()))
    with opened.session() as session:
        session.add(User(username=PEOPLE[role], role=role, created_at=now(), created_by="ops"))
    at = page("pages/cards.py", role, {"status": "approved"})
    select(at, opened, [ACME_BP])

    assert any("State" in t.value.columns for t in at.dataframe)  # the outbox, read by both
    assert bool([b for b in at.button if b.key == "cards.apply"]) is applies
    assert bool([b for b in at.button if b.key == "cards.apply_selected"]) is applies
    assert ("Admins apply changes to the PSA." in captions(at)) is not applies
