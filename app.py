"""TrueUp's router: the pages, registered explicitly, and the shared page setup."""

import streamlit as st

st.set_page_config(page_title="TrueUp", page_icon=":material/balance:", layout="wide")

pages = st.navigation(
    [
        st.Page(
            "pages/quick_reconcile.py",
            title="Quick reconcile",
            icon=":material/compare_arrows:",
            url_path="quick-reconcile",
        ),
    ]
)
pages.run()
