"""Settings > Sources, driven through AppTest: API sources added, tested, changed and removed,
their secrets stored encrypted and never shown on the page or written to the audit log.

Test connection reaches a fake ConnectWise served over real HTTP on 127.0.0.1.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from streamlit.testing.v1 import AppTest

from store import credentials as creds
from store import import_csv, open_store
from store.models import AuditEntry, Source, SyncRun
from store.sources import add_source, source_config
from store.types import now
from tests.fakes.connectwise import ROOT as CW_ROOT
from tests.fakes.connectwise import FakeConnectWise
from tests.fakes.server import serving
from tests.pages.test_settings import settings_page

MONTH = Path(__file__).resolve().parents[1] / "fixtures" / "month"
SECRETS = {"public_key": "pub-k3y", "private_key": "priv-s3cret", "client_id": "client-1d"}


@pytest.fixture(autouse=True)
def secret_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Run with a secret key, and where there is no .streamlit/secrets.toml to read."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv(creds.KEY_ENV, creds.new_key())


@pytest.fixture
def connectwise() -> Iterator[str]:
    """Give back the REST address of a fake ConnectWise that takes SECRETS for company acme."""
    fake = FakeConnectWise(
        company="acme", public=SECRETS["public_key"], private=SECRETS["private_key"]
    )
    with serving(fake) as url:
        yield url + CW_ROOT.rstrip("/")


def closed_port() -> str:
    """Give back an address on 127.0.0.1 where nothing listens."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}{CW_ROOT.rstrip('/')}"


def shown(at: AppTest) -> str:
    """Give back every text on the page: messages, captions, tables and the inputs' values
    (but what was typed into a password input, which the browser masks)."""
    texts: list[str] = []
    for group in (at.markdown, at.caption, at.success, at.info, at.warning, at.error):
        texts += [element.value for element in group]
    texts += [table.value.to_csv() for table in at.dataframe]
    texts += [str(box.value) for box in at.text_input if box.proto.type != box.proto.PASSWORD]
    return "\n".join(texts)


def fill(at: AppTest, values: dict[str, str], form: str = "source-new-connectwise-0") -> None:
    for name, value in values.items():
        at.text_input(key=f"{form}-{name}").input(value)


def press(at: AppTest, label: str) -> AppTest:
    return next(b for b in at.button if b.label == label).click().run()


def audit_text(url: str) -> str:
    with open_store(url).session() as session:
        return "\n".join(str(e.detail) for e in session.scalars(sa.select(AuditEntry)))


def test_a_psa_source_is_added_with_its_secrets_encrypted_and_never_shown(
    workspace_url: str, connectwise: str
) -> None:
    at = settings_page()
    fill(at, {"name": "psa", "base_url": connectwise, "company_id": "acme"} | SECRETS)
    press(at, "Add source")

    assert not at.exception
    assert 'Source "psa" added (ConnectWise PSA)' in at.success[0].value
    with open_store(workspace_url).session() as session:
        row = session.scalars(sa.select(Source)).one()
        values = source_config(session, "psa").values
    assert (row.kind.value, row.type) == ("psa", "connectwise")
    assert values.items() >= ({"base_url": connectwise, "company_id": "acme"} | SECRETS).items()
    page = shown(at)
    assert "Company ID: acme" in page and "Private key (encrypted)" in page
    for secret in SECRETS.values():
        assert secret not in page
        assert secret not in audit_text(workspace_url)
        assert secret not in (row.secrets or "")


def test_a_vendor_source_is_added_with_its_distributor(workspace_url: str) -> None:
    at = settings_page()
    at.selectbox(key="source-new-type").set_value("pax8").run()
    fill(
        at,
        {"name": "pax8", "client_id": "pax8-app", "client_secret": "pax8-s3cret"},
        "source-new-pax8-0",
    )
    assert at.text_input(key="source-new-pax8-0-distributor").value == "Pax8"
    press(at, "Add source")

    assert 'Source "pax8" added (Pax8)' in at.success[0].value
    with open_store(workspace_url).session() as session:
        row = session.scalars(sa.select(Source)).one()
    assert (row.kind.value, row.type, row.distributor) == ("vendor", "pax8", "Pax8")
    assert "pax8-s3cret" not in shown(at)
    assert "Client secret (encrypted)" in shown(at)


def test_a_missing_required_setting_is_named_and_nothing_is_stored(workspace_url: str) -> None:
    at = settings_page()
    fill(at, {"name": "psa"} | SECRETS)
    press(at, "Add source")

    assert "A ConnectWise PSA source needs **Company ID**: fill it in." in at.error[0].value
    with open_store(workspace_url).session() as session:
        assert session.scalars(sa.select(Source)).all() == []


def test_with_no_secret_key_the_page_says_how_to_set_one_and_stores_no_secret(
    workspace_url: str, connectwise: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(creds.KEY_ENV)
    at = settings_page()
    warning = next(w.value for w in at.warning if "no secret key" in w.value)
    assert "`trueup source key`" in warning and "TRUEUP_SECRET_KEY" in warning
    assert "`secret_key` under `[trueup]`" in warning and "[sources.NAME]" in warning

    fill(at, {"name": "psa", "base_url": connectwise, "company_id": "acme"} | SECRETS)
    press(at, "Add source")

    assert "TrueUp has no secret key, so it will not store" in at.error[0].value
    assert "[sources.psa]" in at.error[0].value
    assert "priv-s3cret" not in shown(at)
    with open_store(workspace_url).session() as session:
        assert session.scalars(sa.select(Source)).all() == []


@pytest.mark.parametrize(
    ("change", "said"),
    [
        ({}, "**Connection OK**: signed in to ConnectWise PSA at "),
        ({"private_key": "wrong-k3y"}, "**Bad credentials.**"),
        ({"base_url": "closed port"}, "**Unreachable.** TrueUp could not reach the source"),
    ],
    ids=["ok", "bad credentials", "unreachable"],
)
def test_test_connection_before_saving_says_plainly_what_is_wrong(
    workspace_url: str, connectwise: str, change: dict[str, str], said: str
) -> None:
    typed = {"name": "psa", "base_url": connectwise, "company_id": "acme"} | SECRETS | change
    if change.get("base_url"):
        typed["base_url"] = closed_port()
    at = settings_page()
    fill(at, typed)
    press(at, "Test connection")

    assert not at.exception
    assert said in shown(at)
    for secret in {*SECRETS.values(), typed["private_key"]}:
        assert secret not in "\n".join(m.value for m in (*at.success, *at.error))
    with open_store(workspace_url).session() as session:
        assert session.scalars(sa.select(Source)).all() == []  # a test saves nothing


def test_a_wrong_site_is_named_as_such(workspace_url: str, connectwise: str) -> None:
    at = settings_page()
    wrong = connectwise.replace("v4_6_release", "v2099_1_release")
    fill(at, {"name": "psa", "base_url": wrong, "company_id": "acme"} | SECRETS)
    press(at, "Test connection")

    assert "**Wrong site or address.**" in at.error[0].value


def add_saved(url: str, base_url: str) -> None:
    with open_store(url).session() as session:
        values = {"base_url": base_url, "company_id": "acme"} | SECRETS
        add_source(session, "psa", "connectwise", values, user="ann", at=now())


def test_editing_a_source_keeps_the_secrets_left_blank_and_replaces_one_typed(
    workspace_url: str, connectwise: str
) -> None:
    add_saved(workspace_url, "https://cw.example/v4_6_release/apis/3.0")
    at = settings_page()
    form = "source-edit-psa-0"
    assert at.selectbox(key="source-new-type").value == "pax8"  # one PSA: a vendor is next
    assert at.text_input(key=f"{form}-company_id").value == "acme"
    assert at.text_input(key=f"{form}-private_key").value == ""
    assert at.text_input(key=f"{form}-private_key").placeholder == "stored: leave blank to keep it"

    fill(at, {"base_url": connectwise}, form)
    press(at, "Test connection")  # the typed address with the stored keys
    assert "**Connection OK**" in at.success[0].value

    fill(at, {"base_url": connectwise, "client_id": "client-2"}, form)
    press(at, "Save changes")

    assert 'Source "psa" saved.' in at.success[0].value
    with open_store(workspace_url).session() as session:
        values = source_config(session, "psa").values
    expected = {"base_url": connectwise, "company_id": "acme"} | SECRETS | {"client_id": "client-2"}
    assert values.items() >= expected.items()
    assert "client-2" not in shown(at) and "client-2" not in audit_text(workspace_url)


def test_a_source_that_never_synced_is_removed_once_confirmed(workspace_url: str) -> None:
    add_saved(workspace_url, "https://cw.example/v4_6_release/apis/3.0")
    at = settings_page()
    press(at, "Remove…")
    assert "It has never synced" in at.warning[0].value

    press(at, "Remove it")

    assert 'Source "psa" removed.' in at.success[0].value
    with open_store(workspace_url).session() as session:
        assert session.scalars(sa.select(Source)).all() == []
        kinds = list(session.scalars(sa.select(AuditEntry.kind).order_by(AuditEntry.id)))
    assert kinds == ["source_added", "source_removed"]


def test_removing_a_source_that_synced_keeps_its_syncs_as_a_csv_source(
    workspace_url: str,
) -> None:
    opened = open_store(workspace_url)
    import_csv(opened, "psa", "psa", MONTH / "psa.csv")
    add_saved(workspace_url, "https://cw.example/v4_6_release/apis/3.0")
    at = settings_page()
    press(at, "Remove…")
    assert "its syncs stay" in at.warning[0].value

    press(at, "Remove it")

    with opened.session() as session:
        row = session.scalars(sa.select(Source)).one()
        runs = session.scalars(sa.select(SyncRun)).all()
    assert (row.name, row.type, row.settings, row.secrets) == ("psa", "csv", None, None)
    assert runs, "the CSV syncs stay"
    assert at.dataframe[0].value.to_dict("records")[0]["Type"] == "CSV upload"


def test_with_no_key_secrets_may_live_in_secrets_toml(
    workspace_url: str, connectwise: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(creds.KEY_ENV)
    Path(".streamlit").mkdir()
    lines = "\n".join(f'{k} = "{v}"' for k, v in SECRETS.items())
    Path(".streamlit/secrets.toml").write_text(f"[sources.psa]\n{lines}\n")
    at = settings_page()
    fill(at, {"name": "psa", "base_url": connectwise, "company_id": "acme"})
    press(at, "Test connection")
    assert "**Connection OK**" in at.success[0].value

    press(at, "Add source")

    assert 'Source "psa" added' in at.success[0].value
    with open_store(workspace_url).session() as session:
        row = session.scalars(sa.select(Source)).one()
    assert row.secrets is None
    assert "Private key (secrets.toml)" in shown(at)
    assert "priv-s3cret" not in shown(at)


def test_an_emptied_setting_is_cleared_and_a_wrong_key_is_said(
    workspace_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    with open_store(workspace_url).session() as session:
        values = {"base_url": "https://acme.halopsa.com/api", "client_id": "halo-app"}
        values |= {"client_secret": "halo-s3cret", "tenant": "acme"}
        add_source(session, "psa", "halopsa", values, user="ann", at=now())
    at = settings_page()
    fill(at, {"tenant": ""}, "source-edit-psa-0")
    press(at, "Save changes")

    with open_store(workspace_url).session() as session:
        assert session.scalars(sa.select(Source)).one().settings == {
            "base_url": "https://acme.halopsa.com/api",
            "client_id": "halo-app",
        }
    monkeypatch.setenv(creds.KEY_ENV, creds.new_key())  # not the key they were stored with
    at = settings_page()
    assert "stored, unreadable" in shown(at) and "was TRUEUP_SECRET_KEY changed?" in shown(at)
