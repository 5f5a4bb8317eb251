"""Audit log: who changed what and when, filtered by person, kind and dates, and as CSV.

Every role reads it; nothing here changes an entry (the store offers no way to).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta

import polars as pl
import streamlit as st

from connectors.csv.export import neutralised_frame
from pages.workspace import plural, through_the_router, workspace
from store.audit import audit_entries, audit_kinds, audit_people, count_entries, label
from store.types import now

through_the_router()

DAYS = 30  # the dates shown at first: the last 30 days, today included
LIMIT = 10_000  # the newest entries shown and downloaded at most; fewer days reach older ones
COLUMNS = {
    "at": st.column_config.DatetimeColumn("When (UTC)", format="YYYY-MM-DD HH:mm:ss"),
    "made_by": st.column_config.TextColumn("Who"),
    "kind": st.column_config.TextColumn("Kind"),
    "what": st.column_config.TextColumn("What changed", width="large"),
    "detail": st.column_config.TextColumn("Details (JSON)", width="medium"),
}


def audit_csv(entries: pl.DataFrame) -> bytes:
    """Give back the entries as the CSV people download: when in UTC, who, kind, what changed
    and the details as JSON, every text a spreadsheet would run as a formula neutralised."""
    frame = neutralised_frame(
        entries.select(
            "at",
            pl.col("made_by").alias("who"),
            pl.col("kind").map_elements(label, return_dtype=pl.String),
            "what",
            "detail",
        )
    )
    when = pl.col("at").dt.strftime("%Y-%m-%dT%H:%M:%SZ").alias("when")
    return frame.select(when, pl.exclude("at")).write_csv().encode()


def day_range(chosen: date | Sequence[date], today: date) -> tuple[datetime, datetime]:
    """Give back the instants from the start of the first day chosen to the end of the last (a
    range half chosen is that one day)."""
    days = [chosen] if isinstance(chosen, date) else list(chosen) or [today]
    first, last = days[0], days[-1]
    start = datetime.combine(first, time(), UTC)
    return start, datetime.combine(last, time(), UTC) + timedelta(days=1)


st.title("Audit log")
st.caption(
    "Every sync, map, decision, undo, export, apply to the PSA, sign-in, setting, month close "
    "and source change, with who made it and when. No one can edit or delete an entry (the "
    "database refuses it), not even restoring the demo workspace."
)
opened = workspace()
with opened.session() as session:
    people, kinds = audit_people(session), audit_kinds(session)

today = now().date()
who, kind, dates = st.columns([2, 3, 2])
users = who.multiselect("People", people, placeholder="Everyone", key="audit.people")
chosen = kind.multiselect(
    "Kinds", kinds, format_func=label, placeholder="Every kind", key="audit.kinds"
)
picked = dates.date_input(
    "Dates",
    value=(today - timedelta(days=DAYS - 1), today),
    format="YYYY-MM-DD",
    key="audit.dates",
)
since, until = day_range(picked, today)  # type: ignore[arg-type]

with opened.session() as session:
    total = count_entries(session, users=users, kinds=chosen, since=since, until=until)
    entries = audit_entries(
        session, users=users, kinds=chosen, since=since, until=until, limit=LIMIT
    )

counted, download = st.columns([3, 1], vertical_alignment="center")
if total > entries.height:
    counted.markdown(
        f"**{plural(total, 'entry', 'entries')}**: the newest {entries.height:,} are shown and "
        "downloaded; choose fewer days to see older ones."
    )
else:
    counted.markdown(f"**{plural(total, 'entry', 'entries')}**")
download.download_button(
    "Download CSV",
    audit_csv(entries),
    file_name=f"trueup-audit-{since:%Y-%m-%d}-to-{until - timedelta(days=1):%Y-%m-%d}.csv",
    mime="text/csv",
    on_click="ignore",
    icon=":material/download:",
    disabled=entries.is_empty(),
    key="audit.download",
)
if entries.is_empty():
    st.info("No entry matches: choose other people, kinds or dates.")
else:
    st.dataframe(
        entries.with_columns(pl.col("kind").map_elements(label, return_dtype=pl.String)).select(
            list(COLUMNS)
        ),
        column_config=COLUMNS,
        hide_index=True,
        width="stretch",
    )
