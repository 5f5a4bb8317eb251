"""`python -m bench.store_import`: a 1,000,000-row usage CSV through `trueup import`, on SQLite
and on PostgreSQL, and the snapshot read back.

    python -m bench.store_import [--rows N] [--postgres URL] [--repeat R]

Writes `bench/out/store/usage-<N>.csv` from the month's usage files (`bench/out/month`, made
by `bench.generate` when missing), giving every row its own vendor account so that all N rows
reach the database: the worst case, as the month's own files add up repeated keys. Then, for a
new SQLite file and a new PostgreSQL database (dropped after; skipped when unreachable), it
times `trueup import` as a process (what a user waits for: start-up, reading and checking the
file, writing the snapshot), first into the empty store and then as a re-upload, and the best
of R in-process reads of the current snapshot (`store.current_inputs`). Prints seconds.
"""

from __future__ import annotations

import argparse
import os
import secrets
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import polars as pl
import psycopg
from psycopg import sql

from bench.run import OUT, month
from store import current_inputs, open_store

TRUEUP = Path(sys.executable).with_name("trueup")


def usage_file(rows: int) -> Path:
    """Give back a usage CSV of `rows` rows with distinct keys, writing it unless it exists."""
    path = OUT / "store" / f"usage-{rows}.csv"
    if path.exists():
        return path
    folder = month(1_000_000, 700_000, 1)
    files = sorted(folder.glob("usage-*.csv"))
    frame = pl.concat([pl.read_csv(f, infer_schema=False) for f in files], how="diagonal")
    frame = pl.concat([frame] * (rows // frame.height + 1)).head(rows)
    frame = frame.with_columns(
        pl.concat_str("account_id", pl.lit("-"), pl.int_range(pl.len()).cast(pl.String))
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.write_csv(path, null_value="")
    return path


def timed_import(url: str, file: Path) -> float:
    """Give back the wall time of one `trueup import` of `file` into the store at `url`."""
    started = time.perf_counter()
    subprocess.run(
        [str(TRUEUP), "import", "--kind", "usage", "--source", "bench", str(file)],
        env={**os.environ, "DATABASE_URL": url},
        check=True,
        stdout=subprocess.DEVNULL,
    )
    return time.perf_counter() - started


def measure(name: str, url: str, file: Path, repeat: int) -> None:
    first = timed_import(url, file)
    again = timed_import(url, file)
    store = open_store(url)
    reads = []
    try:
        for _ in range(repeat):
            started = time.perf_counter()
            inputs = current_inputs(store)
            reads.append(time.perf_counter() - started)
    finally:
        store.dispose()
    rows = inputs.usage.height
    print(f"{name:<11} {rows:>10,} {first:>12.1f} {again:>12.1f} {min(reads):>12.1f}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument(
        "--postgres",
        default=os.environ.get(
            "TRUEUP_BENCH_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres"
        ),
        help="a PostgreSQL database where this user may CREATE DATABASE",
    )
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    file = usage_file(args.rows)
    print(f"{file.relative_to(OUT.parent.parent)}: {file.stat().st_size / 1e6:,.0f} MB")
    print(f"{'database':<11} {'rows':>10} {'import (s)':>12} {'re-upload':>12} {'read (s)':>12}")
    with tempfile.TemporaryDirectory() as folder:
        measure("SQLite", f"sqlite:///{folder}/trueup.db", file, args.repeat)
    name = f"trueup_bench_{secrets.token_hex(4)}"
    try:
        admin = psycopg.connect(args.postgres, autocommit=True, connect_timeout=5)
    except psycopg.OperationalError as error:
        print(f"PostgreSQL skipped: {error}")
        return
    with admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        try:
            measure("PostgreSQL", args.postgres.rsplit("/", 1)[0] + "/" + name, file, args.repeat)
        finally:
            admin.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(name)))


if __name__ == "__main__":
    main()
