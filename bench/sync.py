"""`python -m bench.sync`: how long a full and a quick ConnectWise sync take, over real HTTP to
a fake ConnectWise API on 127.0.0.1 (issue 7's budgets: 30 s full, 5 s quick).

    python -m bench.sync [--agreements N] [--lines M] [--changed C] [--repeat R] [--database URL]

It serves `tests.fakes.connectwise.FakeConnectWise`, filled here with N active agreements over
N/4 companies, M additions dealt round-robin over the agreements (10 each by default) and a
catalogue of 40 items, every record last updated at a different moment of 2026 (as a real PSA's
are: were they all the same moment, a quick sync would re-read everything inside its skew).
Into a new SQLite file (or the empty database `--database`) it adds a ConnectWise source pointing
at the fake (`store.sources.add_source`, its keys encrypted under a `TRUEUP_SECRET_KEY` made for
the run unless one is set) and times `store.sync.sync_source` with mode full: the real connector,
its real HTTP client and its bounded concurrency (additions read 4 agreements at a time), through
to the snapshot committed. It checks the snapshot holds M lines. Then it changes the quantity of
C additions on C different agreements, bumping their `_info.lastUpdated` and their agreements'
as ConnectWise does, times a quick sync and checks that the C new quantities landed.

It prints the seconds (best of R, a full then a quick sync each time) and the requests the fake
answered for each, against the budgets. Nothing leaves 127.0.0.1.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from bench.run import ROOT

FULL_BUDGET = 30.0
QUICK_BUDGET = 5.0
SOURCE = "bench-psa"
KEYS = {"company_id": "acme", "public_key": "pub", "private_key": "priv-s3cret"}
PRODUCTS = 40
YEAR_START = datetime(2026, 1, 5, 8, tzinfo=UTC)


def _stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def fake_psa(agreements: int, lines: int, seed: int = 2026) -> Any:
    """Give back a FakeConnectWise holding `agreements` agreements over a quarter as many
    companies, `lines` additions dealt round-robin over them, and a catalogue."""
    from tests.fakes.connectwise import FakeConnectWise

    rng = random.Random(seed)

    def updated() -> dict[str, str]:
        # Spread over ten months, so that few records sit within the quick sync's skew.
        return {"lastUpdated": _stamp(YEAR_START + timedelta(seconds=rng.randrange(26_000_000)))}

    fake = FakeConnectWise(KEYS["company_id"], KEYS["public_key"], KEYS["private_key"])
    companies = max(1, agreements // 4)
    fake.companies = [
        {"id": c, "name": f"Customer {c:05d}", "_info": updated()} for c in range(1, companies + 1)
    ]
    fake.catalog = []
    for p in range(1, PRODUCTS + 1):
        item = fake._item(p, f"SKU-{p:03d}", f"Product {p:03d}", rng.randrange(5, 60))
        fake.catalog.append(item | {"_info": updated()})
    fake.agreements = []
    fake.additions = {}
    for a in range(1, agreements + 1):
        company = (a - 1) % companies + 1
        agreement = fake._agreement(a, f"Managed services {a}", company, f"Customer {company:05d}")
        fake.agreements.append(agreement | {"_info": updated()})
        fake.additions[a] = []
    for n in range(lines):
        agreement = n % agreements + 1
        p = rng.randrange(1, PRODUCTS + 1)
        addition = fake._addition(
            100_000 + n, f"SKU-{p:03d}", f"Product {p:03d}", rng.randrange(1, 80), 20
        )
        fake.additions[agreement].append(addition | {"_info": updated()})
    return fake


def change(fake: Any, how_many: int, rng: random.Random) -> dict[str, Decimal]:
    """Add one seat to `how_many` additions on different agreements, as a person editing them
    in ConnectWise would (the addition's and its agreement's `lastUpdated` move to now); give
    back the new quantities by line id."""
    agreements = {a["id"]: a for a in fake.agreements}
    chosen = rng.sample(sorted(k for k, v in fake.additions.items() if v), how_many)
    moment = _stamp(datetime.now(UTC))
    changed: dict[str, Decimal] = {}
    for agreement in chosen:
        addition = rng.choice(fake.additions[agreement])
        addition["quantity"] += 1
        addition["_info"] = {"lastUpdated": moment}
        agreements[agreement]["_info"] = {"lastUpdated": moment}
        changed[str(addition["id"])] = Decimal(addition["quantity"])
    return changed


@contextmanager
def secret_key() -> Iterator[None]:
    """Give the run a key to encrypt the source's keys with, unless one is set already."""
    from store.credentials import KEY_ENV, new_key

    if os.environ.get(KEY_ENV):
        yield
        return
    os.environ[KEY_ENV] = new_key()
    try:
        yield
    finally:
        del os.environ[KEY_ENV]


def timed_sync(store: Any, fake: Any, mode: str) -> tuple[float, int]:
    """Give back the seconds a sync of `mode` took, to its commit, and the requests it made."""
    from store.sync import sync_source

    before = len(fake.requests)
    started = time.perf_counter()
    sync_source(store, SOURCE, mode=mode, user="bench")
    return time.perf_counter() - started, len(fake.requests) - before


def stored_lines(store: Any) -> dict[str, Decimal]:
    """Give back the quantity of each line of the current PSA snapshot, by line id."""
    from store import current_inputs

    lines = current_inputs(store).psa_lines
    return dict(zip(lines["line_id"].to_list(), lines["quantity"].to_list(), strict=True))


def bench(url: str, args: argparse.Namespace) -> dict[str, tuple[float, int]]:
    """Give back the best seconds and the requests of a full and of a quick sync, checked."""
    from store import open_store
    from store.sources import add_source
    from store.types import now
    from tests.fakes.server import serving

    fake = fake_psa(args.agreements, args.lines)
    rng = random.Random(7)
    best: dict[str, tuple[float, int]] = {}
    store = open_store(url)
    try:
        with serving(fake) as root, secret_key():
            values = KEYS | {"base_url": f"{root}/v4_6_release/apis/3.0", "client_id": "bench"}
            with store.session() as session:
                add_source(session, SOURCE, "connectwise", values, user="bench", at=now())
            for _ in range(args.repeat):
                for mode in ("full", "quick"):
                    expected: dict[str, Decimal] = {}
                    if mode == "quick":
                        expected = change(fake, args.changed, rng)
                    seconds, requests = timed_sync(store, fake, mode)
                    lines = stored_lines(store)
                    if len(lines) != args.lines:
                        raise SystemExit(
                            f"{mode} sync stored {len(lines):,} lines, not {args.lines:,}"
                        )
                    wrong = {k: v for k, v in expected.items() if lines.get(k) != v}
                    if wrong:
                        raise SystemExit(f"quick sync missed {len(wrong)} changed quantities")
                    if mode not in best or seconds < best[mode][0]:
                        best[mode] = (seconds, requests)
    finally:
        store.dispose()
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--agreements", type=int, default=2_000)
    parser.add_argument("--lines", type=int, default=20_000)
    parser.add_argument("--changed", type=int, default=50)
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--database", help="an empty database URL (default: a new SQLite file)")
    args = parser.parse_args()
    if not 0 < args.changed <= min(args.agreements, args.lines):
        parser.error("--changed must be between 1 and the number of agreements and of lines")
    sys.path.insert(0, str(ROOT))

    with tempfile.TemporaryDirectory() as name:
        url = args.database or f"sqlite:///{Path(name) / 'trueup.db'}"
        best = bench(url, args)
    print(
        f"{args.agreements:,} agreements, {args.lines:,} lines, {args.changed} changed; "
        f"best of {args.repeat}"
    )
    labels = {"full": ("full sync", FULL_BUDGET), "quick": ("quick sync", QUICK_BUDGET)}
    for mode, (seconds, requests) in best.items():
        label, budget = labels[mode]
        verdict = "within" if seconds <= budget else "OVER"
        print(
            f"{label + ' (s)':<20} {seconds:>6.2f}  {requests:>5,} requests  "
            f"({verdict} the {budget:.0f} s budget)"
        )


if __name__ == "__main__":
    main()
