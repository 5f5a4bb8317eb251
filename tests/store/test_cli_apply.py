"""`trueup apply` end to end: the real console script writes approved changes to a fake
ConnectWise on 127.0.0.1, once each, even when killed in the middle of a batch; on both
databases."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

import sqlalchemy as sa

from store import open_store
from store.models import AuditEntry, WriteBackEntry
from store.types import WriteBack, now, team_date
from tests.fakes.connectwise import FakeConnectWise
from tests.fakes.pax8 import FakePax8
from tests.store import test_cli_sync as cli_sync
from tests.store.test_cli_sync import OUTPUTS, SECRETS, add_sources, cards, stored_text, trueup

# The sync tests' fixtures: a database for the `trueup` processes, fake ConnectWise and Pax8.
database, connectwise, pax8 = cli_sync.database, cli_sync.connectwise, cli_sync.pax8

ACME_BP, BIRCH_BP, BIRCH_E3 = "1:M365-BP", "2:M365-BP", "2:M365-E3"


def approve_three(tmp_path: Path, cw_url: str, px: FakePax8, px_url: str) -> None:
    """Sync, move a vendor quantity, quick sync, and approve three changes effective today:
    Acme's seats 10 -> 12 and Birch's 5 -> 7 in place, and Birch's E3 (New Revenue, 3)."""
    add_sources(tmp_path, cw_url, px_url)
    assert trueup(tmp_path, "sync", "--full").returncode == 0
    px.set_quantity("s-2", 7)
    assert trueup(tmp_path, "sync", "--quick").returncode == 0
    today = team_date(now()).isoformat()
    approved = trueup(tmp_path, "approve", ACME_BP, BIRCH_BP, BIRCH_E3, "--effective", today)
    assert approved.returncode == 0, approved.stdout + approved.stderr
    assert approved.stdout.startswith("approved 3 cards")


def states(url: str) -> dict[str, str]:
    store = open_store(url)
    try:
        with store.session() as session:
            rows = session.execute(
                sa.select(
                    WriteBackEntry.account_id, WriteBackEntry.product_id, WriteBackEntry.state
                )
            ).all()
    finally:
        store.dispose()
    return {f"{a}:{p}": s.value for a, p, s in rows}


def test_apply_writes_each_change_once_and_a_sync_then_shows_the_cards_unchanged(
    database: str,
    tmp_path: Path,
    connectwise: tuple[FakeConnectWise, str],
    pax8: tuple[FakePax8, str],
) -> None:
    cw, cw_url = connectwise
    px, px_url = pax8
    OUTPUTS.clear()
    approve_three(tmp_path, cw_url, px, px_url)

    applied = trueup(tmp_path, "apply")
    again = trueup(tmp_path, "apply")
    synced = trueup(tmp_path, "sync", "--quick")

    assert applied.returncode == 0, applied.stdout + applied.stderr
    assert applied.stdout.splitlines() == [
        f"{ACME_BP} Acme Dental / Microsoft 365 Business Premium: 10 -> 12: applied",
        f"{BIRCH_BP} Birch Law / Microsoft 365 Business Premium: 5 -> 7: applied",
        f"{BIRCH_E3} Birch Law / Microsoft 365 E3: new line -> 3: applied",
        "3 applied",
    ]
    assert cw.addition(100)["quantity"] == 12  # type: ignore[index]
    assert cw.addition(200)["quantity"] == 7  # type: ignore[index]
    assert sorted(cw.writes.values()) == [1, 1, 1]
    assert (again.returncode, again.stdout) == (0, "nothing to apply\n")
    assert cw.writes.total() == 3, "a second apply sends nothing"
    assert synced.returncode == 0, synced.stdout
    shown = cards(tmp_path)
    for product in ("Microsoft 365 Business Premium", "Microsoft 365 E3"):
        assert shown[("Birch Law", product)]["card_type"] == "unchanged"
    assert shown[("Acme Dental", "Microsoft 365 Business Premium")]["card_type"] == "unchanged"
    text = stored_text(database)
    assert "write_back" in text
    for secret in SECRETS:
        assert secret not in text
        assert not [out for out in OUTPUTS if secret in out]


def test_a_change_waits_for_its_effective_date_and_a_dry_run_writes_nothing(
    database: str,
    tmp_path: Path,
    connectwise: tuple[FakeConnectWise, str],
    pax8: tuple[FakePax8, str],
) -> None:
    cw, cw_url = connectwise
    _, px_url = pax8
    add_sources(tmp_path, cw_url, px_url)
    assert trueup(tmp_path, "sync", "--full").returncode == 0
    assert trueup(tmp_path, "approve", ACME_BP, "--effective", "2099-01-01").returncode == 0
    cw.set_quantity(100, 11)

    held = trueup(tmp_path, "apply")
    dry = trueup(tmp_path, "apply", "--dry-run", "2:M365-E3")

    assert held.returncode == 0, held.stdout + held.stderr
    assert held.stdout.splitlines() == [
        f"{ACME_BP} Acme Dental / Microsoft 365 Business Premium: 10 -> 12: held "
        "(waiting until 2099-01-01)",
        "1 held",
    ]
    assert dry.stdout == "nothing to apply\n"
    assert not cw.writes


def test_a_conflict_exits_1_and_names_both_quantities(
    database: str,
    tmp_path: Path,
    connectwise: tuple[FakeConnectWise, str],
    pax8: tuple[FakePax8, str],
) -> None:
    cw, cw_url = connectwise
    _, px_url = pax8
    add_sources(tmp_path, cw_url, px_url)
    assert trueup(tmp_path, "sync", "--full").returncode == 0
    today = team_date(now()).isoformat()
    assert trueup(tmp_path, "approve", ACME_BP, "--effective", today).returncode == 0
    cw.set_quantity(100, 11)  # someone edits the addition after the sync

    dry = trueup(tmp_path, "apply", "--dry-run")
    applied = trueup(tmp_path, "apply")

    assert dry.returncode == 1
    assert "ConnectWise shows 11 on addition 100, not the 10" in dry.stdout
    assert applied.returncode == 1
    assert ": 10 -> 12: conflict (ConnectWise shows 11 on addition 100" in applied.stdout
    assert not cw.writes
    assert states(database) == {ACME_BP: WriteBack.CONFLICT.value}


def test_killed_in_the_middle_of_a_batch_the_next_apply_writes_nothing_twice(
    database: str,
    tmp_path: Path,
    connectwise: tuple[FakeConnectWise, str],
    pax8: tuple[FakePax8, str],
) -> None:
    cw, cw_url = connectwise
    px, px_url = pax8
    approve_three(tmp_path, cw_url, px, px_url)
    cw.hang_on_write = 2  # Birch's patch lands, and its answer never comes

    script = Path(sys.executable).with_name("trueup")
    running = subprocess.Popen(
        [str(script), "apply"], cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    try:
        assert cw.hanging.wait(120), "the second write never arrived"
        running.send_signal(signal.SIGKILL)
        running.wait()
    finally:
        running.kill()
        cw.release.set()
    midway = states(database)
    resumed = trueup(tmp_path, "apply")

    assert running.returncode == -signal.SIGKILL
    assert midway == {ACME_BP: "applied", BIRCH_BP: "unknown", BIRCH_E3: "pending"}
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    assert resumed.stdout.splitlines() == [
        f"{BIRCH_BP} Birch Law / Microsoft 365 Business Premium: 5 -> 7: applied "
        "(found already applied (ConnectWise already shows 7))",
        f"{BIRCH_E3} Birch Law / Microsoft 365 E3: new line -> 3: applied",
        "2 applied",
    ]
    assert sorted(cw.writes.values()) == [1, 1, 1], "each addition was written exactly once"
    assert set(cw.writes) >= {100, 200}
    assert states(database) == {ACME_BP: "applied", BIRCH_BP: "applied", BIRCH_E3: "applied"}
    store = open_store(database)
    try:
        with store.session() as session:
            kinds = session.scalars(
                sa.select(AuditEntry.detail).where(AuditEntry.kind == "write_back")
            ).all()
    finally:
        store.dispose()
    assert sorted(d["card"] for d in kinds) == [ACME_BP, BIRCH_BP, BIRCH_E3]
