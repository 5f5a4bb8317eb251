"""Cards: review every card of the month, spot-check the outliers, and approve, schedule or
dismiss them in bulk with the right effective date (DESIGN 4 and 6).

The filters and the grouping live in the address, so a link reproduces the view; the list or
tile view is remembered per user. Approved changes go out as CSV or Excel for the PSA, or
straight to a PSA synced by API (pages/card_apply.py).
"""

from __future__ import annotations

import io
from datetime import date

import polars as pl
import streamlit as st

from connectors.csv.export import write_changes
from pages.card_actions import selection_bar, undo_button
from pages.card_apply import outbox_area, writing_psa
from pages.card_grid import card_grid, payload_of
from pages.card_tiles import tiles
from pages.card_view import (
    GROUPINGS,
    STATUSES,
    TYPE_LABELS,
    Loaded,
    View,
    filtered,
    grid_rows,
    loaded_cards,
    money_text,
)
from pages.workspace import (
    open_workspace,
    plural,
    signed_in,
    through_the_router,
    unmapped_banner,
    workspace,
    workspace_url,
)
from store.access import Permission
from store.changes import approved_changes, export_changes
from store.prefs import get_pref, set_pref
from store.summary import state_key

ALL = "All vendors and distributors"
VIEW_PREF = "cards.view"
VIEWS = {"list": "List", "tiles": "Cards"}


@st.cache_data(max_entries=4, show_spinner="Working out the cards of the current snapshots…")
def load(url: str, key: str, today: date) -> Loaded:
    """Give back the cards of the workspace at `url` in the state `key`."""
    return loaded_cards(open_workspace(url), today)


@st.cache_data(max_entries=8, show_spinner=False)
def rows_of(url: str, key: str, today: date, view: View) -> tuple[str, int]:
    """Give back the grid's rows of a view and how many (cached: a click reruns the page)."""
    rows = grid_rows(filtered(load(url, key, today).cards, view), view.group)
    return payload_of(rows), rows.height


@st.cache_data(max_entries=2, show_spinner=False)
def change_files(url: str, key: str) -> tuple[pl.DataFrame, bytes, bytes]:
    """Give back the approved changes waiting for the PSA, and them as CSV and as Excel:
    written once per state of the workspace, not on every click."""
    changes = approved_changes(open_workspace(url))
    files = []
    for suffix in ("csv", "xlsx"):
        out = io.BytesIO()
        out.name = f"approved-changes.{suffix}"  # write_changes picks the format by name
        write_changes(changes, out)
        files.append(out.getvalue())
    return changes, files[0], files[1]


def filters(loaded: Loaded) -> View:
    """Show the filters, started from the address; give back the view and keep the address
    in step with it."""
    start = View.from_query(st.query_params.to_dict())
    first, second = st.columns([2, 2, 3]), st.columns([3, 2, 1])
    sources = [ALL, *loaded.sources]
    source = first[0].selectbox(
        "Vendor or distributor",
        sources,
        index=sources.index(start.source) if start.source in sources else 0,
        key="cards.source",
    )
    search = first[1].text_input(
        "Search", value=start.search, key="cards.search", placeholder="Account or service…"
    )
    types = second[0].multiselect(
        "Card type",
        list(TYPE_LABELS),
        default=list(start.types),
        format_func=TYPE_LABELS.__getitem__,
        key="cards.types",
    )
    statuses = second[1].multiselect(
        "Status", list(STATUSES), default=list(start.statuses), key="cards.statuses"
    )
    flagged = second[2].toggle("Flagged only", value=start.flagged, key="cards.flagged")
    group = first[2].segmented_control(
        "Group by",
        list(GROUPINGS),
        default=start.group or None,
        format_func=GROUPINGS.__getitem__,
        key="cards.group",
    )
    view = View(
        source="" if source == ALL else str(source),
        types=tuple(t for t in TYPE_LABELS if t in types),
        statuses=tuple(s for s in STATUSES if s in statuses),
        flagged=bool(flagged),
        search=search,
        group=group or "",
    )
    query = view.to_query()
    if st.query_params.to_dict() != query:
        st.query_params.from_dict(query)
    return view


def view_choice(store, user: str) -> str:
    """Give back "list" or "tiles": the user's choice, remembered in the database."""
    saved = get_pref(store, user, VIEW_PREF, "list") or "list"
    chosen = st.segmented_control(
        "View",
        list(VIEWS),
        default=saved if saved in VIEWS else "list",
        format_func=VIEWS.__getitem__,
        key="cards.view",
        label_visibility="collapsed",
    )
    chosen = chosen or "list"
    if chosen != saved:
        set_pref(store, user, VIEW_PREF, chosen)
    return chosen


def changes_out(url: str, key: str, user: str) -> None:
    """Offer the approved changes as CSV and Excel, and to mark them exported; or, when the PSA
    is an API source that takes changes back, the outbox and Apply to PSA."""
    psa = writing_psa(workspace())
    if psa is not None:
        outbox_area(workspace(), user, psa)
        return
    changes, csv_file, excel_file = change_files(url, key)
    count = changes.height
    with st.expander(f"Approved changes to apply in the PSA: {count:,}", icon=":material/output:"):
        if not count:
            st.caption("No approved change waits for the PSA.")
            return
        if not signed_in().can(Permission.EXPORT_CHANGES):
            st.caption("Approvers and admins download the approved changes and mark them exported.")
            return
        st.caption(
            "Download them to apply in the PSA, then mark them exported so that they go out once."
        )
        csv, excel, mark = st.columns(3)
        stamp = f"{date.today():%Y-%m-%d}"
        csv.download_button(
            "Download as CSV",
            csv_file,
            file_name=f"approved-changes-{stamp}.csv",
            mime="text/csv",
            key="cards.download.csv",
            icon=":material/download:",
        )
        excel.download_button(
            "Download as Excel",
            excel_file,
            file_name=f"approved-changes-{stamp}.xlsx",
            mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            key="cards.download.xlsx",
            icon=":material/download:",
        )
        if mark.button("Mark them exported", key="cards.export", icon=":material/task_alt:"):
            # Only the changes offered here: one approved since is not marked gone out unseen.
            exported = export_changes(workspace(), user=user, only=changes)
            st.session_state["cards.flash"] = (
                f"Marked {plural(exported.height, 'change')} exported.",
                [],
            )
            st.rerun()


through_the_router()
url = workspace_url()
opened = workspace()
user = signed_in().name
today = date.today()
# Working the cards out saves the maps made by exact name (DESIGN 4.1), which moves the state
# on once after a sync: read it again, so that the next click finds the same grid.
for _ in range(2):
    with opened.session() as session:
        key = state_key(session)
    loaded = load(url, key, today)
    with opened.session() as session:
        if state_key(session) == key:
            break

st.title("Cards")
# Always there, empty or not, so that the elements below keep their place between runs.
with st.container():
    flash = st.session_state.pop("cards.flash", None)
    if flash:
        message, refused = flash
        st.success(message, icon=":material/check:")
        if refused:
            st.warning(
                f"**{plural(len(refused), 'card was', 'cards were')} left as they were:**\n\n"
                + "\n".join(f"- {line}" for line in refused[:50]),
                icon=":material/group:",
            )
unmapped_banner(loaded.unmapped_accounts, loaded.unmapped_products)

view = filters(loaded)
shown = filtered(loaded.cards, view)
head = st.columns([3, 2, 2], vertical_alignment="center")
net = shown.get_column("monthly_value").sum()
head[0].markdown(f"**{plural(shown.height, 'card')}** · net {money_text(net)} a month")
with head[1]:
    mode = view_choice(opened, user)
deciding = signed_in().can(Permission.DECIDE)
if deciding:
    undo_button(opened, user, head[2])

version = st.session_state.get("cards.version", 0)
if mode == "tiles":
    keys = tiles(shown, version)
else:
    # A grid reads its rows once: new rows (a new view, any decision) make a new grid.
    payload, count = rows_of(url, key, today, view)
    keys = card_grid(payload, count, key=f"cards.grid.{version}.{view.id}.{key[:12]}")
selected = shown.filter(pl.col("key").is_in(keys)) if keys else shown.clear()
if deciding:
    selection_bar(opened, user, selected, loaded.cards, loaded.psa_lines)
else:
    st.caption("Approvers and admins decide cards.")
changes_out(url, key, user)
