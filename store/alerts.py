"""What to alert the team to after a scheduled sync (issue 8): a sync that failed, accounts or
services that appeared unmapped, and revenue at risk at or over the alert threshold.

Where alerts go is `[alerts]` in `.streamlit/secrets.toml` (connectors.alerts sends them); the
threshold is the `alert_at_risk` setting. `watch_syncs` notes what was unmapped before the
syncs, `alert_after_syncs` compares and sends one summary, or nothing when all is quiet.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

import polars as pl

import settings
from connectors.alerts import Alert, AlertConfigError, AlertTargets, send
from engine.month import GAINS
from store.cards import current_cards, is_open
from store.credentials import SECRETS_FILE, secrets_file
from store.db import Store

SHOWN = 10
"""New unmapped items listed by name in an alert; the rest are counted."""

Item = tuple[str, str, str, str]
"""An unmapped item: kind ("account" or "product"), vendor, vendor id, vendor name."""


@dataclass(frozen=True)
class Workspace:
    """What an alert compares: the unmapped items, and revenue at risk (a month's money)."""

    unmapped: frozenset[Item]
    at_risk: Decimal


@dataclass(frozen=True)
class SyncWatch:
    """Where alerts go, and the workspace as it was before the syncs."""

    targets: AlertTargets
    before: Workspace


def alert_targets() -> AlertTargets | None:
    """Give back where alerts go (`[alerts]` of the secrets file), or None when nowhere."""
    section = secrets_file().get("alerts")
    if not isinstance(section, Mapping):
        return None
    targets = AlertTargets.from_section(section)
    return targets if targets.any else None


def threshold() -> Decimal | None:
    """Give back the `alert_at_risk` setting: the monthly money at risk that alerts, or None."""
    text = settings.get("alert_at_risk").strip()
    if not text:
        return None
    try:
        return Decimal(text)
    except InvalidOperation:
        raise AlertConfigError(
            f'{settings.REGISTRY["alert_at_risk"].env} is "{text}": give an amount, e.g. 500'
        ) from None


def workspace(store: Store) -> Workspace:
    """Give back the current unmapped items and revenue at risk (open increases and New
    Revenue, monthly)."""
    current = current_cards(store)
    unmapped = frozenset(
        (row["kind"], row["vendor"] or "", row["vendor_id"] or "", row["vendor_name"] or "")
        for row in current.result.unmapped.iter_rows(named=True)
    )
    gains = current.cards.filter(is_open() & pl.col("card_type").is_in(GAINS))
    at_risk = sum(gains.get_column("monthly_value").drop_nulls(), Decimal("0.00"))
    return Workspace(unmapped, at_risk)


def watch_syncs(store: Store) -> SyncWatch | None:
    """Give back what to compare after the syncs, or None when alerts are not set up."""
    targets = alert_targets()
    return None if targets is None else SyncWatch(targets, workspace(store))


def sync_alert(
    failed: Sequence[tuple[str, str]],
    before: Workspace,
    after: Workspace,
    at_risk_threshold: Decimal | None,
    currency: str,
) -> Alert | None:
    """Give back the alert a round of syncs calls for, or None when there is nothing to say.

    `failed` holds each failed source's name and error.
    """
    known = {_key(item) for item in before.unmapped}
    new = sorted((item for item in after.unmapped if _key(item) not in known), key=_order)
    over = at_risk_threshold is not None and after.at_risk >= at_risk_threshold
    if not failed and not new and not over:
        return None
    headline: list[str] = []
    lines: list[str] = []
    if failed:
        headline.append(f"{_count(len(failed), 'sync')} failed")
        lines += [f"Sync failed: {name}: {error}" for name, error in failed]
    if new:
        headline.append(f"{_count(len(new), 'new unmapped item')}")
        for kind in ("account", "product"):
            of_kind = [item for item in new if item[0] == kind]
            if not of_kind:
                continue
            noun = "accounts" if kind == "account" else "services"
            shown = [f"{name or vid} ({vendor})" for _, vendor, vid, name in of_kind[:SHOWN]]
            listed = ", ".join(shown) + (
                f" and {len(of_kind) - SHOWN} more" if len(of_kind) > SHOWN else ""
            )
            lines.append(f"New unmapped {noun} ({len(of_kind)}): {listed}. Map them in TrueUp.")
    if over:
        headline.append("revenue at risk over the threshold")
        lines.append(
            f"Revenue at risk: {_money(after.at_risk, currency)} a month in open increases and "
            f"New Revenue, at or over the alert threshold of "
            f"{_money(at_risk_threshold or Decimal(0), currency)}. Review the cards in TrueUp."
        )
    return Alert("TrueUp after the sync: " + ", ".join(headline), tuple(lines))


def alert_after_syncs(
    store: Store,
    watch: SyncWatch,
    failed: Sequence[tuple[str, str]],
    *,
    sender: Callable[[Alert, AlertTargets], list[str]] = send,
) -> tuple[Alert | None, list[str]]:
    """Give back the alert sent after a round of syncs (None: nothing to say) and what failed
    in sending it (the secrets of `[alerts]` masked)."""
    alert = sync_alert(
        failed, watch.before, workspace(store), threshold(), settings.get("currency")
    )
    if alert is None:
        return None, []
    return alert, sender(alert, watch.targets)


def sample_alert() -> Alert:
    """Give back the message `trueup alert test` sends."""
    return Alert(
        "TrueUp: test alert",
        (f"Alerts from TrueUp reach this channel, as set up in {SECRETS_FILE} [alerts].",),
    )


def _key(item: Item) -> tuple[str, str, str]:
    # A renamed item is the same item: compare by kind, vendor and id.
    return item[0], item[1], item[2]


def _order(item: Item) -> tuple[str, str, str]:
    return item[0], item[1], item[3] or item[2]


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


def _money(amount: Decimal, currency: str) -> str:
    return f"{amount:,.2f} {currency}"
