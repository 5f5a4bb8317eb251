"""Sync: the API sources and their syncs, every source with its last sync, and the wizard that
syncs a CSV source from a file.

The wizard checks the whole file before anything is stored: a file with a bad row stores
nothing. Each good import becomes the source's new snapshot; its history stays.
"""

from __future__ import annotations

from datetime import UTC, datetime

import polars as pl
import streamlit as st

from errors import InputError
from pages.api_sync import show_api_sources
from pages.card_tiles import escaped
from pages.uploads import (
    FIELD_LABELS,
    FILE_TYPES,
    Checked,
    check,
    chosen_twice,
    column_choices,
    detected_roles,
    labelled_rows,
    preview,
    problems_table,
    role_options,
)
from pages.workspace import ago, plural, signed_in, synced_by, through_the_router, workspace
from store import SourceKind, SourceState, SyncStatus, import_csv, import_maps, source_states
from store.access import Permission
from store.sources import source_named
from store.summary import CardSummary, refresh_summary

NEW = "\x00new"  # the source list's "New source…" entry: no source can have this name
KIND_LABELS = {"usage": "Vendor usage", "psa": "PSA agreement lines", "catalog": "PSA catalogue"}


def sources_table(states: list[SourceState], now: datetime) -> pl.DataFrame:
    """Give back one row per source: its last sync with status, counts and error."""
    rows = []
    for state in states:
        for synced in synced_by(state):
            good, last = synced.good, synced.last
            rows.append(
                {
                    "source": synced.name,
                    "kind": "PSA" if state.kind is SourceKind.PSA else "Vendor",
                    "distributor": state.distributor or "",
                    "current": ago(good.started_at, now) if good else "none",
                    "last_sync": f"{last.started_at:%Y-%m-%d %H:%M} UTC" if last else "never",
                    "status": last.status.value if last else None,
                    "rows_read": last.rows_read if last else None,
                    "rows_stored": last.rows_stored if last else None,
                    "file": last.file_name if last else None,
                    "error": last.error if last and last.status is SyncStatus.FAILED else "",
                }
            )
    counts = {"rows_read": pl.Int64, "rows_stored": pl.Int64}
    return pl.DataFrame(rows, schema={c: counts.get(c, pl.String) for c in rows[0]})


def done(message: str, summary: CardSummary, select: str | None = None) -> None:
    """Say what an import did on the next run, with a fresh wizard."""
    st.session_state["sync_done"] = (
        f"{message}  \nThe cards are up to date: {plural(summary.open_cards, 'open card')}, "
        f"{plural(summary.unmapped_accounts, 'unmapped account')} and "
        f"{plural(summary.unmapped_products, 'unmapped service')}."
    )
    st.session_state["sync_round"] = st.session_state.get("sync_round", 0) + 1
    if select:
        st.session_state["sync_select"] = select
    st.rerun()


def describe(state: SourceState) -> str:
    """Give back a source as the source list names it: `pax8 (vendor, via Pax8)`."""
    kind = "PSA" if state.kind is SourceKind.PSA else "vendor"
    via = f", via {state.distributor}" if state.distributor else ""
    return f"{state.name} ({kind}{via})"


def choose_source(states: list[SourceState]) -> tuple[str, str, str | None, bool] | None:
    """Give back the source to sync (name, kind of file, distributor, whether it is new), or
    None while a new one is not named yet."""
    names = [s.name for s in states]
    if st.session_state.get("sync_select") in names:
        st.session_state["sync_source"] = st.session_state.pop("sync_select")
    by_name = {s.name: s for s in states}
    name = st.selectbox(
        "Source",
        [*names, NEW],
        format_func=lambda n: "New source…" if n == NEW else describe(by_name[n]),
        key="sync_source",
    )
    if name != NEW:
        state = by_name[name]
        if state.kind is SourceKind.VENDOR:
            return name, "usage", state.distributor, False
        kind = st.radio("File", ["psa", "catalog"], format_func=KIND_LABELS.get, horizontal=True)
        return name, kind, None, False
    has_psa = any(s.kind is SourceKind.PSA for s in states)
    left, middle, right = st.columns(3)
    kind = left.radio(
        "It is",
        ["usage", "psa"],
        format_func=lambda k: "a vendor or distributor" if k == "usage" else "the PSA",
        horizontal=True,
        disabled=has_psa,
        help="There is one PSA per install: it is already a source." if has_psa else None,
    )
    label = "Vendor name" if kind == "usage" else "PSA name"
    new_name = middle.text_input(
        label, placeholder="e.g. SentinelOne" if kind == "usage" else "e.g. ConnectWise"
    ).strip()
    distributor = right.text_input(
        "Distributor (optional)",
        placeholder="e.g. Pax8",
        disabled=kind != "usage",
        help="Whom the vendor's counts come through, when not from the vendor itself.",
    ).strip()
    if not new_name:
        st.info(f"Name the new source ({label.lower()}), then upload its file.")
        return None
    if new_name in by_name:
        st.warning(f'There is already a source named "{new_name}": pick it in the list above.')
        return None
    return new_name, kind, distributor or None, True


def wizard(states: list[SourceState]) -> None:
    """Walk through one upload: source, file, column roles, the check, then the import."""
    chosen = choose_source(states)
    if chosen is None:
        return
    name, kind, distributor, is_new = chosen
    profile: dict[str, str] | None = None
    comma = False
    if not is_new:
        with workspace().session() as session:
            row = source_named(session, name)
            if row is not None:
                comma = row.decimal_comma
                # A catalogue has other columns than the PSA's lines: it remembers none.
                profile = row.columns if kind != "catalog" else None

    upload = st.file_uploader(
        f"{KIND_LABELS[kind]} file (CSV or Excel)",
        type=FILE_TYPES,
        key=f"sync_file_{st.session_state.get('sync_round', 0)}",
    )
    if upload is None:
        return
    data = upload.getvalue()
    shown = preview(data, upload.file_id, upload.name)
    if shown.problems:
        st.error(
            f"{upload.name} cannot be read; nothing of it was stored.", icon=":material/error:"
        )
        problems_table(shown.problems, shown.total)
        return

    st.markdown(
        "**Columns.** What each column holds, as recognised from its header: correct any "
        "that is wrong. The choices are remembered for this source's next files."
    )
    detected = detected_roles(upload.name, shown.headers, kind, profile)
    options = role_options(kind)
    grid = st.columns(4)
    roles: dict[int, str] = {}
    for position, header in enumerate(shown.headers):
        roles[position] = grid[position % 4].selectbox(
            escaped(header) or f"Column {position + 1} (no header)",  # a file's text, not Markdown
            options,
            index=options.index(detected.get(position, "")),
            format_func=FIELD_LABELS.__getitem__,
            key=f"role_{upload.file_id}_{kind}_{position}",
            disabled=not header,
        )
    comma = st.checkbox(
        "Numbers use a decimal comma (1.234,5)", value=comma, key=f"comma_{upload.file_id}"
    )
    st.dataframe(labelled_rows(shown, roles), hide_index=True, width="stretch")

    twice = chosen_twice(shown.headers, roles)
    if twice:
        for field, headers in twice.items():
            columns = ", ".join(f'"{h}"' for h in headers)
            st.error(f"{FIELD_LABELS[field]} is chosen for {columns}: choose one column for it.")
        return
    columns = column_choices(shown.headers, kind, roles)
    checked: Checked = check(
        data, upload.file_id, upload.name, kind, name, tuple(columns.items()), comma
    )
    if checked.problems:
        st.error(
            f"{plural(checked.total, 'problem')} in {upload.name}: nothing will be stored. "
            "Correct the file, or the column roles above.",
            icon=":material/error:",
        )
        problems_table(checked.problems, checked.total)
        return
    for warning in checked.warnings:
        st.warning(warning, icon=":material/warning:")
    held = "rows after repeats added up" if kind == "usage" else "rows"
    st.info(
        f"{checked.rows:,} rows read ({checked.stored:,} {held}): ready to import into "
        f"{name}{' (a new source)' if is_new else ''}.",
        icon=":material/fact_check:",
    )
    if not st.button(f"Import into {name}", type="primary", icon=":material/upload:"):
        return
    bar = st.progress(0.0, text="Reading the file…")

    def progress(written: int, total: int) -> None:
        bar.progress(written / max(total, 1), text=f"Storing rows: {written:,} of {total:,}")

    result = import_csv(
        workspace(),
        name,
        kind,
        data,
        name=upload.name,
        distributor=distributor,
        columns=columns,
        decimal_comma=comma,
        user=signed_in().name,
        on_progress=progress,
    )
    bar.progress(1.0, text="Updating the cards…")
    summary = refresh_summary(workspace())
    message = (
        f"**{result.source}**: {result.rows_stored:,} rows stored from "
        f"{result.rows_read:,} in {upload.name}."
    )
    message += "".join(f"  \nNote: {w}" for w in result.warnings)
    done(message, summary, select=result.source)


def maps_section() -> None:
    """Import an account or product map file: which one follows from its columns."""
    upload = st.file_uploader(
        "Map file (CSV or Excel)",
        type=FILE_TYPES,
        key=f"map_file_{st.session_state.get('sync_round', 0)}",
        help="Columns vendor, vendor_account_id, psa_account_id (or vendor_product_id, "
        "psa_product_id), and optionally excluded and reason.",
    )
    if upload is None or not st.button("Import the maps", icon=":material/upload:"):
        return
    try:
        maps = import_maps(workspace(), upload.getvalue(), name=upload.name, user=signed_in().name)
    except InputError as error:
        st.error(f"{upload.name}: nothing of it was stored.", icon=":material/error:")
        problems_table(error.problems, error.total)
        return
    summary = refresh_summary(workspace())
    done(
        f"**{maps.kind.capitalize()} maps** from {upload.name}: {maps.added:,} added, "
        f"{maps.changed:,} changed, {maps.unchanged:,} unchanged.",
        summary,
    )


through_the_router()
st.title("Sync")
st.caption(
    "Every source and its last sync. An API source syncs in the background: start it here, "
    "or from cron with `trueup sync`. A CSV source syncs by uploading its export. Each good "
    "sync becomes the source's current snapshot, and the earlier ones stay as history."
)
if "sync_done" in st.session_state:
    st.success(st.session_state.pop("sync_done"), icon=":material/check_circle:")

st.subheader("API sources")
show_api_sources()

st.subheader("All sources")
with workspace().session() as session:
    states = source_states(session)
if states:
    st.dataframe(
        sources_table(states, datetime.now(UTC)),
        hide_index=True,
        width="stretch",
        column_config={
            "source": "Source",
            "kind": "Kind",
            "distributor": "Distributor",
            "last_sync": "Last sync",
            "status": "Status",
            "rows_read": st.column_config.NumberColumn("Rows read", format="localized"),
            "rows_stored": st.column_config.NumberColumn("Rows stored", format="localized"),
            "current": st.column_config.TextColumn(
                "Current snapshot", help="When the last good sync, whose data the cards use, ran."
            ),
            "file": "File",
            "error": st.column_config.TextColumn("Error", width="large"),
        },
    )
else:
    st.info("No sources yet: start with the PSA export below.", icon=":material/sync:")

st.subheader("Upload a file")
if signed_in().can(Permission.SYNC):
    wizard(states)
else:
    st.caption("Approvers and admins upload files.")

if signed_in().can(Permission.MAP):
    with st.expander("Import account or product maps"):
        maps_section()
