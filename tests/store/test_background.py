"""Syncs that show their progress while they run, one per source at a time, run in the
background, and never stay `running` once their process is gone; on both databases, against
the fake ConnectWise (in-process, or on 127.0.0.1 for the background processes)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from store import Store, current_inputs
from store import credentials as creds
from store.background import api_syncs, start_sync
from store.models import AuditEntry, Source, SyncRun
from store.running import AlreadySyncing, reap, this_host
from store.sources import add_source
from store.sync import sync_source
from store.types import SnapshotKind, SyncMode, SyncStatus, now
from tests.fakes.connectwise import ROOT, FakeConnectWise
from tests.fakes.server import Request, serving, transport

KEYS = {"company_id": "acme", "public_key": "pub", "private_key": "priv-s3cret"}


class Held:
    """The fake ConnectWise, holding each request for agreement additions until released:
    the sync is then mid-way, with companies and agreements read."""

    def __init__(self) -> None:
        self.fake = FakeConnectWise(company="acme", public="pub", private="priv-s3cret")
        self.holding = threading.Event()
        self.release = threading.Event()

    def handle(self, request: Request) -> tuple[int, Any]:
        if request.path.endswith("/additions"):
            self.holding.set()
            self.release.wait(timeout=120)
        return self.fake.handle(request)


@pytest.fixture(autouse=True)
def secret_key(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Run where there is no .streamlit/secrets.toml, with a key the sync processes inherit."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv(creds.KEY_ENV, creds.new_key())
    monkeypatch.setenv("TRUEUP_USER", "ann")


@pytest.fixture
def held() -> Iterator[Held]:
    api = Held()
    try:
        yield api
    finally:
        api.release.set()


def add_psa(store: Store, base_url: str = "https://cw.example") -> None:
    values = {"base_url": f"{base_url}{ROOT.rstrip('/')}", "client_id": "client-1", **KEYS}
    with store.session() as session:
        add_source(session, "psa", "connectwise", values, user="ann", at=now())


def lines_run(store: Store) -> SyncRun | None:
    """Give back the latest sync run of the PSA's lines."""
    with store.session() as session:
        query = sa.select(SyncRun).where(SyncRun.kind == SnapshotKind.PSA)
        return session.scalars(query.order_by(SyncRun.id.desc())).first()


def wait_for(what: str, found: Callable[[], Any]) -> Any:
    """Give back `found()` once it is truthy; fail, saying `what`, if it never is."""
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        value = found()
        if value:
            return value
        time.sleep(0.05)
    pytest.fail(f"never saw {what}")


def test_a_running_sync_shows_its_progress_and_a_second_sync_of_its_source_is_refused(
    store: Store, held: Held
) -> None:
    add_psa(store)
    done: list[Any] = []
    worker = threading.Thread(
        target=lambda: done.append(
            sync_source(store, "psa", mode="full", transport=transport(held))
        )
    )
    worker.start()
    try:
        held.holding.wait(timeout=60)
        # The heartbeat writes what was read so far: the companies, agreements and catalogue.
        run = wait_for(
            "the progress of the running sync",
            lambda: (r := lines_run(store)) and (r.progress or {}).get("records") and r,
        )
        assert run.status is SyncStatus.RUNNING
        assert (run.pid, run.host) == (os.getpid(), this_host())
        assert run.heartbeat_at is not None
        assert run.progress["stage"] == "reading"
        assert run.progress["requests"] >= 2 and run.progress["pages"] >= 2

        with pytest.raises(AlreadySyncing, match='source "psa" is syncing already'):
            sync_source(store, "psa", mode="quick", transport=transport(held.fake))
        with pytest.raises(AlreadySyncing, match="syncing already"):
            start_sync(store, "psa", "quick")
    finally:
        held.release.set()
        worker.join()

    assert done, "the first sync did not finish"
    run = lines_run(store)
    assert run is not None and run.status is SyncStatus.OK and run.id == done[0].runs["psa"]
    assert run.progress == {
        "stage": "done",
        "requests": len(held.fake.requests),
        "pages": run.progress["pages"],
        "records": done[0].rows_read,
    }
    assert run.progress["pages"] >= 5  # companies, agreements, two agreements' additions, items
    with store.session() as session:
        statuses = session.scalars(sa.select(SyncRun.status)).all()
    assert SyncStatus.FAILED not in statuses, "the refused syncs recorded nothing"


def test_runs_whose_process_is_gone_or_whose_heartbeat_stopped_are_reaped_as_failed(
    store: Store,
) -> None:
    add_psa(store)
    ended = subprocess.Popen([sys.executable, "-c", "pass"])
    ended.wait()
    at = now()
    recorded = {
        "dead": (ended.pid, this_host(), at),
        "silent": (os.getpid(), this_host(), at - timedelta(minutes=3)),
        "alive": (os.getpid(), this_host(), at),
        "elsewhere": (ended.pid, "another-host", at),  # its pid means nothing here
    }
    ids = {}
    with store.session() as session:
        source_id = session.scalars(sa.select(Source.id)).one()
        for name, (pid, host, beat) in recorded.items():
            run = SyncRun(
                source_id=source_id,
                kind=SnapshotKind.PSA,
                mode=SyncMode.FULL,
                status=SyncStatus.RUNNING,
                started_at=beat,
                made_by="ann",
                pid=pid,
                host=host,
                heartbeat_at=beat,
            )
            session.add(run)
            session.flush()
            ids[name] = run.id

    reaped = reap(store)

    assert sorted(reaped) == sorted([ids["dead"], ids["silent"]])
    with store.session() as session:
        runs = {r.id: r for r in session.scalars(sa.select(SyncRun))}
        failures = session.scalars(
            sa.select(AuditEntry.detail).where(AuditEntry.kind == "sync_failed")
        ).all()
    assert runs[ids["dead"]].status is SyncStatus.FAILED
    assert runs[ids["dead"]].error == (
        "the sync stopped without finishing: its process ended; start it again"
    )
    assert runs[ids["dead"]].finished_at is not None
    assert runs[ids["silent"]].status is SyncStatus.FAILED
    assert "no sign of life from it for over 2 minutes" in str(runs[ids["silent"]].error)
    assert runs[ids["alive"]].status is SyncStatus.RUNNING
    assert runs[ids["elsewhere"]].status is SyncStatus.RUNNING
    assert sorted(d["sync_run"] for d in failures) == sorted(reaped)
    assert reap(store) == [], "a run is reaped once"


def test_a_background_sync_ends_ok_and_its_snapshot_is_current(
    store: Store, tmp_path: Path
) -> None:
    fake = FakeConnectWise(company="acme", public="pub", private="priv-s3cret")
    with serving(fake) as url:
        add_psa(store, url)
        started = start_sync(store, "psa", "full", user="bea", log_dir=tmp_path)
        run = wait_for(
            "the background sync finish",
            lambda: (r := lines_run(store)) and r.status is not SyncStatus.RUNNING and r,
        )

    log = started.log.read_text()
    assert run.status is SyncStatus.OK, log
    assert (run.pid, run.made_by, run.mode) == (started.pid, "bea", SyncMode.FULL)
    assert "psa: ok, full sync, 3 lines, 3 catalogue products" in log
    inputs = current_inputs(store)
    assert inputs.snapshots["psa"] == run.id
    assert inputs.psa_lines.height == 3
    with store.session() as session:
        (shown,) = api_syncs(session)
    assert (shown.name, shown.type, shown.running) == ("psa", "ConnectWise PSA", False)
    assert shown.last_good is not None and shown.last_good.id == run.id


def test_a_background_sync_killed_mid_way_is_marked_failed_and_can_start_again(
    store: Store, held: Held, tmp_path: Path
) -> None:
    with serving(held) as url:
        add_psa(store, url)
        started = start_sync(store, "psa", "full", log_dir=tmp_path)
        held.holding.wait(timeout=60)
        run = lines_run(store)
        assert run is not None and run.status is SyncStatus.RUNNING and run.pid == started.pid
        with pytest.raises(AlreadySyncing):
            start_sync(store, "psa", "quick", log_dir=tmp_path)

        os.kill(started.pid, signal.SIGKILL)
        wait_for("the killed sync reaped", lambda: reap(store))

        killed = lines_run(store)
        assert killed is not None and killed.status is SyncStatus.FAILED
        assert (
            killed.error == "the sync stopped without finishing: its process ended; start it again"
        )
        held.release.set()
        again = start_sync(store, "psa", "full", log_dir=tmp_path)
        run = wait_for(
            "the second sync finish",
            lambda: (r := lines_run(store)) and r.status is not SyncStatus.RUNNING and r,
        )
    assert run.status is SyncStatus.OK and run.pid == again.pid, again.log.read_text()


def test_two_syncs_of_one_source_started_at_once_run_one_and_refuse_the_other(
    store: Store, held: Held
) -> None:
    add_psa(store)
    together = threading.Barrier(2)
    outcomes: list[Any] = []

    def sync() -> None:
        together.wait()
        try:
            outcomes.append(sync_source(store, "psa", mode="full", transport=transport(held)))
        except AlreadySyncing as refused:
            outcomes.append(refused)

    workers = [threading.Thread(target=sync) for _ in range(2)]
    for worker in workers:
        worker.start()
    try:
        wait_for("one of the two refused", lambda: outcomes)
    finally:
        held.release.set()
        for worker in workers:
            worker.join()

    assert [type(o).__name__ for o in outcomes] == ["AlreadySyncing", "SyncResult"]
    with store.session() as session:
        statuses = session.scalars(sa.select(SyncRun.status)).all()
    assert statuses == [SyncStatus.OK, SyncStatus.OK], "the PSA's lines and catalogue, once"
