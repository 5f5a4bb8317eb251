"""`python -m bench.home_render`: how long Home takes to render with a 1,000,000-row usage
snapshot in the store, on the first render after start and cached.

    python -m bench.home_render [--rows N] [--repeat R] [--no-psa] [--database URL]

Into a new SQLite file (or the empty database `--database`), it syncs the benchmark month's
PSA export and maps (`bench/out/month`, when there; `--no-psa` leaves them out) and the usage
file of `bench.store_import` (N rows, every one its own vendor account, so that all reach the
store), through `store.import_csv` as the Sync page does, then works the card summary out as
the Sync page does after an import. It then renders Home with Streamlit's AppTest, each time in
a new process, so that nothing is warm: the server time of the first render (imports, opening
the store, reading the summary, drawing) and of a second render of the same session (cached).
It also times a first render with no saved summary (after a CLI import, say), which computes
it once. Prints seconds, the best of R.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.run import OUT, ROOT
from bench.store_import import usage_file

CHILD = "--render"


def render(url: str) -> None:
    """In this process: render Home twice and print the server times as JSON."""
    os.environ["DATABASE_URL"] = url
    # A server has Streamlit loaded before its first session: its import is not render time.
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    started = time.perf_counter()
    at.run()
    first = time.perf_counter() - started
    started = time.perf_counter()
    at.run()
    cached = time.perf_counter() - started
    if at.exception or at.error or not at.metric:
        raise SystemExit(f"Home did not render: {at.exception or at.error}")
    shown = {m.label: m.value for m in at.metric}
    print(json.dumps({"first": first, "cached": cached, "figures": shown}))


def timed_render(url: str) -> dict[str, float | dict[str, str]]:
    """Give back the times of one new process rendering Home."""
    done = subprocess.run(
        [sys.executable, "-m", "bench.home_render", CHILD, url],
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    )
    result: dict[str, float | dict[str, str]] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def fill(url: str, rows: int, psa: bool) -> None:
    """Sync the month into the store at `url` as the Sync page would, timing each step."""
    from store import import_csv, import_maps, open_store
    from store.summary import refresh_summary

    month = OUT / "month"
    store = open_store(url)
    try:
        if psa and (month / "psa.csv").exists():
            started = time.perf_counter()
            lines = import_csv(store, "psa", "psa", month / "psa.csv").rows_stored
            for name in ("account-map.csv", "product-map.csv"):
                import_maps(store, month / name)
            print(f"PSA lines and maps     {time.perf_counter() - started:>8.1f} s ({lines:,})")
        file = usage_file(rows)
        started = time.perf_counter()
        stored = import_csv(store, "bench", "usage", file).rows_stored
        print(f"usage import           {time.perf_counter() - started:>8.1f} s ({stored:,} rows)")
        started = time.perf_counter()
        summary = refresh_summary(store)
        print(
            f"card summary           {time.perf_counter() - started:>8.1f} s "
            f"({summary.open_cards:,} open cards, {summary.unmapped_accounts:,} unmapped accounts)"
        )
    finally:
        store.dispose()


def forget_summary(url: str) -> None:
    """Delete the saved card summary, as if the last sync had come from the CLI."""
    import sqlalchemy as sa

    from store import open_store
    from store.models import SavedSummary

    store = open_store(url)
    try:
        with store.session() as session:
            session.execute(sa.delete(SavedSummary))
    finally:
        store.dispose()


def main() -> None:
    if len(sys.argv) == 3 and sys.argv[1] == CHILD:
        render(sys.argv[2])
        return
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--no-psa", action="store_true", help="store the usage file alone")
    parser.add_argument("--database", help="an empty database to use instead of a new SQLite")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        url = args.database or f"sqlite:///{Path(folder) / 'trueup.db'}"
        fill(url, args.rows, not args.no_psa)
        runs = [timed_render(url) for _ in range(args.repeat)]
        first = min(float(r["first"]) for r in runs)
        cached = min(float(r["cached"]) for r in runs)
        print(f"Home, first render     {first:>8.3f} s   (best of {args.repeat} new processes)")
        print(f"Home, cached render    {cached:>8.3f} s")
        forget_summary(url)
        stale = timed_render(url)
        print(f"Home, no saved summary {float(stale['first']):>8.3f} s   (computes it once)")
        print(f"figures shown: {runs[0]['figures']}")


if __name__ == "__main__":
    main()
