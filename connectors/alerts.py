"""Alerts out: a message to a Teams or Slack incoming webhook, and by SMTP e-mail.

The webhook's URL is its secret (Slack's token is in its path; a Teams workflow's signature
in its query), so it is never logged or shown: messages name its host only. That is also why
it is not sent through `connectors.http.ApiClient`, which logs every request's path. The SMTP
password is likewise never shown.
"""

from __future__ import annotations

import smtplib
import ssl
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from email.message import EmailMessage
from enum import StrEnum
from typing import Any

import httpx

import connectors.http  # noqa: F401  (drops httpx's own request log lines, which show URLs whole)
from errors import TrueUpError


class AlertConfigError(TrueUpError):
    title = "The alerts are not set up right"


class WebhookFormat(StrEnum):
    TEAMS = "teams"
    SLACK = "slack"


@dataclass(frozen=True)
class Alert:
    """One message: a subject line and the lines under it."""

    subject: str
    lines: tuple[str, ...]

    @property
    def text(self) -> str:
        return "\n".join((self.subject, "", *self.lines))


@dataclass(frozen=True)
class Webhook:
    url: str = field(repr=False)
    format: WebhookFormat

    @property
    def shown(self) -> str:
        """Give back where it posts, as it may be shown: the host only."""
        return f"the {self.format.value} webhook at {httpx.URL(self.url).host}"


@dataclass(frozen=True)
class Email:
    host: str
    port: int
    sender: str
    to: tuple[str, ...]
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    starttls: bool = True

    @property
    def shown(self) -> str:
        return f"e-mail through {self.host}:{self.port}"


@dataclass(frozen=True)
class AlertTargets:
    """Where alerts go: a webhook, e-mail, or both."""

    webhook: Webhook | None = None
    email: Email | None = None

    @classmethod
    def from_section(cls, section: Mapping[str, Any]) -> AlertTargets:
        """Give back the targets of an `[alerts]` section of the secrets file."""
        webhook = None
        if section.get("webhook_url"):
            format_name = str(section.get("webhook_format", "slack")).lower()
            if format_name not in set(WebhookFormat):
                raise AlertConfigError(
                    f'[alerts] webhook_format is "{format_name}": give "teams" or "slack"'
                )
            webhook = Webhook(str(section["webhook_url"]), WebhookFormat(format_name))
        email = None
        mail = section.get("email")
        if isinstance(mail, Mapping):
            missing = [name for name in ("host", "from", "to") if not mail.get(name)]
            if missing:
                raise AlertConfigError(f"[alerts.email] needs {', '.join(missing)}")
            to = mail["to"]
            try:
                port = int(mail.get("port", 587))
            except (TypeError, ValueError):
                raise AlertConfigError("[alerts.email] port must be a number, e.g. 587") from None
            email = Email(
                host=str(mail["host"]),
                port=port,
                sender=str(mail["from"]),
                to=(str(to),) if isinstance(to, str) else tuple(str(t) for t in to),
                username=str(mail["username"]) if mail.get("username") else None,
                password=str(mail["password"]) if mail.get("password") else None,
                starttls=bool(mail.get("starttls", True)),
            )
        return cls(webhook, email)

    @property
    def count(self) -> int:
        """Give back how many targets there are (0, 1 or 2)."""
        return (self.webhook is not None) + (self.email is not None)

    @property
    def any(self) -> bool:
        return self.count > 0

    @property
    def secrets(self) -> list[str]:
        """The values never to show: the webhook URL (and its path) and the SMTP password."""
        values: list[str] = []
        if self.webhook is not None:
            url = httpx.URL(self.webhook.url)
            values += [self.webhook.url, url.path, url.query.decode()]
        if self.email is not None and self.email.password:
            values.append(self.email.password)
        return [value for value in values if value and value != "/"]


def webhook_body(alert: Alert, format: WebhookFormat) -> dict[str, Any]:
    """Give back the JSON body an incoming webhook of `format` takes.

    Slack: `{"text": ...}`. Teams: a message with one Adaptive Card attachment, the format the
    Teams Workflows ("Post to a channel when a webhook request is received") and incoming
    webhooks take; Office 365 connectors' MessageCard is retired.
    """
    if format is WebhookFormat.SLACK:
        return {"text": f"*{alert.subject}*\n" + "\n".join(alert.lines)}
    body: list[dict[str, Any]] = [
        {"type": "TextBlock", "text": alert.subject, "weight": "Bolder", "size": "Medium"},
        *({"type": "TextBlock", "text": line, "wrap": True} for line in alert.lines),
    ]
    return {
        "type": "message",
        "attachments": [
            {
                "contentType": "application/vnd.microsoft.card.adaptive",
                "contentUrl": None,
                "content": {
                    "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
                    "type": "AdaptiveCard",
                    "version": "1.4",
                    "body": body,
                },
            }
        ],
    }


def send_webhook(
    alert: Alert, webhook: Webhook, *, transport: httpx.BaseTransport | None = None
) -> None:
    """Post `alert` to the webhook; a TrueUpError naming its host only when that fails."""
    try:
        with httpx.Client(transport=transport, timeout=30.0) as client:
            response = client.post(webhook.url, json=webhook_body(alert, webhook.format))
    except httpx.HTTPError as error:
        raise TrueUpError(
            f"{webhook.shown} could not be reached ({type(error).__name__})"
        ) from None
    if not response.is_success:
        raise TrueUpError(
            f"{webhook.shown} refused the alert: HTTP {response.status_code}; check "
            "webhook_url and webhook_format under [alerts]"
        )


def send_email(alert: Alert, email: Email, *, timeout: float = 30.0) -> None:
    """Send `alert` by e-mail; a TrueUpError saying what failed, without the password."""
    message = EmailMessage()
    message["Subject"] = alert.subject
    message["From"] = email.sender
    message["To"] = ", ".join(email.to)
    message.set_content(alert.text)
    try:
        with smtplib.SMTP(email.host, email.port, timeout=timeout) as smtp:
            if email.starttls:
                smtp.starttls(context=ssl.create_default_context())
            if email.username:
                smtp.login(email.username, email.password or "")
            smtp.send_message(message)
    except smtplib.SMTPAuthenticationError:
        raise TrueUpError(
            f"{email.shown} refused the user name or password under [alerts.email]"
        ) from None
    except smtplib.SMTPNotSupportedError:
        raise TrueUpError(
            f"{email.shown} does not offer STARTTLS: set starttls = false under [alerts.email] "
            "only if the server is on a network you trust"
        ) from None
    except (smtplib.SMTPException, OSError) as error:
        raise TrueUpError(f"{email.shown} failed: {type(error).__name__}: {error}") from None


def send(
    alert: Alert, targets: AlertTargets, *, transport: httpx.BaseTransport | None = None
) -> list[str]:
    """Give back what failed (empty: all sent), having tried every target of `targets`."""
    problems: list[str] = []
    if targets.webhook is not None:
        try:
            send_webhook(alert, targets.webhook, transport=transport)
        except TrueUpError as error:
            problems.append(str(error))
    if targets.email is not None:
        try:
            send_email(alert, targets.email)
        except TrueUpError as error:
            problems.append(str(error))
    return [_redacted(problem, targets.secrets) for problem in problems]


def _redacted(message: str, secrets: Sequence[str]) -> str:
    for value in sorted(secrets, key=len, reverse=True):
        if len(value) >= 4:
            message = message.replace(value, "***")
    return message
