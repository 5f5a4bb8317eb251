"""The source types registered for API sync: each one tests and reads its source through the
registry, against the fakes of its own connector tests, and a 401 is reported as bad credentials.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from polars.testing import assert_frame_equal

from connectors.registry import TYPES, source_type
from errors import ConnectorError, ConnectorErrorKind
from tests.conftest import run_trueup
from tests.connectors import test_autotask as autotask_fakes
from tests.connectors import test_dattosaas as datto_fakes
from tests.connectors import test_halopsa as halo_fakes
from tests.connectors import test_partnercenter as microsoft_fakes
from tests.connectors import test_sentinelone as sentinelone_fakes

Handler = Callable[[httpx.Request], httpx.Response]


def autotask_now() -> autotask_fakes.FakeAutotask:
    """Give back the fake Autotask with this month's units moved to hold today: the registry
    reads with the real date."""
    fake = autotask_fakes.FakeAutotask()
    today = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0, tzinfo=None)
    for unit in fake.entities["ContractServiceUnits"]:
        if unit["startDate"].startswith("2026-11"):
            unit["startDate"] = (today - timedelta(days=1)).isoformat()
            unit["endDate"] = (today + timedelta(days=1)).isoformat()
    return fake


def microsoft_refusing() -> Handler:
    """Give back a fake Partner Center that refuses every token, even a fresh one."""
    fake = microsoft_fakes.FakeMicrosoft()
    fake.queue("customers:first", *[httpx.Response(401)] * 2)
    return fake.handle


@dataclass(frozen=True)
class Case:
    """One source type: values it works with, a fake serving them, and a fake refusing them."""

    name: str
    values: dict[str, str]
    serve: Callable[[], Handler]
    refuse: Callable[[], Handler]
    vendor: str | None = None


AUTOTASK = autotask_fakes.SETTINGS
HALO = halo_fakes.SETTINGS
MICROSOFT = microsoft_fakes.SETTINGS
CASES = [
    Case(
        "autotask",
        {
            "username": AUTOTASK.username,
            "secret": AUTOTASK.secret,
            "integration_code": AUTOTASK.integration_code,
            "discovery_url": AUTOTASK.discovery_url,
        },
        serve=autotask_now,
        refuse=lambda: autotask_fakes.FakeAutotask(),
    ),
    Case(
        "halopsa",
        {
            "base_url": HALO.base_url,
            "client_id": HALO.client_id,
            "client_secret": HALO.client_secret,
            "tenant": HALO.tenant or "",
        },
        serve=lambda: halo_fakes.FakeHalo(),
        refuse=lambda: halo_fakes.FakeHalo(),
    ),
    Case(
        "sentinelone",
        {"console_url": sentinelone_fakes.CONSOLE, "api_token": "s1-t0ken"},
        serve=lambda: sentinelone_fakes.FakeConsole().handle,
        refuse=lambda: sentinelone_fakes.FakeConsole(token="another-token").handle,
        vendor="SentinelOne",
    ),
    Case(
        "dattosaas",
        {"public_key": "pub-1", "secret_key": "s3cret"},
        serve=lambda: datto_fakes.FakeDatto().handle,
        refuse=lambda: datto_fakes.FakeDatto(keys=("pub-1", "another-secret")).handle,
        vendor="Datto",
    ),
    Case(
        "partnercenter",
        {"tenant_id": MICROSOFT.tenant_id, "app_id": MICROSOFT.app_id, "app_secret": "s3cret"},
        serve=lambda: microsoft_fakes.FakeMicrosoft().handle,
        refuse=microsoft_refusing,
        vendor="Microsoft",
    ),
]
WRONG = {"autotask": "secret", "halopsa": "client_secret"}
"""The setting a PSA case spoils to be refused (its fake checks it)."""


def values(case: Case, *, wrong: bool = False) -> dict[str, str]:
    given = source_type(case.name).with_defaults(case.values)
    if wrong and case.name in WRONG:
        given[WRONG[case.name]] = "wrong-s3cret"
    return given


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_a_connection_test_passes_against_the_fake(case: Case) -> None:
    kind = source_type(case.name)
    kind.test(values(case), transport=httpx.MockTransport(case.serve()))


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_a_read_gives_the_frames_of_its_side(case: Case) -> None:
    kind = source_type(case.name)
    pulled = kind.read(values(case), transport=httpx.MockTransport(case.serve()))

    assert pulled.records > 0
    assert pulled.delta is None
    if kind.side == "psa":
        assert pulled.usage is None
        assert pulled.lines is not None and pulled.lines.height > 0
        assert pulled.catalog is not None and pulled.catalog.height > 0
    else:
        assert pulled.lines is None and pulled.catalog is None
        assert pulled.usage is not None and pulled.usage.height > 0
        assert set(pulled.usage["vendor"]) == {case.vendor}


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
@pytest.mark.parametrize("step", ["test", "read"])
def test_refused_credentials_are_an_auth_error(case: Case, step: str) -> None:
    kind = source_type(case.name)
    call = kind.test if step == "test" else kind.read
    with pytest.raises(ConnectorError) as raised:
        call(values(case, wrong=True), transport=httpx.MockTransport(case.refuse()))
    assert raised.value.kind is ConnectorErrorKind.AUTH


def test_an_autotask_sync_is_always_a_full_one_so_every_line_keeps_its_account_name() -> None:
    # Its quick pull would read every contract line anyway, and name only the accounts of the
    # companies changed since: stored whole, the other lines would lose their names.
    kind = source_type("autotask")
    case = CASES[0]
    full = kind.read(values(case), transport=httpx.MockTransport(autotask_now()))
    since = kind.read(
        values(case),
        since=datetime(2100, 1, 1, tzinfo=UTC),
        transport=httpx.MockTransport(autotask_now()),
    )

    assert not kind.quick
    assert since.delta is None
    assert since.lines is not None and full.lines is not None
    assert_frame_equal(since.lines, full.lines)
    assert since.lines["account_name"].null_count() == 0


SECRETS = {
    "connectwise": ("public_key", "private_key", "client_id"),
    "pax8": ("client_secret",),
    "autotask": ("secret", "integration_code"),
    "halopsa": ("client_secret",),
    "sentinelone": ("api_token",),
    "dattosaas": ("secret_key",),
    "partnercenter": ("app_secret",),
}
"""The settings of each type that are credentials: stored encrypted and never shown."""


@pytest.mark.parametrize("name", list(TYPES))
def test_every_credential_is_marked_secret_and_every_setting_explained(name: str) -> None:
    kind = TYPES[name]

    assert kind.secrets == SECRETS[name]
    assert all(field.help.strip() for field in kind.fields)


def test_source_types_lists_all_seven(tmp_path: Path) -> None:
    shown = run_trueup("source", "types", cwd=tmp_path)

    assert shown.returncode == 0, shown.stderr
    for name in SECRETS:
        assert f"{name}: {TYPES[name].title} ({TYPES[name].side};" in shown.stdout
    assert "  app_secret (secret, required): A key (secret) created for that app." in shown.stdout
