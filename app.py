"""TrueUp's router: the sign-in gate, the pages each role may use, and where errors are shown."""

import logging
from collections.abc import Callable
from functools import partial

import streamlit as st

from errors import TrueUpError
from pages import signin
from pages.workspace import Person, routed, show_error, signed_in, workspace
from store.access import Permission

st.set_page_config(page_title="TrueUp", page_icon=":material/balance:", layout="wide")


def gate() -> tuple[Person, bool] | Callable[[], None]:
    """Give back who uses this session and whether they signed in (else they are the operator:
    sign-in is not configured), or the only page they may see: the sign-in page, or why this
    server serves no one."""
    try:
        store = workspace()
        if not signin.configured(store):
            return signin.refused_page if signin.unauthenticated_refused() else (signed_in(), False)
        person = signin.current_person(store)
        return signin.sign_in_page if person is None else (person, True)
    except TrueUpError as error:  # the store cannot be opened: nothing to show but why
        return partial(show_error, error)


def pages_for(person: Person) -> list[st.Page]:
    """Give back the pages `person` may use: Settings (sources, credentials, the workspace)
    only for an admin."""
    pages = [
        st.Page("pages/home.py", title="Home", icon=":material/home:", default=True),
        st.Page("pages/sync.py", title="Sync", icon=":material/sync:", url_path="sync"),
        st.Page("pages/mapping.py", title="Mapping", icon=":material/link:", url_path="mapping"),
        st.Page("pages/cards.py", title="Cards", icon=":material/style:", url_path="cards"),
        st.Page("pages/month.py", title="Month", icon=":material/bar_chart:", url_path="month"),
        st.Page(
            "pages/quick_reconcile.py", title="Quick reconcile", icon=":material/compare_arrows:"
        ),
        st.Page("pages/audit.py", title="Audit", icon=":material/history:", url_path="audit"),
    ]
    if person.can(Permission.SETTINGS):
        pages.append(
            st.Page(
                "pages/settings.py",
                title="Settings",
                icon=":material/settings:",
                url_path="settings",
            )
        )
    return pages


admitted = gate()
if not isinstance(admitted, tuple):
    # Only that page, and no menu: a session that may not go further reaches nothing else.
    # It answers at every page's address, so that a link to one opens it rather than a "page
    # not found", and after signing in the person lands on the page they asked for.
    everywhere = [p.url_path for p in pages_for(Person("", None)) if p.url_path]
    gated = [st.Page(admitted, title="TrueUp", default=True)]
    gated += [st.Page(admitted, title="TrueUp", url_path=path) for path in everywhere]
    signin.keep_cookie()  # a sign-out forgets this browser
    st.navigation(gated, position="hidden").run()
    st.stop()

person, signed_in_here = admitted
page = st.navigation(pages_for(person), position="top")
if signed_in_here:
    signin.keep_cookie()  # a sign-in just made keeps this browser signed in
    signin.account_menu(person)
try:
    with routed():
        page.run()
except TrueUpError as error:
    show_error(error)
except Exception as error:
    # A bug, not the user's doing: the traceback goes to the server log, not to the page.
    logging.getLogger("trueup").exception("the %s page failed", page.title)
    st.error(
        f"**Something unexpected went wrong** ({type(error).__name__}: {error}).\n\n"
        "Reload the page to try again; the server log has the details for a bug report.",
        icon=":material/error:",
    )
