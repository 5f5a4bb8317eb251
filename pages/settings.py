"""Settings: the workspace's own settings, what this install is configured with, and the demo."""

from __future__ import annotations

import streamlit as st

import settings
from pages.sources import api_sources
from pages.workspace import signed_in, through_the_router, workspace, workspace_url
from store import reset_demo, shown_url
from store.access import Permission
from store.config import REGISTRY, get_setting, set_setting


def settings_form(stored: dict[str, str]) -> None:
    """The workspace's settings, to change (admins)."""
    with st.form("workspace-settings"):
        keep = st.number_input(
            "Good snapshots kept per source (besides each month's last)",
            min_value=1,
            max_value=100,
            value=int(stored["keep_snapshots"]),
            help=REGISTRY["keep_snapshots"].help,
        )
        if st.form_submit_button("Save", icon=":material/save:"):
            if str(keep) != stored["keep_snapshots"]:
                with workspace().session() as session:
                    set_setting(session, "keep_snapshots", str(keep), signed_in().name)
                st.success("Saved. Older snapshots are pruned after the next sync.")
            else:
                st.info("Nothing changed.")


def demo_section() -> None:
    """Put the demo workspace back, after a confirmation (admins)."""
    st.subheader("Demo workspace")
    st.write(
        "Put the demo back: a fictional MSP with a year of syncs, maps, decisions and closed "
        "months. **This deletes everything in this workspace** (sources, syncs, maps, "
        "decisions; not the people who sign in, nor the audit log, which keeps every entry) "
        "before seeding the demo again."
    )
    confirmed = st.checkbox("I understand that everything in this workspace will be deleted")
    if st.button(
        "Restore the demo workspace", disabled=not confirmed, icon=":material/restart_alt:"
    ):
        with st.spinner("Restoring the demo workspace…"):
            reset_demo(workspace(), user=signed_in().name)
        st.cache_data.clear()
        st.success("The demo workspace is back. Home shows where its month stands.")


through_the_router()

st.title("Settings")
opened = workspace()

st.subheader("Workspace")
with opened.session() as session:
    stored = {name: get_setting(session, name) for name in REGISTRY}
admin = signed_in().can(Permission.SETTINGS)
if admin:
    settings_form(stored)
else:
    st.markdown(f"Good snapshots kept per source: **{stored['keep_snapshots']}**")
    st.caption("Admins change the workspace's settings and restore the demo workspace.")

api_sources(opened)

st.subheader("This install")
st.caption(
    "Set in the environment of the server (or `.streamlit/secrets.toml`), read at start; "
    "the README lists them."
)
st.dataframe(
    [
        {"setting": "DATABASE_URL", "value": shown_url(workspace_url())},
        *(
            {"setting": s.env, "value": settings.get(s.name), "meaning": s.help}
            for s in settings.REGISTRY.values()
        ),
    ],
    hide_index=True,
    width="stretch",
)

if admin:
    demo_section()
