"""Alerts after syncs: a failed sync, new unmapped items and revenue at risk over the threshold
reach a local fake webhook and a local SMTP server on 127.0.0.1; a quiet round sends nothing;
secrets never show in what is said about a failure to send."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from decimal import Decimal
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from connectors.alerts import (
    Alert,
    AlertConfigError,
    AlertTargets,
    WebhookFormat,
    send,
    webhook_body,
)
from store import Store, import_csv
from store.alerts import alert_after_syncs, watch_syncs
from tests.fakes.server import Request, serving
from tests.store.factories import load_month, usage_file

HOOK_PATH = "/services/T000/B000/hook-s3cret-token"
SMTP_PASSWORD = "smtp-s3cret-pw"


class Recorder:
    """A webhook that records what is posted to it and answers `status`."""

    def __init__(self, status: int = 200) -> None:
        self.status = status
        self.posts: list[tuple[str, Any]] = []

    def handle(self, request: Request) -> tuple[int, Any]:
        self.posts.append((request.path, request.json()))
        return self.status, {}


class Inbox:
    """An SMTP server's handler: keeps each message it is sent."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.logins: list[tuple[bytes, bytes]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = message_from_bytes(envelope.content, policy=policy.default)
        assert isinstance(message, EmailMessage)
        self.messages.append(message)
        return "250 OK"

    def authenticate(
        self, server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any
    ) -> AuthResult:
        assert isinstance(auth_data, LoginPassword)
        self.logins.append((auth_data.login, auth_data.password))
        # handled=False: aiosmtpd then answers a refusal with 535 itself.
        return AuthResult(success=auth_data.password == SMTP_PASSWORD.encode(), handled=False)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@pytest.fixture
def hook() -> Iterator[tuple[Recorder, str]]:
    recorder = Recorder()
    with serving(recorder) as url:
        yield recorder, url + HOOK_PATH


@pytest.fixture
def smtp() -> Iterator[tuple[Inbox, int]]:
    inbox = Inbox()
    port = free_port()
    controller = Controller(
        inbox,
        hostname="127.0.0.1",
        port=port,
        authenticator=inbox.authenticate,
        auth_require_tls=False,
    )
    controller.start()
    try:
        yield inbox, port
    finally:
        controller.stop()


def write_secrets(
    folder: Path, hook_url: str | None, port: int | None, fmt: str = "slack", password: str = ""
) -> None:
    lines = ["[alerts]"]
    if hook_url:
        lines += [f'webhook_url = "{hook_url}"', f'webhook_format = "{fmt}"']
    if port:
        lines += [
            "[alerts.email]",
            'host = "127.0.0.1"',
            f"port = {port}",
            'username = "alerts@msp.example"',
            f'password = "{password or SMTP_PASSWORD}"',
            'from = "trueup@msp.example"',
            'to = ["billing@msp.example", "owner@msp.example"]',
            "starttls = false",
        ]
    (folder / ".streamlit").mkdir(exist_ok=True)
    (folder / ".streamlit" / "secrets.toml").write_text("\n".join(lines) + "\n")


@pytest.fixture(autouse=True)
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Run in an empty folder (its own secrets file), with no threshold unless a test sets one."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("TRUEUP_ALERT_AT_RISK", raising=False)
    return tmp_path


def text_of(post: Any) -> str:
    return str(post["text"])


def test_a_failed_sync_alerts_by_webhook_and_by_email(
    store: Store, workdir: Path, hook: tuple[Recorder, str], smtp: tuple[Inbox, int]
) -> None:
    recorder, url = hook
    inbox, port = smtp
    load_month(store)
    write_secrets(workdir, url, port)
    watch = watch_syncs(store)
    assert watch is not None

    alert, problems = alert_after_syncs(
        store, watch, [("pax8", "Pax8 refused the credentials: check them in Settings")]
    )

    assert problems == []
    assert alert is not None and alert.subject == "TrueUp after the sync: 1 sync failed"
    [(path, body)] = recorder.posts
    assert path == HOOK_PATH
    assert "Sync failed: pax8: Pax8 refused the credentials" in text_of(body)
    [message] = inbox.messages
    assert message["Subject"] == "TrueUp after the sync: 1 sync failed"
    assert message["To"] == "billing@msp.example, owner@msp.example"
    assert "Sync failed: pax8: Pax8 refused the credentials" in message.get_content()
    assert inbox.logins == [(b"alerts@msp.example", SMTP_PASSWORD.encode())]


def test_new_unmapped_items_alert_and_items_unmapped_before_do_not(
    store: Store, workdir: Path, hook: tuple[Recorder, str], tmp_path: Path
) -> None:
    recorder, url = hook
    load_month(store)  # Foxtrot Ltd and Teams Essentials are unmapped already
    write_secrets(workdir, url, None)
    watch = watch_syncs(store)
    assert watch is not None
    new_usage = usage_file(
        tmp_path,
        "pax8-next.csv",
        [
            ("pax8", "t-foxtrot", "Foxtrot Ltd", "CFQ7TTC0LCHC", "Microsoft 365 Business Premium", "4"),
            ("pax8", "t-golf", "Golf Partners", "CFQ7TTC0LCHC", "Microsoft 365 Business Premium", "9"),
            ("pax8", "t-golf", "Golf Partners", "NEW-SKU", "Defender for Business", "9"),
        ],
    )  # fmt: skip
    import_csv(store, "pax8", "usage", new_usage)

    alert, problems = alert_after_syncs(store, watch, [])

    assert problems == []
    assert alert is not None
    assert alert.subject == "TrueUp after the sync: 2 new unmapped items"
    assert alert.lines == (
        "New unmapped accounts (1): Golf Partners (pax8). Map them in TrueUp.",
        "New unmapped services (1): Defender for Business (pax8). Map them in TrueUp.",
    )
    [(_, body)] = recorder.posts
    assert "Golf Partners" in text_of(body) and "Foxtrot" not in text_of(body)


@pytest.mark.parametrize(("threshold", "alerts"), [("120.00", True), ("120.01", False)])
def test_revenue_at_risk_alerts_at_or_over_the_threshold_only(
    store: Store,
    workdir: Path,
    hook: tuple[Recorder, str],
    smtp: tuple[Inbox, int],
    monkeypatch: pytest.MonkeyPatch,
    threshold: str,
    alerts: bool,
) -> None:
    # The month's open increases: 66.00 (Acme) + 54.00 (Cobalt) a month; nothing else is new.
    recorder, url = hook
    inbox, port = smtp
    load_month(store)
    write_secrets(workdir, url, port)
    monkeypatch.setenv("TRUEUP_ALERT_AT_RISK", threshold)
    watch = watch_syncs(store)
    assert watch is not None and watch.before.at_risk == Decimal("120.00")

    alert, problems = alert_after_syncs(store, watch, [])

    assert problems == []
    if alerts:
        assert alert is not None
        assert alert.lines == (
            "Revenue at risk: 120.00 USD a month in open increases and New Revenue, at or over "
            f"the alert threshold of {threshold} USD. Review the cards in TrueUp.",
        )
        assert len(recorder.posts) == 1 and len(inbox.messages) == 1
    else:
        assert alert is None
        assert recorder.posts == [] and inbox.messages == []


def test_a_quiet_round_with_no_threshold_sends_nothing(
    store: Store, workdir: Path, hook: tuple[Recorder, str], smtp: tuple[Inbox, int]
) -> None:
    recorder, url = hook
    inbox, port = smtp
    load_month(store)
    write_secrets(workdir, url, port)
    watch = watch_syncs(store)
    assert watch is not None

    assert alert_after_syncs(store, watch, []) == (None, [])
    assert recorder.posts == [] and inbox.messages == []


def test_without_alerts_configured_nothing_is_watched(store: Store, workdir: Path) -> None:
    assert watch_syncs(store) is None
    write_secrets(workdir, None, None)
    assert watch_syncs(store) is None


ALERT = Alert("TrueUp after the sync: 1 sync failed", ("Sync failed: psa: timed out",))


def test_slack_gets_text_and_teams_gets_an_adaptive_card(hook: tuple[Recorder, str]) -> None:
    recorder, url = hook
    for fmt in ("slack", "teams"):
        targets = AlertTargets.from_section({"webhook_url": url, "webhook_format": fmt})
        assert send(ALERT, targets) == []

    [(_, slack), (_, teams)] = recorder.posts
    assert slack == {"text": "*TrueUp after the sync: 1 sync failed*\nSync failed: psa: timed out"}
    assert teams == webhook_body(ALERT, WebhookFormat.TEAMS)
    assert teams["type"] == "message"
    [attachment] = teams["attachments"]
    assert attachment["contentType"] == "application/vnd.microsoft.card.adaptive"
    card = attachment["content"]
    assert card["type"] == "AdaptiveCard"
    assert [block["text"] for block in card["body"]] == [ALERT.subject, *ALERT.lines]


def test_a_failure_to_send_says_where_without_the_secrets(smtp: tuple[Inbox, int]) -> None:
    inbox, port = smtp
    refusing = Recorder(status=404)
    with serving(refusing) as root:
        targets = AlertTargets.from_section(
            {
                "webhook_url": root + HOOK_PATH,
                "webhook_format": "teams",
                "email": {
                    "host": "127.0.0.1",
                    "port": port,
                    "username": "alerts@msp.example",
                    "password": "wrong-s3cret-pw",
                    "from": "trueup@msp.example",
                    "to": "billing@msp.example",
                    "starttls": False,
                },
            }
        )
        problems = send(ALERT, targets)

    assert problems == [
        "the teams webhook at 127.0.0.1 refused the alert: HTTP 404; check webhook_url and "
        "webhook_format under [alerts]",
        f"e-mail through 127.0.0.1:{port} refused the user name or password under [alerts.email]",
    ]
    assert inbox.messages == []
    assert "s3cret" not in repr(targets)


def test_a_webhook_format_that_is_neither_teams_nor_slack_is_refused() -> None:
    with pytest.raises(AlertConfigError, match='give "teams" or "slack"'):
        AlertTargets.from_section({"webhook_url": "http://127.0.0.1/x", "webhook_format": "irc"})
