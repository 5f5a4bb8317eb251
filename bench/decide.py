"""`python -m bench.decide`: a bulk approve of 5,000 cards (issue 5: commits within 1 s), and
its undo, on SQLite and on PostgreSQL.

    python -m bench.decide [--cards N] [--history H] [--postgres URL] [--repeat R]

For a new SQLite file and a new PostgreSQL database (dropped after; skipped when unreachable),
it first records H decisions of an earlier month (so that the decisions in force are looked up
among many, as in a store a year old; their vendor quantities have moved since, so none of
them holds), then times `store.decisions.decide_cards` approving N cards as one action (the
card locks, the look-up of decisions in force, N decision rows, the audit entry, the commit)
and `undo_last_decision` reversing it, R times on other cards each time. Prints the best and
the worst seconds.
"""

from __future__ import annotations

import argparse
import os
import secrets
import tempfile
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import polars as pl
import psycopg
from psycopg import sql

from engine.schema import QUANTITY
from store import Action, open_store
from store.decisions import decide, decide_cards, undo_last_decision

AT = datetime(2026, 3, 14, 9, tzinfo=UTC)


def cards(count: int, vendor: int, offset: int = 0) -> pl.DataFrame:
    """Give back `count` increase cards, 10 billed and `vendor` reported, from card `offset`."""
    index = pl.int_range(offset, offset + count, eager=True).cast(pl.String)
    return pl.DataFrame(
        {
            "account_id": "acct-" + index,
            "product_id": pl.Series(["M365BP"] * count),
            "psa_quantity": pl.Series([Decimal(10)] * count, dtype=QUANTITY),
            "vendor_quantity": pl.Series([Decimal(vendor)] * count, dtype=QUANTITY),
            "card_type": pl.Series(["increase"] * count),
            "contract_id": "AG-" + index,
        }
    )


def measure(name: str, url: str, count: int, history: int, repeat: int) -> None:
    store = open_store(url)
    try:
        with store.session() as session:
            for start in range(0, history, count):
                earlier = cards(min(count, history - start), 11, start)
                decide(session, earlier, Action.APPROVE, "bench", AT - timedelta(days=30))
        approve, undo = [], []
        for run in range(repeat):
            chosen = cards(count, 12, run * count)
            started = time.perf_counter()
            done = decide_cards(store, chosen, Action.APPROVE, user="ann", at=AT)
            approve.append(time.perf_counter() - started)
            assert done.decided == count, done.refused
            started = time.perf_counter()
            assert undo_last_decision(store, user="ann", at=AT) == count
            undo.append(time.perf_counter() - started)
    finally:
        store.dispose()
    print(
        f"{name:<11} {count:>7,} {history:>9,} {min(approve):>8.2f} {max(approve):>8.2f}"
        f" {min(undo):>8.2f} {max(undo):>8.2f}",
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cards", type=int, default=5_000)
    parser.add_argument("--history", type=int, default=60_000)
    parser.add_argument(
        "--postgres",
        default=os.environ.get(
            "TRUEUP_BENCH_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres"
        ),
        help="a PostgreSQL database where this user may CREATE DATABASE",
    )
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    print("seconds of one bulk approve (and of its undo), best and worst of", args.repeat)
    print(
        f"{'database':<11} {'cards':>7} {'history':>9} {'approve':>8} {'worst':>8}"
        f" {'undo':>8} {'worst':>8}"
    )
    with tempfile.TemporaryDirectory() as folder:
        measure("SQLite", f"sqlite:///{folder}/trueup.db", args.cards, args.history, args.repeat)
    name = f"trueup_bench_{secrets.token_hex(4)}"
    try:
        admin = psycopg.connect(args.postgres, autocommit=True, connect_timeout=5)
    except psycopg.OperationalError as error:
        print(f"PostgreSQL skipped: {error}")
        return
    with admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        try:
            url = args.postgres.rsplit("/", 1)[0] + "/" + name
            measure("PostgreSQL", url, args.cards, args.history, args.repeat)
        finally:
            admin.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(name)))


if __name__ == "__main__":
    main()
