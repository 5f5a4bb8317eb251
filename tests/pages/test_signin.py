"""The sign-in gate, driven through Streamlit's AppTest on a store of its own (see conftest):
with sign-in configured a session sees only the sign-in page until someone signs in; without
it the app runs as the operator, and only on this machine."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from streamlit import config
from streamlit.testing.v1 import AppTest

from pages.workspace import PERSON, Person
from store import Store, open_store
from store.models import AuditEntry
from store.types import Role
from store.users import add_user, change_role, remove_user
from tests.conftest import ROOT

PASSWORD = "correct horse battery"
MICROSOFT = {
    "redirect_uri": "https://trueup.example.com/oauth2callback",
    "cookie_secret": "a long random string for the test",
    "microsoft": {
        "client_id": "the-client-id",
        "client_secret": "the-client-secret",
        "server_metadata_url": "https://login.microsoftonline.com/tenant/v2.0/.well-known/openid-configuration",
    },
}


@pytest.fixture
def workspace(workspace_url: str) -> Iterator[Store]:
    opened = open_store(workspace_url)
    yield opened
    opened.dispose()


@pytest.fixture
def team(workspace: Store) -> Store:
    """Give the store with three local accounts: dana (admin), pat (approver), vic (viewer)."""
    with workspace.session() as session:
        for name, role in (("dana", Role.ADMIN), ("pat", Role.APPROVER), ("vic", Role.VIEWER)):
            add_user(session, name, role, password=f"{name} {PASSWORD}", by="ops")
    return workspace


@pytest.fixture
def served_on_every_address() -> Iterator[None]:
    """Serve as `streamlit run app.py --server.address 0.0.0.0` would."""
    before = config.get_option("server.address")
    config.set_option("server.address", "0.0.0.0")
    yield
    config.set_option("server.address", before)


def app() -> AppTest:
    return AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)


def sign_in(at: AppTest, username: str, password: str) -> AppTest:
    fields = {field.label: field for field in at.text_input}
    fields["Username"].input(username)
    fields["Password"].input(password)
    return next(b for b in at.button if b.label == "Sign in").click().run()


def titles(at: AppTest) -> list[str]:
    return [title.value for title in at.title]


def log(store: Store) -> list[tuple[str, str, dict[str, object]]]:
    with store.session() as session:
        entries = session.scalars(sa.select(AuditEntry).where(AuditEntry.kind.like("sign_in%")))
        return [(e.made_by, e.kind, e.detail) for e in entries]


def test_without_sign_in_the_app_runs_as_the_operator_as_before(workspace: Store) -> None:
    at = app().run()
    assert not at.exception
    assert titles(at) == ["Home"]
    assert PERSON not in at.session_state
    assert not [b for b in at.button if b.label == "Sign out"]


def test_with_accounts_a_session_sees_only_the_sign_in_page(team: Store) -> None:
    at = app().run()
    assert titles(at) == ["Sign in to TrueUp"]
    assert not at.metric and not at.dataframe
    # no other page is registered: an address asked for reaches none
    with pytest.raises(ValueError, match="Could not find a navigation page"):
        at.switch_page("pages/cards.py")


def test_a_wrong_password_is_refused_without_saying_which_was_wrong(team: Store) -> None:
    at = sign_in(app().run(), "vic", "not vic's password")
    assert titles(at) == ["Sign in to TrueUp"]
    assert at.error[0].value.startswith("**That username and password do not match an account.**")
    assert PERSON not in at.session_state
    unknown = sign_in(app().run(), "nobody", "not vic's password")
    assert unknown.error[0].value == at.error[0].value
    assert log(team) == [
        ("vic", "sign_in_failed", {"username": "vic"}),
        ("nobody", "sign_in_failed", {"username": "nobody"}),
    ]


def test_a_good_sign_in_opens_the_app_as_that_person(team: Store) -> None:
    at = sign_in(app().run(), "Pat", f"pat {PASSWORD}")
    assert not at.exception
    assert titles(at) == ["Home"]
    assert at.session_state[PERSON] == Person("pat", Role.APPROVER)
    assert log(team) == [("pat", "sign_in", {"method": "password"})]


@pytest.mark.parametrize(
    ("username", "sees_settings"), [("vic", False), ("pat", False), ("dana", True)]
)
def test_only_an_admin_reaches_settings(team: Store, username: str, sees_settings: bool) -> None:
    at = sign_in(app().run(), username, f"{username} {PASSWORD}")
    if sees_settings:
        at.switch_page("pages/settings.py").run()
        assert titles(at)[0] == "Settings"
    else:
        with pytest.raises(ValueError, match="Could not find a navigation page"):
            at.switch_page("pages/settings.py")
    at.switch_page("pages/audit.py").run()
    assert not at.exception


def test_signing_out_and_being_removed_both_end_the_session(team: Store) -> None:
    at = sign_in(app().run(), "dana", f"dana {PASSWORD}")
    next(b for b in at.button if b.label == "Sign out").click().run()
    assert titles(at) == ["Sign in to TrueUp"]
    assert PERSON not in at.session_state

    at = sign_in(app().run(), "vic", f"vic {PASSWORD}")
    with team.session() as session:
        remove_user(session, "vic", by="dana")
    at.run()
    assert titles(at) == ["Sign in to TrueUp"]


def test_a_new_role_takes_effect_at_the_next_click(team: Store) -> None:
    at = sign_in(app().run(), "vic", f"vic {PASSWORD}")
    with team.session() as session:
        change_role(session, "vic", Role.ADMIN, by="dana")
    at.run()
    assert at.session_state[PERSON] == Person("vic", Role.ADMIN)


def test_single_sign_on_offers_a_button_per_provider(workspace: Store) -> None:
    at = app()
    at.secrets["auth"] = {
        **MICROSOFT,
        "google": {
            "client_id": "id",
            "client_secret": "secret",
            "server_metadata_url": "https://accounts.google.com/.well-known/openid-configuration",
        },
    }
    at.run()
    assert titles(at) == ["Sign in to TrueUp"]
    assert [b.label for b in at.button] == ["Sign in with Microsoft", "Sign in with Google"]
    assert not at.text_input  # no local accounts: no password form


def test_a_person_signed_in_by_single_sign_on_gets_their_role(workspace: Store) -> None:
    with workspace.session() as session:
        add_user(session, "alice@example.com", Role.ADMIN, password=None, by="ops")
    at = app()
    at.secrets["auth"] = MICROSOFT
    at.user = {"is_logged_in": True, "email": "Alice@example.com", "name": "Alice"}
    at.run()
    assert titles(at) == ["Home"]
    assert at.session_state[PERSON] == Person("alice@example.com", Role.ADMIN)
    assert log(workspace) == [("alice@example.com", "sign_in", {"method": "single sign-on"})]


@pytest.mark.parametrize(("default", "role"), [(None, Role.VIEWER), ("approver", Role.APPROVER)])
def test_single_sign_on_people_no_admin_added_get_the_default_role(
    workspace: Store, default: str | None, role: Role
) -> None:
    at = app()
    at.secrets["auth"] = MICROSOFT
    if default:
        at.secrets["trueup"] = {"sso_default_role": default}
    at.user = {"is_logged_in": True, "email": "bob@example.com"}
    at.run()
    assert at.session_state[PERSON] == Person("bob@example.com", role)


def test_single_sign_on_can_refuse_people_no_admin_added(workspace: Store) -> None:
    at = app()
    at.secrets["auth"] = MICROSOFT
    at.secrets["trueup"] = {"sso_default_role": "none"}
    at.user = {"is_logged_in": True, "email": "mallory@example.com"}
    at.run()
    assert titles(at) == ["Sign in to TrueUp"]
    assert at.error[0].value.startswith("**mallory@example.com may not use TrueUp yet.**")
    assert "trueup user add mallory@example.com --role viewer --sso" in at.error[0].value
    assert PERSON not in at.session_state


def test_without_sign_in_on_every_address_nothing_is_served(
    workspace: Store, served_on_every_address: None
) -> None:
    at = app().run()
    assert titles(at) == ["TrueUp is not served without sign-in"]
    assert "--allow-unauthenticated" in at.error[0].value
    assert "trueup user add NAME --role admin" in at.error[0].value
    assert not at.metric and not at.dataframe
    with pytest.raises(ValueError, match="Could not find a navigation page"):
        at.switch_page("pages/settings.py")


def test_allow_unauthenticated_serves_every_address_knowingly(
    workspace: Store, served_on_every_address: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TRUEUP_ALLOW_UNAUTHENTICATED", "1")
    assert titles(app().run()) == ["Home"]
    monkeypatch.delenv("TRUEUP_ALLOW_UNAUTHENTICATED")
    monkeypatch.setattr("sys.argv", ["app.py", "--allow-unauthenticated"])
    assert titles(app().run()) == ["Home"]


def test_with_sign_in_configured_every_address_gets_the_sign_in_page(
    team: Store, served_on_every_address: None
) -> None:
    assert titles(app().run()) == ["Sign in to TrueUp"]


def test_an_entra_account_without_a_mailbox_is_known_by_its_sign_in_name(
    workspace: Store,
) -> None:
    at = app()
    at.secrets["auth"] = MICROSOFT
    at.user = {"is_logged_in": True, "preferred_username": "ops@example.com", "name": "Ops"}
    at.run()
    assert at.session_state[PERSON] == Person("ops@example.com", Role.VIEWER)


def test_a_provider_that_gives_no_e_mail_is_refused_plainly(workspace: Store) -> None:
    at = app()
    at.secrets["auth"] = MICROSOFT
    at.user = {"is_logged_in": True, "name": "Nameless"}
    at.run()
    assert titles(at) == ["Sign in to TrueUp"]
    assert at.error[0].value.startswith("**Your identity provider gave no e-mail address**")
    assert PERSON not in at.session_state


def test_sign_in_with_no_way_in_says_what_to_fix(workspace: Store) -> None:
    at = app()
    at.secrets["auth"] = {"redirect_uri": MICROSOFT["redirect_uri"], "cookie_secret": "x"}
    at.run()
    assert titles(at) == ["Sign in to TrueUp"]
    assert at.error[0].value.startswith("**Sign-in offers no way in.**")


def test_five_refused_sign_ins_lock_the_username_out(team: Store) -> None:
    for _ in range(5):
        sign_in(app().run(), "dana", "a wrong guess, again")
    at = sign_in(app().run(), "dana", f"dana {PASSWORD}")
    assert at.error[0].value.startswith("**Too many refused sign-ins for this username**")
    assert PERSON not in at.session_state
    # another person is not held up
    assert titles(sign_in(app().run(), "pat", f"pat {PASSWORD}")) == ["Home"]
