"""The sign-in page, and what app.py's gate asks before any other page runs: is sign-in
configured, who is signed in to this session, and may this server serve without sign-in.

Sign-in is configured when `[auth]` is in `.streamlit/secrets.toml` (single sign-on through
Streamlit's st.login, OpenID Connect) or when at least one local account with a password exists
(`trueup user add`). A page run by app.py's router, not a page file: app.py registers the
functions below as the only pages a session that may not go further sees.
"""

from __future__ import annotations

import logging
import os
import sys
from functools import cache
from typing import Any

import streamlit as st
import streamlit.components.v1 as components

from pages.workspace import PERSON, Person, through_the_router, workspace
from store import Store
from store.access import role_of
from store.credentials import signing_key
from store.types import Role
from store.users import (
    LOCKOUT,
    REMEMBERED,
    has_local_accounts,
    locked_out,
    record_failed_sign_in,
    record_sign_in,
    remember_token,
    remembered,
    sso_user,
    verify,
)

LOCAL_ADDRESSES = frozenset({"127.0.0.1", "localhost", "::1"})
ALLOW_FLAG = "--allow-unauthenticated"
ALLOW_ENV = "TRUEUP_ALLOW_UNAUTHENTICATED"
PROVIDER_LABELS = {"microsoft": "Microsoft", "google": "Google"}
REFUSED = "trueup.sso_refused"
"""Where the gate keeps the e-mail of a single sign-on person no admin has let in."""

LOCKOUT_MINUTES = int(LOCKOUT.total_seconds() // 60)
COOKIE = "trueup_signin"
"""The cookie that keeps a browser signed in to a local account (store.users.remember_token)."""
TO_REMEMBER = "trueup.remember"
"""Where a sign-in leaves the token for the next run to write into the browser's cookie."""
SIGNED_OUT = "trueup.signed_out"
"""Set when this session signed out: its cookie no longer signs it in, and is cleared."""

log = logging.getLogger("trueup")


def _secrets() -> dict[str, Any]:
    """Give back `.streamlit/secrets.toml` as Streamlit reads it (empty when there is none)."""
    try:
        return st.secrets.to_dict()
    except FileNotFoundError:  # no secrets file (Streamlit's error is one)
        return {}


def providers() -> list[tuple[str | None, str]]:
    """Give back the single sign-on providers of `[auth]`, each as (the name st.login takes,
    None for the one unnamed provider; its label): `[auth.microsoft]` gives ("microsoft",
    "Microsoft")."""
    auth = _secrets().get("auth")
    if not isinstance(auth, dict):
        return []
    found: list[tuple[str | None, str]] = [
        (name, PROVIDER_LABELS.get(name, name.replace("-", " ").title()))
        for name, section in auth.items()
        if isinstance(section, dict) and "client_id" in section
    ]
    if "client_id" in auth:
        metadata = str(auth.get("server_metadata_url", ""))
        label = next(
            (label for key, label in (("microsoftonline", "Microsoft"), ("google", "Google"))
             if key in metadata),
            "single sign-on",
        )  # fmt: skip
        found.insert(0, (None, label))
    return found


def sso_default_role() -> Role | None:
    """Give back the role of single sign-on people no admin has added (`[trueup]
    sso_default_role`, default viewer), or None when such people are refused ("none")."""
    section = _secrets().get("trueup")
    value = section.get("sso_default_role", "viewer") if isinstance(section, dict) else "viewer"
    value = str(value).strip().lower()
    if value == "none":
        return None
    try:
        return Role(value)
    except ValueError:
        log.warning(
            'sso_default_role = "%s" in .streamlit/secrets.toml is not viewer, approver, admin '
            "or none: people no admin has added are refused until it is corrected",
            value,
        )
        return None


def configured(store: Store) -> bool:
    """True when sign-in is configured: single sign-on in the secrets, or a local account."""
    if "auth" in _secrets():
        return True
    with store.session() as session:
        return has_local_accounts(session)


def unauthenticated_refused() -> bool:
    """True when this server, without sign-in, must serve no one: it listens beyond this
    machine and was not started with --allow-unauthenticated (or TRUEUP_ALLOW_UNAUTHENTICATED)."""
    address = st.get_option("server.address")
    if address in LOCAL_ADDRESSES:  # (unset, Streamlit listens on every interface)
        return False
    allowed = os.environ.get(ALLOW_ENV, "").strip().lower() in {"1", "true", "yes"}
    return not (allowed or ALLOW_FLAG in sys.argv[1:])


def _sso_user() -> Any:
    """Give back Streamlit's st.user when a person signed in by single sign-on, else None."""
    try:
        return st.user if st.user.get("is_logged_in") else None
    except AttributeError:  # a Streamlit without st.login
        return None


def current_person(store: Store) -> Person | None:
    """Give back who is signed in to this session, with their role as the store has it now
    (a person removed since is signed out, a new role takes effect), else None."""
    found = st.session_state.get(PERSON)
    if isinstance(found, Person):
        with store.session() as session:
            role = role_of(session, found.name)
        if role is None:
            st.session_state.pop(PERSON, None)
            return None
        if role is not found.role:
            found = st.session_state[PERSON] = Person(found.name, role)
        return found
    user = _sso_user()
    if user is None:
        return _remembered(store)
    # Entra ID gives no `email` for an account without a mailbox: its sign-in name then is one.
    email = next(
        (str(user.get(claim)) for claim in ("email", "preferred_username")
         if "@" in str(user.get(claim) or "")),
        "",
    )  # fmt: skip
    if not email:
        st.session_state[REFUSED] = ""
        return None
    with store.session() as session:
        row = sso_user(session, email, sso_default_role())
        if row is None:
            st.session_state[REFUSED] = email
            return None
        record_sign_in(session, row.username, "single sign-on")
        person = st.session_state[PERSON] = Person(row.username, row.role)
    st.session_state.pop(REFUSED, None)
    return person


def _remembered(store: Store) -> Person | None:
    """Give back the person this browser's cookie signs in to a local account (a reload, a new
    tab), or None."""
    token = st.context.cookies.get(COOKIE)
    if not token or st.session_state.get(SIGNED_OUT):
        return None
    with store.session() as session:
        user = remembered(session, token, signing_key())
        if user is None:
            return None
        person = st.session_state[PERSON] = Person(user.username, user.role)
    return person


def keep_cookie() -> None:
    """Write the cookie of a sign-in just made, or clear it after a sign-out, in the browser
    (a script in a frame of this page's origin: Streamlit sets no cookie from Python)."""
    token = st.session_state.pop(TO_REMEMBER, None)
    if token is not None:
        value, age = token, int(REMEMBERED.total_seconds())
    elif st.session_state.get(SIGNED_OUT) and st.context.cookies.get(COOKIE):
        value, age = "", 0
    else:
        return
    secure = " + (window.parent.location.protocol === 'https:' ? '; Secure' : '')"
    components.html(
        f"<script>window.parent.document.cookie = '{COOKIE}={value}; Path=/; "
        f"Max-Age={age}; SameSite=Strict'{secure};</script>",
        height=0,
    )


def sign_out() -> None:
    """Sign this session out (and out of single sign-on), and forget this browser."""
    st.session_state.pop(PERSON, None)
    st.session_state.pop(REFUSED, None)
    st.session_state.pop(TO_REMEMBER, None)
    st.session_state[SIGNED_OUT] = True
    if _sso_user() is not None:
        st.logout()
    st.rerun()


def account_menu(person: Person) -> None:
    """Show who is signed in, top right, and the way to sign out."""
    _, right = st.columns([5, 1])
    with right.popover(person.name, icon=":material/account_circle:", width="stretch"):
        st.caption(f"Signed in as **{person.name}** ({person.role or 'operator'})")
        if st.button("Sign out", icon=":material/logout:", key="trueup.sign_out"):
            sign_out()


def sign_in_page() -> None:
    """The sign-in page: a local account's username and password, and a button per single
    sign-on provider; or, for a person signed in by single sign-on no admin has let in, why."""
    st.title("Sign in to TrueUp")
    if REFUSED in st.session_state:
        refused = st.session_state[REFUSED]
        st.error(
            f"**{refused} may not use TrueUp yet.** You signed in, but no admin has added you. "
            f"Ask an admin to run `trueup user add {refused} --role viewer --sso` (or "
            "approver, or admin), then sign in again."
            if refused
            else "**Your identity provider gave no e-mail address**, and TrueUp knows people "
            "by theirs. Ask your admin to add the `email` claim to TrueUp's app registration.",
            icon=":material/block:",
        )
        if st.button("Sign out", icon=":material/logout:"):
            sign_out()
        return
    store = workspace()
    with store.session() as session:
        local = has_local_accounts(session)
    if local:
        _password_form(store)
    offered = providers()
    if not local and not offered:
        st.error(
            "**Sign-in offers no way in.** `[auth]` in `.streamlit/secrets.toml` names no "
            "provider with a `client_id` (see the README's Sign-in section), and there is no "
            "local account: add one with `trueup user add NAME --role admin`.",
            icon=":material/error:",
        )
    for provider, label in offered:
        if st.button(f"Sign in with {label}", icon=":material/key:", key=f"trueup.sso.{provider}"):
            if provider:
                st.login(provider)
            else:
                st.login()


def _password_form(store: Store) -> None:
    with st.form("trueup.sign_in", enter_to_submit=True, width=420):
        username = st.text_input("Username", autocomplete="username")
        password = st.text_input("Password", type="password", autocomplete="current-password")
        submitted = st.form_submit_button("Sign in", type="primary")
    if not submitted:
        return
    with store.session() as session:
        if locked_out(session, username):
            st.error(
                f"**Too many refused sign-ins for this username**: wait {LOCKOUT_MINUTES} "
                "minutes and try again, or ask an admin to set a new password "
                "(`trueup user passwd NAME`).",
                icon=":material/lock_clock:",
            )
            return
        user = verify(session, username, password)
        if user is None:
            record_failed_sign_in(session, username)
        else:
            record_sign_in(session, user.username, "password")
            st.session_state[PERSON] = Person(user.username, user.role)
            st.session_state[TO_REMEMBER] = remember_token(user, signing_key())
            st.session_state.pop(SIGNED_OUT, None)
    if user is None:
        st.error(
            "**That username and password do not match an account.** Check both and try "
            "again; an admin can set a new password with `trueup user passwd NAME`.",
            icon=":material/error:",
        )
        return
    st.rerun()


def refused_page() -> None:
    """What every address shows when this server serves beyond this machine without sign-in."""
    _log_refusal()
    st.title("TrueUp is not served without sign-in")
    st.error(
        f"**This server listens on {st.get_option('server.address') or 'every address'}, "
        "not only on this machine, and no sign-in is configured**: anyone who can reach it "
        "could read and change the billing, so TrueUp shows nothing.\n\n"
        "Either configure sign-in (add an admin with `trueup user add NAME --role admin`, or "
        "single sign-on in `.streamlit/secrets.toml`: see the README's Sign-in section) and "
        "reload, or, knowing anyone who reaches it acts as the operator, restart with "
        f"`streamlit run app.py -- {ALLOW_FLAG}` (or {ALLOW_ENV}=1).",
        icon=":material/lock:",
    )


@cache
def _log_refusal() -> None:
    log.warning(
        "TrueUp serves no page: the server listens on %s, beyond 127.0.0.1, and no sign-in is "
        "configured. Add an admin (`trueup user add NAME --role admin`) or single sign-on "
        "([auth] in .streamlit/secrets.toml), or start with `streamlit run app.py -- %s`.",
        st.get_option("server.address") or "every address",
        ALLOW_FLAG,
    )


if __name__ == "__main__":
    # Opened at its address before app.py's router ran: let the router decide what to show.
    through_the_router()
