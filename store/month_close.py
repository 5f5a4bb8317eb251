"""The month-close checklist: what stands between this month and its invoices, and what to do next.

Five steps, each read from the store as it is now: the PSA synced recently, every vendor source
fresh, both unmapped counts at zero, every card actioned, the approved changes gone out
(exported or applied). Beside them the rhythm the team follows: syncs in the background through
the month; around the 25th clear unmapped items and sync afresh; by the month's last day action
every card; on the 1st the PSA invoices.
"""

from __future__ import annotations

import calendar
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Literal
from zoneinfo import ZoneInfo

import sqlalchemy as sa

import settings
from errors import TrueUpError
from store.db import Store
from store.models import MonthClose, SyncRun
from store.month import Closed, current_period
from store.snapshots import SourceState, source_states
from store.summary import CardSummary, card_summary
from store.types import SourceKind, SyncStatus, now

FRESH_DAYS = 3
"""A source is fresh when its latest sync succeeded and finished within this many days."""
AFRESH_DAY = 25
"""The day of the month from which the team syncs afresh: a good sync since then is fresh for
the rest of the month, and for its close after it."""

MilestoneState = Literal["past", "today", "next", "later"]


@dataclass(frozen=True)
class Step:
    """One step of the checklist: whether it is done, in plain words, and what to do next."""

    key: str
    """"psa", "vendors", "unmapped", "cards" or "changes"."""
    title: str
    done: bool
    detail: str
    """Where the step stands, with its numbers ("3 accounts and 1 service unmapped")."""
    next_step: str
    """What to do ("Sync datto again on the Sync page"); empty when the step is done."""
    page: str
    """The url path of the page where the next step is done: "sync", "mapping" or "cards"."""


@dataclass(frozen=True)
class Milestone:
    """One beat of the month's rhythm, and where `at` stands against it."""

    day: date
    title: str
    what: str
    state: MilestoneState


@dataclass(frozen=True)
class Checklist:
    """The month-close checklist of one month (`period`, "2026-11")."""

    period: str
    steps: list[Step]
    closed: Closed | None
    """Who closed the month and when; None while it is open."""
    rhythm: list[Milestone]

    @property
    def done(self) -> int:
        return sum(step.done for step in self.steps)

    @property
    def total(self) -> int:
        return len(self.steps)

    @property
    def next(self) -> Step | None:
        """Give back the first step not done, or None when every step is."""
        return next((step for step in self.steps if not step.done), None)

    @property
    def ready(self) -> bool:
        return self.done == self.total


def checklist(store: Store, period: str | None = None, *, at: datetime | None = None) -> Checklist:
    """Give back the month-close checklist of `period` (default: this month) as of `at`.

    Freshness: a source is fresh when its latest sync succeeded and finished within FRESH_DAYS
    (3) days of `at`, or on or after the 25th of the period (the rhythm's "sync afresh": that
    sync stands for the rest of the month and its close). A latest sync that failed is never
    fresh; one still running is passed over for the last good one before it.

    The unmapped, cards and changes steps read the workspace as it is now (the saved card
    summary and the approved changes), whichever month is asked for. Cards with no vendor data
    never block. A closed month still lists its steps, with `closed` set.
    """
    when = at or now()
    period = period or current_period(when)
    first = _first_day(period)
    with store.session() as session:
        states = source_states(session)
        close = session.scalars(sa.select(MonthClose).where(MonthClose.period == period)).first()
    psa = [s for s in states if s.kind is SourceKind.PSA]
    vendors = [s for s in states if s.kind is SourceKind.VENDOR]
    afresh = first.replace(day=AFRESH_DAY)
    synced = any(s.last_good for s in psa) and any(s.last_good for s in vendors)
    summary = card_summary(store)
    cards = _cards_step(summary, synced)
    return Checklist(
        period=period,
        steps=[
            _psa_step(psa, when, afresh),
            _vendors_step(vendors, when, afresh),
            _unmapped_step(summary, any(s.last_good for s in vendors)),
            cards,
            _changes_step(summary, cards.done, synced),
        ],
        closed=None if close is None else Closed(close.closed_by, close.closed_at),
        rhythm=rhythm(period, when),
    )


def rhythm(period: str, at: datetime) -> list[Milestone]:
    """Give back the month's rhythm, each beat marked past, today, next or later against `at`
    (its date in the team's time zone): the first beat not yet reached is "next"."""
    first = _first_day(period)
    last = first.replace(day=calendar.monthrange(first.year, first.month)[1])
    afresh = first.replace(day=AFRESH_DAY)
    invoice = last + timedelta(days=1)
    beats = [
        (first, afresh - timedelta(days=1), "Syncs run in the background",
         "Each source syncs through the month; fix a failed sync when the Sync page shows one."),
        (afresh, afresh, "Clear unmapped items and sync afresh",
         "Bring unmapped accounts and services to zero, then sync every source again."),
        (last, last, "Every card actioned",
         "Approve, dismiss or schedule every open card, and export the approved changes."),
        (invoice, invoice, "The PSA invoices",
         "The month's invoices go out from the PSA, with the approved changes in them."),
    ]  # fmt: skip
    today = _local_date(at)
    milestones: list[Milestone] = []
    for start, end, title, what in beats:
        state: MilestoneState
        if end < today:
            state = "past"
        elif start <= today:
            state = "today"
        elif any(m.state == "next" for m in milestones):
            state = "later"
        else:
            state = "next"
        milestones.append(Milestone(start, title, what, state))
    return milestones


def _psa_step(psa: Sequence[SourceState], at: datetime, afresh: date) -> Step:
    title = "PSA synced recently"
    if not psa:
        return Step(
            "psa", title, False, "No PSA synced yet", "Sync the PSA on the Sync page", "sync"
        )
    stale = [(s, why) for s in psa if (why := _staleness(s, at, afresh))]
    if not stale:
        return Step("psa", title, True, _fresh_detail(psa, at), "", "sync")
    return Step("psa", title, False, _stale_detail(stale), _sync_again(stale), "sync")


def _vendors_step(vendors: Sequence[SourceState], at: datetime, afresh: date) -> Step:
    title = "Every vendor source fresh"
    if not vendors:
        return Step(
            "vendors",
            title,
            False,
            "No vendor synced yet",
            "Sync a vendor (or upload its usage file) on the Sync page",
            "sync",
        )
    stale = [(s, why) for s in vendors if (why := _staleness(s, at, afresh))]
    if not stale:
        return Step("vendors", title, True, _fresh_detail(vendors, at), "", "sync")
    return Step("vendors", title, False, _stale_detail(stale), _sync_again(stale), "sync")


def _unmapped_step(summary: CardSummary, synced: bool) -> Step:
    title = "Nothing unmapped"
    if not synced:
        return Step(
            "unmapped",
            title,
            False,
            "Nothing to map until a vendor is synced",
            "Sync a vendor on the Sync page, then map what it reports",
            "sync",
        )
    accounts, services = summary.unmapped_accounts, summary.unmapped_products
    if accounts == services == 0:
        return Step("unmapped", title, True, "Every account and service is mapped", "", "mapping")
    counts = [_count(n, word) for n, word in ((accounts, "account"), (services, "service")) if n]
    return Step(
        "unmapped",
        title,
        False,
        f"{' and '.join(counts)} unmapped",
        "Map or exclude them on the Mapping page, then sync afresh",
        "mapping",
    )


def _cards_step(summary: CardSummary, synced: bool) -> Step:
    title = "Every card actioned"
    if not synced:
        return Step(
            "cards",
            title,
            False,
            "No cards until the PSA and a vendor are synced",
            "Sync the PSA and the vendors on the Sync page",
            "sync",
        )
    if summary.open_cards == 0:
        return Step("cards", title, True, "Every card is actioned", "", "cards")
    return Step(
        "cards",
        title,
        False,
        f"{_count(summary.open_cards, 'card')} open, {_money(summary.net_monthly_value)} a month",
        "Approve, dismiss or schedule them on the Cards page",
        "cards",
    )


def _changes_step(summary: CardSummary, cards_done: bool, synced: bool) -> Step:
    title = "Approved changes exported or applied"
    if not synced:
        return Step(
            "changes",
            title,
            False,
            "No approved changes until the cards are worked out",
            "Sync the PSA and the vendors on the Sync page",
            "sync",
        )
    # From the saved card summary: working the changes out again (store.changes) means
    # reconciling every snapshot, seconds on a large workspace.
    pending = summary.pending
    if pending.cards:
        return Step(
            "changes",
            title,
            False,
            f"{_count(pending.cards, 'approved change')} not exported or applied yet, "
            f"{_money(pending.monthly_value)} a month",
            "Export them on the Cards page (or apply them to the PSA)",
            "cards",
        )
    if not cards_done:
        # More approvals may come: the step is done only once nothing is left to decide.
        return Step(
            "changes",
            title,
            False,
            "No approved change waits to go out, but cards are still open",
            "Action every card on the Cards page, then export the approved changes",
            "cards",
        )
    return Step("changes", title, True, "Every approved change is exported or applied", "", "cards")


def _staleness(source: SourceState, at: datetime, afresh: date) -> str:
    """Give back why a source is not fresh (its name first), or "" when it is."""
    run: SyncRun | None = source.last
    if run is not None and run.status is SyncStatus.RUNNING:
        run = source.last_good
    if run is None or run.finished_at is None:
        return f"{source.name}: never synced"
    finished = run.finished_at
    if run.status is SyncStatus.FAILED:
        return f"{source.name}: last sync failed {_ago(finished, at)} ({_first_line(run.error)})"
    if at - finished <= timedelta(days=FRESH_DAYS) or _local_date(finished) >= afresh:
        return ""
    return f"{source.name}: last synced {_ago(finished, at)}"


def _fresh_detail(sources: Sequence[SourceState], at: datetime) -> str:
    finished = [s.last_good.finished_at for s in sources if s.last_good and s.last_good.finished_at]
    names = _join([s.name for s in sources])
    if not finished:
        return f"{names} synced"
    oldest = "" if len(sources) == 1 else ", the oldest"
    return f"{names} synced{oldest} {_ago(min(finished), at)}"


def _stale_detail(stale: Sequence[tuple[SourceState, str]]) -> str:
    return "; ".join(why for _, why in stale)


def _sync_again(stale: Sequence[tuple[SourceState, str]]) -> str:
    again = " again" if all(s.last is not None for s, _ in stale) else ""
    return f"Sync {_join([s.name for s, _ in stale])}{again} on the Sync page"


def _first_day(period: str) -> date:
    try:
        year, month = (int(part) for part in period.split("-"))
        return date(year, month, 1)
    except ValueError:
        raise TrueUpError(f"{period!r} is not a month: write it as 2026-11") from None


def _local_date(at: datetime) -> date:
    """Give back the date of `at` in the team's time zone."""
    return at.astimezone(ZoneInfo(settings.get("timezone"))).date()


def _ago(then: datetime, at: datetime) -> str:
    seconds = (at - then).total_seconds()
    if seconds < 3600:
        return "less than an hour ago" if seconds >= 0 else "just now"
    if seconds < 86400:
        return f"{_count(int(seconds // 3600), 'hour')} ago"
    return f"{_count(int(seconds // 86400), 'day')} ago"


def _first_line(error: str | None, limit: int = 120) -> str:
    line = (error or "no error recorded").strip().splitlines()[0]
    return line if len(line) <= limit else line[: limit - 1] + "…"


def _count(n: int, word: str) -> str:
    return f"{n:,} {word}{'' if n == 1 else 's'}"


def _money(value: Decimal) -> str:
    return f"{value:,.2f}"


def _join(names: Sequence[str]) -> str:
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"


__all__ = ["FRESH_DAYS", "Checklist", "Milestone", "Step", "checklist", "rhythm"]
