"""Mapping: bring both unmapped counts to zero, by suggestion, by hand or by file.

Each vendor account and service (SKU) either maps to a PSA account or product, or is excluded
with a reason; until then its usage reaches no card. Every action can be undone.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import polars as pl
import streamlit as st

from engine.suggest import OFFER_AT
from pages.workspace import (
    ago,
    open_workspace,
    plural,
    signed_in,
    through_the_router,
    workspace,
    workspace_url,
)
from store import import_maps
from store.access import Permission
from store.map_lists import KindLists, MapLists, map_lists
from store.mapping import (
    accept_suggestions,
    exclude_items,
    export_maps,
    last_map_action,
    map_items,
    undo_map_action,
    unmap_items,
)
from store.summary import state_key


@dataclass(frozen=True)
class Kind:
    key: str
    """"account" or "product": the store's name."""
    one: str
    many: str
    psa: str
    reasons: tuple[str, ...]
    """Reasons offered for an exclusion; any other can be typed."""


ACCOUNTS = Kind(
    "account",
    "account",
    "accounts",
    "PSA account",
    ("Internal tenant (our own)", "Test or demo tenant", "Customer billed directly by the vendor"),
)
SERVICES = Kind(
    "product",
    "service",
    "services",
    "PSA product",
    (
        "Trial SKU",
        "Free SKU: never billed",
        "Customer pays the vendor directly",
        "Included in a bundle",
    ),
)
ALL = "All vendors and distributors"


@st.cache_data(max_entries=4, show_spinner="Working out the unmapped items and suggestions…")
def lists(url: str, key: str) -> MapLists:
    """Give back the Mapping page's lists of the workspace at `url` in the state `key`."""
    return map_lists(open_workspace(url))


def selection_key(kind: Kind, part: str) -> str:
    """Give back the key of a table's selection; it changes after every action, so that a
    selection never outlives the rows it was made on."""
    return f"{kind.key}.{part}.{st.session_state.get('mapping.version', 0)}"


def selectable(frame: pl.DataFrame, kind: Kind, part: str, columns: dict[str, Any]) -> None:
    """Show a table whose rows can be selected (read back with `selected`)."""
    st.dataframe(
        frame,
        key=selection_key(kind, part),
        on_select="rerun",
        selection_mode="multi-row",
        hide_index=True,
        width="stretch",
        column_config=columns,
    )


def selected(frame: pl.DataFrame, kind: Kind, part: str) -> pl.DataFrame:
    """Give back the rows of `frame` selected in its table."""
    state = st.session_state.get(selection_key(kind, part))
    rows = list(state["selection"]["rows"]) if state else []
    return frame[[r for r in rows if r < frame.height]] if rows else frame.clear()


def done(message: str) -> None:
    """Say what an action did on the next run, and let every table start unselected."""
    st.session_state["mapping.flash"] = message
    st.session_state["mapping.version"] = st.session_state.get("mapping.version", 0) + 1
    st.rerun()


def for_source(frame: pl.DataFrame, source: str) -> pl.DataFrame:
    """Give back the rows of one vendor or distributor (every row for ALL)."""
    if source == ALL:
        return frame
    return frame.filter((pl.col("vendor") == source) | (pl.col("distributor") == source))


def searched(frame: pl.DataFrame, text: str, columns: list[str]) -> pl.DataFrame:
    """Give back the rows where any of `columns` holds `text` (case-insensitive)."""
    if not text.strip():
        return frame
    needle = text.strip().lower()
    return frame.filter(
        pl.any_horizontal(
            pl.col(c).cast(pl.String).str.to_lowercase().str.contains(needle, literal=True)
            for c in columns
        ).fill_null(False)
    )


def psa_choice(kind: Kind, psa_items: pl.DataFrame, key: str) -> str | None:
    """Give back the PSA item picked in a searchable list (type to search), if any."""
    options = psa_items.get_column("psa_id").to_list()
    names = dict(zip(options, psa_items.get_column("psa_name").to_list(), strict=True))
    return st.selectbox(
        f"Map to {kind.psa}",
        options,
        index=None,
        key=key,
        format_func=lambda psa_id: f"{names[psa_id] or '(no name)'} · {psa_id}",
        placeholder=f"Type to search {len(options):,} {kind.psa}s…",
    )


def exclusion_reason(kind: Kind, key: str) -> str | None:
    """Give back the reason picked or typed for an exclusion."""
    return st.selectbox(
        "Reason",
        kind.reasons,
        index=None,
        key=key,
        accept_new_options=True,
        placeholder="Pick or type a reason…",
    )


def unmapped_section(kind: Kind, rows: pl.DataFrame, psa_items: pl.DataFrame) -> None:
    if rows.is_empty():
        st.success(
            f"No unmapped {kind.many}: all their usage reaches the cards.",
            icon=":material/check_circle:",
        )
        return
    columns = {
        "vendor": "Vendor",
        "vendor_name": f"Vendor {kind.one}",
        "psa_name": f"Suggested {kind.psa}",
        "score": st.column_config.ProgressColumn(
            "Confidence",
            min_value=0,
            max_value=100,
            format="%d",
            help="How sure the suggestion is, 0 to 100.",
        ),
        "reason": st.column_config.TextColumn("Why", width="large"),
        "quantity": st.column_config.NumberColumn("Quantity", format="%.4g"),
        **(
            {"accounts": st.column_config.NumberColumn("Accounts using it")}
            if kind is SERVICES
            else {}
        ),
        "first_seen": st.column_config.DatetimeColumn("First seen", format="YYYY-MM-DD"),
        "vendor_id": st.column_config.TextColumn("Id", width="small"),
    }
    shown = rows.with_columns(pl.col("quantity").cast(pl.Float64))
    selectable(shown.select(list(columns)), kind, "unmapped", columns)
    chosen = selected(rows, kind, "unmapped")
    if not signed_in().can(Permission.MAP):
        st.caption(f"Approvers and admins map and exclude {kind.many}.")
        return
    if chosen.is_empty():
        st.caption(f"Select {kind.many} in the table (the first column) to map or exclude them.")
    else:
        with_suggestion = chosen.filter(pl.col("psa_id").is_not_null())
        st.markdown(f"**{plural(chosen.height, kind.one + ' selected', kind.many + ' selected')}**")
        accept, pick, exclude = st.columns(3, border=True)
        with accept:
            st.markdown("**Accept the suggestion**")
            st.caption(f"{with_suggestion.height:,} of the selected have one.")
            if st.button(
                f"Accept {plural(with_suggestion.height, 'suggestion')}",
                key=f"{kind.key}.accept",
                disabled=with_suggestion.is_empty(),
                type="primary",
                icon=":material/done_all:",
            ):
                action = accept_suggestions(
                    workspace(), kind.key, with_suggestion, user=signed_in().name
                )
                done(f"Mapped {plural(action.items, kind.one)} as suggested.")
        with pick:
            psa_id = psa_choice(kind, psa_items, f"{kind.key}.pick")
            if st.button(
                "Map", key=f"{kind.key}.map", disabled=psa_id is None, icon=":material/link:"
            ):
                action = map_items(
                    workspace(), kind.key, chosen, str(psa_id), user=signed_in().name
                )
                done(f"Mapped {plural(action.items, kind.one)}.")
        with exclude:
            reason = exclusion_reason(kind, f"{kind.key}.reason")
            if st.button("Exclude", key=f"{kind.key}.exclude", icon=":material/block:"):
                action = exclude_items(workspace(), kind.key, chosen, reason, user=signed_in().name)
                its = "its" if action.items == 1 else "their"
                done(f"Excluded {plural(action.items, kind.one)}: {its} usage is ignored.")
    bulk_accept(kind, rows)


def bulk_accept(kind: Kind, rows: pl.DataFrame) -> None:
    """Accept every suggestion at or above a confidence the user picks, after a preview."""
    offered = rows.filter(pl.col("psa_id").is_not_null())
    if offered.is_empty():
        return
    with st.expander(
        f"Accept every suggestion at or above a confidence ({offered.height:,} offered)"
    ):
        floor = st.slider(
            "Confidence at least",
            min_value=OFFER_AT,
            max_value=100,
            value=90,
            key=f"{kind.key}.floor",
        )
        sure = offered.filter(pl.col("score") >= floor)
        st.dataframe(
            sure.select("vendor", "vendor_name", "psa_name", "score", "reason"),
            hide_index=True,
            width="stretch",
            column_config={
                "vendor": "Vendor",
                "vendor_name": f"Vendor {kind.one}",
                "psa_name": kind.psa,
                "score": "Confidence",
                "reason": "Why",
            },
        )
        if st.button(
            f"Accept these {plural(sure.height, 'suggestion')}",
            key=f"{kind.key}.accept_all",
            disabled=sure.is_empty(),
            icon=":material/done_all:",
        ):
            action = accept_suggestions(workspace(), kind.key, sure, user=signed_in().name)
            done(f"Mapped {plural(action.items, kind.one)} as suggested ({floor}+).")


def mapped_section(kind: Kind, rows: pl.DataFrame, psa_items: pl.DataFrame) -> None:
    search = st.text_input(
        "Search", key=f"{kind.key}.mapped.search", placeholder="Vendor, name or PSA name…"
    )
    shown = searched(rows, search, ["vendor", "vendor_name", "vendor_id", "psa_name", "psa_id"])
    selectable(
        shown.select(
            "vendor",
            "vendor_name",
            "vendor_id",
            "psa_name",
            "psa_id",
            pl.when("auto").then(pl.lit("auto")).otherwise(pl.lit("by hand")).alias("how"),
            "made_by",
            "made_at",
            pl.when("gone").then(pl.lit("gone")).otherwise(pl.lit("")).alias("gone"),
        ),
        kind,
        "mapped",
        {
            "vendor": "Vendor",
            "vendor_name": f"Vendor {kind.one}",
            "vendor_id": "Id",
            "psa_name": kind.psa,
            "psa_id": f"{kind.psa} id",
            "how": st.column_config.TextColumn("Made", help="auto: by exact name (DESIGN 4.1)."),
            "made_by": "By",
            "made_at": st.column_config.DatetimeColumn("When", format="YYYY-MM-DD HH:mm"),
            "gone": st.column_config.TextColumn(
                "Gone", help="No longer in its vendor's current data; the map is kept."
            ),
        },
    )
    chosen = selected(shown, kind, "mapped")
    if not signed_in().can(Permission.MAP):
        st.caption("Approvers and admins change and unmap maps.")
        return
    if chosen.is_empty():
        st.caption(
            "Select maps to change or unmap them. Many vendor items may map to one PSA item."
        )
        return
    change, unmap = st.columns(2, border=True)
    with change:
        psa_id = psa_choice(kind, psa_items, f"{kind.key}.change")
        if st.button(
            "Change",
            key=f"{kind.key}.change_button",
            disabled=psa_id is None,
            icon=":material/edit:",
        ):
            action = map_items(workspace(), kind.key, chosen, str(psa_id), user=signed_in().name)
            done(f"Changed {plural(action.items, 'map')}.")
    with unmap:
        st.caption("Unmapped items go back to the unmapped list and are not auto-mapped again.")
        if st.button(
            f"Unmap {plural(chosen.height, kind.one)}",
            key=f"{kind.key}.unmap",
            icon=":material/link_off:",
        ):
            action = unmap_items(workspace(), kind.key, chosen, user=signed_in().name)
            done(f"Unmapped {plural(action.items, kind.one)}.")


def excluded_section(kind: Kind, rows: pl.DataFrame) -> None:
    search = st.text_input(
        "Search", key=f"{kind.key}.excluded.search", placeholder="Vendor, name or reason…"
    )
    shown = searched(rows, search, ["vendor", "vendor_name", "vendor_id", "reason"])
    selectable(
        shown.select("vendor", "vendor_name", "vendor_id", "reason", "made_by", "made_at"),
        kind,
        "excluded",
        {
            "vendor": "Vendor",
            "vendor_name": f"Vendor {kind.one}",
            "vendor_id": "Id",
            "reason": "Reason",
            "made_by": "By",
            "made_at": st.column_config.DatetimeColumn("When", format="YYYY-MM-DD HH:mm"),
        },
    )
    chosen = selected(shown, kind, "excluded")
    if not signed_in().can(Permission.MAP):
        st.caption("Approvers and admins take exclusions back.")
    elif chosen.is_empty():
        st.caption("Select exclusions to take them back.")
    elif st.button(
        f"Un-exclude {plural(chosen.height, kind.one)}",
        key=f"{kind.key}.unexclude",
        icon=":material/undo:",
    ):
        action = unmap_items(workspace(), kind.key, chosen, user=signed_in().name)
        done(f"Un-excluded {plural(action.items, kind.one)}: they are unmapped again.")


def kind_tab(kind: Kind, kind_lists: KindLists, source: str) -> None:
    unmapped = for_source(kind_lists.unmapped, source)
    mapped = for_source(kind_lists.mapped, source)
    excluded = for_source(kind_lists.excluded, source)
    counts = st.columns([2, 1, 1])
    counts[0].metric(f"Unmapped {kind.many}", f"{unmapped.height:,}", border=True)
    counts[1].metric("Mapped", f"{mapped.height:,}")
    counts[2].metric("Excluded", f"{excluded.height:,}")
    part = st.segmented_control(
        "Show",
        ["Unmapped", "Mapped", "Excluded"],
        default="Unmapped",
        key=f"{kind.key}.part",
        label_visibility="collapsed",
    )
    if part == "Mapped":
        mapped_section(kind, mapped, kind_lists.psa_items)
    elif part == "Excluded":
        excluded_section(kind, excluded)
    else:
        unmapped_section(kind, unmapped, kind_lists.psa_items)
    gone_count = mapped.filter("gone").height + excluded.filter("gone").height
    if gone_count:
        with st.expander(
            f"Gone from the vendors' data: {plural(gone_count, kind.one)} (maps kept)"
        ):
            st.dataframe(
                pl.concat(
                    [
                        mapped.filter("gone").select("vendor", "vendor_id", "psa_name"),
                        excluded.filter("gone").select(
                            "vendor", "vendor_id", pl.lit("(excluded)").alias("psa_name")
                        ),
                    ]
                ),
                hide_index=True,
                width="stretch",
            )


@st.cache_data(max_entries=8, show_spinner=False)
def map_file(url: str, key: str, kind: str) -> tuple[str, int]:
    """Give back the map file of a kind and its rows, for the workspace at `url` in the state
    `key`: read once per state, not on every click that reruns the page."""
    frame = export_maps(open_workspace(url), kind)
    return frame.write_csv(), frame.height


def files_section(url: str, key: str) -> None:
    with st.expander("Maps as files: import or export", icon=":material/upload_file:"):
        st.caption(
            "Map files: `vendor, vendor_account_id, psa_account_id, excluded, reason` or "
            "`vendor, vendor_product_id, psa_product_id, excluded, reason`. An import is one "
            "action: Undo takes it back."
        )
        upload = (
            st.file_uploader(
                "Import a map file", type=["csv", "tsv", "txt", "xlsx"], key="mapping.upload"
            )
            if signed_in().can(Permission.MAP)
            else None
        )
        if upload is not None and st.button(
            "Import", key="mapping.import", icon=":material/upload:"
        ):
            result = import_maps(
                workspace(), upload.getvalue(), name=upload.name, user=signed_in().name
            )
            noun = "account" if result.kind == "account" else "service"
            done(
                f"Imported {upload.name}: {plural(result.added, noun + ' map')} added, "
                f"{result.changed:,} changed, {result.unchanged:,} unchanged."
            )
        left, right = st.columns(2)
        for column, kind in ((left, ACCOUNTS), (right, SERVICES)):
            text, rows = map_file(url, key, kind.key)
            column.download_button(
                f"Download the {kind.one} map ({rows:,} rows)",
                text,
                file_name=f"{kind.key}-map.csv",
                mime="text/csv",
                key=f"{kind.key}.download",
                icon=":material/download:",
            )


through_the_router()
url = workspace_url()
opened = workspace()
with opened.session() as session:
    key = state_key(session)
found = lists(url, key)

st.title("Mapping")
st.caption(
    "Map each vendor account to a PSA account and each vendor service to a PSA product, or "
    "exclude it. Until then its usage reaches no card."
)
# Always there, empty or not, so that the elements below keep their place between runs
# (a table's selection and the open tab are kept by place).
with st.container():
    flash = st.session_state.pop("mapping.flash", None)
    if flash:
        st.success(flash, icon=":material/check:")

top = st.columns([3, 2], vertical_alignment="bottom")
source = top[0].selectbox("Vendor or distributor", [ALL, *found.sources], key="mapping.source")
last = last_map_action(opened, signed_in().name) if signed_in().can(Permission.MAP) else None
if last is not None and top[1].button(
    f"Undo: {last.describe()}",
    key="mapping.undo",
    icon=":material/undo:",
    help=f"Your last change to maps, made {ago(last.made_at, datetime.now(UTC))}.",
):
    undone = undo_map_action(opened, user=signed_in().name)
    kept = (
        f" ({plural(undone.skipped, 'item')} left as changed since by someone else)"
        if undone and undone.skipped
        else ""
    )
    done(f"Undone: {undone.describe() if undone else 'nothing'}{kept}.")

st.markdown(
    f"**Unmapped: {plural(found.accounts.unmapped.height, 'account')} · "
    f"{plural(found.products.unmapped.height, 'service')}**"
)
# Fixed labels and a key: the tab a user is on stays open while counts change under it.
accounts_tab, services_tab = st.tabs(["Accounts", "Services"], key="mapping.tab")
with accounts_tab:
    kind_tab(ACCOUNTS, found.accounts, source)
with services_tab:
    kind_tab(SERVICES, found.products, source)

renamed = found.renamed
if not renamed.is_empty():
    with st.expander(
        f"Renamed since the last sync: {renamed.height:,} (maps hold: they are keyed by ids)"
    ):
        st.dataframe(
            renamed,
            hide_index=True,
            width="stretch",
            column_config={
                "side": "What",
                "source": "Source",
                "id": "Id",
                "old_name": "Was",
                "new_name": "Now",
            },
        )
files_section(url, key)
