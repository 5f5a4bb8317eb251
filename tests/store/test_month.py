"""The month summary of the store (store.month), on SQLite and PostgreSQL: real cards decided
with `decide_cards`, summed up live, closed, changed after the close, and reopened.

The cards are the hand-checked month's (tests/fixtures/month/expected-cards.csv): Acme M365 an
increase of 66.00, Beta Exchange a decrease of -8.00, Cobalt M365 -43.00 and Cobalt SentinelOne
+54.00, Delta a removal of -330.00, Echo New Revenue with no price (no catalogue), and Acme's
backup with no vendor data.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import polars as pl
import pytest
import sqlalchemy as sa
from polars.testing import assert_frame_equal

from engine.month import DECISIONS, FIGURES, OPEN, month_figures
from errors import TrueUpError
from store import Action, Store, current_cards, import_csv
from store.decisions import decide_cards, undo_last_decision
from store.models import Decision, MonthFigures
from store.month import MonthSummary, close_month, month_summary, reopen_month
from store.summary import card_summary
from tests.conftest import MONTH
from tests.store.factories import load_month

AT = datetime(2026, 11, 14, 9, tzinfo=UTC)
LATER = AT + timedelta(minutes=5)
CLOSED_AT = datetime(2026, 11, 30, 12, tzinfo=UTC)
DECEMBER = datetime(2026, 12, 2, 9, tzinfo=UTC)

ACME = ("100", "M365BP")  # increase, 66.00
BETA = ("200", "EXO1")  # decrease, -8.00
COBALT = ("300", "M365BP")  # decrease, -43.00
COBALT_S1 = ("300", "S1-CORE")  # increase, 54.00
DELTA = ("400", "M365BP")  # removal, -330.00
ECHO = ("500", "M365BP")  # New Revenue, no price
BACKUP = ("100", "SAAS-BACKUP")  # no vendor data


def cards_of(store: Store, *keys: tuple[str, str]) -> pl.DataFrame:
    cards = current_cards(store).cards
    wanted = pl.DataFrame(keys, schema=["account_id", "product_id"], orient="row")
    return cards.join(wanted, on=["account_id", "product_id"], how="semi")


def decide(
    store: Store, action: Action, *keys: tuple[str, str], user: str = "ann", at: datetime = AT
) -> None:
    done = decide_cards(store, cards_of(store, *keys), action, user=user, at=at)
    assert (done.decided, done.refused.height) == (len(keys), 0)


def decide_november(store: Store) -> None:
    """Approve Acme, Cobalt M365 and Delta; dismiss the backup card; schedule Cobalt
    SentinelOne; and an approval of Beta that bob undoes."""
    load_month(store)
    decide(store, Action.APPROVE, ACME)
    decide(store, Action.APPROVE, COBALT, DELTA)
    decide(store, Action.DISMISS, BACKUP)
    decide(store, Action.SCHEDULE, COBALT_S1)
    decide(store, Action.APPROVE, BETA, user="bob")
    assert undo_last_decision(store, user="bob", at=LATER) == 1


def november(summary: MonthSummary) -> dict[str, Any]:
    return summary.figures.filter(pl.col("period") == "2026-11").row(0, named=True)


# Approved: Acme +66.00 (increase), Cobalt M365 -43.00 (decrease), Delta -330.00 (removal);
# net_change 66.00 - 43.00 - 330.00 = -307.00; recovered the increase only, 66.00. Dismissed:
# the backup card, with no value. Beta's approval was undone; Cobalt SentinelOne only scheduled.
DECIDED = {
    "increase": 1,
    "increase_value": Decimal("66.00"),
    "decrease": 1,
    "decrease_value": Decimal("-43.00"),
    "removal": 1,
    "removal_value": Decimal("-330.00"),
    "new_revenue": 0,
    "new_revenue_value": Decimal("0.00"),
    "approved": 3,
    "net_change": Decimal("-307.00"),
    "recovered": Decimal("66.00"),
    "dismissed": 1,
    "dismissed_value": Decimal("0.00"),
}
# Open after those: Cobalt SentinelOne +54.00 (scheduled: still open), Beta -8.00 (its approval
# undone) and Echo's New Revenue (no price): 3 cards worth 46.00, of which 54.00 + 0 at risk.
STILL_OPEN = {"open": 3, "open_value": Decimal("46.00"), "at_risk": Decimal("54.00")}


def test_the_months_figures_are_the_engines_on_the_decisions_made(store: Store) -> None:
    decide_november(store)
    cards = current_cards(store).cards
    made = [
        (ACME, "approve", False),
        (COBALT, "approve", False),
        (DELTA, "approve", False),
        (BACKUP, "dismiss", False),
        (COBALT_S1, "schedule", False),
        (BETA, "approve", True),
    ]
    rows = [
        (
            i,
            "2026-11",
            *cards.filter(account_id=a, product_id=p)
            .select(
                "account_id",
                "account_name",
                "product_id",
                "product_name",
                "vendor",
                "card_type",
            )
            .row(0),
            action,
            cards.filter(account_id=a, product_id=p)["monthly_value"].item(),
            undone,
        )
        for i, ((a, p), action, undone) in enumerate(made)
    ]
    open_cards = pl.DataFrame(
        [
            ("2026-11", t, f.cards, f.monthly_value)
            for t, f in card_summary(store).open_by_type.items()
        ],
        schema=OPEN,
        orient="row",
    )

    summary = month_summary(store, at=LATER)

    periods = [f"2025-{m}" for m in ("11", "12")] + [f"2026-{m:02d}" for m in range(1, 12)]
    assert summary.period == "2026-11"
    assert summary.periods == periods
    engine = month_figures(pl.DataFrame(rows, schema=DECISIONS, orient="row"), open_cards, periods)
    assert_frame_equal(summary.figures, engine)
    assert summary.headline == {"period": "2026-11", **DECIDED, **STILL_OPEN}
    # The months before have no decisions, and what was left open in them is not known.
    october = summary.figures.filter(pl.col("period") == "2026-10").row(0, named=True)
    assert (october["approved"], october["net_change"], october["open"]) == (0, 0, None)
    assert summary.by_vendor.rows() == [
        ("2026-11", "pax8", "pax8", 3, Decimal("-307.00"), Decimal("66.00"), 0),
        ("2026-11", "datto", "datto", 0, Decimal("0.00"), Decimal("0.00"), 1),
    ]
    assert summary.top_accounts.select("key", "name", "net_change").rows() == [
        ("400", "Delta Freight", Decimal("-330.00")),
        ("100", "Acme Corp", Decimal("66.00")),
        ("300", "Cobalt Law", Decimal("-43.00")),
    ]
    assert summary.closed == {}


@pytest.mark.parametrize(
    ("zone", "at", "period"),
    [
        pytest.param(None, datetime(2026, 11, 1, 3, tzinfo=UTC), "2026-11", id="utc-by-default"),
        # 2026-11-01 03:00 UTC is 22:00 on 31 October in Chicago (CDT, UTC-5).
        pytest.param(
            "America/Chicago", datetime(2026, 11, 1, 3, tzinfo=UTC), "2026-10", id="chicago"
        ),
        # 2027-01-01 03:00 UTC is 21:00 on New Year's Eve in Chicago (CST, UTC-6).
        pytest.param(
            "America/Chicago", datetime(2027, 1, 1, 3, tzinfo=UTC), "2026-12", id="new-year"
        ),
    ],
)
def test_a_decision_belongs_to_the_month_of_its_date_in_the_teams_time_zone(
    store: Store, monkeypatch: pytest.MonkeyPatch, zone: str | None, at: datetime, period: str
) -> None:
    if zone is None:
        monkeypatch.delenv("TRUEUP_TIMEZONE", raising=False)
    else:
        monkeypatch.setenv("TRUEUP_TIMEZONE", zone)
    load_month(store)

    decide(store, Action.APPROVE, ACME, at=at)

    with store.session() as session:
        assert session.scalars(sa.select(Decision.period)).all() == [period]
    summary = month_summary(store, at=at)
    assert summary.period == period
    assert (summary.headline["increase"], summary.headline["net_change"]) == (1, Decimal("66.00"))
    assert summary.figures.filter(pl.col("period") != period)["approved"].sum() == 0


@pytest.mark.parametrize(
    "undone_at",
    [pytest.param(LATER, id="same-month"), pytest.param(DECEMBER, id="next-month")],
)
def test_an_undo_takes_the_decision_out_of_its_month(store: Store, undone_at: datetime) -> None:
    load_month(store)
    decide(store, Action.APPROVE, ACME)
    decide(store, Action.APPROVE, COBALT, DELTA)

    assert undo_last_decision(store, user="ann", at=undone_at) == 2

    summary = month_summary(store, "2026-11", at=undone_at)
    assert (november(summary)["approved"], november(summary)["net_change"]) == (
        1,
        Decimal("66.00"),
    )
    # The undo itself counts in no month.
    december = month_summary(store, "2026-12", at=DECEMBER).headline
    assert (december["approved"], december["dismissed"]) == (0, 0)


def pax8_usage(folder: Path) -> Path:
    """Write pax8's usage as the fixture's, with Acme at 30 seats and Beta at 4 mailboxes: a
    sync that moves two cards' vendor quantities."""
    text = (MONTH / "usage-pax8.csv").read_text()
    changed = text.replace("Premium,23,", "Premium,30,").replace("(Plan 1),3,", "(Plan 1),4,")
    assert changed != text
    path = folder / "usage-pax8.csv"
    path.write_text(changed)
    return path


def frozen(summary: MonthSummary) -> tuple[pl.DataFrame, ...]:
    """Give back what a summary shows of November."""
    return (
        summary.figures.filter(pl.col("period") == "2026-11"),
        summary.by_vendor.filter(pl.col("period") == "2026-11"),
        summary.by_service,
        summary.top_accounts,
    )


def test_a_closed_month_keeps_its_figures_until_it_is_reopened(
    store: Store, tmp_path: Path
) -> None:
    decide_november(store)
    closed = close_month(store, "2026-11", user="carol", at=CLOSED_AT)
    before = frozen(closed)
    # The close froze the cards left open then: in December they would not be known.
    assert closed.headline == {"period": "2026-11", **DECIDED, **STILL_OPEN}
    assert closed.closed["2026-11"].by == "carol"
    assert closed.closed["2026-11"].at == CLOSED_AT

    import_csv(store, "pax8", "usage", pax8_usage(tmp_path))
    assert cards_of(store, ACME)["vendor_quantity"].item() == Decimal(30)
    assert card_summary(store).open_cards == 4  # Acme open again, at its new quantity
    after_sync = month_summary(store, "2026-11", at=CLOSED_AT + timedelta(hours=1))
    # A decision still in November after the close: Echo's New Revenue dismissed.
    decide(store, Action.DISMISS, ECHO, at=CLOSED_AT + timedelta(hours=3))
    after_decision = month_summary(store, "2026-11", at=DECEMBER)
    # Undos of November's decisions, back to the dismissal of the backup card: ann's last
    # three actions were Echo's dismissal, Cobalt SentinelOne's schedule and that dismissal.
    for _ in range(3):
        assert undo_last_decision(store, user="ann", at=DECEMBER) == 1
    after_undo = month_summary(store, "2026-11", at=DECEMBER)

    for later in (after_sync, after_decision, after_undo):
        for was, now in zip(before, frozen(later), strict=True):
            assert_frame_equal(now, was)
        assert "2026-11" in later.closed

    assert reopen_month(store, "2026-11", user="carol", at=DECEMBER) is True
    live = month_summary(store, "2026-11", at=DECEMBER)
    assert live.closed == {}
    # Live again: the backup's dismissal undone, no other dismissal left (Echo's was undone
    # too); and November's open cards are not known in December.
    assert {k: live.headline[k] for k in ("approved", "net_change", "dismissed", "open")} == {
        "approved": 3,
        "net_change": Decimal("-307.00"),
        "dismissed": 0,
        "open": None,
    }
    assert reopen_month(store, "2026-11", user="carol", at=DECEMBER) is False


def test_a_later_decision_in_a_closed_month_counts_once_it_is_reopened(store: Store) -> None:
    decide_november(store)
    close_month(store, "2026-11", user="carol", at=CLOSED_AT)
    decide(store, Action.DISMISS, ECHO, at=CLOSED_AT + timedelta(hours=3))

    assert november(month_summary(store, "2026-11", at=DECEMBER))["dismissed"] == 1
    reopen_month(store, "2026-11", at=DECEMBER)
    assert november(month_summary(store, "2026-11", at=DECEMBER))["dismissed"] == 2


def test_a_month_closes_once(store: Store) -> None:
    decide_november(store)
    close_month(store, "2026-11", user="carol", at=CLOSED_AT)

    with pytest.raises(TrueUpError, match="2026-11 is closed already"):
        close_month(store, "2026-11", user="carol", at=CLOSED_AT)

    reopen_month(store, "2026-11", at=CLOSED_AT)
    assert close_month(store, "2026-11", at=CLOSED_AT).closed["2026-11"].at == CLOSED_AT


def test_a_month_not_begun_has_no_summary_and_cannot_close(store: Store) -> None:
    load_month(store)

    with pytest.raises(TrueUpError, match="2026-12 has not begun"):
        month_summary(store, "2026-12", at=AT)
    with pytest.raises(TrueUpError, match="2026-12 has not begun"):
        close_month(store, "2026-12", at=AT)


def money_of(schema: dict[str, Any]) -> list[str]:
    return [name for name, dtype in schema.items() if isinstance(dtype, pl.Decimal)]


def test_json_money_is_text_that_reads_back_as_the_exact_decimals(store: Store) -> None:
    decide_november(store)
    live = month_summary(store, at=LATER)

    text = json.dumps(live.to_json())
    closed = close_month(store, "2026-11", user="carol", at=LATER).to_json()

    read = json.loads(text)
    assert read["month"] == "2026-11"
    assert read["closed"] is None
    for name in money_of(FIGURES):
        assert isinstance(read["headline"][name], str)
        assert Decimal(read["headline"][name]) == live.headline[name]
    assert read["headline"]["net_change"] == "-307.00"
    assert read["by_vendor"] == [
        {
            "vendor": "pax8",
            "approved": 3,
            "net_change": "-307.00",
            "recovered": "66.00",
            "dismissed": 0,
        },
        {
            "vendor": "datto",
            "approved": 0,
            "net_change": "0.00",
            "recovered": "0.00",
            "dismissed": 1,
        },
    ]
    # Frozen and read back, a closed month prints the same figures.
    assert closed["closed"] == {"by": "carol", "at": LATER.isoformat()}
    assert {**closed, "closed": None} == read


def test_a_month_without_decisions_closes_as_zeros_with_its_open_cards(store: Store) -> None:
    load_month(store)

    closed = close_month(store, "2026-11", user="carol", at=CLOSED_AT)

    # Every card of the month is open: Acme +66.00, Cobalt S1 +54.00, Beta -8.00,
    # Cobalt M365 -43.00, Delta -330.00, Echo (no price): 6 cards worth -261.00,
    # of which 66.00 + 54.00 = 120.00 at risk.
    assert closed.headline == {
        "period": "2026-11",
        **{k: Decimal("0.00") if isinstance(v, Decimal) else 0 for k, v in DECIDED.items()},
        "open": 6,
        "open_value": Decimal("-261.00"),
        "at_risk": Decimal("120.00"),
    }
    assert (closed.by_vendor.height, closed.by_service.height, closed.top_accounts.height) == (
        0,
        0,
        0,
    )


def test_a_past_months_figures_are_saved_and_worked_out_again_when_its_decisions_move(
    store: Store,
) -> None:
    load_month(store)
    decide(store, Action.APPROVE, ACME)
    decide(store, Action.APPROVE, COBALT, DELTA)
    before = november(month_summary(store, at=DECEMBER))
    with store.session() as session:
        saved = session.scalars(sa.select(MonthFigures.period)).all()
    # Every month shown is saved, so that the next summary reads no decision of theirs.
    assert "2026-11" in saved and "2026-12" in saved and len(saved) == 13
    assert before["approved"] == 3

    # An undo made in December takes two November decisions out: November is worked out again.
    assert undo_last_decision(store, user="ann", at=DECEMBER) == 2
    after = november(month_summary(store, at=DECEMBER))

    assert (after["approved"], after["net_change"]) == (1, Decimal("66.00"))
    # Saved figures never hold the open cards: this month's come from the card summary.
    assert month_summary(store, at=DECEMBER).headline["open"] is not None
    with store.session() as session:
        november_saved = session.get(MonthFigures, "2026-11")
        assert november_saved is not None
        assert november_saved.figures["figures"][0]["open"] is None


def test_two_readers_saving_a_months_figures_at_once_both_get_them(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    import store.month as month

    load_month(store)
    decide(store, Action.APPROVE, ACME)
    worked_out = month._parts

    def another_reader_saves_first(*args: Any) -> dict[str, Any]:
        parts = worked_out(*args)
        with store.session() as session:
            session.add_all(
                MonthFigures(period=p, key="another reader's", figures=f) for p, f in parts.items()
            )
        return parts

    monkeypatch.setattr(month, "_parts", another_reader_saves_first)
    summary = month_summary(store, at=DECEMBER)

    assert november(summary)["approved"] == 1
    with store.session() as session:
        assert session.get(MonthFigures, "2026-11").key != "another reader's"  # type: ignore[union-attr]
