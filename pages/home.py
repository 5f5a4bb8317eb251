"""Home: where the month stands, from each source's last good sync to the open cards.

Reads the saved card summary (store.summary), never the snapshots themselves, so that it opens
in a blink however large they are; the summary is recomputed only when a sync, a map import or
a decision has moved the workspace on.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import polars as pl
import streamlit as st

from engine import CardType
from pages.card_apply import Psa, writing_psa
from pages.workspace import (
    ago,
    money,
    open_workspace,
    plural,
    synced_by,
    through_the_router,
    unmapped_banner,
    workspace_url,
)
from store import SourceKind, SourceState, SyncStatus, source_states
from store.summary import CardSummary, card_summary, state_key

# A source whose last good sync is older than this is stale: sync it before reviewing.
STALE_AFTER = timedelta(days=7)

TYPE_LABELS = {
    CardType.INCREASE: "Increase",
    CardType.DECREASE: "Decrease",
    CardType.REMOVAL: "Removal",
    CardType.NEW_REVENUE: "New Revenue",
}


@dataclass(frozen=True)
class NextStep:
    title: str
    text: str
    page: str | None = None  # where the step is done, where the app has that page yet
    page_title: str = "Sync"


@st.cache_data(max_entries=8, show_spinner="Working out the cards of the current snapshots…")
def figures(url: str, key: str) -> CardSummary:
    """Give back the card summary of the workspace at `url` in the state `key`."""
    return card_summary(open_workspace(url), key)


def next_month(today: date) -> date:
    """Give back the first day of the month after `today`'s."""
    return (today.replace(day=28) + timedelta(days=4)).replace(day=1)


def sentence(text: str) -> str:
    """Give back `text` with its first letter capitalised, and only that one."""
    return text[:1].upper() + text[1:]


def next_step(
    states: list[SourceState], summary: CardSummary, now: datetime, psa: Psa | None = None
) -> NextStep:
    """Give back what the month needs next: syncs, then the unmapped, then the open cards.

    `psa` is the PSA when it takes changes back by API: the approved changes are applied to
    it rather than exported."""
    if not any(s.kind is SourceKind.PSA and s.last_good for s in states):
        return NextStep(
            "Sync the PSA",
            "Upload the PSA export (one row per agreement line) on the Sync page, then each "
            "vendor's usage file.",
            "pages/sync.py",
        )
    if not any(s.kind is SourceKind.VENDOR and s.last_good for s in states):
        return NextStep(
            "Sync a vendor", "Upload a vendor's usage file on the Sync page.", "pages/sync.py"
        )
    failed = [s.name for s in states if s.last and s.last.status is SyncStatus.FAILED]
    stale = [s.name for s in states if s.last_good and now - s.last_good.started_at > STALE_AFTER]
    if failed or stale:
        parts = []
        if failed:
            parts.append(f"the last sync of {', '.join(failed)} failed")
        if stale:
            parts.append(f"{', '.join(stale)} {'is' if len(stale) == 1 else 'are'} stale")
        return NextStep(
            "Sync again",
            f"{sentence('; '.join(parts))}: its cards may be out of date.",
            "pages/sync.py",
        )
    unmapped = summary.unmapped_accounts + summary.unmapped_products
    if unmapped:
        return NextStep(
            "Clear the unmapped",
            f"{plural(summary.unmapped_accounts, 'vendor account')} and "
            f"{plural(summary.unmapped_products, 'service')} have no map yet, so their usage "
            "reaches no card. Accept the suggestions, map or exclude each on the Mapping page.",
            "pages/mapping.py",
            "Mapping",
        )
    if summary.open_cards:
        return NextStep(
            "Review the cards",
            f"{plural(summary.open_cards, 'card is', 'cards are')} open, worth "
            f"{money(summary.net_monthly_value)} a month: approve, dismiss or schedule each "
            "on the Cards page.",
            "pages/cards.py",
            "Cards",
        )
    if summary.pending.cards:
        return NextStep(
            "Send the approved changes",
            f"{plural(summary.pending.cards, 'approved change')} still to go out to the PSA: "
            + (f"apply them to {psa} on the Cards page" if psa else "export them on the Cards page")
            + " before it invoices on the 1st.",
            "pages/cards.py",
            "Cards",
        )
    return NextStep(
        "Close the month",
        "Every card is decided and every approved change has gone out: read the month's "
        "summary and close it on the Month page.",
        "pages/month.py",
        "Month",
    )


def sources_table(states: list[SourceState], now: datetime) -> pl.DataFrame:
    """Give back one row per source (and the PSA's catalogue): its freshness and last sync."""
    rows = []
    for state in states:
        for synced in synced_by(state):
            good, last = synced.good, synced.last
            failed = last is not None and last.status is SyncStatus.FAILED
            fresh = good is not None and now - good.started_at <= STALE_AFTER
            rows.append(
                {
                    "source": synced.name,
                    "kind": "PSA" if state.kind is SourceKind.PSA else "Vendor",
                    "last_good_sync": ago(good.started_at, now) if good else "never",
                    # A catalogue changes seldom: its age is shown, not judged.
                    "fresh": "" if synced.catalogue else "fresh" if fresh else "stale",
                    "rows": good.rows_stored if good else None,
                    "last_sync": last.status.value if last else None,
                    "error": (last.error or "").split("\n")[0] if failed and last else "",
                }
            )
    return pl.DataFrame(
        rows,
        schema={
            "source": pl.String,
            "kind": pl.String,
            "last_good_sync": pl.String,
            "fresh": pl.String,
            "rows": pl.Int64,
            "last_sync": pl.String,
            "error": pl.String,
        },
    )


through_the_router()
url = workspace_url()
workspace = open_workspace(url)
with workspace.session() as session:
    key = state_key(session)
    states = source_states(session)
summary = figures(url, key)
now = datetime.now(UTC)
today = date.today()
first = next_month(today)
days = (first - today).days

st.title("Home")
st.caption(
    f"The true-up of {today:%B %Y}: {plural(days, 'day')} to the 1st of "
    f"{first:%B}, when approved changes take effect."
)

step = next_step(states, summary, now, writing_psa(workspace))
with st.container(border=True):
    st.markdown(f"**Next: {step.title}**  \n{step.text}")
    if step.page:
        label = f"{step.title} on the {step.page_title} page"
        st.page_link(step.page, label=label, icon=":material/arrow_forward:")
unmapped_banner(summary.unmapped_accounts, summary.unmapped_products)

top = st.columns(4)
top[0].metric("Unmapped accounts", f"{summary.unmapped_accounts:,}", border=True)
top[1].metric("Unmapped services", f"{summary.unmapped_products:,}", border=True)
top[2].metric("Open cards", f"{summary.open_cards:,}", border=True)
top[3].metric("Net monthly value", money(summary.net_monthly_value), border=True)

st.subheader("Open cards by type")
by_type = st.columns(len(TYPE_LABELS))
for column, (card_type, label) in zip(by_type, TYPE_LABELS.items(), strict=True):
    type_figures = summary.open_by_type[card_type.value]
    column.metric(
        label,
        f"{type_figures.cards:,}",
        # Cards without a price (New Revenue with no catalogue) count, but add no money.
        money(type_figures.monthly_value) if type_figures.monthly_value else None,
        delta_color="normal",
    )
st.caption(
    f"Besides: {plural(summary.no_vendor_data, 'card')} without vendor data (information: "
    f"they never block the month) and {summary.decided:,} approved or dismissed. Figures "
    f"worked out {ago(summary.computed_at, now)}."
)

st.subheader("Sources")
if not states:
    st.info(
        "No sources yet: sync the PSA and your vendors on the Sync page.", icon=":material/sync:"
    )
else:
    st.dataframe(
        sources_table(states, now),
        hide_index=True,
        width="stretch",
        column_config={
            "source": "Source",
            "kind": "Kind",
            "last_good_sync": "Last good sync",
            "fresh": st.column_config.TextColumn(
                "Freshness", help=f"Stale: the last good sync is over {STALE_AFTER.days} days old."
            ),
            "rows": st.column_config.NumberColumn("Rows", format="localized"),
            "last_sync": "Last sync",
            "error": "Error",
        },
    )
