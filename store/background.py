"""Background syncs: an API sync started from the page runs in a process of its own.

The process is `trueup sync --source NAME` (the cron command), detached from the app, so it
survives a page reload, the script rerunning, and the app itself restarting. It records its
runs, progress and heartbeat like any sync; `store.running.reap` catches one that died.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.orm import Session

from connectors.registry import source_type
from errors import TrueUpError
from store.access import Permission, authorize
from store.audit import current_user
from store.db import Store
from store.models import Source, SyncRun
from store.running import AlreadySyncing, reap
from store.snapshots import source_states
from store.sources import source_config
from store.types import SourceKind, SyncMode, SyncStatus

ROOT = Path(__file__).resolve().parents[1]
"""The project root: the sync process runs there, so that `.streamlit/secrets.toml` is found."""
LOG_DIR = ROOT / "data" / "logs"
STARTING_SECONDS = 20.0
"""How long start_sync waits for the process to record its runs before it gives up waiting."""


@dataclass(frozen=True)
class Started:
    """A sync started in the background: its source, mode, process and where it logs."""

    source: str
    mode: SyncMode
    pid: int
    log: Path


@dataclass(frozen=True)
class ApiSync:
    """One API source as the Sync page shows it: its type and its syncs (lines or usage)."""

    name: str
    kind: SourceKind
    type: str
    """The type's title, e.g. "ConnectWise PSA"."""
    last: SyncRun | None
    last_good: SyncRun | None

    @property
    def running(self) -> bool:
        return self.last is not None and self.last.status is SyncStatus.RUNNING


def api_syncs(session: Session) -> list[ApiSync]:
    """Give back every API source with its last and last good sync: the PSA first."""
    query = sa.select(Source.name, Source.type).where(Source.type != "csv")
    types = {name: kind for name, kind in session.execute(query)}
    syncs = []
    for state in source_states(session):
        if state.name not in types:
            continue
        try:
            title = source_type(types[state.name]).title
        except TrueUpError:  # a type this version does not know
            title = types[state.name]
        syncs.append(ApiSync(state.name, state.kind, title, state.last, state.last_good))
    return syncs


def start_sync(
    store: Store,
    name: str,
    mode: SyncMode | str,
    *,
    user: str | None = None,
    log_dir: Path | None = None,
) -> Started:
    """Give back the sync of the API source `name` just started in a process of its own.

    Dead runs are reaped first. A source that is syncing already is refused (AlreadySyncing),
    as is one that cannot sync (no such source, a CSV source, settings missing). Waits until
    the process has recorded its runs, so that the page shows it running at once; a process
    that ends before that (refused by a sync that started meanwhile) raises its last words.
    """
    mode = SyncMode(mode)
    if mode is SyncMode.CSV:
        raise TrueUpError("an API sync is quick or full")
    user = user or current_user()
    with store.session() as session:
        authorize(session, user, Permission.SYNC)
    reap(store)
    with store.session() as session:
        config = source_config(session, name)
        running = session.scalars(
            sa.select(SyncRun).where(
                SyncRun.source_id == config.id, SyncRun.status == SyncStatus.RUNNING
            )
        ).first()
        if running is not None:
            raise AlreadySyncing(
                f'source "{config.name}" is syncing already (a {running.mode.value} sync '
                f"started {running.started_at:%H:%M} UTC by {running.made_by}): wait for it "
                "to finish"
            )
    folder = log_dir or LOG_DIR
    folder.mkdir(parents=True, exist_ok=True)
    log = folder / f"sync-{_file_name(config.name)}.log"
    url = store.engine.url.render_as_string(hide_password=False)
    with log.open("a") as out:
        out.write(f"\n== {datetime.now(UTC):%Y-%m-%d %H:%M:%S} UTC: {mode.value} sync by {user}\n")
        out.flush()
        process = subprocess.Popen(
            [sys.executable, "-m", "cli", "sync", "--source", config.name, f"--{mode.value}"],
            cwd=ROOT,
            env={**os.environ, "DATABASE_URL": url, "TRUEUP_USER": user},
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # not ended by a signal to the app's process group
        )
    # Waited for by a thread of its own, so that it leaves no zombie when it ends.
    threading.Thread(target=process.wait, name=f"sync-{config.name}", daemon=True).start()
    _await_runs(store, config.id, process, log)
    return Started(config.name, mode, process.pid, log)


def _await_runs(store: Store, source_id: int, process: subprocess.Popen[bytes], log: Path) -> None:
    """Return once the process has recorded its runs or ended well; raise what it said when it
    ended badly first."""
    deadline = time.monotonic() + STARTING_SECONDS
    while time.monotonic() < deadline:
        with store.session() as session:
            recorded = session.scalar(
                sa.select(SyncRun.id).where(
                    SyncRun.source_id == source_id, SyncRun.pid == process.pid
                )
            )
        if recorded is not None:
            return
        code = process.poll()
        if code is not None:
            if code == 0:
                return
            raise TrueUpError(f"the sync did not start: {_last_line(log)}")
        time.sleep(0.1)


def _last_line(log: Path) -> str:
    lines = [line for line in log.read_text(errors="replace").splitlines() if line.strip()]
    return lines[-1] if lines else f"no reason given; see {log}"


def _file_name(name: str) -> str:
    return "".join(c if c.isalnum() or c in "-_" else "_" for c in name) or "source"
