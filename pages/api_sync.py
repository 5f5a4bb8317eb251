"""The Sync page's API sources: live status and progress, the last error with a next step, and
the buttons that start syncs in the background."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import streamlit as st

from errors import ADVICE, ConnectorErrorKind, TrueUpError
from pages.workspace import ago, as_text, plural, show_error, signed_in, workspace
from store import SourceKind, SyncStatus
from store.access import Permission
from store.background import ApiSync, api_syncs, start_sync
from store.models import SyncRun
from store.running import reap
from store.types import SyncMode

REFRESH_SECONDS = 2
"""How often the section reads the syncs again while one runs."""

AGAIN = "Sync again; if it fails the same way, the sync's log is under data/logs/."
STATUS = {
    SyncStatus.RUNNING: (":blue", ":material/progress_activity:", "running"),
    SyncStatus.OK: (":green", ":material/check_circle:", "ok"),
    SyncStatus.FAILED: (":red", ":material/error:", "failed"),
}
STAGES = {
    "starting": "Starting",
    "reading": "Reading",
    "storing": "Storing",
    "done": "Done",
    "failed": "Stopped",
}


def next_step(run: SyncRun) -> str:
    """Give back what to do about a failed sync, from the kind of error it recorded."""
    kind = (run.progress or {}).get("error_kind")
    try:
        return ADVICE[ConnectorErrorKind(kind)][1]
    except ValueError:
        return AGAIN


def duration(seconds: float) -> str:
    """Give back a duration as `42 s` or `3 min 5 s`."""
    whole = int(seconds)
    return f"{whole} s" if whole < 60 else f"{whole // 60} min {whole % 60} s"


def progress_line(run: SyncRun, now: datetime) -> str:
    """Give back how far a sync got: stage, requests, pages and records, and how long."""
    progress = run.progress or {}
    stage = STAGES.get(str(progress.get("stage")), "Running")
    counts = ", ".join(
        plural(int(progress.get(key) or 0), key.removesuffix("s"))
        for key in ("requests", "pages", "records")
    )
    end = run.finished_at or now
    took = duration((end - run.started_at).total_seconds())
    return f"{stage}: {counts}; " + (f"{took} so far" if run.finished_at is None else f"in {took}")


STARTED = "api_sync.started"
"""When this session last started a sync (time.monotonic())."""
STARTING_SECONDS = 60.0
"""How long after starting a sync the section keeps refreshing though none shows running yet: on
a busy server the sync's process may take a while to record its run."""


def starting() -> bool:
    """True while a sync this session started may not have recorded its run yet."""
    started = st.session_state.get(STARTED)
    return started is not None and time.monotonic() - started < STARTING_SECONDS


def _start(names: list[str], mode: SyncMode) -> None:
    """Start each source's sync, then show the section again with them running."""
    st.session_state[STARTED] = time.monotonic()
    failed = False
    for name in names:
        try:
            start_sync(workspace(), name, mode, user=signed_in().name)
        except TrueUpError as error:
            failed = True
            show_error(error)
    if not failed:
        st.rerun()


def source_row(sync: ApiSync, now: datetime) -> None:
    """One API source: what it is, its status and progress, the last error, its buttons."""
    last, good = sync.last, sync.last_good
    with st.container(border=True):
        about, state, buttons = st.columns([3, 5, 2], vertical_alignment="center")
        side = "PSA" if sync.kind is SourceKind.PSA else "Vendor"
        about.markdown(f"**{sync.name}**  \n{sync.type} · {side}")
        if last is None:
            state.markdown(":material/schedule: never synced")
        else:
            colour, icon, label = STATUS[last.status]
            mode = last.mode.value
            state.markdown(
                f"{colour}[{icon} **{label}**] · {mode} sync started "
                f"{last.started_at:%Y-%m-%d %H:%M} "
                f"UTC  \n{progress_line(last, now)}"
            )
        state.caption(
            f"Last good sync: {ago(good.started_at, now)}" if good else "No good sync yet"
        )
        if last is not None and last.status is SyncStatus.OK and last.warnings:
            state.caption("  \n".join(f"Note: {w}" for w in last.warnings))
        running = sync.running
        quick = full = False
        if signed_in().can(Permission.SYNC):
            quick = buttons.button(
                "Quick sync", key=f"api_quick_{sync.name}", disabled=running, width="stretch"
            )
            full = buttons.button(
                "Full sync", key=f"api_full_{sync.name}", disabled=running, width="stretch"
            )
        if last is not None and last.status is SyncStatus.FAILED and last.error:
            # The error quotes the vendor's own words: shown as written, never as Markdown.
            st.error(
                f"{as_text(last.error)}  \n**Next:** {next_step(last)}", icon=":material/error:"
            )
    if quick or full:
        _start([sync.name], SyncMode.QUICK if quick else SyncMode.FULL)


def api_section(refreshing: bool) -> None:
    """The API sources, read afresh; the page runs again whole when a sync starts or ends, so
    that it refreshes only while one runs."""
    reap(workspace())
    with workspace().session() as session:
        syncs = api_syncs(session)
    if not syncs:
        st.info(
            "No API sources yet: add your PSA or a vendor portal in Settings, or with "
            "`trueup source add NAME --type ...` (`trueup source types` lists the types).",
            icon=":material/cloud_sync:",
        )
        return
    if (any(s.running for s in syncs) or starting()) != refreshing:
        st.rerun()
    psa = [s for s in syncs if s.kind is SourceKind.PSA]
    vendors = [s for s in syncs if s.kind is SourceKind.VENDOR]
    now = datetime.now(UTC)
    if not signed_in().can(Permission.SYNC):
        st.caption("Approvers and admins start syncs.")
        for sync in syncs:
            source_row(sync, now)
        return
    left, right, _ = st.columns([1, 1, 3])
    if left.button(
        "Start full sync",
        type="primary",
        icon=":material/sync:",
        disabled=not psa or psa[0].running,
        help="Read everything of the PSA again." if psa else "No PSA is synced by API.",
    ):
        _start([psa[0].name], SyncMode.FULL)
    if right.button(
        "Quick sync all",
        icon=":material/bolt:",
        disabled=not [v for v in vendors if not v.running],
        help="Read what changed at every vendor." if vendors else "No vendor is synced by API.",
    ):
        _start([v.name for v in vendors if not v.running], SyncMode.QUICK)
    for sync in syncs:
        source_row(sync, now)


def show_api_sources() -> None:
    """Show the API sources, refreshing themselves every few seconds while a sync runs."""
    reap(workspace())
    with workspace().session() as session:
        refreshing = any(s.running for s in api_syncs(session)) or starting()
    every = timedelta(seconds=REFRESH_SECONDS) if refreshing else None
    st.fragment(run_every=every)(api_section)(refreshing)
