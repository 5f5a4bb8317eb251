"""The Audit log page, driven through Streamlit's AppTest on a store of its own (see conftest):
entries of the last 30 days newest first, filters by person, kind and dates, a count, and a CSV
download whose formula-like cells are neutralised; nothing on the page changes an entry."""

from __future__ import annotations

import csv
import io
import json
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from streamlit.runtime.memory_media_file_storage import MemoryMediaFileStorage
from streamlit.testing.v1 import AppTest

from pages.workspace import PERSON, Person
from store import Store, open_store
from store.audit import audit
from store.models import AuditEntry
from store.types import Role, now
from tests.conftest import ROOT

NOW = now()
FORMULA = '=HYPERLINK("http://evil.example","click")'


@pytest.fixture
def workspace(workspace_url: str) -> Store:
    """Give the test's store with four entries: ann's setting and bob's apply to the PSA (of a
    card named as a formula, by a person named as one) today, bob's sync a week ago, and cy's
    month close 40 days ago."""
    opened = open_store(workspace_url)
    with opened.session() as session:
        audit(
            session,
            "ann",
            "setting",
            {"name": "keep_snapshots", "before": "3", "after": "5"},
            NOW - timedelta(minutes=5),
        )
        audit(
            session,
            "@bob",
            "write_back",
            {"card": FORMULA, "source": "psa", "old": "10", "new": "12", "state": "applied"},
            NOW - timedelta(minutes=1),
        )
        audit(
            session,
            "bob",
            "sync",
            {"source": "pax8", "kind": "usage", "rows": 3, "file": "u.csv", "sync_run": 4},
            NOW - timedelta(days=7),
        )
        audit(session, "cy", "month_close", {"period": "2026-09"}, NOW - timedelta(days=40))
    return opened


@pytest.fixture
def downloads(monkeypatch: pytest.MonkeyPatch) -> dict[str, bytes]:
    """Give what the page hands its download buttons, by file name."""
    handed: dict[str, bytes] = {}
    keep = MemoryMediaFileStorage.load_and_get_id

    def load(
        self: MemoryMediaFileStorage,
        data: Any,
        mimetype: str,
        kind: Any,
        filename: str | None = None,
    ) -> str:
        if filename and isinstance(data, bytes):
            handed[filename] = data
        return keep(self, data, mimetype, kind, filename)

    monkeypatch.setattr(MemoryMediaFileStorage, "load_and_get_id", load)
    return handed


def audit_page(person: Person | None = None) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    if person is not None:
        at.session_state[PERSON] = person
    at.run()
    at.switch_page("pages/audit.py").run()
    assert not at.exception
    assert not at.error
    return at


def table(at: AppTest) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = at.dataframe[0].value.to_dict("records")
    return rows


def count(at: AppTest) -> str:
    return next(m.value for m in at.markdown if "entr" in m.value and m.value.startswith("**"))


def test_the_last_30_days_show_newest_first_in_words_with_a_count(workspace: Store) -> None:
    at = audit_page()

    assert at.title[0].value == "Audit log"
    assert count(at) == "**3 entries**"
    rows = table(at)
    assert [(r["made_by"], r["kind"]) for r in rows] == [
        ("@bob", "Apply to PSA"),
        ("ann", "Setting"),
        ("bob", "Sync"),
    ]
    assert [r["what"] for r in rows] == [
        f"{FORMULA} in psa: 10 → 12 (applied)",
        "keep_snapshots: 3 → 5",
        "3 usage rows imported into pax8 from u.csv",
    ]
    assert json.loads(rows[1]["detail"]) == {"name": "keep_snapshots", "before": "3", "after": "5"}


def test_filters_by_person_kind_and_dates(workspace: Store) -> None:
    at = audit_page()
    assert at.multiselect(key="audit.people").options == ["@bob", "ann", "bob", "cy"]

    at.multiselect(key="audit.people").set_value(["bob"]).run()
    assert count(at) == "**1 entry**"
    assert [r["kind"] for r in table(at)] == ["Sync"]

    at.multiselect(key="audit.people").set_value([]).run()
    at.multiselect(key="audit.kinds").set_value(["month_close", "setting"]).run()
    assert count(at) == "**1 entry**", "the month close is older than 30 days"

    today = NOW.date()
    at.date_input(key="audit.dates").set_value((today - timedelta(days=60), today)).run()
    assert count(at) == "**2 entries**"
    assert [(r["made_by"], r["kind"], r["what"]) for r in table(at)] == [
        ("ann", "Setting", "keep_snapshots: 3 → 5"),
        ("cy", "Month closed", "2026-09 closed: its summary frozen"),
    ]

    at.date_input(key="audit.dates").set_value(
        (today - timedelta(days=60), today - timedelta(days=8))
    ).run()
    assert count(at) == "**1 entry**"
    assert [r["made_by"] for r in table(at)] == ["cy"]


def test_nothing_matching_says_so_and_offers_no_download(workspace: Store) -> None:
    at = audit_page()

    at.multiselect(key="audit.kinds").set_value(["month_close"]).run()

    assert count(at) == "**0 entries**"
    assert at.info[0].value == "No entry matches: choose other people, kinds or dates."
    assert not at.dataframe


def test_the_csv_download_holds_the_filtered_entries_with_formulas_neutralised(
    workspace: Store, downloads: dict[str, bytes]
) -> None:
    at = audit_page()
    at.multiselect(key="audit.kinds").set_value(["write_back", "setting"]).run()

    (name,) = [n for n in downloads if n.startswith("trueup-audit-")]
    today = NOW.date()
    assert name == f"trueup-audit-{today - timedelta(days=29)}-to-{today}.csv"
    rows = list(csv.DictReader(io.StringIO(downloads[name].decode())))
    assert [(r["who"], r["kind"]) for r in rows] == [("'@bob", "Apply to PSA"), ("ann", "Setting")]
    assert rows[0]["what"] == f"'{FORMULA} in psa: 10 → 12 (applied)"
    assert json.loads(rows[1]["detail"])["after"] == "5"
    assert rows[1]["when"] == f"{NOW - timedelta(minutes=5):%Y-%m-%dT%H:%M:%SZ}"


def test_every_role_reads_it_and_nothing_on_it_changes_an_entry(workspace: Store) -> None:
    with workspace.session() as session:
        before = session.execute(sa.select(AuditEntry).order_by(AuditEntry.id)).scalars().all()
        before_rows = [(e.id, e.at, e.made_by, e.kind, e.detail) for e in before]

    for role in Role:
        at = audit_page(Person("vera", role))
        assert count(at) == "**3 entries**", role
        # The account menu's Sign out is the app's, not this page's.
        assert [b.label for b in at.button if b.key != "trueup.sign_out"] == []
        assert not at.main.get("data_editor")

    with workspace.session() as session:
        after = session.execute(sa.select(AuditEntry).order_by(AuditEntry.id)).scalars().all()
        assert [(e.id, e.at, e.made_by, e.kind, e.detail) for e in after] == before_rows
