"""Apply to PSA: the Cards page's outbox of approved changes, sent to a PSA that takes them back.

Not a page. Shown only when the PSA is an API source whose type writes back (store.writeback);
with a PSA synced from files the Cards page keeps its CSV and Excel export instead. What a send
did is said after the rerun that shows the outbox as it now is.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import polars as pl
import streamlit as st

from connectors.registry import TYPES
from errors import TrueUpError
from pages.card_view import quantity_text
from pages.workspace import plural, show_error, signed_in
from store import Store
from store.access import Permission
from store.sources import psa_source
from store.writeback import FAILING, HELD, Applied, apply_changes, outbox

FLASH = "cards.applied"
STATES = {
    "pending": "○ to send",
    HELD: "◷ held",
    "applied": "✓ applied",
    "noop": "✓ already so",
    "conflict": "⚠ conflict",
    "rejected": "⊘ rejected",
    "failed": "✗ failed",
    "unknown": "? unknown",
    "sending": "↻ being sent",
}
"""A write-back state as the outbox shows it, with its icon (symbols any font has)."""
OUTCOMES = {
    "applied": "applied",
    "noop": "already so in the PSA",
    HELD: "held for their date",
    "conflict": "conflict",
    "rejected": "rejected",
    "failed": "failed",
    "unknown": "outcome unknown",
    "sending": "being sent by another run",
}
"""An outcome as the summary after a send counts it."""


@dataclass(frozen=True)
class Psa:
    """The PSA the changes go to: its source name and its type's title."""

    name: str
    title: str

    def __str__(self) -> str:
        return f"{self.title} ({self.name})"


def writing_psa(store: Store) -> Psa | None:
    """Give back the PSA when it is an API source that takes changes back, else None."""
    with store.session() as session:
        found = psa_source(session)
    if found is None:
        return None
    kind = TYPES.get(found[1])
    return Psa(found[0], kind.title) if kind is not None and kind.apply is not None else None


def due(entries: pl.DataFrame) -> pl.DataFrame:
    """Give back the entries an Apply would send now: still to send and not held."""
    return entries.filter(
        pl.col("state").is_in(["pending", "failed", "unknown"]) & pl.col("held_until").is_null()
    )


def outbox_rows(entries: pl.DataFrame) -> list[dict[str, str]]:
    """Give back the outbox as the page lists it: one row per change, its state with an icon, and
    what a person should know (the date a held change waits for, a conflict's message)."""
    rows = []
    for entry in entries.iter_rows(named=True):
        held = entry["held_until"]
        state = HELD if held is not None else entry["state"]
        old = "new line" if entry["old_quantity"] is None else quantity_text(entry["old_quantity"])
        rows.append(
            {
                "Account": entry["account_name"] or entry["account_id"],
                "Service": entry["product_name"] or entry["product_id"],
                "Change": f"{old} → {quantity_text(entry['new_quantity'])}",
                "Effective": f"{entry['effective_date']:%Y-%m-%d}",
                "State": STATES.get(state, state),
                "Note": f"waits until {held:%Y-%m-%d}" if held else entry["message"] or "",
            }
        )
    return rows


def summary(done: list[Applied], psa: Psa) -> tuple[str, list[str]]:
    """Give back what a send did, counted by outcome, and a line per change that needs a person."""
    if not done:
        return f"Nothing was due to send to {psa}.", []
    counts = Counter(a.state for a in done)
    held = sorted({a.held_until for a in done if a.held_until is not None})
    parts = []
    for state, text in OUTCOMES.items():
        if counts[state]:
            if state == HELD and len(held) == 1:
                text += f" (waits until {held[0]:%Y-%m-%d})"
            parts.append(f"{counts[state]} {text}")
    problems = [
        f"{a.account_name or a.key} / {a.product_name or ''}: {a.state}: {a.message or ''}"
        for a in done
        if a.state in FAILING or a.state == "sending"
    ]
    return f"Sent to {psa}: " + ", ".join(parts) + ".", problems


def send(store: Store, user: str, psa: Psa, keys: list[str] | None = None) -> None:
    """Send the due changes (all, or those of the cards `keys`) and say what came of them after
    a rerun."""
    try:
        with st.spinner(f"Sending to {psa}…"):
            done = apply_changes(store, keys, user=user)
    except TrueUpError as error:
        st.session_state[FLASH] = (None, [str(error)])
    else:
        st.session_state[FLASH] = summary(done, psa)
    st.session_state["cards.version"] = st.session_state.get("cards.version", 0) + 1
    st.rerun()


def said() -> bool:
    """Show what the last send did, once; give back whether there was something to show."""
    flash = st.session_state.pop(FLASH, None)
    if flash is None:
        return False
    message, problems = flash
    if message:
        (st.warning if problems else st.success)(message, icon=":material/cloud_upload:")
    if problems:
        st.error(
            "**These changes need you:**\n\n" + "\n".join(f"- {p}" for p in problems[:50]),
            icon=":material/sync_problem:",
        )
    return True


ASKED = "cards.apply.asked"
"""Set while the confirmation is open, so that its buttons are seen on the rerun they cause."""


def forget() -> None:
    st.session_state.pop(ASKED, None)


@st.dialog("Apply to PSA", on_dismiss=forget)
def confirm_dialog(store: Store, user: str, psa: Psa, count: int) -> None:
    st.markdown(
        f"Send **{plural(count, 'approved change')}** to **{psa}** now? Each is read first and "
        "left alone if the PSA no longer shows the quantity that was approved."
    )
    go, cancel = st.columns(2)
    if go.button("Apply them", type="primary", icon=":material/cloud_upload:", key="apply.go"):
        forget()
        send(store, user, psa)
    if cancel.button("Cancel", key="apply.cancel"):
        forget()
        st.rerun()


def outbox_area(store: Store, user: str, psa: Psa) -> None:
    """Show the outbox of approved changes for `psa`, and the Apply to PSA button for those due."""
    try:
        entries = outbox(store)
    except TrueUpError as error:
        show_error(error)
        return
    ready = due(entries)
    title = f"Approved changes for {psa}: {ready.height:,} ready to apply"
    with st.expander(title, icon=":material/output:", expanded=said()):
        if entries.is_empty():
            st.caption("No approved change waits for the PSA.")
            return
        st.caption(
            "Each change is sent once: read first, written, read back. One that edits a line in "
            "place waits until its effective date; one on a new dated line goes at once."
        )
        st.dataframe(outbox_rows(entries), hide_index=True, width="stretch")
        if not signed_in().can(Permission.APPLY):
            st.caption("Admins apply changes to the PSA.")
            return
        if st.button(
            f"Apply to PSA ({ready.height:,})",
            type="primary",
            icon=":material/cloud_upload:",
            disabled=ready.is_empty(),
            key="cards.apply",
            help=f"Send the changes ready now to {psa}, after you confirm.",
        ):
            st.session_state[ASKED] = True
    if st.session_state.get(ASKED) and not ready.is_empty() and signed_in().can(Permission.APPLY):
        confirm_dialog(store, user, psa, ready.height)


def apply_button(store: Store, user: str, selected: pl.DataFrame) -> None:
    """On approved cards selected, offer to send their changes to the PSA now."""
    approved = selected.filter(pl.col("status") == "approved")
    if approved.is_empty() or not signed_in().can(Permission.APPLY):
        return
    psa = writing_psa(store)
    if psa is None:
        return
    try:
        keys = set(due(outbox(store)).get_column("key").to_list())
    except TrueUpError as error:
        show_error(error)
        return
    chosen = [k for k in approved.get_column("key").to_list() if k in keys]
    if chosen and st.button(
        f"Apply {plural(len(chosen), 'change')} to PSA",
        icon=":material/cloud_upload:",
        key="cards.apply_selected",
        help=f"Send the selected approved cards' changes to {psa} now.",
    ):
        send(store, user, psa, chosen)
