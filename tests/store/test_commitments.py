"""NCE commitments in the store: kept with the usage snapshot they came with, current with it,
pruned with it, and matched to the decrease and removal cards through the maps."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import polars as pl
import pytest
import sqlalchemy as sa

from errors import ConnectorError
from store import Store, current_cards, import_csv, import_maps
from store import credentials as creds
from store.commitments import commitments_of_cards, current_commitments
from store.config import set_setting
from store.models import CommitmentLine, SyncRun
from store.sources import add_source
from store.sync import sync_source
from store.types import now
from tests.fakes.pax8 import COMMITTED_UNTIL, FakePax8
from tests.fakes.server import transport

PAX8 = {
    "client_id": "pax8-client",
    "client_secret": "pax8-s3cret",
    "base_url": "https://p/v1",
    "token_url": "https://p/oauth/token",
}


@pytest.fixture(autouse=True)
def no_secrets_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Run where there is no .streamlit/secrets.toml, with a key."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv(creds.KEY_ENV, creds.new_key())


def add_pax8(store: Store) -> None:
    with store.session() as session:
        add_source(session, "pax8", "pax8", PAX8, user="ann", at=now())


def stored(store: Store) -> list[tuple[int, str, str, date, Decimal]]:
    with store.session() as session:
        lines = session.scalars(sa.select(CommitmentLine).order_by(CommitmentLine.sync_run_id))
        return [
            (c.sync_run_id, c.account_id, c.product_id, c.commitment_end, c.quantity) for c in lines
        ]


def current(store: Store) -> list[dict[str, object]]:
    with store.session() as session:
        return current_commitments(session).to_dicts()


def test_a_sync_keeps_the_commitments_of_its_snapshot_and_the_last_are_current(
    store: Store,
) -> None:
    fake = FakePax8()
    add_pax8(store)

    first = sync_source(store, "pax8", mode="full", transport=transport(fake))
    fake.set_quantity("s-1", 15)
    second = sync_source(store, "pax8", mode="full", transport=transport(fake))

    run_1, run_2 = first.runs["usage"], second.runs["usage"]
    assert stored(store) == [
        (run_1, "c-acme", "p-bp", COMMITTED_UNTIL, Decimal(12)),
        (run_2, "c-acme", "p-bp", COMMITTED_UNTIL, Decimal(15)),
    ]
    assert current(store) == [
        {
            "vendor": "Pax8",
            "account_id": "c-acme",
            "product_id": "p-bp",
            "commitment_end": COMMITTED_UNTIL,
            "quantity": Decimal(15),
        }
    ]


def test_a_failed_sync_stores_no_commitments_and_the_last_stay_current(store: Store) -> None:
    fake = FakePax8()
    add_pax8(store)
    sync_source(store, "pax8", mode="full", transport=transport(fake))
    fake.set_quantity("s-1", 15)
    fake.secret = "changed"

    with pytest.raises(ConnectorError):
        sync_source(store, "pax8", mode="full", transport=transport(fake))

    assert len(stored(store)) == 1
    assert [c["quantity"] for c in current(store)] == [Decimal(12)]


def test_a_subscription_no_longer_active_commits_nothing(store: Store) -> None:
    fake = FakePax8()
    fake.set_status("s-1", "Cancelled")
    add_pax8(store)

    sync_source(store, "pax8", mode="full", transport=transport(fake))

    assert stored(store) == []
    assert current(store) == []


def test_pruning_a_snapshot_deletes_its_commitments(store: Store) -> None:
    fake = FakePax8()
    add_pax8(store)
    with store.session() as session:
        set_setting(session, "keep_snapshots", "1", "ann")
    at = datetime(2026, 3, 2, 9, tzinfo=UTC)

    first = sync_source(store, "pax8", mode="full", transport=transport(fake), at=at)
    second = sync_source(
        store, "pax8", mode="full", transport=transport(fake), at=at + timedelta(days=1)
    )

    assert second.pruned == [first.runs["usage"]]
    assert [line[0] for line in stored(store)] == [second.runs["usage"]]
    with store.session() as session:
        assert session.get_one(SyncRun, first.runs["usage"]).pruned


def test_the_decrease_card_carries_the_commitment_through_the_maps(
    store: Store, tmp_path: Path
) -> None:
    (tmp_path / "psa.csv").write_text(
        "account_id,account_name,contract_id,product_id,product_name,line_id,quantity,unit_price\n"
        "A1,Acme Dental,K1,M365BP,Business Premium,L1,20,22\n"
        "B1,Birch Law,K2,M365BP,Business Premium,L2,3,22\n"
    )
    (tmp_path / "accounts.csv").write_text(
        "vendor,vendor_account_id,psa_account_id\nPax8,c-acme,A1\nPax8,c-birch,B1\n"
    )
    (tmp_path / "products.csv").write_text(
        "vendor,vendor_product_id,psa_product_id\nPax8,p-bp,M365BP\n"
    )
    import_csv(store, "psa", "psa", tmp_path / "psa.csv")
    import_maps(store, tmp_path / "accounts.csv")
    import_maps(store, tmp_path / "products.csv")
    fake = FakePax8()
    fake.add_subscription("s-9", "c-birch", "p-bp", 4)
    fake.subscriptions[-1]["commitmentTerm"] = {"endDate": COMMITTED_UNTIL.isoformat()}
    add_pax8(store)
    sync_source(store, "pax8", mode="full", transport=transport(fake))

    cards = current_cards(store)
    on_cards = commitments_of_cards(store, cards, date.today())
    # Birch's 9 seats against 3 billed is an increase: its commitment is no warning.
    types = dict(zip(cards.cards["account_id"], cards.cards["card_type"], strict=True))
    assert types == {"A1": "decrease", "B1": "increase"}
    assert on_cards.rows() == [("A1", "M365BP", "Pax8", COMMITTED_UNTIL, Decimal(12))]
    # Past its end, a commitment binds nothing.
    after = commitments_of_cards(store, cards, COMMITTED_UNTIL)
    assert after.is_empty()
    assert (
        on_cards.schema
        == after.schema
        == pl.Schema(
            {
                "account_id": pl.String,
                "product_id": pl.String,
                "vendor": pl.String,
                "commitment_end": pl.Date,
                "quantity": pl.Decimal(18, 4),
            }
        )
    )
