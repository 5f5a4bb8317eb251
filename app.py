"""TrueUp's router: the pages, registered explicitly, and where errors are shown."""

import logging

import streamlit as st

from errors import TrueUpError
from pages.workspace import routed, show_error

st.set_page_config(page_title="TrueUp", page_icon=":material/balance:", layout="wide")

page = st.navigation(
    [
        st.Page("pages/home.py", title="Home", icon=":material/home:", default=True),
        st.Page("pages/sync.py", title="Sync", icon=":material/sync:", url_path="sync"),
        st.Page("pages/mapping.py", title="Mapping", icon=":material/link:", url_path="mapping"),
        st.Page("pages/cards.py", title="Cards", icon=":material/style:", url_path="cards"),
        st.Page("pages/month.py", title="Month", icon=":material/bar_chart:", url_path="month"),
        st.Page(
            "pages/quick_reconcile.py", title="Quick reconcile", icon=":material/compare_arrows:"
        ),
        st.Page(
            "pages/settings.py", title="Settings", icon=":material/settings:", url_path="settings"
        ),
    ],
    position="top",
)
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
