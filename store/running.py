"""Running syncs: one per source at a time, each with a heartbeat, and none left running for ever.

A sync's runs record the process that runs them (pid and host) and a heartbeat with its
progress. A run whose process is gone, or whose heartbeat stopped, is marked failed by `reap`:
the Sync page and every sync call it, so a sync killed mid-way (SIGKILL, a reboot) never shows
as running for long.
"""

from __future__ import annotations

import contextlib
import os
import socket
import threading
from collections.abc import Iterable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from connectors.http import Meter
from errors import TrueUpError
from store.audit import audit
from store.db import Store
from store.models import Source, SyncRun
from store.types import SyncStatus, now

BEAT_SECONDS = 1.0
"""How often a running sync writes its progress and heartbeat."""
STALE_AFTER = timedelta(minutes=2)
"""A run whose heartbeat is older than this is taken for dead, wherever its process runs."""
SILENT_AFTER = timedelta(minutes=30)
"""A run that never beat (a file import) is taken for dead this long after it started."""


class AlreadySyncing(TrueUpError):
    """A sync of a source that is syncing already: one sync per source at a time."""

    title = "The source is syncing already"


def this_host() -> str:
    return socket.gethostname()


def process_alive(pid: int) -> bool:
    """True while the process `pid` of this host runs (a zombie, ended but not yet waited
    for by its parent, counts as ended)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process: it exists
        return True
    stat = Path(f"/proc/{pid}/stat")
    with contextlib.suppress(OSError, IndexError):
        # The state follows the command's closing parenthesis: "Z" is a zombie.
        return stat.read_text().rsplit(")", 1)[1].split()[0] != "Z"
    return True


def why_dead(run: SyncRun, at: datetime, host: str) -> str | None:
    """Give back why the running `run` is taken for dead, or None while it may be alive."""
    if run.pid is not None and run.host == host and not process_alive(run.pid):
        return "the sync stopped without finishing: its process ended; start it again"
    if run.heartbeat_at is not None:
        if at - run.heartbeat_at > STALE_AFTER:
            minutes = int(STALE_AFTER.total_seconds() // 60)
            return (
                f"the sync stopped without finishing: no sign of life from it for over "
                f"{minutes} minutes; start it again"
            )
    elif at - run.started_at > SILENT_AFTER:
        return "the sync stopped without finishing: it never finished; start it again"
    return None


def _reap_in(session: Session, runs: Iterable[SyncRun], at: datetime) -> list[SyncRun]:
    """Give back the runs still alive, after marking the dead ones failed in `session`."""
    host = this_host()
    alive = []
    for run in runs:
        reason = why_dead(run, at, host)
        if reason is None:
            alive.append(run)
            continue
        marked = session.execute(
            sa.update(SyncRun)
            .where(SyncRun.id == run.id, SyncRun.status == SyncStatus.RUNNING)
            .values(status=SyncStatus.FAILED, finished_at=at, error=reason)
        )
        if marked.rowcount:  # type: ignore[attr-defined]
            name = session.scalar(sa.select(Source.name).where(Source.id == run.source_id))
            detail = {"source": name, "sync_run": run.id, "error": reason, "pid": run.pid}
            audit(session, "trueup", "sync_failed", detail, at)
    return alive


def reap(store: Store, at: datetime | None = None) -> list[int]:
    """Give back the ids of the running runs just marked failed: those whose process is gone
    (on this host) or whose heartbeat stopped."""
    at = at or now()
    with store.session() as session:
        running = list(
            session.scalars(sa.select(SyncRun).where(SyncRun.status == SyncStatus.RUNNING))
        )
        alive = {run.id for run in _reap_in(session, running, at)}
    return [run.id for run in running if run.id not in alive]


def claim(session: Session, source_id: int, name: str, at: datetime) -> None:
    """Reap the source's dead runs, and refuse (AlreadySyncing) when one is still running.

    Call it after `lock_source`, in the transaction that then records the new runs.
    """
    running = session.scalars(
        sa.select(SyncRun).where(
            SyncRun.source_id == source_id, SyncRun.status == SyncStatus.RUNNING
        )
    )
    alive = _reap_in(session, list(running), at)
    if alive:
        run = alive[0]
        raise AlreadySyncing(
            f'source "{name}" is syncing already: a {run.mode.value} sync started '
            f"{run.started_at:%Y-%m-%d %H:%M} UTC by {run.made_by} is still running. Wait for "
            "it to finish (the Sync page shows its progress), then sync again"
        )


def lock_source(session: Session, name: str) -> None:
    """Lock the source `name` until the end of the transaction: call it first thing in it.

    The lock is a write: a second sync of the same source waits here until the first has
    recorded its runs and committed, then sees them, on SQLite (one writer at a time; a read
    first would make it fail instead of wait) as on PostgreSQL (the row stays locked).
    """
    session.execute(sa.update(Source).where(Source.name == name).values(id=Source.id))


class Heartbeat:
    """Between start and stop, writes the runs' progress and heartbeat every BEAT_SECONDS from
    a thread of its own, in short transactions; `stage` says what the sync is doing."""

    def __init__(self, store: Store, run_ids: Iterable[int], meter: Meter) -> None:
        self._store = store
        self._runs = list(run_ids)
        self._meter = meter
        self._stage = "starting"
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._beat, name="sync-heartbeat", daemon=True)

    def stage(self, name: str) -> None:
        self._stage = name

    def progress(self, **more: Any) -> dict[str, Any]:
        """Give back the progress as the runs record it: stage, requests, pages, records."""
        reading = self._meter.reading()
        return {
            "stage": self._stage,
            "requests": reading.requests,
            "pages": reading.pages,
            "records": reading.records,
            **more,
        }

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        """Stop beating (again: no harm), once the last beat written has committed."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()

    def _beat(self) -> None:
        while not self._stop.wait(BEAT_SECONDS):
            progress = self.progress()
            # One run per transaction: a beat never holds one run's row while waiting for
            # another's (the sync's own transaction holds them while it writes the snapshot).
            for run_id in self._runs:
                # A beat that cannot be written (the store busy) is skipped: the next one comes.
                with contextlib.suppress(Exception), self._store.session() as session:
                    session.execute(
                        sa.update(SyncRun)
                        .where(SyncRun.id == run_id, SyncRun.status == SyncStatus.RUNNING)
                        .values(heartbeat_at=now(), progress=progress)
                    )
