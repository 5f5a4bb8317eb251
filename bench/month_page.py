"""`python -m bench.month_page`: how long the Month page takes to render, server side, with 24
months of history of 20,000 cards a month in the store.

    python -m bench.month_page [--cards N] [--months M] [--repeat R] [--database URL]

Into a new SQLite file (or the empty database `--database`), it syncs a month of N open cards
(bench.cards_page's files); then it writes N decisions a month for the M months before this one
and this month (card types, values and vendors spread as a real month's are; one in fifty
undone), straight into the decisions table in bulk: the bench times the page, not the deciding.
It saves the card summary, as the app does after a sync or a decision, and renders the Month
page with Streamlit's AppTest, each time in a new process so that nothing is warm; it prints the
server time of a first render and of a rerun of the same session, best of R, three times:

- the team's rhythm: every month before this one closed (their figures frozen), this month
  live (its open cards from the saved summary);
- nothing ever closed, with the months' figures saved as the page saves them (store.month:
  worked out again only when a month's decisions move);
- nothing ever closed and nothing saved: the thirteen months shown are all worked out from
  their 260,000 decisions (the worst case: every month's decisions moved since the last view).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from bench.cards_page import fill
from bench.run import ROOT

CHILD = "--render"
TYPES = ("increase", "increase", "increase", "new_revenue", "decrease", "removal")
VENDORS = ("Pax8", "SentinelOne", "Datto", "Sherweb", "N-able")


def render(url: str) -> None:
    """In this process: render the Month page twice and print the server times as JSON."""
    os.environ["DATABASE_URL"] = url
    # A server has Streamlit loaded before its first session: its import is not render time.
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.run()
    at.switch_page("pages/month.py")
    started = time.perf_counter()
    at.run()
    first = time.perf_counter() - started
    started = time.perf_counter()
    at.run()
    rerun = time.perf_counter() - started
    if at.exception or at.error or not at.metric:
        raise SystemExit(f"the Month page did not render: {at.exception or at.error}")
    shown = {m.label: m.value for m in at.metric}
    print(json.dumps({"first": first, "rerun": rerun, "figures": shown}))


def write_history(url: str, cards: int, months: int, at: datetime) -> int:
    """Write `cards` decisions in each of the `months` months before `at`'s and in its own;
    give back how many."""
    import sqlalchemy as sa

    from store import open_store
    from store.models import Decision
    from store.types import period_of

    rng = random.Random(2026)
    store = open_store(url)
    written = 0
    try:
        for back in range(months, -1, -1):
            made_at = (at.replace(day=15) - timedelta(days=31 * back)).replace(day=10)
            rows = []
            for card in range(cards):
                card_type = rng.choice(TYPES)
                sign = -1 if card_type in ("decrease", "removal") else 1
                rows.append(
                    {
                        "account_id": f"A{card // 10:05d}",
                        "product_id": f"P{card % 10:02d}",
                        "action": "approve" if rng.random() < 0.85 else "dismiss",
                        "psa_quantity": Decimal(10),
                        "vendor_quantity": Decimal(10 + sign * 2),
                        "made_by": "bench",
                        "made_at": made_at,
                        "bulk_id": uuid.uuid4().hex,
                        "period": period_of(made_at),
                        "card_type": card_type,
                        "monthly_value": Decimal(sign * rng.randint(100, 40_000)) / 100,
                        "vendor": rng.choice(VENDORS),
                        "account_name": f"Customer {card // 10:05d}",
                        "product_name": f"Service {card % 10:02d}",
                    }
                )
            with store.session() as session:
                session.execute(sa.insert(Decision), rows)
                session.flush()
                # One in fifty undone, as a team's mistakes are.
                ids = session.scalars(
                    sa.select(Decision.id).where(Decision.period == rows[0]["period"])
                ).all()
                undos = [
                    {**rows[0], "action": "undo", "undoes_id": i, "bulk_id": uuid.uuid4().hex}
                    for i in ids[::50]
                ]
                session.execute(sa.insert(Decision), undos)
            written += len(rows) + len(undos)
    finally:
        store.dispose()
    return written


def close_past(url: str, months: int, at: datetime) -> None:
    """Close every month before `at`'s, oldest first, as the team does on the 1st."""
    from engine.month import periods_until
    from store import open_store
    from store.month import close_month, current_period

    store = open_store(url)
    try:
        for period in periods_until(current_period(at), months + 1)[:-1]:
            close_month(store, period, user="bench", at=at)
    finally:
        store.dispose()


def timed_render(url: str) -> dict[str, float]:
    done = subprocess.run(
        [sys.executable, "-m", "bench.month_page", CHILD, url],
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    )
    result: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def best_of(url: str, repeat: int, *, forget: bool = False) -> dict[str, float]:
    """Give back the best times of `repeat` renders; `forget`: each after deleting the figures
    the months not closed keep (store.month), as if each month's decisions had just moved."""
    runs = []
    for _ in range(repeat):
        if forget:
            _forget(url)
        runs.append(timed_render(url))
    return {key: min(float(run[key]) for run in runs) for key in ("first", "rerun")}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cards", type=int, default=20_000)
    parser.add_argument("--months", type=int, default=24)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--database", help="an empty database URL (default: a new SQLite file)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        url = args.database or f"sqlite:///{Path(folder) / 'trueup.db'}"
        started = time.perf_counter()
        opened = fill(url, Path(folder), args.cards)
        at = datetime.now(UTC)
        written = write_history(url, args.cards, args.months, at)
        _save_summary(url)  # as the app does once after any decision
        print(
            f"store: {opened:,} open cards, {written:,} decisions over {args.months + 1} months "
            f"({time.perf_counter() - started:.0f} s to write)"
        )
        cold = best_of(url, args.repeat, forget=True)
        saved = best_of(url, args.repeat)
        close_past(url, args.months, at)
        closed = best_of(url, args.repeat)
    print(f"Month page, server time, best of {args.repeat} (budget: 1 s):")
    for name, times in (
        ("past months closed", closed),
        ("nothing closed, months' figures saved", saved),
        ("nothing closed, nothing saved yet", cold),
    ):
        print(
            f"  {name + ':':40} first render {times['first']:.2f} s, rerun {times['rerun']:.2f} s"
        )


def _forget(url: str) -> None:
    import sqlalchemy as sa

    from store import open_store
    from store.models import MonthFigures

    store = open_store(url)
    try:
        with store.session() as session:
            session.execute(sa.delete(MonthFigures))
    finally:
        store.dispose()


def _save_summary(url: str) -> None:
    from store import open_store
    from store.summary import refresh_summary

    store = open_store(url)
    try:
        refresh_summary(store)
    finally:
        store.dispose()


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == CHILD:
        render(sys.argv[2])
    else:
        main()
