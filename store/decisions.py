"""Decisions on cards (DESIGN 6): appended, never overwritten; undone by a new decision.

Every action on cards first takes their rows in `card_locks` (an upsert, in the action's own
transaction), and only then reads the decisions in force: two people deciding the same card at
once therefore decide one after the other, and the second finds the first's decision and is
told who made it and when. PostgreSQL locks the rows; SQLite takes its one write lock at that
first write, waiting for the other writer rather than working from a stale read.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import polars as pl
import sqlalchemy as sa
from sqlalchemy.dialects import sqlite
from sqlalchemy.orm import Session, aliased

from engine.schema import MONEY, QUANTITY, CardType, Schema
from store.access import Permission, authorize
from store.audit import audit, current_user
from store.db import Store
from store.models import CardLock, Decision
from store.types import Action, CardStatus, WriteBack, now, period_of, team_date

STATUS_OF = {
    Action.APPROVE: CardStatus.APPROVED,
    Action.DISMISS: CardStatus.DISMISSED,
    Action.SCHEDULE: CardStatus.SCHEDULED,
}
DECIDED: Schema = {
    "account_id": pl.String,
    "product_id": pl.String,
    "status": pl.String,
    "decided_vendor_quantity": QUANTITY,
    "effective_date": pl.Date,
    "write_back": pl.String,
}
REFUSED: Schema = {
    "account_id": pl.String,
    "product_id": pl.String,
    "action": pl.String,
    "made_by": pl.String,
    "made_at": pl.Datetime("us", "UTC"),
}
"""Cards an action left as they were: the decision that holds on each (its action, who, when),
or the reason ("no contract", with no one and no time)."""
HISTORY: Schema = {
    "action": pl.String,
    "psa_quantity": QUANTITY,
    "vendor_quantity": QUANTITY,
    "effective_date": pl.Date,
    "contract_id": pl.String,
    "made_by": pl.String,
    "made_at": pl.Datetime("us", "UTC"),
    "undone": pl.Boolean,
    "write_back": pl.String,
}
NO_CONTRACT = "no contract"
"""The `action` of a refused New Revenue approval that has no agreement to go to."""
KEY = ["account_id", "product_id"]
FACTS = ["monthly_value", "vendor", "account_name", "product_name"]
"""The card as its decider saw it, kept with each decision for the month summary."""


@dataclass(frozen=True)
class Decided:
    """What one action on cards did: its id (None when it wrote nothing), the cards written,
    and the cards left as they were (REFUSED)."""

    bulk_id: str | None
    decided: int
    refused: pl.DataFrame


def first_of_next_month(at: datetime) -> date:
    """Give back the default effective date: the first day of the month after `at`'s date in
    the team's time zone (the month its decision belongs to)."""
    day = team_date(at)
    return date(day.year + day.month // 12, day.month % 12 + 1, 1)


def decide_cards(
    store: Store,
    cards: pl.DataFrame,
    action: Action,
    *,
    effective_date: date | None = None,
    contracts: dict[tuple[str, str], str] | None = None,
    user: str | None = None,
    at: datetime | None = None,
) -> Decided:
    """Give back what deciding `action` on the cards did, after recording it as one action.

    `cards` are rows of `current_cards(store).cards` (account_id, product_id, psa_quantity,
    vendor_quantity, card_type; contract_id where present). A card whose decision still holds
    is left as it is and reported in `refused` with who decided it and when; but a scheduled
    card may be approved or scheduled again by anyone, since a schedule keeps it open.

    Approving New Revenue needs an agreement: `contracts[(account_id, product_id)]`, else the
    default of `engine.contracts.default_contracts`; a card with neither is refused as
    "no contract". Approvals and schedules take effect on `effective_date` (default: the date
    a scheduled card was scheduled for, else the first of the month after `at`); a dismissal
    has no effective date.
    """
    if action is Action.UNDO:
        raise ValueError("undo with undo_last_decision, which knows what it reverses")
    who, when = user or current_user(), at or now()
    effective = None if action is Action.DISMISS else effective_date or first_of_next_month(when)
    wanted = _with_contracts(store, _cards(cards), action, contracts or {})
    no_contract = pl.col("contract_id").is_null() & (
        pl.col("card_type") == CardType.NEW_REVENUE.value
    )
    if action is Action.APPROVE:
        lacking, wanted = wanted.filter(no_contract), wanted.filter(~no_contract)
    else:
        lacking = wanted.clear()
    refused = [
        lacking.select(
            *KEY,
            pl.lit(NO_CONTRACT).alias("action"),
            pl.lit(None, pl.String).alias("made_by"),
            pl.lit(None, REFUSED["made_at"]).alias("made_at"),
        )
    ]
    bulk_id = uuid.uuid4().hex
    written = 0
    with store.session() as session:
        authorize(session, who, Permission.DECIDE)  # refused whatever the cards
    if not wanted.is_empty():
        with store.session() as session:
            _lock(session, wanted, bulk_id, who, when)  # before any read (SQLite)
            authorize(session, who, Permission.DECIDE)
            _locked(session)
            in_force = _in_force(session, bulk_id)
            joined = wanted.join(in_force, on=KEY, how="left", maintain_order="left")
            holds = pl.col("in_force").is_not_null() & pl.col("vendor_quantity").eq_missing(
                pl.col("decided_vendor_quantity")
            )
            reopens = (pl.col("in_force") == Action.SCHEDULE.value) & pl.lit(
                action in (Action.APPROVE, Action.SCHEDULE)
            )
            blocked = holds & ~reopens
            refused.append(
                joined.filter(blocked).select(
                    *KEY,
                    pl.col("in_force").alias("action"),
                    pl.col("decided_by").alias("made_by"),
                    pl.col("decided_at").alias("made_at"),
                )
            )
            # An approval without a date of its own keeps the date its card was scheduled for.
            scheduled = holds & (pl.col("in_force") == Action.SCHEDULE.value)
            keeps_date = scheduled & pl.lit(action is Action.APPROVE and effective_date is None)
            to_write = joined.filter(~blocked).with_columns(
                pl.when(keeps_date)
                .then(pl.col("decided_effective"))
                .otherwise(pl.lit(effective, pl.Date))
                .alias("effective_date")
            )
            written = _insert(session, to_write, action, bulk_id, who, when, effective)
            if written:
                audit(
                    session,
                    who,
                    f"decision_{action.value}",
                    {
                        "bulk_id": bulk_id,
                        "cards": written,
                        "refused": sum(r.height for r in refused),
                        "effective_date": effective.isoformat() if effective else None,
                    },
                    when,
                )
    return Decided(
        bulk_id if written else None,
        written,
        pl.concat([r.cast(REFUSED) for r in refused]),  # type: ignore[arg-type]
    )


def _locked(session: Session) -> None:
    """A seam: called once an action holds its cards' locks (tests widen the race here)."""


def undo_last_decision(store: Store, *, user: str | None = None, at: datetime | None = None) -> int:
    """Give back how many decisions the user's last action in force held, after reversing it
    as a whole (one card or one bulk action); 0 when there is nothing to undo.

    Undo writes a new decision per card; a card someone decided again since keeps that later
    decision, as it is the last one. An approval exported (or written back) is no longer undone:
    it has gone out, and undoing it would let the change go out twice.
    """
    who, when = user or current_user(), at or now()
    with store.session() as session:
        authorize(session, who, Permission.DECIDE)
    last = last_decision(store, who)
    if last is None:
        return 0
    with store.session() as session:
        keys = session.execute(
            sa.select(Decision.account_id, Decision.product_id).where(Decision.bulk_id == last[0])
        ).all()
    bulk_id = uuid.uuid4().hex
    with store.session() as session:
        # The locks come first (on SQLite a read first would make the write fail, not wait).
        # The same action undone from two windows at once: the second finds it undone already
        # and undoes nothing (never the action before it).
        _lock(session, pl.DataFrame(keys, schema=KEY, orient="row"), bulk_id, who, when)
        authorize(session, who, Permission.DECIDE)
        _locked(session)
        return _undo(session, last[0], bulk_id, who, when)


def last_decision(
    store: Store, user: str | None = None
) -> tuple[str, Action, int, datetime] | None:
    """Give back the user's last action on cards that undo may reverse (not undone, not gone out
    to the PSA): its bulk id, what it was, on how many cards, and when (for an "Undo: approve
    12 cards" button); None if there is none."""
    with store.session() as session:
        last = session.execute(
            _undoable()
            .with_only_columns(Decision.bulk_id, Decision.action, Decision.made_at)
            .where(Decision.made_by == (user or current_user()))
            .order_by(Decision.id.desc())
            .limit(1)
        ).first()
        if last is None:
            return None
        count = session.scalar(
            _undoable().with_only_columns(sa.func.count()).where(Decision.bulk_id == last.bulk_id)
        )
    return last.bulk_id, last.action, count or 0, last.made_at


def card_history(store: Store, account_id: str, product_id: str) -> pl.DataFrame:
    """Give back every decision of one card, oldest first (HISTORY), undos included; `undone`
    says which were reversed since."""
    undo = aliased(Decision)
    undone = sa.exists().where(undo.undoes_id == Decision.id)
    with store.session() as session:
        rows = session.execute(
            sa.select(
                Decision.action,
                Decision.psa_quantity,
                Decision.vendor_quantity,
                Decision.effective_date,
                Decision.contract_id,
                Decision.made_by,
                Decision.made_at,
                undone,
                Decision.write_back,
            )
            .where(Decision.account_id == account_id, Decision.product_id == product_id)
            .order_by(Decision.id)
        ).all()
    return pl.DataFrame(
        [
            (action.value, *middle, bool(was_undone), write_back and write_back.value)
            for action, *middle, was_undone, write_back in rows
        ],
        schema=HISTORY,
        orient="row",
    )


def decide(
    session: Session,
    cards: pl.DataFrame,
    action: Action,
    user: str,
    at: datetime,
    effective_date: date | None = None,
) -> str:
    """Record one action on the given cards (rows with account_id, product_id, psa_quantity,
    vendor_quantity) as they are, unchecked, and give back its bulk id (the demo's history;
    people decide through `decide_cards`)."""
    if action is Action.UNDO:
        raise ValueError("undo with undo_last, which knows what it reverses")
    bulk_id = uuid.uuid4().hex
    rows = _cards(cards)
    _lock(session, rows, bulk_id, user, at)
    authorize(session, user, Permission.DECIDE)
    written = _insert(session, rows, action, bulk_id, user, at, effective_date)
    audit(
        session,
        user,
        f"decision_{action.value}",
        {"bulk_id": bulk_id, "cards": written, "effective_date": str(effective_date)},
        at,
    )
    return bulk_id


def undo_last(session: Session, user: str, at: datetime) -> int:
    """Reverse the user's last action still in force (one card or one bulk action); give back
    how many decisions it reversed."""
    authorize(session, user, Permission.DECIDE)
    live = _undoable().where(Decision.made_by == user)
    last = session.scalars(live.order_by(Decision.id.desc()).limit(1)).first()
    if last is None:
        return 0
    return _undo(session, last.bulk_id, uuid.uuid4().hex, user, at)


def _undo(session: Session, undone_id: str, bulk_id: str, user: str, at: datetime) -> int:
    targets = session.execute(
        _undoable()
        .with_only_columns(
            Decision.id,
            Decision.account_id,
            Decision.product_id,
            Decision.psa_quantity,
            Decision.vendor_quantity,
        )
        .where(Decision.bulk_id == undone_id)
    ).all()
    if not targets:
        return 0
    undoes, accounts, products, psa, vendor = (
        list(column) for column in zip(*targets, strict=True)
    )
    _insert_rows(
        session,
        "decisions",
        {
            "account_id": accounts,
            "product_id": products,
            "psa_quantity": psa,
            "vendor_quantity": vendor,
            "undoes_id": undoes,
        },
        {
            "action": Action.UNDO.value,
            "made_by": user,
            "made_at": at,
            "period": period_of(at),
            "bulk_id": bulk_id,
        },
    )
    audit(
        session,
        user,
        "decision_undo",
        {"bulk_id": bulk_id, "undid": undone_id, "cards": len(targets)},
        at,
    )
    return len(targets)


def _undoable() -> sa.Select[Decision]:
    """Give back the query of decisions an undo may reverse: not undone yet, not undos, and not
    gone out to the PSA (exported or written back): undoing those would let a change go out
    twice, so they are reversed by a new decision instead."""
    undo = aliased(Decision)
    return sa.select(Decision).where(
        ~sa.exists().where(undo.undoes_id == Decision.id),
        Decision.action != Action.UNDO,
        Decision.write_back.is_(None) | (Decision.write_back == WriteBack.PENDING),
    )


def _cards(cards: pl.DataFrame) -> pl.DataFrame:
    """Give back the cards' columns a decision records, one row per card (the last given)."""
    columns = ["psa_quantity", "vendor_quantity", "card_type", "contract_id", *FACTS]
    present = set(cards.columns)
    return (
        cards.select(
            *KEY,
            *(pl.col(c) if c in present else pl.lit(None).alias(c) for c in columns),
        )
        .cast(
            {
                "account_id": pl.String,
                "product_id": pl.String,
                "psa_quantity": QUANTITY,
                "vendor_quantity": QUANTITY,
                "card_type": pl.String,
                "contract_id": pl.String,
                "monthly_value": MONEY,
                "vendor": pl.String,
                "account_name": pl.String,
                "product_name": pl.String,
            }
        )
        .unique(KEY, keep="last", maintain_order=True)
    )


def _with_contracts(
    store: Store, cards: pl.DataFrame, action: Action, contracts: dict[tuple[str, str], str]
) -> pl.DataFrame:
    """Give back the cards with the agreement each decision goes to: the one asked for, else
    the card's own, else (New Revenue being approved) the account's default."""
    chosen = pl.DataFrame(
        [(a, p, c) for (a, p), c in contracts.items()],
        schema={"account_id": pl.String, "product_id": pl.String, "chosen": pl.String},
        orient="row",
    )
    cards = (
        cards.join(chosen, on=KEY, how="left", maintain_order="left")
        .with_columns(pl.coalesce("chosen", "contract_id").alias("contract_id"))
        .drop("chosen")
    )
    missing = pl.col("contract_id").is_null() & (pl.col("card_type") == CardType.NEW_REVENUE.value)
    if action is not Action.APPROVE or cards.filter(missing).is_empty():
        return cards
    from engine.contracts import default_contracts
    from store.cards import current_cards

    current = current_cards(store)
    defaults = default_contracts(current.cards, current.inputs.psa_lines).rename(
        {"contract_id": "default"}
    )
    return (
        cards.join(defaults, on=KEY, how="left", maintain_order="left")
        .with_columns(pl.coalesce("contract_id", "default").alias("contract_id"))
        .drop("default")
    )


def _lock(session: Session, cards: pl.DataFrame, bulk_id: str, user: str, at: datetime) -> None:
    """Take the lock rows of the cards for this action, in key order (so that two bulk actions
    never wait on each other in a circle), before anything is read."""
    if cards.is_empty():
        return
    keys = cards.select(KEY).unique().sort(KEY)
    _insert_rows(
        session,
        "card_locks",
        {"account_id": keys["account_id"].to_list(), "product_id": keys["product_id"].to_list()},
        {"bulk_id": bulk_id, "made_by": user, "made_at": at},
        upsert=True,
    )


def _in_force(session: Session, bulk_id: str) -> pl.DataFrame:
    """Give back the decision in force (the last not undone) of each card locked by `bulk_id`,
    with the vendor quantity it was made at, who made it and when."""
    undo = aliased(Decision)
    rows = session.execute(
        sa.select(
            Decision.account_id,
            Decision.product_id,
            Decision.action,
            Decision.vendor_quantity,
            Decision.effective_date,
            Decision.made_by,
            Decision.made_at,
        )
        .join(
            CardLock,
            (CardLock.account_id == Decision.account_id)
            & (CardLock.product_id == Decision.product_id),
        )
        .where(
            CardLock.bulk_id == bulk_id,
            Decision.action != Action.UNDO,
            ~sa.exists().where(undo.undoes_id == Decision.id),
        )
        .order_by(Decision.id)
    )
    return pl.DataFrame(
        [(a, p, action.value, q, d, by, at) for a, p, action, q, d, by, at in rows],
        schema={
            "account_id": pl.String,
            "product_id": pl.String,
            "in_force": pl.String,
            "decided_vendor_quantity": QUANTITY,
            "decided_effective": pl.Date,
            "decided_by": pl.String,
            "decided_at": pl.Datetime("us", "UTC"),
        },
        orient="row",
    ).unique(KEY, keep="last", maintain_order=True)


def _insert(
    session: Session,
    cards: pl.DataFrame,
    action: Action,
    bulk_id: str,
    user: str,
    at: datetime,
    effective: date | None,
) -> int:
    """Write one decision per card in one statement; give back how many. Each card takes its
    own `effective_date` where the frame has one, else `effective`."""
    if cards.is_empty():
        return 0
    write_back = WriteBack.PENDING if action is Action.APPROVE else None
    per_card = [
        *KEY,
        "psa_quantity",
        "vendor_quantity",
        "contract_id",
        "card_type",
        *FACTS,
    ]
    dated = "effective_date" in cards.columns
    same: dict[str, Any] = {} if dated else {"effective_date": effective}
    _insert_rows(
        session,
        "decisions",
        {name: cards.get_column(name).to_list() for name in per_card + ["effective_date"] * dated},
        {
            **same,
            "action": action.value,
            "made_by": user,
            "made_at": at,
            "period": period_of(at),
            "bulk_id": bulk_id,
            "write_back": write_back and write_back.value,
        },
    )
    return cards.height


SQL_TYPES = {
    "account_id": "text",
    "product_id": "text",
    "psa_quantity": "numeric",
    "vendor_quantity": "numeric",
    "contract_id": "text",
    "undoes_id": "integer",
    "action": "varchar",
    "effective_date": "date",
    "made_by": "varchar",
    "made_at": "timestamptz",
    "bulk_id": "varchar",
    "write_back": "varchar",
    "period": "varchar",
    "card_type": "varchar",
    "monthly_value": "numeric",
    "vendor": "text",
    "account_name": "text",
    "product_name": "text",
}
"""The PostgreSQL types of the columns `_insert_rows` writes."""


def _insert_rows(
    session: Session,
    table: str,
    per_row: dict[str, list[Any]],
    same: dict[str, Any],
    *,
    upsert: bool = False,
) -> None:
    """Insert one row per item of the `per_row` lists, each with the `same` values, in one
    statement; `upsert` (card_locks): a row of an existing key takes the new values instead.

    On PostgreSQL the lists go as arrays to one INSERT ... SELECT FROM unnest: 5,000 rows in a
    round trip, where executemany costs a round trip and the driver's adaptation per batch.
    SQLite has no arrays and no round trips: an executemany there (its columns' types then
    scale quantities, as store.types.Quantity does).
    """
    connection = session.connection()
    conflict = (
        " ON CONFLICT (account_id, product_id) DO UPDATE SET "
        + ", ".join(f"{c} = excluded.{c}" for c in same)
        if upsert
        else ""
    )
    if connection.dialect.name == "postgresql":
        names, constants = list(per_row), list(same)
        arrays = ", ".join(f"CAST(:{n} AS {SQL_TYPES[n]}[])" for n in names)
        values = ", ".join(f"CAST(:{c} AS {SQL_TYPES[c]})" for c in constants)
        statement = (
            f"INSERT INTO {table} ({', '.join(names + constants)}) "
            f"SELECT {', '.join(names)}, {values} FROM unnest({arrays}) AS t({', '.join(names)})"
            f"{' ORDER BY ' + ', '.join(KEY) if upsert else ''}{conflict}"
        )
        connection.execute(sa.text(statement), {**per_row, **same})
        return
    model = {"decisions": Decision, "card_locks": CardLock}[table]
    insert = sqlite.insert(model)
    if upsert:
        insert = insert.on_conflict_do_update(
            index_elements=KEY, set_={c: insert.excluded[c] for c in same}
        )
    count = len(next(iter(per_row.values())))
    connection.execute(
        insert, [{**{n: v[i] for n, v in per_row.items()}, **same} for i in range(count)]
    )


def card_decisions(session: Session) -> pl.DataFrame:
    """Give back the decision in force of each decided card, one row per card (DECIDED):
    its last decision not undone, with the vendor quantity it was made at."""
    undo = aliased(Decision)
    rows = session.execute(
        sa.select(
            Decision.account_id,
            Decision.product_id,
            Decision.action,
            Decision.vendor_quantity,
            Decision.effective_date,
            Decision.write_back,
        )
        .where(Decision.action != Action.UNDO, ~sa.exists().where(undo.undoes_id == Decision.id))
        .order_by(Decision.id)
    )
    frame = pl.DataFrame(
        [(a, p, STATUS_OF[action].value, q, d, w and w.value) for a, p, action, q, d, w in rows],
        schema=DECIDED,
        orient="row",
    )
    return frame.unique(KEY, keep="last", maintain_order=True)


def with_status(cards: pl.DataFrame, decided: pl.DataFrame) -> pl.DataFrame:
    """Give back the cards with their decision `status`, `effective_date` and `write_back` (of
    an approval: pending, exported, applied...): a decision holds while the card's vendor
    quantity is the one it was made at (DESIGN 6), else the card is "open"."""
    joined = cards.join(decided, on=KEY, how="left", maintain_order="left")
    holds = pl.col("status").is_not_null() & pl.col("vendor_quantity").eq_missing(
        pl.col("decided_vendor_quantity")
    )
    return joined.with_columns(
        pl.when(holds)
        .then(pl.col("status"))
        .otherwise(pl.lit(CardStatus.OPEN.value))
        .alias("status"),
        pl.when(holds).then(pl.col("effective_date")).alias("effective_date"),
        pl.when(holds).then(pl.col("write_back")).alias("write_back"),
    ).drop("decided_vendor_quantity")


__all__ = [
    "NO_CONTRACT",
    "Decided",
    "card_decisions",
    "card_history",
    "decide",
    "decide_cards",
    "first_of_next_month",
    "last_decision",
    "undo_last",
    "undo_last_decision",
    "with_status",
]
