"""Decisions on cards through `decide_cards` (DESIGN 6 and issue 5), on SQLite and PostgreSQL."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import TypeVar

import polars as pl
import pytest
import sqlalchemy as sa

from store import Action, Store, current_cards, import_csv
from store import decisions as decisions_module
from store.decisions import (
    NO_CONTRACT,
    card_history,
    decide_cards,
    first_of_next_month,
    last_decision,
    undo_last_decision,
)
from store.models import AuditEntry, Decision
from store.prefs import get_pref, set_pref
from tests.conftest import MONTH
from tests.store.factories import load_month

AT = datetime(2026, 3, 14, 9, tzinfo=UTC)
LATER = AT + timedelta(minutes=5)


def cards_of(store: Store, *keys: tuple[str, str]) -> pl.DataFrame:
    cards = current_cards(store).cards
    wanted = pl.DataFrame(keys, schema=["account_id", "product_id"], orient="row")
    return cards.join(wanted, on=["account_id", "product_id"], how="semi")


def status(store: Store, account: str, product: str) -> str:
    cards = current_cards(store).cards
    return str(cards.filter(account_id=account, product_id=product)["status"].item())


def decisions(store: Store) -> list[tuple[str, str, str, str]]:
    with store.session() as session:
        rows = session.execute(
            sa.select(
                Decision.account_id, Decision.product_id, Decision.action, Decision.made_by
            ).order_by(Decision.id)
        ).all()
    return [(a, p, action.value, by) for a, p, action, by in rows]


def audit_kinds(store: Store) -> list[str]:
    with store.session() as session:
        kinds = session.scalars(sa.select(AuditEntry.kind).order_by(AuditEntry.id)).all()
    return [k for k in kinds if k.startswith("decision")]


ACME = ("100", "M365BP")  # 20 billed, 23 reported: an increase on AG-1 line L1
BETA = ("200", "EXO1")  # 5 billed, 3 reported: a decrease
ECHO = ("500", "M365BP")  # New Revenue: no PSA line, and account 500 has no agreement


def test_an_approval_records_who_when_both_quantities_the_date_and_the_contract(
    store: Store,
) -> None:
    load_month(store)

    done = decide_cards(store, cards_of(store, ACME), Action.APPROVE, user="ann", at=AT)

    assert (done.decided, done.refused.height) == (1, 0)
    assert done.bulk_id is not None
    with store.session() as session:
        decision = session.scalars(sa.select(Decision)).one()
    assert (decision.psa_quantity, decision.vendor_quantity) == (Decimal(20), Decimal(23))
    assert decision.effective_date == date(2026, 4, 1)  # the first of next month
    assert (decision.contract_id, decision.made_by, decision.made_at) == ("AG-1", "ann", AT)
    assert decision.write_back is not None and decision.write_back.value == "pending"
    assert status(store, *ACME) == "approved"
    assert audit_kinds(store) == ["decision_approve"]


def test_one_bulk_action_is_one_audit_entry_and_one_undo(store: Store) -> None:
    load_month(store)
    open_cards = current_cards(store).cards.filter(
        pl.col("card_type").is_in(["increase", "decrease", "removal"])
    )

    done = decide_cards(
        store, open_cards, Action.APPROVE, effective_date=date(2026, 3, 15), user="ann", at=AT
    )

    assert done.decided == open_cards.height == 5
    assert audit_kinds(store) == ["decision_approve"]
    assert last_decision(store, "ann") == (done.bulk_id, Action.APPROVE, 5, AT)
    assert last_decision(store, "bob") is None

    assert undo_last_decision(store, user="ann", at=LATER) == 5

    assert set(current_cards(store).cards["status"]) == {"open"}
    assert audit_kinds(store) == ["decision_approve", "decision_undo"]
    assert last_decision(store, "ann") is None
    assert undo_last_decision(store, user="ann", at=LATER) == 0


def test_undo_reverses_only_the_acting_users_last_action(store: Store) -> None:
    load_month(store)
    decide_cards(store, cards_of(store, ACME), Action.SCHEDULE, user="ann", at=AT)
    decide_cards(store, cards_of(store, BETA, ("300", "M365BP")), Action.DISMISS, user="ann", at=AT)
    decide_cards(store, cards_of(store, ("400", "M365BP")), Action.DISMISS, user="bob", at=AT)

    assert undo_last_decision(store, user="ann", at=LATER) == 2

    assert status(store, *BETA) == status(store, "300", "M365BP") == "open"
    assert status(store, *ACME) == "scheduled"
    assert status(store, "400", "M365BP") == "dismissed"  # bob's stays
    assert undo_last_decision(store, user="ann", at=LATER) == 1
    assert status(store, *ACME) == "open"


@pytest.mark.parametrize("action", [Action.APPROVE, Action.DISMISS, Action.SCHEDULE])
@pytest.mark.parametrize("first", [Action.APPROVE, Action.DISMISS])
def test_a_card_whose_decision_holds_is_refused_naming_who_and_when(
    store: Store, first: Action, action: Action
) -> None:
    load_month(store)
    cards = cards_of(store, ACME)
    decide_cards(store, cards, first, user="ann", at=AT)

    again = decide_cards(store, cards, action, user="bob", at=LATER)

    assert (again.bulk_id, again.decided) == (None, 0)
    assert again.refused.rows() == [("100", "M365BP", first.value, "ann", AT)]
    assert decisions(store) == [("100", "M365BP", first.value, "ann")]
    assert audit_kinds(store) == [f"decision_{first.value}"]


def test_a_scheduled_card_may_be_scheduled_again_or_approved_by_anyone_but_not_dismissed(
    store: Store,
) -> None:
    load_month(store)
    cards = cards_of(store, ACME)
    decide_cards(store, cards, Action.SCHEDULE, effective_date=date(2026, 4, 15), user="ann", at=AT)

    moved = decide_cards(
        store, cards, Action.SCHEDULE, effective_date=date(2026, 5, 1), user="bob", at=LATER
    )
    dismissed = decide_cards(store, cards, Action.DISMISS, user="cat", at=LATER)

    assert moved.decided == 1
    assert dismissed.refused.rows() == [("100", "M365BP", "schedule", "bob", LATER)]
    assert current_cards(store).cards.filter(account_id="100", product_id="M365BP").row(
        0, named=True
    )["effective_date"] == date(2026, 5, 1)

    approved = decide_cards(store, cards, Action.APPROVE, user="cat", at=LATER)

    assert approved.decided == 1
    assert status(store, *ACME) == "approved"
    # Approved without a date of its own: the change takes effect on the date scheduled.
    assert card_history(store, *ACME)["effective_date"].to_list()[-1] == date(2026, 5, 1)


@pytest.mark.parametrize(
    ("given", "effective"), [(None, date(2026, 4, 15)), (date(2026, 4, 20), date(2026, 4, 20))]
)
def test_an_approval_keeps_the_scheduled_date_unless_given_one(
    store: Store, given: date | None, effective: date
) -> None:
    load_month(store)
    cards = cards_of(store, ACME, BETA)
    decide_cards(
        store, cards_of(store, ACME), Action.SCHEDULE, effective_date=date(2026, 4, 15), at=AT
    )

    decide_cards(store, cards, Action.APPROVE, effective_date=given, user="bob", at=LATER)

    assert card_history(store, *ACME)["effective_date"].to_list() == [date(2026, 4, 15), effective]
    assert card_history(store, *BETA)["effective_date"].to_list() == [given or date(2026, 4, 1)]


def test_a_dismissed_card_comes_back_when_its_vendor_quantity_changes(
    store: Store, tmp_path: Path
) -> None:
    load_month(store)
    decide_cards(store, cards_of(store, ACME), Action.DISMISS, user="ann", at=AT)
    assert status(store, *ACME) == "dismissed"

    moved = tmp_path / "usage-pax8.csv"
    moved.write_text((MONTH / "usage-pax8.csv").read_text().replace("Premium,23,", "Premium,24,"))
    import_csv(store, "pax8", "usage", moved)

    assert status(store, *ACME) == "open"
    again = decide_cards(store, cards_of(store, ACME), Action.DISMISS, user="bob", at=LATER)
    assert (again.decided, again.refused.height) == (1, 0)
    assert status(store, *ACME) == "dismissed"


def test_approving_new_revenue_needs_a_contract(store: Store) -> None:
    load_month(store)
    echo = cards_of(store, ECHO)

    refused = decide_cards(store, echo, Action.APPROVE, user="ann", at=AT)
    dismissed = decide_cards(store, echo, Action.SCHEDULE, user="ann", at=AT)

    assert refused.decided == 0
    assert refused.refused.rows() == [("500", "M365BP", NO_CONTRACT, None, None)]
    assert dismissed.decided == 1  # a schedule needs no contract yet

    approved = decide_cards(
        store, echo, Action.APPROVE, contracts={ECHO: "AG-NEW"}, user="ann", at=LATER
    )

    assert approved.decided == 1
    assert card_history(store, *ECHO)["contract_id"].to_list() == [None, "AG-NEW"]


def test_new_revenue_goes_by_default_to_the_agreement_holding_most_reconciled_lines(
    store: Store, tmp_path: Path
) -> None:
    load_month(store)
    psa = tmp_path / "psa.csv"
    extra = [
        "500,Echo Labs,AG-5B,Echo Projects,LABOUR,Labour,L20,1,100.00,,false,monthly",
        "500,Echo Labs,AG-5B,Echo Projects,LABOUR2,Labour,L21,1,100.00,,false,monthly",
        "500,Echo Labs,AG-5A,Echo Managed,S1-CORE,SentinelOne Core,L22,4,4.50,,true,monthly",
    ]
    psa.write_text((MONTH / "psa.csv").read_text() + "\n".join(extra) + "\n")
    import_csv(store, "psa", "psa", psa)

    done = decide_cards(store, cards_of(store, ECHO), Action.APPROVE, user="ann", at=AT)

    assert done.decided == 1
    assert card_history(store, *ECHO)["contract_id"].to_list() == ["AG-5A"]


def test_the_history_of_a_card_is_every_decision_oldest_first(store: Store) -> None:
    load_month(store)
    cards = cards_of(store, ACME)
    decide_cards(store, cards, Action.DISMISS, user="ann", at=AT)
    undo_last_decision(store, user="ann", at=LATER)
    decide_cards(
        store, cards, Action.APPROVE, effective_date=date(2026, 3, 20), user="bob", at=LATER
    )

    history = card_history(store, *ACME)

    assert history.select("action", "made_by", "undone", "write_back", "effective_date").rows() == [
        ("dismiss", "ann", True, None, None),
        ("undo", "ann", False, None, None),
        ("approve", "bob", False, "pending", date(2026, 3, 20)),
    ]
    assert history["vendor_quantity"].to_list() == [Decimal(23)] * 3
    assert card_history(store, "nobody", "nothing").is_empty()


@pytest.mark.parametrize(
    ("at", "first"),
    [
        (datetime(2026, 3, 14, 9, tzinfo=UTC), date(2026, 4, 1)),
        (datetime(2026, 12, 31, 23, 59, tzinfo=UTC), date(2027, 1, 1)),
        # 1 a.m. on 1 April in Berlin is still March in UTC.
        (datetime(2026, 3, 31, 23, 30, tzinfo=UTC).astimezone(), date(2026, 4, 1)),
    ],
)
def test_the_default_effective_date_is_the_first_of_next_month_in_utc(
    at: datetime, first: date
) -> None:
    assert first_of_next_month(at) == first


def test_the_default_effective_date_follows_the_teams_time_zone(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # 03:00 UTC on 1 November is still 31 October in Chicago: the decision belongs to October
    # (store.types.period_of), so its change takes effect on 1 November, not 1 December.
    monkeypatch.setenv("TRUEUP_TIMEZONE", "America/Chicago")

    assert first_of_next_month(datetime(2026, 11, 1, 3, tzinfo=UTC)) == date(2026, 11, 1)


def test_undo_is_not_an_action_to_decide(store: Store) -> None:
    with pytest.raises(ValueError, match="undo_last_decision"):
        decide_cards(store, pl.DataFrame(), Action.UNDO)


def test_two_people_approving_the_same_card_at_once_leave_one_decision(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    load_month(store)
    cards = cards_of(store, ACME, BETA)
    # Whoever holds the locks first waits a while before reading: without the locks, both
    # would read "no decision" in that time and both would write one.
    monkeypatch.setattr(decisions_module, "_locked", lambda session: time.sleep(0.3))
    ann, bob = at_once(
        lambda: decide_cards(store, cards, Action.APPROVE, user="ann", at=AT),
        lambda: decide_cards(store, cards, Action.APPROVE, user="bob", at=AT),
    )
    results = {"ann": ann, "bob": bob}
    first, second = sorted(results, key=lambda u: -results[u].decided)
    assert (results[first].decided, results[second].decided) == (2, 0)
    assert sorted(results[second].refused.rows()) == [
        ("100", "M365BP", "approve", first, AT),
        ("200", "EXO1", "approve", first, AT),
    ]
    assert [by for *_, by in decisions(store)] == [first, first]
    assert audit_kinds(store) == ["decision_approve"]


T = TypeVar("T")


def at_once(*calls: Callable[[], T]) -> list[T]:
    """Give back what each call gave, having started them in threads at the same moment."""
    start = threading.Barrier(len(calls))
    results: dict[int, T] = {}
    errors: list[BaseException] = []

    def run(index: int) -> None:
        try:
            start.wait()
            results[index] = calls[index]()
        except BaseException as error:  # a thread cannot fail the test; the test reads it
            errors.append(error)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert errors == []
    return [results[i] for i in range(len(calls))]


def test_the_same_action_undone_twice_at_once_is_undone_once(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    load_month(store)
    decide_cards(store, cards_of(store, BETA), Action.DISMISS, user="ann", at=AT)
    decide_cards(store, cards_of(store, ACME, ("400", "M365BP")), Action.DISMISS, user="ann", at=AT)
    monkeypatch.setattr(decisions_module, "_locked", lambda session: time.sleep(0.3))

    undone = at_once(*[lambda: undo_last_decision(store, user="ann", at=LATER)] * 2)

    # Both windows offered "Undo: dismiss 2 cards"; the second undoes nothing, not BETA.
    assert sorted(undone) == [0, 2]
    assert status(store, *BETA) == "dismissed"
    assert audit_kinds(store).count("decision_undo") == 1


def test_preferences_are_per_user_and_replaced_in_place(store: Store) -> None:
    assert get_pref(store, "ann", "cards.view") is None
    assert get_pref(store, "ann", "cards.view", "list") == "list"

    set_pref(store, "ann", "cards.view", "tiles")
    set_pref(store, "ann", "cards.view", "list")
    set_pref(store, "bob", "cards.view", "tiles")

    assert get_pref(store, "ann", "cards.view") == "list"
    assert get_pref(store, "bob", "cards.view", "list") == "tiles"
