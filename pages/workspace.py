"""What the pages share: the store of this process, and how money and errors are shown.

Not a page: app.py registers its pages by hand, so this file in pages/ is never one.
"""

from __future__ import annotations

import runpy
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import streamlit as st

import settings
import store
from errors import InputError, TrueUpError
from store import SourceState, Store, StoreUnavailable
from store.access import Permission, allows
from store.audit import current_user
from store.models import SyncRun
from store.summary import refresh_summary
from store.types import Role

APP = Path(__file__).resolve().parent.parent / "app.py"
_ROUTED: ContextVar[bool] = ContextVar("routed", default=False)

NEXT_STEPS: dict[type[TrueUpError], str] = {
    StoreUnavailable: (
        "Set DATABASE_URL to a database this server can reach (or unset it to use "
        "data/trueup.db), then restart the app."
    ),
    InputError: "Correct the file, or its columns on the Sync page, and upload it again.",
}


PERSON = "trueup.person"
"""Where the sign-in gate (app.py) keeps the person this browser session signed in as."""


@dataclass(frozen=True)
class Person:
    """Who uses this browser session, and their role (None: the install's operator, when
    sign-in is not configured; store.access)."""

    name: str
    role: Role | None = None

    def can(self, permission: Permission) -> bool:
        return allows(self.role, permission)


def signed_in() -> Person:
    """Give back the person this session signed in as; with sign-in not configured, the
    install's operator (`TRUEUP_USER`, else the server's user), who may do everything."""
    found = st.session_state.get(PERSON)
    return found if isinstance(found, Person) else Person(current_user())


@contextmanager
def routed() -> Iterator[None]:
    """Mark the page run inside the block as run by app.py's router."""
    token = _ROUTED.set(True)
    try:
        yield
    finally:
        _ROUTED.reset(token)


def through_the_router() -> None:
    """Run this page through app.py's router if Streamlit started it on its own.

    Until a first run of app.py has called st.navigation, Streamlit treats a `pages/` folder
    as a legacy multipage app: the first visitor after a restart who opens a page's address
    (say /sync) gets that file run alone, with every file of the folder listed as a page.
    Running app.py from here lets the router take over and run the page properly.
    """
    if _ROUTED.get():
        return
    runpy.run_path(str(APP), run_name="__main__")
    st.stop()


@st.cache_resource(show_spinner="Opening the workspace…")
def open_workspace(url: str) -> Store:
    """Give back the store at `url`, opened once per process: migrated, and on an empty
    database seeded with the demo month, so that a new install opens on a working app."""
    opened = store.open_store(url)
    if store.ensure_demo(opened) is not None:
        # Worked out now, while the app starts, rather than on Home's first render.
        refresh_summary(opened)
    return opened


def workspace_url() -> str:
    """Give back the address of this install's store (DATABASE_URL, else data/trueup.db)."""
    return store.database_url()


def workspace() -> Store:
    """Give back this install's store."""
    return open_workspace(workspace_url())


def money(amount: Decimal | None) -> str:
    """Give back an amount as the pages write money: `1,234.50 USD`."""
    return f"{amount or 0:,.2f} {settings.get('currency')}"


def plural(count: int, noun: str, nouns: str | None = None) -> str:
    """Give back `1 card`, `2 cards`: a count and its noun, in the number it needs."""
    return f"{count:,} {noun if count == 1 else nouns or noun + 's'}"


def ago(then: datetime, now: datetime) -> str:
    """Give back how long ago `then` was, as a person says it: `3 hours ago`, `2 days ago`."""
    seconds = max(0, int((now - then).total_seconds()))
    for unit, size in (("day", 86_400), ("hour", 3_600), ("minute", 60)):
        if seconds >= size:
            count = seconds // size
            if unit == "day" and count == 1:
                return "yesterday"
            return f"{plural(count, unit)} ago"
    return "just now"


@dataclass(frozen=True)
class Synced:
    """One thing a source syncs (its lines or usage, or the PSA's catalogue) and its syncs."""

    name: str
    good: SyncRun | None
    last: SyncRun | None
    catalogue: bool = False


def synced_by(state: SourceState) -> list[Synced]:
    """Give back what a source syncs, each with its last good and last sync: its lines or
    usage, and for the PSA its catalogue too (synced apart, with its own snapshot)."""
    synced = [Synced(state.name, state.last_good, state.last)]
    if state.catalog is not None:
        synced.append(Synced(f"{state.name} (catalogue)", state.catalog, state.catalog, True))
    return synced


def unmapped_banner(accounts: int, products: int) -> None:
    """Show both unmapped counts and the way to the Mapping page, while either is above zero:
    their usage reaches no card until they are mapped or excluded."""
    if not accounts and not products:
        return
    with st.container(border=True):
        text, link = st.columns([4, 1], vertical_alignment="center")
        text.warning(
            f"**{plural(accounts, 'vendor account')} and {plural(products, 'service')} "
            "unmapped**: their usage reaches no card until each is mapped or excluded.",
            icon=":material/link_off:",
        )
        link.page_link("pages/mapping.py", label="Clear them on Mapping", icon=":material/link:")


MARKUP_STARTS = "\\`*_[]<>~$|"
"""What turns text into Markdown (or, `$`, a formula) where Streamlit renders it."""


def as_text(message: str) -> str:
    """Give back a message holding a file's or a vendor's text (a cell, a name) with what would
    render as Markdown escaped, and its punctuation otherwise as written."""
    return "".join(f"\\{c}" if c in MARKUP_STARTS else c for c in message)


def show_error(error: TrueUpError) -> None:
    """Show an error as the user can act on it: what happened, and the next step."""
    message = str(error).replace("\n", "  \n")
    next_step = next((s for kind, s in NEXT_STEPS.items() if isinstance(error, kind)), None)
    text = f"**{error.title}**\n\n{message}"
    if next_step:
        text += f"\n\n{next_step}"
    st.error(text, icon=":material/error:")
