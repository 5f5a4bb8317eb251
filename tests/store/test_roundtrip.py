"""What goes into a snapshot comes back exactly: decimals to the last place, texts as written."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal
from sqlalchemy.orm import Session

from engine.schema import PSA_LINES, QUANTITY, USAGE, Schema
from store import Action, Store, SyncStatus, bulk, current_inputs, import_csv
from store.decisions import decide
from store.models import Decision, Source, SyncRun
from store.types import SnapshotKind, SourceKind, SyncMode
from tests.store.factories import usage_file

EDGES = ["99999999999999.9999", "-99999999999999.9999", "0.0001", "-0.0001", "0", "12.5", "0.3333"]


def test_quantities_at_the_edges_of_four_places_come_back_exactly(
    store: Store, tmp_path: Path
) -> None:
    # Usage cannot be negative (the importer says so); the bulk test below covers negatives.
    edges = [q for q in EDGES if not q.startswith("-")]
    rows = [("pax8", f"t-{i}", "T", "S", "S", q) for i, q in enumerate(edges)]
    import_csv(store, "pax8", "usage", usage_file(tmp_path, "edges.csv", rows))

    got = current_inputs(store).usage.get_column("quantity")

    assert got.dtype == QUANTITY
    assert got.to_list() == [Decimal(q).quantize(Decimal("0.0001")) for q in edges]


@pytest.mark.parametrize("table, schema", [("usage_lines", USAGE), ("psa_lines", PSA_LINES)])
def test_a_frame_written_in_bulk_reads_back_equal(store: Store, table: str, schema: Schema) -> None:
    # Texts that CSV, COPY and SQLite each treat specially: empty versus null, quotes, commas,
    # line breaks, a backslash, non-ASCII.
    texts = ["", None, 'say "hi"', "a,b", "two\nlines", "back\\slash", "Zürich 東京", "\\N"]
    n = len(texts)
    values = {
        pl.String: texts,
        QUANTITY: [Decimal(q) for q in EDGES] + [None],
        pl.Boolean: [True, False, None] * 2 + [True, False],
        pl.Int32: [1, 3, 12, None, 1, 1, 1, 1],
    }
    frame = pl.DataFrame(
        {name: pl.Series(name, values[dtype][:n], dtype=dtype) for name, dtype in schema.items()}
    )
    with store.session() as session:
        run = _sync_run(session)
        bulk.write_rows(session.connection(), table, schema, run, frame)
    with store.session() as session:
        got = bulk.read_rows(session.connection(), table, schema, [run])

    assert_frame_equal(got, frame)


def test_a_decision_keeps_its_quantities_exactly(store: Store) -> None:
    card = pl.DataFrame(
        {
            "account_id": ["100"],
            "product_id": ["M365BP"],
            "psa_quantity": [Decimal("20.0001")],
            "vendor_quantity": [Decimal("99999999999999.9999")],
        },
        schema_overrides={"psa_quantity": QUANTITY, "vendor_quantity": QUANTITY},
    )
    at = datetime(2026, 3, 14, 9, 30, tzinfo=UTC)
    with store.session() as session:
        decide(session, card, Action.APPROVE, "ann", at, date(2026, 4, 1))
    with store.session() as session:
        decision = session.query(Decision).one()

    assert decision.psa_quantity == Decimal("20.0001")
    assert decision.vendor_quantity == Decimal("99999999999999.9999")
    assert decision.made_at == at
    assert decision.effective_date == date(2026, 4, 1)


def _sync_run(session: Session) -> int:
    """Add a source and a running sync of it, for rows to belong to; give back its id."""
    at = datetime(2026, 1, 1, tzinfo=UTC)
    source = Source(name="s", kind=SourceKind.VENDOR, created_at=at)
    session.add(source)
    session.flush()
    run = SyncRun(
        source_id=source.id,
        kind=SnapshotKind.USAGE,
        mode=SyncMode.CSV,
        status=SyncStatus.RUNNING,
        started_at=at,
        made_by="test",
    )
    session.add(run)
    session.flush()
    return run.id
