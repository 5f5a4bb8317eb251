"""`python -m bench.cards_page`: how quick the Cards page is with 20,000 open cards, in a real
headless Chromium (Debian's `chromium`, or Playwright's).

    python -m bench.cards_page [--cards N] [--repeat R]

Into a new SQLite file it syncs a PSA export of N lines (N/10 accounts of 10 products each) and
one vendor's usage of the same accounts and products at other quantities, named alike so that
every one maps by exact name: N open cards. It serves the app on that store (`streamlit run`,
as tests/browser does) and prints, best of R:

- navigation to grid rows: from `page.goto(/cards)` to the first grid row drawn, the first
  time (cards worked out from the snapshots) and again in a new tab (cards cached), which
  includes loading the app itself; and from a click on Cards in the app's navigation, on Home;
- click to Python: from a row checkbox's click to the rerun request leaving the browser (what
  the grid sends is the selected keys only), and to the page showing "1 card selected" (the
  server has read the selection and drawn the bar);
- a bulk approve of 5,000 cards through `store.decisions.decide_cards`, to commit.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

from bench.run import ROOT

PRODUCTS = 10
GRID = (
    '[data-testid="stElementContainer"]:not([data-stale="true"]) '
    'iframe[title="st_aggrid.AgGrid.agGrid"]:not([width="-1"])'
)


def write_month(folder: Path, cards: int) -> tuple[Path, Path]:
    """Write a PSA export and a usage file that give `cards` open cards; give back both."""
    accounts = max(1, cards // PRODUCTS)
    psa = folder / "psa.csv"
    usage = folder / "usage.csv"
    with psa.open("w") as lines, usage.open("w") as counts:
        lines.write(
            "account_id,account_name,contract_id,product_id,product_name,line_id,quantity,"
            "unit_price,prorate,billing_cycle\n"
        )
        counts.write("account_id,account_name,product_id,product_name,quantity\n")
        for a in range(accounts):
            for p in range(PRODUCTS):
                seats = 5 + (a * 7 + p * 3) % 200
                change = (a + p) % 9 - 4 or 3  # never 0: every card is open
                lines.write(
                    f"A{a:05d},Customer {a:05d},AG-{a:05d},P{p:02d},Service {p:02d},"
                    f"L{a:05d}-{p:02d},{seats},{10 + p}.50,true,monthly\n"
                )
                counts.write(
                    f"T{a:05d},Customer {a:05d},S{p:02d},Service {p:02d},{seats + change}\n"
                )
    return psa, usage


def fill(url: str, folder: Path, cards: int) -> int:
    """Sync the month into the store at `url`; give back how many open cards it makes."""
    from store import current_cards, import_csv, open_store
    from store.cards import is_open

    psa, usage = write_month(folder, cards)
    store = open_store(url)
    try:
        import_csv(store, "psa", "psa", psa)
        import_csv(store, "pax8", "usage", usage)
        return current_cards(store).cards.filter(is_open()).height  # saves the auto maps
    finally:
        store.dispose()


def bulk_approve(url: str, count: int) -> float:
    """Give back the seconds a bulk approve of `count` open cards takes to commit."""
    from store import Action, current_cards, open_store
    from store.cards import is_open
    from store.decisions import decide_cards, undo_last_decision

    store = open_store(url)
    try:
        chosen = current_cards(store).cards.filter(is_open()).head(count)
        started = time.perf_counter()
        decided = decide_cards(store, chosen, Action.APPROVE, user="bench")
        seconds = time.perf_counter() - started
        assert decided.decided == count, decided
        undo_last_decision(store, user="bench")
        return seconds
    finally:
        store.dispose()


def browse(app: str, repeat: int) -> dict[str, float]:
    """Give back the best times of the page in a headless Chromium."""
    from playwright.sync_api import sync_playwright

    from tests.browser.conftest import chromium_path
    from tests.browser.steps import idle

    best: dict[str, float] = {}

    def keep(name: str, seconds: float) -> None:
        best[name] = min(best.get(name, float("inf")), seconds)

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=chromium_path(), args=["--no-sandbox", "--disable-gpu"]
        )
        for attempt in range(repeat + 1):
            page = browser.new_page(viewport={"width": 1500, "height": 1200})
            sent: list[float] = []

            def listen(ws, sent: list[float] = sent) -> None:
                ws.on("framesent", lambda _frame: sent.append(time.perf_counter()))

            page.on("websocket", listen)
            started = time.perf_counter()
            page.goto(f"{app}/cards")
            grid = page.frame_locator(GRID)
            grid.locator(".ag-center-cols-container .ag-row").first.wait_for(timeout=120_000)
            shown = time.perf_counter() - started
            if attempt == 0:
                best["navigation to grid rows, first (s)"] = shown
            else:
                keep("navigation to grid rows, cached (s)", shown)
            idle(page)
            page.wait_for_timeout(300)
            box = grid.locator(".ag-center-cols-container .ag-row input[type=checkbox]").nth(1)
            sent.clear()
            clicked = time.perf_counter()
            box.click()
            page.get_by_text("1 card selected").wait_for(timeout=60_000)
            drawn = time.perf_counter() - clicked
            if attempt > 0 or repeat == 0:
                after = [t - clicked for t in sent if t >= clicked]
                if after:
                    keep("click to rerun request sent (s)", after[0])
                keep("click to selection bar drawn (s)", drawn)
            if attempt > 0:
                # In the app: from Home, a click on Cards in the navigation (the app is loaded;
                # the page's script runs and the grid's frame is made anew).
                page.get_by_role("link", name="Home", exact=True).click()
                page.get_by_text("Next: ").wait_for(timeout=60_000)
                idle(page)
                started = time.perf_counter()
                page.get_by_role("link", name="Cards", exact=True).click()
                grid.locator(".ag-center-cols-container .ag-row").first.wait_for(timeout=120_000)
                keep("navigation from Home to grid rows (s)", time.perf_counter() - started)
            page.close()
        browser.close()
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cards", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    from tests.browser.conftest import serve

    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        url = f"sqlite:///{folder / 'trueup.db'}"
        started = time.perf_counter()
        opened = fill(url, folder, args.cards)
        filled = time.perf_counter() - started
        print(f"{'store filled (s)':<40} {filled:>6.1f}  ({opened:,} open cards)")
        bulk = min(5_000, opened)
        approve = bulk_approve(url, bulk)
        print(f"{f'bulk approve of {bulk:,}, to commit (s)':<40} {approve:>6.2f}")
        with serve(folder, url) as app:
            for label, seconds in browse(app, args.repeat).items():
                print(f"{label:<40} {seconds:>6.2f}")


if __name__ == "__main__":
    main()
