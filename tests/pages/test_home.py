"""Home, driven through Streamlit's AppTest on a store of its own (see conftest)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

import store
import store.summary
from errors import InputError
from store import Store, import_csv, open_store, source_states
from store.summary import refresh_summary, saved_summary
from tests.conftest import MONTH, ROOT
from tests.store.factories import load_month, seats


@pytest.fixture
def workspace(workspace_url: str) -> Store:
    """Give the test's store, with the hand-checked month synced into it."""
    opened = open_store(workspace_url)
    load_month(opened)
    return opened


def home() -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60).run()
    assert not at.exception
    assert not at.error
    return at


def metrics(at: AppTest) -> dict[str, tuple[str, str | None]]:
    return {m.label: (m.value, m.delta or None) for m in at.metric}


def next_step(at: AppTest) -> str:
    return next(m.value for m in at.markdown if m.value.startswith("**Next: "))


def test_home_shows_the_sources_the_unmapped_counts_and_the_open_cards_by_type(
    workspace: Store,
) -> None:
    at = home()

    assert at.title[0].value == "Home"
    shown = metrics(at)
    assert shown["Unmapped accounts"] == ("1", None)
    assert shown["Unmapped services"] == ("1", None)
    assert shown["Open cards"] == ("6", None)
    assert shown["Increase"] == ("2", "120.00 USD")
    assert shown["Decrease"] == ("2", "-51.00 USD")
    assert shown["Removal"] == ("1", "-330.00 USD")
    assert shown["New Revenue"][0] == "1"  # no catalogue synced: no price to value it at
    assert shown["Net monthly value"] == ("-261.00 USD", None)
    sources = at.dataframe[0].value
    assert list(sources["source"]) == ["psa", "pax8", "sentinelone"]
    assert list(sources["rows"]) == [9, 9, 2]
    assert set(sources["fresh"]) == {"fresh"} and set(sources["last_sync"]) == {"ok"}
    assert next_step(at).startswith("**Next: Clear the unmapped**")
    assert "1 vendor account and 1 service have no map yet" in next_step(at)


def test_home_reads_the_saved_summary_and_not_the_snapshots(
    workspace: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    refresh_summary(workspace)

    def slow(*args: object, **kwargs: object) -> None:
        raise AssertionError("Home read the snapshots back although the summary was current")

    monkeypatch.setattr(store.summary, "current_cards", slow)
    at = home()

    assert metrics(at)["Open cards"] == ("6", None)


def test_home_recomputes_the_figures_once_a_new_sync_lands(
    workspace: Store, tmp_path: Path
) -> None:
    at = home()
    assert metrics(at)["Unmapped accounts"] == ("1", None)

    import_csv(workspace, "datto", "usage", seats(tmp_path, "datto.csv", "3", vendor="datto"))
    at.run()

    assert not at.exception
    assert metrics(at)["Unmapped accounts"] == ("2", None)
    assert "datto" in list(at.dataframe[0].value["source"])


def test_a_failed_or_old_sync_shows_and_the_next_step_is_to_sync_again(
    workspace: Store, tmp_path: Path
) -> None:
    old = datetime.now(UTC) - timedelta(days=9)
    import_csv(workspace, "datto", "usage", seats(tmp_path, "d.csv", "3", "datto"), at=old)
    import_csv(workspace, "psa", "catalog", MONTH / "catalog.csv", at=old - timedelta(days=80))
    with pytest.raises(InputError):
        import_csv(workspace, "pax8", "usage", seats(tmp_path, "bad.csv", "lots"))

    at = home()

    sources = at.dataframe[0].value.set_index("source")
    assert sources.loc["datto", "fresh"] == "stale"
    assert sources.loc["datto", "last_good_sync"] == "9 days ago"
    assert sources.loc["pax8", "last_sync"] == "failed"
    assert '"lots" is not a number' in sources.loc["pax8", "error"]
    assert sources.loc["pax8", "rows"] == 9  # its previous snapshot stays current
    # The catalogue is synced apart, and changes seldom: its age shows, unjudged.
    assert sources.loc["psa (catalogue)", "last_good_sync"] == "89 days ago"
    assert sources.loc["psa (catalogue)", "fresh"] == ""
    step = next_step(at)
    assert step.startswith("**Next: Sync again**")
    assert "the last sync of pax8 failed; datto is stale" in step.lower()


def test_an_empty_workspace_says_to_sync_the_psa_first() -> None:
    at = home()

    assert next_step(at).startswith("**Next: Sync the PSA**")
    assert metrics(at)["Open cards"] == ("0", None)
    assert at.info[0].value.startswith("No sources yet")
    first = (date.today().replace(day=28) + timedelta(days=4)).replace(day=1)
    days = (first - date.today()).days
    assert f"{days} day" in at.caption[0].value and f"1st of {first:%B}" in at.caption[0].value


def test_the_app_seeds_the_demo_month_into_an_empty_store_once(
    workspace_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.undo()  # the real demo this time (conftest leaves it out)
    monkeypatch.setenv("DATABASE_URL", workspace_url)
    at = home()
    at.run()
    at.switch_page("pages/sync.py").run()

    opened = open_store(workspace_url)
    with opened.session() as session:
        assert len(source_states(session)) >= 3
    summary = saved_summary(opened)
    assert summary is not None and summary.open_cards > 0  # worked out as the app started
    at.switch_page("pages/home.py").run()
    assert metrics(at)["Open cards"] == (f"{summary.open_cards:,}", None)


def test_the_app_opens_on_home_and_keeps_sync_and_quick_reconcile() -> None:
    at = home()
    at.switch_page("pages/quick_reconcile.py").run()

    assert not at.exception
    assert at.title[0].value == "Quick reconcile"
    at.switch_page("pages/sync.py").run()
    assert at.title[0].value == "Sync"


def test_a_store_that_cannot_be_opened_is_an_error_with_a_next_step_not_a_traceback(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql://nobody@127.0.0.1:9/none")

    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60).run()

    assert not at.exception
    assert "The store cannot be opened" in at.error[0].value
    assert "Set DATABASE_URL to a database this server can reach" in at.error[0].value


def test_once_every_card_is_decided_home_says_to_send_the_changes_then_to_close_the_month(
    workspace: Store, tmp_path: Path
) -> None:
    from store import Action, current_cards, import_maps
    from store.cards import is_open
    from store.changes import export_changes
    from store.decisions import decide_cards

    accounts = tmp_path / "accounts.csv"
    accounts.write_text("vendor,vendor_account_id,psa_account_id,excluded,reason\n"
                        "pax8,t-foxtrot,,true,Not a customer\n")  # fmt: skip
    products = tmp_path / "products.csv"
    products.write_text("vendor,vendor_product_id,psa_product_id,excluded,reason\n"
                        "pax8,CFQ7TTC0RL1,,true,Not sold\n")  # fmt: skip
    import_maps(workspace, accounts)
    import_maps(workspace, products)
    cards = current_cards(workspace).cards.filter(is_open())
    increase = cards.get_column("card_type") == "increase"
    decide_cards(workspace, cards.filter(increase), Action.APPROVE, user="ann")
    decide_cards(workspace, cards.filter(~increase), Action.DISMISS, user="ann")
    refresh_summary(workspace)

    assert next_step(home()).startswith("**Next: Send the approved changes**")

    export_changes(workspace, user="ann")
    refresh_summary(workspace)

    assert next_step(home()).startswith("**Next: Close the month**")
