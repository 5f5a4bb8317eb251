"""The Sync page and its upload wizard, driven through AppTest on a store of their own."""

from __future__ import annotations

import os
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from streamlit.testing.v1 import AppTest

from pages.card_tiles import escaped
from store import Store, import_csv, open_store, source_states
from store import credentials as creds
from store.models import Source, SyncRun
from store.running import this_host
from store.sources import add_source, source_named
from store.types import SnapshotKind, SyncMode, SyncStatus, now
from tests.conftest import FIXTURES, MONTH, ROOT

PAX8 = (MONTH / "usage-pax8.csv").read_bytes()
RENAMED = PAX8.replace(b",quantity,", b",Assigned Seats,", 1)
"""The Pax8 file with a quantity header no alias matches: its role must be chosen by hand."""
CW = {
    "base_url": "https://cw.example/v4_6_release/apis/3.0",
    "company_id": "acme",
    "public_key": "pub",
    "private_key": "priv-s3cret",
    "client_id": "client-1",
}
PAX8_API = {"client_id": "pax8-client", "client_secret": "s3cret", "base_url": "https://p/v1"}


@pytest.fixture
def workspace(workspace_url: str) -> Store:
    return open_store(workspace_url)


def sync_page() -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60).run()
    at.switch_page("pages/sync.py").run()
    assert not at.exception
    return at


def new_vendor(at: AppTest, name: str, distributor: str = "") -> None:
    at.selectbox(key="sync_source").set_value("\x00new").run()
    at.text_input[0].set_value(name)
    at.text_input[1].set_value(distributor)
    at.run()


def upload(at: AppTest, name: str, data: bytes) -> None:
    uploader = next(u for u in at.file_uploader if u.label.endswith("file (CSV or Excel)"))
    uploader.set_value((name, data, "text/csv")).run()
    assert not at.exception


def role(at: AppTest, header: str):
    return next(s for s in at.selectbox if s.label == escaped(header))


def import_button(at: AppTest):
    return next((b for b in at.button if b.label.startswith("Import into")), None)


def test_a_new_vendor_source_syncs_from_an_uploaded_file(workspace: Store) -> None:
    at = sync_page()
    assert [i for i in at.info if i.value.startswith("No sources yet")]

    new_vendor(at, "pax8", "Pax8")
    upload(at, "usage-pax8.csv", PAX8)
    assert role(at, "quantity").value == "quantity"
    assert role(at, "account_name").value == "account_name"
    assert "9 rows read (9 rows after repeats added up)" in at.info[-1].value
    import_button(at).click().run()

    assert not at.exception and not at.error
    assert "**pax8**: 9 rows stored from 9 in usage-pax8.csv." in at.success[0].value
    sources = at.dataframe[0].value
    assert list(sources["source"]) == ["pax8"]
    assert list(sources["status"]) == ["ok"]
    assert list(sources["rows_stored"]) == [9]
    assert list(sources["distributor"]) == ["Pax8"]
    assert at.selectbox(key="sync_source").value == "pax8"  # the new source, ready for more
    assert not import_button(at)  # the wizard starts again: no second import by mistake


def test_a_corrected_column_role_imports_and_is_remembered_for_the_source(
    workspace: Store,
) -> None:
    at = sync_page()
    new_vendor(at, "pax8")
    upload(at, "pax8-november.csv", RENAMED)
    assert role(at, "Assigned Seats").value == ""
    assert "no quantity column" in at.dataframe[-1].value["Problem"][0]
    assert not import_button(at)

    role(at, "Assigned Seats").set_value("quantity").run()
    assert "Assigned Seats → Quantity" in at.dataframe[-1].value.columns
    import_button(at).click().run()

    assert not at.exception and not at.error
    with workspace.session() as session:
        profile = source_named(session, "pax8").columns
    assert profile["quantity"] == "Assigned Seats"
    assert profile["billing_term"] == "billing_term"
    # The next file of the source opens with the remembered choice.
    upload(at, "pax8-december.csv", RENAMED)
    assert role(at, "Assigned Seats").value == "quantity"
    assert import_button(at)


def test_a_bad_file_shows_its_problems_row_by_row_and_stores_nothing(workspace: Store) -> None:
    at = sync_page()
    new_vendor(at, "acme-av")
    upload(at, "bad_rows.csv", (FIXTURES / "import" / "bad_rows.csv").read_bytes())

    assert "problems in bad_rows.csv: nothing will be stored" in at.error[0].value
    problems = at.dataframe[-1].value
    assert list(problems.columns) == ["File", "Row", "Column", "Problem"]
    assert len(problems) >= 3 and set(problems["File"]) == {"bad_rows.csv"}
    assert list(problems["Row"]) == sorted(problems["Row"])
    assert not import_button(at)
    with workspace.session() as session:
        assert source_states(session) == []


def test_an_unreadable_file_says_why_and_stores_nothing(workspace: Store) -> None:
    at = sync_page()
    new_vendor(at, "acme-av")
    upload(at, "export.csv", (FIXTURES / "import" / "utf16.csv").read_bytes())

    assert "export.csv cannot be read" in at.error[0].value
    assert "UTF-16" in at.dataframe[-1].value["Problem"][0]
    with workspace.session() as session:
        assert source_states(session) == []


def test_one_field_for_two_columns_is_refused(workspace: Store) -> None:
    at = sync_page()
    new_vendor(at, "pax8")
    upload(at, "usage-pax8.csv", PAX8)

    role(at, "unit_cost").set_value("quantity").run()

    assert 'Quantity is chosen for "quantity", "unit_cost"' in at.error[0].value
    assert not import_button(at)


def test_an_existing_source_syncs_again_and_a_failed_sync_shows_its_error(
    workspace: Store,
) -> None:
    import_csv(workspace, "sentinelone", "usage", MONTH / "usage-sentinelone.csv")
    with workspace.session() as session:
        assert source_named(session, "sentinelone").columns is None
    at = sync_page()

    assert at.selectbox(key="sync_source").value == "sentinelone"
    upload(at, "s1.csv", (MONTH / "usage-sentinelone.csv").read_bytes())
    assert role(at, "Licenses").value == "quantity"
    import_button(at).click().run()

    assert not at.error
    sources = at.dataframe[0].value
    assert list(sources["rows_stored"]) == [2]
    assert "s1.csv" in list(sources["file"])


def test_a_new_source_cannot_take_a_name_in_use_and_there_is_one_psa(workspace: Store) -> None:
    import_csv(workspace, "psa", "psa", MONTH / "psa.csv")
    at = sync_page()

    new_vendor(at, "psa")

    assert 'There is already a source named "psa"' in at.warning[0].value
    assert at.radio[0].disabled  # the one PSA is taken: a new source is a vendor
    assert [u.label for u in at.file_uploader] == ["Map file (CSV or Excel)"]


def test_map_files_import_and_the_figures_follow(workspace: Store) -> None:
    import_csv(workspace, "psa", "psa", MONTH / "psa.csv")
    import_csv(workspace, "pax8", "usage", MONTH / "usage-pax8.csv")
    at = sync_page()

    maps = next(u for u in at.file_uploader if u.label.startswith("Map file"))
    maps.set_value(("account-map.csv", (MONTH / "account-map.csv").read_bytes(), "text/csv"))
    at.run()
    next(b for b in at.button if b.label == "Import the maps").click().run()

    assert not at.exception and not at.error
    assert "**Account maps** from account-map.csv: 6 added" in at.success[0].value
    assert "The cards are up to date" in at.success[0].value


# -- API sources: status, progress, the last error with a next step, the buttons -------------


def add_api_sources(workspace: Store, monkeypatch: pytest.MonkeyPatch) -> dict[str, int]:
    """Add a ConnectWise PSA and a Pax8 vendor (addresses never contacted); give their ids."""
    monkeypatch.setenv(creds.KEY_ENV, creds.new_key())
    with workspace.session() as session:
        add_source(session, "psa", "connectwise", CW, user="ann", at=now())
        add_source(session, "pax8", "pax8", PAX8_API, user="ann", at=now())
        return {s.name: s.id for s in session.scalars(sa.select(Source))}


def record_run(workspace: Store, source_id: int, status: SyncStatus, **values: Any) -> None:
    started = values.pop("started_at", now() - timedelta(minutes=5))
    with workspace.session() as session:
        session.add(
            SyncRun(
                source_id=source_id,
                kind=values.pop("kind", SnapshotKind.PSA),
                mode=SyncMode.FULL,
                status=status,
                started_at=started,
                made_by="ann",
                pid=os.getpid(),
                host=this_host(),
                heartbeat_at=now(),
                **values,
            )
        )


def button(at: AppTest, label: str, key: str | None = None) -> Any:
    return next(b for b in at.button if b.label == label and (key is None or b.key == key))


def markdown(at: AppTest) -> str:
    return "\n".join(m.value for m in at.markdown)


def test_with_no_api_source_the_section_says_where_to_add_one(workspace: Store) -> None:
    at = sync_page()

    (info,) = [i.value for i in at.info if i.value.startswith("No API sources yet")]
    assert "in Settings" in info and "`trueup source add NAME --type ...`" in info
    assert not [b for b in at.button if b.label in ("Start full sync", "Quick sync all")]


def test_api_sources_show_running_progress_and_a_failure_with_its_next_step(
    workspace: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    ids = add_api_sources(workspace, monkeypatch)
    moment = now()
    record_run(
        workspace, ids["psa"], SyncStatus.OK, finished_at=moment - timedelta(hours=3),
        started_at=moment - timedelta(hours=3, seconds=12),
        progress={"stage": "done", "requests": 9, "pages": 9, "records": 42},
    )  # fmt: skip
    record_run(
        workspace, ids["psa"], SyncStatus.FAILED, started_at=moment - timedelta(seconds=65),
        finished_at=moment, error="ConnectWise refused the API keys (401 from company/companies).",
        progress={"stage": "failed", "requests": 1, "pages": 0, "records": 0,
                  "error_kind": "auth"},
    )  # fmt: skip
    record_run(
        workspace, ids["pax8"], SyncStatus.RUNNING, kind=SnapshotKind.USAGE,
        progress={"stage": "reading", "requests": 12, "pages": 3, "records": 1240},
    )  # fmt: skip

    at = sync_page()

    assert not at.exception
    text = markdown(at)
    assert "**psa**  \nConnectWise PSA · PSA" in text
    assert "**pax8**  \nPax8 · Vendor" in text
    assert "**failed**] · full sync started" in text
    assert "**running**] · full sync started" in text
    assert "Reading: 12 requests, 3 pages, 1,240 records; " in text and " so far" in text
    assert "Stopped: 1 request, 0 pages, 0 records; in 1 min 5 s" in text
    captions = [c.value for c in at.caption]
    assert "Last good sync: 3 hours ago" in captions and "No good sync yet" in captions
    (error,) = [e.value for e in at.error]
    assert error.startswith("ConnectWise refused the API keys")
    assert "**Next:** The source refused the keys: check each one in Settings" in error
    assert not button(at, "Start full sync").disabled
    assert button(at, "Quick sync all").disabled, "the one vendor is syncing already"
    assert not button(at, "Quick sync", "api_quick_psa").disabled
    assert not button(at, "Full sync", "api_full_psa").disabled
    assert button(at, "Quick sync", "api_quick_pax8").disabled
    assert button(at, "Full sync", "api_full_pax8").disabled


def test_a_good_sync_shows_its_notes_such_as_records_gone(
    workspace: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    ids = add_api_sources(workspace, monkeypatch)
    gone = "2 agreement lines of the last sync no longer in psa: gone or ended there"
    record_run(
        workspace, ids["psa"], SyncStatus.OK, finished_at=now(), warnings=[gone],
        progress={"stage": "done", "requests": 9, "pages": 9, "records": 40},
    )  # fmt: skip

    at = sync_page()

    assert f"Note: {gone}" in [c.value for c in at.caption]


@pytest.mark.parametrize(
    ("kind", "step"),
    [
        ("rate_limited", "wait a few minutes and try again"),
        ("unreachable", "check its address in Settings, and that this server's network"),
        ("not_found", "check the source's address (base URL, site or company)"),
        (None, "Sync again; if it fails the same way, the sync's log is under data/logs/"),
    ],
)
def test_a_failed_sync_says_what_to_do_next_for_its_kind_of_error(
    workspace: Store, monkeypatch: pytest.MonkeyPatch, kind: str | None, step: str
) -> None:
    ids = add_api_sources(workspace, monkeypatch)
    progress = {"stage": "failed"} | ({"error_kind": kind} if kind else {})
    record_run(
        workspace, ids["psa"], SyncStatus.FAILED, finished_at=now(), error="it failed",
        progress=progress,
    )  # fmt: skip

    at = sync_page()

    (error,) = [e.value for e in at.error]
    assert error.startswith("it failed  \n**Next:** ") and step in error


def test_a_sync_that_cannot_start_says_why_and_starts_nothing(
    workspace: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    add_api_sources(workspace, monkeypatch)
    at = sync_page()
    monkeypatch.delenv(creds.KEY_ENV)  # the PSA's keys are stored encrypted under it

    button(at, "Start full sync").click().run()

    assert not at.exception
    (error,) = [e.value for e in at.error]
    assert 'the credentials of source "psa" are stored encrypted' in error
    assert "set TRUEUP_SECRET_KEY" in error
    with workspace.session() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(SyncRun)) == 0


def test_a_source_started_meanwhile_by_cron_shows_running_and_is_not_started_twice(
    workspace: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    ids = add_api_sources(workspace, monkeypatch)
    at = sync_page()
    record_run(workspace, ids["psa"], SyncStatus.RUNNING, started_at=now())

    button(at, "Start full sync").click().run()

    assert not at.exception and not at.error
    assert "**running**] · full sync started" in markdown(at)
    assert button(at, "Start full sync").disabled
    with workspace.session() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(SyncRun)) == 1
