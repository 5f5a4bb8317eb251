"""`trueup backup`, `trueup restore` and the alert after `trueup sync`, end to end: the real
console script, on both databases, against a fake Pax8, a fake webhook and an SMTP server on
127.0.0.1."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from store import current_cards, open_store
from store.credentials import new_key
from tests.conftest import run_trueup
from tests.fakes.pax8 import FakePax8
from tests.fakes.server import serving
from tests.store.test_alerts import (
    HOOK_PATH,
    SMTP_PASSWORD,
    Inbox,
    Recorder,
    hook,  # noqa: F401 (fixtures)
    smtp,  # noqa: F401
    write_secrets,
)


@pytest.fixture
def database(store_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """Point the `trueup` processes at this test's empty database, with a secret key."""
    monkeypatch.setenv("DATABASE_URL", store_url)
    monkeypatch.setenv("TRUEUP_USER", "ann")
    monkeypatch.setenv("TRUEUP_SECRET_KEY", new_key())
    monkeypatch.delenv("TRUEUP_ALERT_AT_RISK", raising=False)
    return store_url


def trueup(folder: Path, *args: str) -> Any:
    return run_trueup(*args, cwd=folder)


def test_backup_and_restore_into_a_new_database(
    database: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert trueup(tmp_path, "demo").returncode == 0
    file = tmp_path / "nightly.zip"

    made = trueup(tmp_path, "backup", "--out", str(file))
    assert made.returncode == 0, made.stderr
    assert made.stdout.startswith(f"backup written to {file}: ")

    again = trueup(tmp_path, "restore", str(file))
    assert again.returncode == 2
    assert "already holds data" in again.stderr and "restore only into an empty database" in (
        again.stderr
    )

    restored_url = f"sqlite:///{tmp_path / 'restored.db'}"
    monkeypatch.setenv("DATABASE_URL", restored_url)
    restored = trueup(tmp_path, "restore", str(file))
    assert restored.returncode == 0, restored.stderr
    assert restored.stdout.startswith("restored ")
    before, after = open_store(database), open_store(restored_url)
    try:
        assert current_cards(after).cards.equals(current_cards(before).cards)
    finally:
        before.dispose()
        after.dispose()


def test_restore_refuses_a_cut_short_file(database: str, tmp_path: Path) -> None:
    assert trueup(tmp_path, "demo").returncode == 0
    file = tmp_path / "b.zip"
    assert trueup(tmp_path, "backup", "--out", str(file)).returncode == 0
    cut = tmp_path / "cut.zip"
    cut.write_bytes(file.read_bytes()[:1000])

    refused = trueup(tmp_path, "restore", str(cut))

    assert refused.returncode == 2
    assert f"error: {cut} is not a whole TrueUp backup" in refused.stderr


@pytest.fixture
def pax8() -> Iterator[tuple[FakePax8, str]]:
    fake = FakePax8(client_id="pax8-client", secret="pax8-s3cret")
    with serving(fake) as url:
        yield fake, url


def add_pax8(folder: Path, url: str, secret: str) -> None:
    added = trueup(
        folder,
        "source", "add", "pax8", "--type", "pax8",
        "--set", "client_id=pax8-client",
        "--set", f"client_secret={secret}",
        "--set", f"base_url={url}/v1",
        "--set", f"token_url={url}/oauth/token",
    )  # fmt: skip
    assert added.returncode == 0, added.stderr


def test_a_failed_sync_alerts_by_webhook_and_email_and_still_exits_1(
    database: str,
    tmp_path: Path,
    pax8: tuple[FakePax8, str],
    hook: tuple[Recorder, str],  # noqa: F811
    smtp: tuple[Inbox, int],  # noqa: F811
) -> None:
    recorder, hook_url = hook
    inbox, port = smtp
    add_pax8(tmp_path, pax8[1], "wrong-s3cret")
    write_secrets(tmp_path, hook_url, port)

    synced = trueup(tmp_path, "sync")

    assert synced.returncode == 1
    assert "pax8: failed after" in synced.stdout
    assert "alert sent: TrueUp after the sync: 1 sync failed" in synced.stdout
    [(_, body)] = recorder.posts
    assert "Sync failed: pax8: " in body["text"]
    [message] = inbox.messages
    assert message["Subject"] == "TrueUp after the sync: 1 sync failed"
    shown = synced.stdout + synced.stderr + body["text"] + message.get_content()
    for secret in ("wrong-s3cret", SMTP_PASSWORD, HOOK_PATH):
        assert secret not in shown


def test_an_alert_that_cannot_be_sent_is_said_and_leaves_a_good_sync_exit_0(
    database: str, tmp_path: Path, pax8: tuple[FakePax8, str]
) -> None:
    # A first sync: every Pax8 account is new and unmapped, so there is an alert to send.
    add_pax8(tmp_path, pax8[1], "pax8-s3cret")
    broken = Recorder(status=500)
    with serving(broken) as root:
        write_secrets(tmp_path, root + HOOK_PATH, None, fmt="teams")
        synced = trueup(tmp_path, "sync")

    assert synced.returncode == 0, synced.stderr
    assert "pax8: ok" in synced.stdout
    assert len(broken.posts) == 1
    assert "new unmapped item" in broken.posts[0][1]["attachments"][0]["content"]["body"][0]["text"]
    assert (
        "alert not sent: the teams webhook at 127.0.0.1 refused the alert: HTTP 500"
        in synced.stderr
    )
    assert HOOK_PATH not in synced.stdout + synced.stderr


def test_alert_test_sends_a_test_message(
    database: str,
    tmp_path: Path,
    hook: tuple[Recorder, str],  # noqa: F811
) -> None:
    recorder, hook_url = hook
    missing = trueup(tmp_path, "alert", "test")
    assert missing.returncode == 2
    assert "no alerts are set up" in missing.stderr
    write_secrets(tmp_path, hook_url, None)

    sent = trueup(tmp_path, "alert", "test")

    assert sent.returncode == 0, sent.stderr
    assert sent.stdout == "test alert sent\n"
    [(_, body)] = recorder.posts
    assert body["text"].startswith("*TrueUp: test alert*")
