"""The write-back outbox: approved changes sent to the PSA once each (DESIGN 6; issue 7.7).

An approval still to go out enters the outbox (table write_backs) with an idempotency key fixed
by the approval. Sending one is kill-safe: the row is claimed (state `unknown`, `sent_at`,
attempts + 1) in a committed transaction before the request leaves, and its result, the
approval's write-back state and an audit entry commit together after. A row left `unknown` (the
process died, or the answer never came) goes again only through the connector's first read, so
a change already in the PSA is recorded as applied, never written twice.

A change that edits a line in place waits for its effective date (in the team's time zone); a
change carrying its own date (a new dated line, New Revenue) goes at once. The outbox shows every
entry still to send (pending, failed, unknown) and those finished in the last `SHOWN_FOR` days.
"""

from __future__ import annotations

import json
import os
import socket
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

import httpx
import polars as pl
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import aliased

from connectors.writeback import ChangeResult, QuantityChange
from engine.schema import QUANTITY
from errors import ConnectorError, ConnectorErrorKind, TrueUpError
from store import credentials
from store.access import Permission, authorize
from store.audit import audit, current_user
from store.cards import CurrentCards, current_cards
from store.changes import _changes
from store.db import Store
from store.models import Decision, Source, WriteBackEntry
from store.sources import SourceConfig, source_config
from store.sync import describe
from store.types import Action, CardStatus, SourceKind, WriteBack, now, team_date

SENDABLE = (WriteBack.PENDING, WriteBack.FAILED, WriteBack.UNKNOWN)
"""States of an entry still to send: not yet, failed before reaching the PSA, or unanswered."""
SHOWN_FOR = timedelta(days=7)
"""How long a finished entry stays in the outbox for people to see what went out."""
CLAIM_LEASE = timedelta(minutes=10)
"""How long a row another run is sending is left to it (when its process cannot be checked)."""
HELD = "held"
BUSY = "sending"
WITHDRAWN = "withdrawn"
WOULD_APPLY = "would apply"
"""States `apply_changes` reports beside the write-back states: waiting for its effective date,
being sent by another run right now, not sent as its approval no longer holds, or (a dry run)
one the PSA would take."""
FAILING = frozenset({"conflict", "rejected", "failed", "unknown"})
"""Reported states that need a person."""

OUTBOX: dict[str, Any] = {
    "key": pl.String,
    "idempotency_key": pl.String,
    "account_id": pl.String,
    "account_name": pl.String,
    "product_id": pl.String,
    "product_name": pl.String,
    "contract_id": pl.String,
    "line_id": pl.String,
    "old_quantity": QUANTITY,
    "new_quantity": QUANTITY,
    "effective_date": pl.Date,
    "mode": pl.String,
    "state": pl.String,
    "held_until": pl.Date,
    "attempts": pl.Int64,
    "message": pl.String,
    "finished_at": pl.Datetime("us", "UTC"),
}
"""The outbox: one row per approved change to send or recently sent, in card order."""


@dataclass(frozen=True)
class Applied:
    """What `apply_changes` did with one change: its write-back state, or "held" (waiting for
    `held_until`), "sending" (another run has it) or "withdrawn" (its approval went)."""

    key: str
    account_name: str | None
    product_name: str | None
    old_quantity: Decimal | None
    new_quantity: Decimal
    state: str
    message: str | None = None
    held_until: date | None = None


def outbox(store: Store, *, today: date | None = None) -> pl.DataFrame:
    """Give back the outbox (OUTBOX), after entering every approved change still pending.

    Raises TrueUpError when there is no PSA that takes changes back (none, or one synced from
    files: its changes are exported instead).
    """
    config = _psa(store)
    _enter(store, config)
    day = today or team_date(now())
    shown_since = now() - SHOWN_FOR
    with store.session() as session:
        rows = _entries().where(
            WriteBackEntry.state.in_(SENDABLE) | (WriteBackEntry.finished_at >= shown_since)
        )
        found = session.execute(rows).all()
    return pl.DataFrame(
        [
            {
                "key": f"{e.account_id}:{e.product_id}",
                "idempotency_key": e.idempotency_key,
                "account_id": e.account_id,
                "account_name": account,
                "product_id": e.product_id,
                "product_name": product,
                "contract_id": e.contract_id,
                "line_id": e.line_id,
                "old_quantity": e.expected_quantity,
                "new_quantity": e.new_quantity,
                "effective_date": e.effective_date,
                "mode": e.mode,
                "state": e.state.value,
                "held_until": _held_until(e, day) if e.state in SENDABLE else None,
                "attempts": e.attempts,
                "message": e.message,
                "finished_at": e.finished_at,
            }
            for e, account, product in found
        ],
        schema=OUTBOX,
        orient="row",
    )


def apply_changes(
    store: Store,
    keys: Sequence[str] | None = None,
    *,
    user: str | None = None,
    at: datetime | None = None,
    today: date | None = None,
    transport: httpx.BaseTransport | None = None,
    dry_run: bool = False,
) -> list[Applied]:
    """Give back what came of sending each due change (all, or those of the cards `keys`,
    "ACCOUNT_ID:PRODUCT_ID") to the PSA, in card order.

    An in-place change whose effective date has not come is held, not sent. With `dry_run` the
    PSA is read and compared, nothing is written and nothing recorded. Raises TrueUpError when
    there is no PSA that takes changes back.
    """
    who = user or current_user()
    with store.session() as session:
        authorize(session, who, Permission.APPLY)  # a dry run too: it reads with the PSA's keys
    day = today or team_date(at or now())
    config = _psa(store)
    _enter(store, config)
    wanted = set(keys) if keys is not None else None
    with store.session() as session:
        found = session.execute(_entries().where(WriteBackEntry.state.in_(SENDABLE))).all()
    done: list[Applied] = []
    for entry, account, product in found:
        key = f"{entry.account_id}:{entry.product_id}"
        if wanted is None or key in wanted:
            state, message, held = _apply_one(
                store, config, entry, key, day, who, at, transport, dry_run
            )
            done.append(
                Applied(
                    key,
                    account,
                    product,
                    entry.expected_quantity,
                    entry.new_quantity,
                    state,
                    message,
                    held,
                )
            )
    return done


def _apply_one(
    store: Store,
    config: SourceConfig,
    entry: WriteBackEntry,
    key: str,
    today: date,
    who: str,
    at: datetime | None,
    transport: httpx.BaseTransport | None,
    dry_run: bool,
) -> tuple[str, str | None, date | None]:
    """Give back what came of one entry (state, message, held until), after sending it if it is
    due and this run could claim it."""
    held_until = _held_until(entry, today)
    if held_until is not None:
        return HELD, f"waiting until {held_until}", held_until
    change = _change(entry, dry_run)
    if dry_run:
        try:
            tried = _send(config, change, transport)
        except ConnectorError as error:
            return _failed_state(error).value, _redacted(str(error), config), None
        # Nothing was sent: a change the PSA would take is said as such, not as applied.
        state = WOULD_APPLY if tried.status == "applied" else tried.status
        return state, _redacted(tried.message, config) if tried.message else None, None
    refused = _claim(store, entry, at or now())
    if refused is not None:
        return refused
    state, result, message = _outcome(config, change, entry.state, transport)
    _record(store, config, entry, key, state, result, message, who, at or now())
    return state.value, message, None


# -- entering approved changes -------------------------------------------------------------------


def _psa(store: Store) -> SourceConfig:
    """Give back the PSA source's config; TrueUpError when it cannot take changes back."""
    with store.session() as session:
        psa = session.scalars(sa.select(Source).where(Source.kind == SourceKind.PSA)).first()
        if psa is None:
            raise TrueUpError(
                "there is no PSA source to write changes back to: add one with `trueup source "
                "add NAME --type connectwise` (or autotask, halopsa), or export the changes "
                "with `trueup export-changes`"
            )
        if psa.type == "csv":
            raise TrueUpError(
                f'the PSA ("{psa.name}") is synced from files: export the changes instead, '
                "with `trueup export-changes --out FILE`, and apply them in the PSA"
            )
        config = source_config(session, psa.name)
    if config.type.apply is None:
        raise TrueUpError(
            f"TrueUp cannot write changes back to {config.type.title} yet: export the changes "
            "with `trueup export-changes` instead"
        )
    return config


def _enter(store: Store, config: SourceConfig) -> None:
    """Enter each approved change still pending into the outbox, once, and take out entries
    never sent whose approval no longer holds (undone, decided again, its vendor quantity
    moved, or exported)."""
    current = current_cards(store)  # once: reconciling is the costly part of entering
    changes, ids = _changes(store, current)
    mode = config.type.write_mode(config.values) if config.type.write_mode else "in_place"
    at = now()
    rows = [
        {
            "decision_id": decision_id,
            "idempotency_key": f"trueup-{decision_id}",
            "source": config.name,
            "account_id": c["account_id"],
            "product_id": c["product_id"],
            "contract_id": c["contract_id"],
            "line_id": c["line_id"],
            "expected_quantity": c["old_quantity"] if c["line_id"] is not None else None,
            "new_quantity": c["new_quantity"],
            "effective_date": c["effective_date"],
            "mode": mode,
            "state": WriteBack.PENDING,
            "attempts": 0,
            "created_at": at,
            "made_by": c["approved_by"],
        }
        for c, decision_id in zip(changes.iter_rows(named=True), ids, strict=True)
        if decision_id is not None
    ]
    holding = _holding(store, current)
    with store.session() as session:
        if rows:
            dialect = sqlite if session.bind and session.bind.dialect.name == "sqlite" else None
            insert = (dialect or postgresql).insert(WriteBackEntry).values(rows)
            # Two runs entering the same approval at once: the second adds nothing.
            session.execute(insert.on_conflict_do_nothing(index_elements=["decision_id"]))
        waiting = session.execute(
            sa.select(WriteBackEntry.id, WriteBackEntry.decision_id, Decision.write_back)
            .join(Decision, Decision.id == WriteBackEntry.decision_id)
            .where(WriteBackEntry.state.in_([WriteBack.PENDING, WriteBack.FAILED]))
        ).all()
        gone = [
            i
            for i, decision_id, write_back in waiting
            if decision_id not in holding or write_back is WriteBack.EXPORTED
        ]
        if gone:
            session.execute(sa.delete(WriteBackEntry).where(WriteBackEntry.id.in_(gone)))


def _holding(store: Store, current: CurrentCards) -> set[int]:
    """Give back the ids of the approvals in force that still hold (DESIGN 6)."""
    cards = current.cards.filter(pl.col("status") == CardStatus.APPROVED.value)
    approved = set(cards.select("account_id", "product_id").iter_rows())
    undo = aliased(Decision)
    with store.session() as session:
        rows = session.execute(
            sa.select(Decision.id, Decision.account_id, Decision.product_id, Decision.action)
            .where(
                Decision.action != Action.UNDO, ~sa.exists().where(undo.undoes_id == Decision.id)
            )
            .order_by(Decision.id)
        ).all()
    in_force = {(r.account_id, r.product_id): r for r in rows}
    return {r.id for key, r in in_force.items() if r.action is Action.APPROVE and key in approved}


def _entries() -> sa.Select[WriteBackEntry, str | None, str | None]:
    """Give back the query of outbox entries with their card's names, in card order."""
    return (
        sa.select(WriteBackEntry, Decision.account_name, Decision.product_name)
        .join(Decision, Decision.id == WriteBackEntry.decision_id)
        .order_by(WriteBackEntry.account_id, WriteBackEntry.product_id, WriteBackEntry.id)
    )


def _held_until(entry: WriteBackEntry, today: date) -> date | None:
    """Give back the date an in-place edit of a line waits for; None when it may go now."""
    if entry.mode != "in_place" or entry.line_id is None or entry.effective_date is None:
        return None
    return entry.effective_date if entry.effective_date > today else None


# -- sending one change --------------------------------------------------------------------------


def _change(entry: WriteBackEntry, dry_run: bool) -> QuantityChange:
    return QuantityChange(
        idempotency_key=entry.idempotency_key,
        account_id=entry.account_id,
        product_id=entry.product_id,
        contract_id=entry.contract_id,
        line_id=entry.line_id,
        expected_quantity=entry.expected_quantity,
        new_quantity=entry.new_quantity,
        effective_date=entry.effective_date or team_date(now()),
        mode="effective_dated" if entry.mode == "effective_dated" else "in_place",
        dry_run=dry_run,
    )


def _claim(store: Store, entry: WriteBackEntry, at: datetime) -> tuple[str, str, None] | None:
    """Give back None when this run now owns the entry, after marking it sent (state `unknown`,
    `sent_at`, attempts + 1) and its approval `unknown`, committed before any request leaves;
    else what to report instead (another run has it, or the approval was withdrawn).

    Conditional on the row being as read (its state and attempts), so two runs never both own
    it; on its approval still being in force (not undone, not decided again, not exported); and,
    for a row another run left `unknown`, on that run being gone (its process dead on this host,
    or its lease past).
    """
    busy = (BUSY, "being sent by another run of apply", None)
    if entry.state is WriteBack.UNKNOWN and not _abandoned(entry, at):
        return busy
    undo, later, later_undo = aliased(Decision), aliased(Decision), aliased(Decision)
    in_force = ~sa.exists().where(
        undo.undoes_id == WriteBackEntry.decision_id
    ) & ~sa.exists().where(
        later.account_id == WriteBackEntry.account_id,
        later.product_id == WriteBackEntry.product_id,
        later.id > WriteBackEntry.decision_id,
        later.action != Action.UNDO,
        ~sa.exists().where(later_undo.undoes_id == later.id),
    )
    claim = {"pid": os.getpid(), "host": socket.gethostname()}
    with store.session() as session:
        claimed = session.execute(
            sa.update(WriteBackEntry)
            .where(
                WriteBackEntry.id == entry.id,
                WriteBackEntry.state == entry.state,
                WriteBackEntry.attempts == entry.attempts,
                in_force,
            )
            .values(
                state=WriteBack.UNKNOWN,
                sent_at=at,
                attempts=WriteBackEntry.attempts + 1,
                request={"claim": claim},
                message=f"sent at {at:%Y-%m-%d %H:%M} UTC by process {claim['pid']} on "
                f"{claim['host']}; no answer recorded yet",
            )
            .execution_options(synchronize_session=False)
        )
        if claimed.rowcount != 1:  # type: ignore[attr-defined]
            now_is = session.get(WriteBackEntry, entry.id)
            if now_is is not None and now_is.attempts != entry.attempts:
                return busy
            return WITHDRAWN, "the approval was undone or decided again: not sent", None
        marked = session.execute(
            sa.update(Decision)
            .where(Decision.id == entry.decision_id, Decision.write_back.in_(SENDABLE))
            .values(write_back=WriteBack.UNKNOWN)
            .execution_options(synchronize_session=False)
        )
        if marked.rowcount == 1:  # type: ignore[attr-defined]
            return None
        # The approval went out another way (exported): the claim is rolled back.
        session.rollback()
    return WITHDRAWN, "the approval was exported or decided again: not sent", None


def _abandoned(entry: WriteBackEntry, at: datetime) -> bool:
    """Give back whether the run that left this entry `unknown` is gone."""
    if entry.sent_at is None or entry.sent_at <= at - CLAIM_LEASE:
        return True
    claim = (entry.request or {}).get("claim")
    if not isinstance(claim, dict):
        return True  # the run answered (unknown outcome) and finished with it
    if claim.get("host") != socket.gethostname():
        return False
    pid = claim.get("pid")
    if not isinstance(pid, int):
        return True
    if pid == os.getpid():
        return False  # another run in this process (the app serves many people): it is alive
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


def _send(
    config: SourceConfig, change: QuantityChange, transport: httpx.BaseTransport | None
) -> ChangeResult:
    apply = config.type.apply
    assert apply is not None  # _psa checked it
    return apply(config.values, change, transport=transport)


def _outcome(
    config: SourceConfig,
    change: QuantityChange,
    was: WriteBack,
    transport: httpx.BaseTransport | None,
) -> tuple[WriteBack, ChangeResult | None, str | None]:
    """Give back the state a send ends in, the connector's result, and the message to keep."""
    try:
        result = _send(config, change, transport)
    except ConnectorError as error:
        return _failed_state(error), None, _redacted(str(error), config)
    except Exception as error:
        # Whether the request reached the PSA is not known: the next attempt reads first.
        return WriteBack.UNKNOWN, None, _redacted(describe(error), config)
    state = WriteBack(result.status)
    message = _redacted(result.message, config) if result.message else None
    if was is WriteBack.UNKNOWN and state is WriteBack.NOOP:
        # The earlier attempt's write had landed: it is this change, applied once.
        state = WriteBack.APPLIED
        message = "found already applied" + (f" ({message})" if message else "")
    return state, result, message


def _failed_state(error: ConnectorError) -> WriteBack:
    if error.outcome_unknown:
        return WriteBack.UNKNOWN
    if error.kind is ConnectorErrorKind.REJECTED:
        return WriteBack.REJECTED
    return WriteBack.FAILED


def _record(
    store: Store,
    config: SourceConfig,
    entry: WriteBackEntry,
    key: str,
    state: WriteBack,
    result: ChangeResult | None,
    message: str | None,
    who: str,
    when: datetime,
) -> None:
    """Record what came of one send: the entry, its approval's state and an audit entry, in one
    transaction."""
    # With no result (the request failed or went unanswered), the log says what was being sent.
    asked = (
        result.request if result else {"idempotency_key": entry.idempotency_key, **_asked(entry)}
    )
    request = _redacted_json(asked, config)
    response = _redacted_json(result.response if result else None, config)
    finished = state not in SENDABLE
    with store.session() as session:
        session.execute(
            sa.update(WriteBackEntry)
            .where(WriteBackEntry.id == entry.id)
            .values(
                state=state,
                applied_quantity=result.applied_quantity if result else None,
                new_line_id=result.new_line_id if result else None,
                request=request,
                response=response,
                message=message,
                finished_at=when if finished else None,
            )
            .execution_options(synchronize_session=False)
        )
        session.execute(
            sa.update(Decision)
            .where(Decision.id == entry.decision_id)
            .values(write_back=state)
            .execution_options(synchronize_session=False)
        )
        audit(
            session,
            who,
            "write_back",
            {
                "card": key,
                "source": config.name,
                "idempotency_key": entry.idempotency_key,
                "decision": entry.decision_id,
                "old": _text(entry.expected_quantity),
                "new": _text(entry.new_quantity),
                "state": state.value,
                "applied_quantity": _text(result.applied_quantity if result else None),
                "new_line_id": result.new_line_id if result else None,
                "message": message,
                "request": request,
                "response": response,
            },
            when,
        )


def _asked(entry: WriteBackEntry) -> dict[str, Any]:
    return {
        "contract_id": entry.contract_id,
        "line_id": entry.line_id,
        "expected_quantity": _text(entry.expected_quantity),
        "new_quantity": _text(entry.new_quantity),
        "effective_date": entry.effective_date and entry.effective_date.isoformat(),
        "mode": entry.mode,
    }


def _redacted(message: str, config: SourceConfig) -> str:
    return credentials.redact(message, config.secret_values)


def _redacted_json(value: dict[str, Any] | None, config: SourceConfig) -> dict[str, Any] | None:
    """Give back `value` as JSON data with every secret in it masked."""
    if value is None:
        return None
    text = json.dumps(value, default=str)
    redacted: dict[str, Any] = json.loads(credentials.redact(text, config.secret_values))
    return redacted


def _text(number: Decimal | None) -> str | None:
    return None if number is None else str(number)


__all__ = ["OUTBOX", "Applied", "apply_changes", "outbox"]
