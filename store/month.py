"""The month summary of the store: a month beside the months before it, live or as closed.

A month's figures come from the decisions made in it (engine.month) and, for the current month,
from its open cards (the saved card summary). Closing a month freezes its figures and where its
changes were, so that its report reads the same later, after new syncs, decisions or undos; a
past month that was never closed has no record of what was left open in it. The other months keep
their figures as last worked out (`month_figures`), until their decisions move.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

import polars as pl
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, aliased

from engine.month import (
    BREAKDOWN,
    DECISIONS,
    FIGURES,
    OPEN,
    Breakdown,
    month_breakdown,
    month_figures,
    periods_until,
)
from errors import TrueUpError
from store.access import Permission, authorize
from store.audit import audit, current_user
from store.db import Store
from store.models import Decision, MonthClose, MonthFigures
from store.summary import CardSummary, card_summary
from store.types import Action, now, period_of

DECISIONS_SQL: dict[str, sa.types.TypeEngine[Any]] = {
    "id": sa.Integer(),
    **{name: sa.String() for name in DECISIONS if name != "id"},
}
"""The decisions' columns read as plain values, without their column types' conversions."""
CENT = Decimal("0.01")
VERSION = 1
"""Part of every saved month's key: bump it when what a month's figures hold changes."""
OPEN_FIGURES = ("open", "open_value", "at_risk")
MONTHS = 13
"""The chosen month beside the twelve before it."""
TOP_ACCOUNTS = 10


@dataclass(frozen=True)
class Closed:
    """Who closed a month, and when."""

    by: str
    at: datetime


@dataclass(frozen=True)
class MonthSummary:
    """The summary of `period` beside the months before it (oldest first)."""

    period: str
    periods: list[str]
    figures: pl.DataFrame
    """FIGURES: one row per period."""
    by_vendor: pl.DataFrame
    """BREAKDOWN by vendor or distributor: one row per period and vendor."""
    by_service: pl.DataFrame
    """BREAKDOWN by service, of `period` only."""
    top_accounts: pl.DataFrame
    """BREAKDOWN by account, of `period` only: the accounts whose revenue changed most."""
    closed: dict[str, Closed]
    """The periods shown that are closed, with who closed them and when."""

    @property
    def headline(self) -> dict[str, Any]:
        """Give back the chosen month's FIGURES row."""
        return self.figures.filter(pl.col("period") == self.period).row(0, named=True)

    def to_json(self) -> dict[str, Any]:
        """Give back the month's headline and per-vendor figures as JSON-ready values (money as
        text, so that no reader turns it into floats): `trueup summary --format json` and the
        report print exactly these."""
        closed = self.closed.get(self.period)
        vendors = self.by_vendor.filter(pl.col("period") == self.period).drop("period", "name")
        return {
            "month": self.period,
            "closed": None if closed is None else {"by": closed.by, "at": closed.at.isoformat()},
            "headline": _plain(self.headline, drop="period"),
            "by_vendor": [
                _plain(row, rename={"key": "vendor"}) for row in vendors.iter_rows(named=True)
            ],
        }


def current_period(at: datetime | None = None) -> str:
    """Give back this month ("2026-11"), in the team's time zone."""
    return period_of(at or now())


def first_period(store: Store) -> str | None:
    """Give back the first month with a decision or a close, if there is one."""
    with store.session() as session:
        firsts = [
            session.scalar(sa.select(sa.func.min(Decision.period))),
            session.scalar(sa.select(sa.func.min(MonthClose.period))),
        ]
    known = [first for first in firsts if first is not None]
    return min(known) if known else None


def month_summary(
    store: Store, period: str | None = None, *, months: int = MONTHS, at: datetime | None = None
) -> MonthSummary:
    """Give back the summary of `period` (default: this month) and the months before it.

    Closed months give back what was frozen when they were closed; the others what their
    decisions give (worked out once per state of their decisions, see `_worked_out`), and this
    month its open cards from the saved card summary.
    """
    this_month = current_period(at)
    period = period or this_month
    if period > this_month:
        raise TrueUpError(f"{period} has not begun: choose this month ({this_month}) or one before")
    periods = periods_until(period, months)
    with store.session() as session:
        closes = {
            row.period: row
            for row in session.scalars(sa.select(MonthClose).where(MonthClose.period.in_(periods)))
        }
        parts = {p: close.figures for p, close in closes.items()}
        worked, to_save = _worked_out(session, [p for p in periods if p not in closes])
    _save(store, to_save)
    parts |= worked
    figures = pl.concat([_frame(parts[p]["figures"], FIGURES) for p in periods])
    if this_month in periods and this_month not in closes:
        still_open = month_figures(
            pl.DataFrame(schema=DECISIONS), _open(card_summary(store), this_month), [this_month]
        ).select("period", *OPEN_FIGURES)
        figures = figures.update(still_open, on="period", include_nulls=True)
    return MonthSummary(
        period=period,
        periods=periods,
        figures=figures,
        by_vendor=pl.concat([_frame(parts[p][Breakdown.VENDOR], BREAKDOWN) for p in periods]),
        by_service=_frame(parts[period][Breakdown.SERVICE], BREAKDOWN),
        top_accounts=_frame(parts[period][Breakdown.ACCOUNT], BREAKDOWN),
        closed={p: Closed(c.closed_by, c.closed_at) for p, c in closes.items()},
    )


def close_month(
    store: Store, period: str, *, user: str | None = None, at: datetime | None = None
) -> MonthSummary:
    """Give back the month's summary after freezing it as the month's record: its decisions,
    and the cards open at the close (what was left undone).

    Raises TrueUpError when the month is closed already or has not begun.
    """
    who, when = user or current_user(), at or now()
    with store.session() as session:
        authorize(session, who, Permission.SYNC)
    if period > current_period(when):
        raise TrueUpError(f"{period} has not begun: a month is closed at its end, or after")
    open_cards = _open(card_summary(store), period)
    with store.session() as session:
        authorize(session, who, Permission.SYNC)
        if session.get(MonthClose, period) is not None:
            raise TrueUpError(f"{period} is closed already: reopen it first to close it again")
        frozen = _parts(_decisions(session, [period]), open_cards, [period])[period]
        session.add(MonthClose(period=period, closed_by=who, closed_at=when, figures=frozen))
        audit(session, who, "month_close", {"period": period, **frozen["figures"][0]}, when)
    return month_summary(store, period, at=when)


def reopen_month(
    store: Store, period: str, *, user: str | None = None, at: datetime | None = None
) -> bool:
    """Give back whether the month was closed, after reopening it: its figures are worked out
    live again (the frozen ones stay in the audit log)."""
    who, when = user or current_user(), at or now()
    with store.session() as session:
        authorize(session, who, Permission.SYNC)
        closed = session.get(MonthClose, period)
        if closed is None:
            return False
        session.delete(closed)
        audit(session, who, "month_reopen", {"period": period}, when)
    return True


def _decisions(session: Session, periods: list[str]) -> pl.DataFrame:
    """Give back the decisions of `periods` (engine DECISIONS), undos aside.

    Read as plain columns, money as whole cents, and made exact in Polars: 20,000 decisions
    converted one Decimal at a time by the driver and the column type cost most of a second.
    """
    if not periods:
        return pl.DataFrame(schema=DECISIONS)
    undo = aliased(Decision)
    value = sa.type_coerce(Decision.monthly_value, sa.BigInteger)
    cents = (
        sa.cast(sa.func.round(value * 100), sa.BigInteger)
        if session.get_bind().dialect.name == "postgresql"
        else value // 100  # SQLite keeps ten-thousandths as an integer (store.types.Quantity)
    )
    columns = [name for name in DECISIONS if name not in ("monthly_value", "undone")]
    # Core, not the ORM: these are plain rows, and the ORM's row handling doubled the time.
    rows: list[Any] = (
        session.connection()
        .execute(  # type: ignore[assignment]
            sa.select(
                *(sa.type_coerce(getattr(Decision, name), DECISIONS_SQL[name]) for name in columns),
                cents.label("cents"),
                sa.exists().where(undo.undoes_id == Decision.id).label("undone"),
            ).where(Decision.period.in_(periods), Decision.action != Action.UNDO)
        )
        .all()
    )
    frame = pl.DataFrame(
        dict(zip([*columns, "cents", "undone"], zip(*rows, strict=True), strict=True))
        if rows
        else None,
        schema={
            **{name: DECISIONS[name] for name in columns},
            "cents": pl.Int64,
            "undone": pl.Boolean,
        },
    )
    return frame.with_columns(
        (pl.col("cents").cast(pl.Decimal(38, 0)) * pl.lit(CENT, pl.Decimal(38, 2)))
        .cast(DECISIONS["monthly_value"])
        .alias("monthly_value")
    ).select(list(DECISIONS))


def _worked_out(
    session: Session, periods: list[str]
) -> tuple[dict[str, dict[str, Any]], list[dict[str, Any]]]:
    """Give back the figures of months not closed, from their decisions, and the rows of
    `month_figures` to save for the months worked out again.

    A month's figures are saved with the state of its decisions (how many, the last id, how
    many undone) and worked out again only when that state has moved. A month before this one
    changes only by an undo, so thirteen months of 20,000 decisions are not read on every
    render; this month is read again after each decision."""
    if not periods:
        return {}, []
    keys = _month_keys(session, periods)
    saved = {
        row.period: row
        for row in session.scalars(sa.select(MonthFigures).where(MonthFigures.period.in_(periods)))
    }
    stale = [p for p in periods if p not in saved or saved[p].key != keys[p]]
    parts = {p: saved[p].figures for p in periods if p not in stale}
    if not stale:
        return parts, []
    worked = _parts(_decisions(session, stale), pl.DataFrame(schema=OPEN), stale)
    return parts | worked, [{"period": p, "key": keys[p], "figures": worked[p]} for p in stale]


def _save(store: Store, rows: list[dict[str, Any]]) -> None:
    """Save months' figures as worked out, in a transaction of its own that writes first: two
    readers saving the same month at once both succeed (the same figures), and a reader never
    writes on a stale SQLite snapshot. Figures not saved are only worked out again later."""
    if not rows:
        return
    insert = (postgresql.insert if store.dialect == "postgresql" else sqlite.insert)(MonthFigures)
    upsert = insert.on_conflict_do_update(
        index_elements=["period"],
        set_={"key": insert.excluded.key, "figures": insert.excluded.figures},
    )
    try:
        with store.session() as session:
            session.execute(upsert, rows)
    except sa.exc.DBAPIError as error:
        logging.getLogger("trueup").warning("the month figures were not saved: %s", error.orig)


def _month_keys(session: Session, periods: list[str]) -> dict[str, str]:
    """Give back the state of each month's decisions: what its saved figures were worked out
    from (VERSION first, so that a change in what they hold works them out again)."""
    counts = dict.fromkeys(periods, (0, 0))
    rows = session.execute(
        sa.select(Decision.period, sa.func.count(), sa.func.max(Decision.id))
        .where(Decision.period.in_(periods))
        .group_by(Decision.period)
    )
    counts |= {str(period): (count, last) for period, count, last in rows}
    target = aliased(Decision)
    undone = {
        str(period): count
        for period, count in session.execute(
            sa.select(target.period, sa.func.count())
            .join(Decision, Decision.undoes_id == target.id)
            .where(target.period.in_(periods))
            .group_by(target.period)
        )
    }
    return {p: f"{VERSION}:{counts[p][0]}:{counts[p][1]}:{undone.get(p, 0)}" for p in periods}


def _parts(
    decisions: pl.DataFrame, open_cards: pl.DataFrame, periods: list[str]
) -> dict[str, dict[str, Any]]:
    """Give back each month's figures and where its changes were, as saved (money as text):
    FIGURES, the breakdowns by vendor and by service, and the top accounts."""
    figures = month_figures(decisions, open_cards, periods)
    breakdowns = {b: month_breakdown(decisions, b, periods) for b in Breakdown}
    parts: dict[str, dict[str, Any]] = {}
    for p in periods:
        of_month = {b: frame.filter(pl.col("period") == p) for b, frame in breakdowns.items()}
        parts[p] = {
            "figures": _rows(figures.filter(pl.col("period") == p)),
            **{b.value: _rows(frame) for b, frame in of_month.items()},
        }
        # The month's report lists its top accounts only: thousands of rows a month would be
        # read and parsed on every later summary for nothing.
        parts[p][Breakdown.ACCOUNT.value] = parts[p][Breakdown.ACCOUNT.value][:TOP_ACCOUNTS]
    return parts


def _open(summary: CardSummary, period: str) -> pl.DataFrame:
    """Give back this month's open cards per type (engine OPEN) from the card summary."""
    return pl.DataFrame(
        [(period, t, f.cards, f.monthly_value) for t, f in summary.open_by_type.items()],
        schema=OPEN,
        orient="row",
    )


def _rows(frame: pl.DataFrame) -> list[dict[str, Any]]:
    """Give back a frame's rows with money as text: JSON numbers are floats to most readers."""
    return [_plain(row) for row in frame.iter_rows(named=True)]


def _frame(rows: list[dict[str, Any]], schema: dict[str, Any]) -> pl.DataFrame:
    money = [name for name, dtype in schema.items() if isinstance(dtype, pl.Decimal)]
    exact = [
        {k: Decimal(v) if k in money and v is not None else v for k, v in row.items()}
        for row in rows
    ]
    return pl.DataFrame(exact, schema=schema)


def _plain(
    row: dict[str, Any], *, drop: str | None = None, rename: dict[str, str] | None = None
) -> dict[str, Any]:
    rename = rename or {}
    return {
        rename.get(k, k): str(v) if isinstance(v, Decimal) else v
        for k, v in row.items()
        if k != drop
    }
