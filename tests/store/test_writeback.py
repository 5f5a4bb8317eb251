"""The write-back outbox: approved changes enter it once, in-place edits wait for their date, and
each change reaches the fake ConnectWise once however runs overlap or fail; on both databases."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal
from pathlib import Path

import httpx
import polars as pl
import pytest
import sqlalchemy as sa

from errors import TrueUpError
from store import Action, Store, current_cards, import_csv
from store import credentials as creds
from store.decisions import decide_cards, undo_last_decision
from store.models import AuditEntry, Decision, Source
from store.sources import add_source
from store.summary import card_summary
from store.sync import sync_source
from store.types import now
from store.writeback import OUTBOX, apply_changes, outbox
from tests.fakes.connectwise import FakeConnectWise
from tests.fakes.server import transport

CW = {
    "base_url": "https://cw.example/v4_6_release/apis/3.0",
    "company_id": "acme",
    "public_key": "pub-key-9",
    "private_key": "priv-s3cret",
    "client_id": "client-7f3a",
}
USAGE = b"""vendor,account_name,product_name,quantity
pax8,Acme Dental,Microsoft 365 Business Premium,12
pax8,Birch Law,Microsoft 365 Business Premium,7
pax8,Birch Law,Microsoft 365 E3,3
"""
ACME_BP, BIRCH_BP, BIRCH_E3 = "1:M365-BP", "2:M365-BP", "2:M365-E3"
DEC_1, NOV_28 = date(2026, 12, 1), date(2026, 11, 28)
Handler = Callable[[httpx.Request], httpx.Response]


@pytest.fixture
def fake(store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> FakeConnectWise:
    """A store synced from a fake ConnectWise and a usage file: three changes to approve
    (Acme 10 -> 12 and Birch 5 -> 7 seats in place, Birch's E3 New Revenue of 3)."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv(creds.KEY_ENV, creds.new_key())
    cw = FakeConnectWise(company="acme", public="pub-key-9", private="priv-s3cret")
    with store.session() as session:
        add_source(session, "psa", "connectwise", CW, user="ann", at=now())
    sync_source(store, "psa", mode="full", transport=transport(cw))
    import_csv(store, "pax8", "usage", USAGE, name="usage.csv", user="ann")
    return cw


def approve(store: Store, *keys: str, effective: date = DEC_1) -> None:
    cards = current_cards(store).cards
    chosen = cards.filter(pl.concat_str("account_id", pl.lit(":"), "product_id").is_in(list(keys)))
    assert chosen.height == len(keys)
    decide_cards(store, chosen, Action.APPROVE, effective_date=effective, user="ann")


def send(
    store: Store,
    fake: FakeConnectWise,
    wrap: Callable[[Handler], Handler] | None = None,
    *,
    today: date,
) -> dict[str, str]:
    handler: Handler = transport(fake).handle_request
    mock = httpx.MockTransport(wrap(handler) if wrap else handler)
    done = apply_changes(store, transport=mock, user="bob", today=today)
    return {a.key: a.state for a in done}


def write_backs(store: Store) -> dict[str, str]:
    with store.session() as session:
        rows = session.execute(
            sa.select(Decision.account_id, Decision.product_id, Decision.write_back).where(
                Decision.action == Action.APPROVE
            )
        ).all()
    return {f"{a}:{p}": str(w and w.value) for a, p, w in rows}


def test_approved_changes_enter_the_outbox_once_and_an_in_place_edit_waits(
    store: Store, fake: FakeConnectWise
) -> None:
    approve(store, ACME_BP, BIRCH_E3)

    shown = outbox(store, today=NOV_28)
    again = outbox(store, today=NOV_28)

    assert shown.schema == pl.Schema(OUTBOX)
    assert shown.equals(again), "entering twice adds nothing"
    rows = {r["key"]: r for r in shown.iter_rows(named=True)}
    assert set(rows) == {ACME_BP, BIRCH_E3}
    acme, e3 = rows[ACME_BP], rows[BIRCH_E3]
    assert (acme["account_name"], acme["product_name"]) == (
        "Acme Dental",
        "Microsoft 365 Business Premium",
    )
    assert (acme["contract_id"], acme["line_id"], acme["mode"]) == ("10", "100", "in_place")
    assert (acme["old_quantity"], acme["new_quantity"]) == (Decimal(10), Decimal(12))
    assert (acme["state"], acme["held_until"], acme["attempts"]) == ("pending", DEC_1, 0)
    assert acme["idempotency_key"].startswith("trueup-")
    assert (e3["line_id"], e3["old_quantity"], e3["contract_id"]) == (None, None, "20")
    assert e3["held_until"] is None, "a new dated line may go at once"


def test_an_in_place_edit_is_held_until_its_date_then_sent_and_marks_the_approval(
    store: Store, fake: FakeConnectWise
) -> None:
    approve(store, ACME_BP, BIRCH_BP)

    early = apply_changes(store, transport=transport(fake), today=NOV_28)
    assert [(a.state, a.held_until) for a in early] == [("held", DEC_1), ("held", DEC_1)]
    assert not fake.writes
    on_the_day = send(store, fake, today=DEC_1)

    assert on_the_day == {ACME_BP: "applied", BIRCH_BP: "applied"}
    assert fake.addition(100)["quantity"] == 12  # type: ignore[index]
    assert write_backs(store) == {ACME_BP: "applied", BIRCH_BP: "applied"}
    assert send(store, fake, today=DEC_1) == {}, "nothing is sent twice"
    assert fake.writes == {100: 1, 200: 1}
    assert outbox(store).get_column("state").to_list() == ["applied", "applied"]


def test_a_conflict_writes_nothing_and_is_recorded(store: Store, fake: FakeConnectWise) -> None:
    approve(store, ACME_BP, effective=NOV_28)
    fake.set_quantity(100, 11)

    assert send(store, fake, today=NOV_28) == {ACME_BP: "conflict"}
    assert not fake.writes
    assert write_backs(store) == {ACME_BP: "conflict"}
    row = outbox(store).row(0, named=True)
    assert row["state"] == "conflict" and row["finished_at"] is not None
    assert "shows 11 on addition 100, not the 10" in row["message"]
    assert send(store, fake, today=NOV_28) == {}, "a conflict is not sent again"


def test_an_undone_approval_is_not_sent(store: Store, fake: FakeConnectWise) -> None:
    approve(store, ACME_BP, effective=NOV_28)
    assert outbox(store).height == 1
    undo_last_decision(store, user="ann")

    assert send(store, fake, today=NOV_28) == {}
    assert outbox(store).is_empty()
    assert not fake.writes


def test_an_approval_undone_while_a_batch_runs_is_not_sent(
    store: Store, fake: FakeConnectWise
) -> None:
    approve(store, ACME_BP, effective=NOV_28)
    approve(store, BIRCH_BP, effective=NOV_28)  # a second action: the one undo reverses

    def undoing_during_the_first_write(handler: Handler) -> Handler:
        def handle(request: httpx.Request) -> httpx.Response:
            if request.method == "PATCH":
                undo_last_decision(store, user="ann")
            return handler(request)

        return handle

    sent = send(store, fake, undoing_during_the_first_write, today=NOV_28)

    assert sent == {ACME_BP: "applied", BIRCH_BP: "withdrawn"}
    assert fake.writes == {100: 1}


def test_a_run_started_while_another_is_sending_sends_nothing_twice(
    store: Store, fake: FakeConnectWise
) -> None:
    approve(store, ACME_BP, BIRCH_BP, BIRCH_E3, effective=NOV_28)
    inner: dict[str, str] = {}

    def another_run_during_the_first_write(handler: Handler) -> Handler:
        def handle(request: httpx.Request) -> httpx.Response:
            if request.method == "PATCH" and not inner:
                inner.update(send(store, fake, today=NOV_28))
            return handler(request)

        return handle

    outer = send(store, fake, another_run_during_the_first_write, today=NOV_28)

    assert inner == {ACME_BP: "sending", BIRCH_BP: "applied", BIRCH_E3: "applied"}
    assert outer == {ACME_BP: "applied", BIRCH_BP: "sending", BIRCH_E3: "sending"}
    assert sorted(fake.writes.values()) == [1, 1, 1]


def test_an_unanswered_write_is_unknown_and_the_next_run_finds_it_applied(
    store: Store, fake: FakeConnectWise
) -> None:
    approve(store, ACME_BP, effective=NOV_28)

    def losing_the_answer(handler: Handler) -> Handler:
        def handle(request: httpx.Request) -> httpx.Response:
            answer = handler(request)
            if request.method == "PATCH":
                raise httpx.ReadTimeout("no answer", request=request)
            return answer

        return handle

    first = send(store, fake, losing_the_answer, today=NOV_28)
    between = write_backs(store)
    second = apply_changes(store, transport=transport(fake), today=NOV_28)

    with store.session() as session:
        logged = session.scalars(
            sa.select(AuditEntry.detail)
            .where(AuditEntry.kind == "write_back")
            .order_by(AuditEntry.id)
        ).first()
    assert first == {ACME_BP: "unknown"}
    assert between == {ACME_BP: "unknown"}
    assert logged is not None and logged["state"] == "unknown"
    assert "may have been carried out" in logged["message"]
    assert logged["request"]["line_id"] == "100" and logged["request"]["new_quantity"] == "12.0000"
    assert [(a.state, a.message) for a in second] == [
        ("applied", "found already applied (ConnectWise already shows 12)")
    ]
    assert fake.writes == {100: 1}


def test_the_audit_entry_holds_who_what_and_the_request_without_secrets(
    store: Store, fake: FakeConnectWise
) -> None:
    approve(store, ACME_BP, effective=NOV_28)
    send(store, fake, today=NOV_28)

    with store.session() as session:
        entry = session.scalars(sa.select(AuditEntry).where(AuditEntry.kind == "write_back")).one()
    detail = entry.detail
    assert entry.made_by == "bob"
    assert (detail["card"], detail["old"], detail["new"], detail["state"]) == (
        ACME_BP,
        "10.0000",
        "12.0000",
        "applied",
    )
    assert detail["request"]["writes"][0]["body"] == [
        {"op": "replace", "path": "quantity", "value": 12}
    ]
    text = str(detail)
    for secret in ("priv-s3cret", "pub-key-9", "client-7f3a", "Basic "):
        assert secret not in text


def test_a_psa_synced_from_files_or_none_cannot_take_changes(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(TrueUpError, match="there is no PSA source to write changes back to"):
        apply_changes(store)
    psa = b"account_id,account_name,product_id,quantity,line_id,contract_id\n1,Acme,BP,10,7,3\n"
    import_csv(store, "psa-files", "psa", psa, name="psa.csv", user="ann")
    with store.session() as session:
        assert session.scalars(sa.select(Source.type)).one() == "csv"

    with pytest.raises(TrueUpError, match="is synced from files: export the changes instead"):
        outbox(store)


def test_home_counts_a_change_as_gone_out_once_applied_and_a_conflict_as_still_to_do(
    store: Store, fake: FakeConnectWise
) -> None:
    approve(store, ACME_BP, BIRCH_BP, effective=NOV_28)
    assert card_summary(store).pending.cards == 2, "approved, not sent"

    fake.set_quantity(200, 6)  # Birch's seats changed in ConnectWise since the approval
    states = send(store, fake, today=NOV_28)

    assert states == {ACME_BP: "applied", BIRCH_BP: "conflict"}
    # The saved summary moves on with the write-back, not only with the next decision.
    assert card_summary(store).pending.cards == 1, "the conflict still needs a person"
