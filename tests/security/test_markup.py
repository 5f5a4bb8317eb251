"""Names from PSA exports and vendors' files render as text on every page, never as markup.

The hostile month (see conftest) names accounts, products, contracts and vendors as HTML, a
script, Markdown emphasis, a colour directive and a javascript: link. AppTest gives each
element's Markdown source as the browser receives it: every place Streamlit renders Markdown
(bodies, captions, alerts, labels, help, options of radios and pills) must hold the names
escaped. The browser test (test_markup_browser.py) checks the DOM itself."""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest
import streamlit as st
from google.protobuf.message import Message
from streamlit.testing.v1 import AppTest

import store
from pages.card_tiles import escaped
from store import Store, current_cards, open_store
from store.cards import is_open
from tests.conftest import ROOT
from tests.fakes.server import Request
from tests.security.conftest import BOLD, LINK, MARKUP, SCRIPT, XSS, load_hostile

RAW = re.compile(r"(?<!\\)<(img|script)|(?<!\\)\*\*bold|:red\[x|(?<!\\)\[link\]\(")
"""What a hostile name's Markdown source holds only when it was not escaped."""
MARKDOWN_FIELDS = ("body", "label", "help", "placeholder")
"""Fields of an element's message that Streamlit renders as Markdown."""
MARKDOWN_OPTIONS = ("radio", "button_group")
"""Widgets whose options Streamlit renders as Markdown."""


@pytest.fixture
def workspace(hostile: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Store]:
    """Give the app's store, set as its DATABASE_URL: the hostile month, no demo."""
    url = f"sqlite:///{tmp_path / 'trueup.db'}"
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setattr(store, "ensure_demo", lambda *args, **kwargs: None, raising=False)
    opened = open_store(url)
    load_hostile(opened, hostile)
    yield opened
    opened.dispose()
    st.cache_resource.clear()
    st.cache_data.clear()


def markdown_sources(message: Message) -> Iterator[str]:
    """Give every text of `message` (and the messages in it) that Streamlit renders as
    Markdown."""
    for field, value in message.ListFields():
        if field.name in MARKDOWN_FIELDS and isinstance(value, str):
            yield value
        elif field.name == "options" and message.DESCRIPTOR.name.lower() in MARKDOWN_OPTIONS:
            yield from (o if isinstance(o, str) else getattr(o, "content", "") for o in value)
        elif field.message_type is not None:
            values = value if isinstance(value, Sequence) else [value]
            for item in values:
                if isinstance(item, Message):
                    yield from markdown_sources(item)


def rendered(at: AppTest) -> list[str]:
    """Give the Markdown sources of every element and block on the page as AppTest sees it."""
    sources: list[str] = []

    def walk(node: object) -> None:
        proto = getattr(node, "proto", None)
        if isinstance(proto, Message):
            sources.extend(markdown_sources(proto))
        children = getattr(node, "children", {})
        for child in children.values() if isinstance(children, dict) else children:
            walk(child)

    walk(at._tree)
    return sources


def unescaped(text: str) -> str:
    return re.sub(r"\\(.)", r"\1", text)


def check(at: AppTest, *expected: str) -> None:
    """Check that no Markdown on the page holds a hostile name unescaped, and that the
    `expected` names are on it (escaped), so that the page was checked with them shown."""
    assert not at.exception, at.exception
    sources = rendered(at)
    leaks = [s for s in sources if RAW.search(s)]
    assert leaks == []
    shown = "\n".join(unescaped(s) for s in sources)
    missing = [name for name in expected if name not in shown]
    assert missing == []


def opened(page: str, query: dict[str, str] | None = None) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    for name, value in (query or {}).items():
        at.query_params[name] = value
    at.run()
    at.switch_page(page).run()
    return at


def test_home_shows_names_as_text(workspace: Store) -> None:
    check(opened("pages/home.py"))


def test_sync_shows_vendor_names_as_text(workspace: Store) -> None:
    check(opened("pages/sync.py"))


def test_mapping_shows_unmapped_names_as_text(workspace: Store) -> None:
    check(opened("pages/mapping.py"))


def test_cards_list_with_a_card_selected_shows_names_as_text(workspace: Store) -> None:
    from tests.pages.test_cards import select

    at = opened("pages/cards.py")
    check(at)
    select(at, workspace, ["400:M365BP"])  # the account named as HTML, its product as a formula
    check(at)
    cards = current_cards(workspace).cards.filter(is_open())
    select(at, workspace, [f"{a}:{p}" for a, p in cards.select("account_id", "product_id").rows()])
    check(at)


def test_cards_tiles_with_a_card_ticked_show_names_as_text(workspace: Store) -> None:
    at = opened("pages/cards.py")
    at.segmented_control(key="cards.view").set_value("tiles").run()
    check(at, XSS, BOLD, LINK)
    for box in at.checkbox:
        if box.key and box.key.startswith("cards.tile."):
            box.check()
    at.run()
    check(at, XSS, BOLD, LINK)


def test_month_shows_vendor_names_as_text(workspace: Store) -> None:
    from store.decisions import decide_cards
    from store.types import Action

    cards = current_cards(workspace).cards.filter(is_open())
    decide_cards(workspace, cards, Action.APPROVE, user="ann")

    check(opened("pages/month.py"), XSS)


def test_audit_log_shows_names_as_text(workspace: Store) -> None:
    check(opened("pages/audit.py"))


def test_settings_shows_names_as_text(workspace: Store) -> None:
    check(opened("pages/settings.py"))


def test_the_check_finds_a_name_left_unescaped() -> None:
    # Guards the checks above: each hostile name, written as it is, counts as a leak.
    for name in MARKUP:
        assert RAW.search(name), name
        assert not RAW.search(escaped(name)), name
    assert SCRIPT in unescaped("\\<script\\>alert\\(2\\)\\</script\\>")


def test_an_uploaded_file_s_headers_and_values_show_as_text(workspace: Store) -> None:
    from tests.pages.test_sync import new_vendor, upload

    at = opened("pages/sync.py")
    new_vendor(at, "acme-portal")
    hostile = (
        f"vendor,account_id,account_name,product_id,product_name,quantity,{BOLD}\n"
        f"acme-portal,a-1,{XSS},P-1,{LINK},{SCRIPT},x\n"
    )
    upload(at, "usage.csv", hostile.encode())
    check(at)


def test_quick_reconcile_s_error_echoing_a_cell_shows_it_as_text(workspace: Store) -> None:
    from tests.pages.test_quick_reconcile import upload

    at = opened("pages/quick_reconcile.py")
    psa, usage, _, _ = at.file_uploader
    psa.set_value(upload("psa.csv"))
    usage.set_value(
        ("usage.csv", f"vendor,customer,sku,qty\npax8,Acme,M365,{BOLD}\n".encode(), "text/csv")
    )
    at.run()

    assert at.error  # the bad quantity is reported, its text as written
    check(at, BOLD)


class Refusing:
    """A vendor API that signs in, then refuses every request, saying why in markup."""

    def handle(self, request: Request) -> tuple[int, object]:
        if request.path.endswith("/token"):
            return 200, {"access_token": "t", "expires_in": 3600, "token_type": "Bearer"}
        return 400, {"message": f"{BOLD} {LINK} {XSS}"}


def test_a_failed_sync_quoting_the_vendor_shows_its_words_as_text(
    workspace: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    from errors import TrueUpError
    from store.credentials import new_key
    from store.sources import add_source
    from store.sync import sync_source
    from store.types import now
    from tests.fakes.server import serving

    monkeypatch.setenv("TRUEUP_SECRET_KEY", new_key())
    with serving(Refusing()) as url:
        values = {"client_id": "c", "client_secret": "s", "base_url": f"{url}/v1",
                  "token_url": f"{url}/oauth/token"}  # fmt: skip
        with workspace.session() as session:
            add_source(session, "portal", "pax8", values, user="ann", at=now())
        with pytest.raises(TrueUpError, match="bold"):
            sync_source(workspace, "portal", mode="full", user="ann")

    check(opened("pages/sync.py"), BOLD)


def test_a_failed_connection_test_quoting_the_vendor_shows_its_words_as_text(
    workspace: Store,
) -> None:
    from tests.fakes.server import serving
    from tests.pages.test_settings import settings_page
    from tests.pages.test_sources import fill, press

    with serving(Refusing()) as url:
        at = settings_page()
        fill(at, {"name": "psa", "base_url": url, "company_id": "acme", "public_key": "p",
                  "private_key": "k", "client_id": "c"})  # fmt: skip
        press(at, "Test connection")

    assert at.error
    check(at, BOLD)
