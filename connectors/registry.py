"""The source types TrueUp can sync by API: one entry each, with the settings it needs.

An entry knows how to test a connection and how to read a source into the frames the store
keeps (PSA: lines and catalogue; vendor: usage). Adding a connector is one more entry in
`TYPES`; the store and the CLI know nothing of any one API.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

import httpx
import polars as pl

from connectors.psa import autotask, connectwise, halopsa
from connectors.psa.pull import PsaPull
from connectors.vendors import dattosaas, partnercenter, pax8, sentinelone
from connectors.writeback import ChangeResult, Mode, QuantityChange
from errors import TrueUpError

Side = Literal["psa", "vendor"]
Values = Mapping[str, str]


@dataclass(frozen=True)
class Field:
    """One setting of a source type; a secret is stored encrypted and never shown."""

    name: str
    help: str
    secret: bool = False
    default: str | None = None
    required: bool = True

    @property
    def needed(self) -> bool:
        """True when a source cannot work without a value for it."""
        return self.required and self.default is None


@dataclass(frozen=True)
class Delta:
    """What a quick pull of changed lines says about the lines it did not send.

    The lines of `contracts` no longer listed end; lines of `reread_contracts` and of
    `reread_accounts` were all sent again and replace the old ones; `cancelled` lines end.
    """

    contracts: frozenset[str]
    reread_contracts: frozenset[str]
    reread_accounts: frozenset[str]
    cancelled: frozenset[str]


@dataclass(frozen=True)
class Pulled:
    """What one read of a source gave: the frames to store, the next cursor, the warnings.

    `delta` is set when `lines` and `catalog` hold only what changed since the cursor: the
    store merges them into its previous snapshot.
    """

    lines: pl.DataFrame | None = None
    catalog: pl.DataFrame | None = None
    usage: pl.DataFrame | None = None
    cursor: datetime | None = None
    warnings: tuple[str, ...] = ()
    records: int = 0
    delta: Delta | None = None
    commitments: pl.DataFrame | None = None
    """Seats under commitment (vendor, account_id, product_id, commitment_end, quantity), from
    vendors that sell terms (Microsoft NCE through Pax8 or Partner Center)."""


Test = Callable[..., None]
Read = Callable[..., Pulled]
Apply = Callable[..., ChangeResult]


@dataclass(frozen=True)
class SourceType:
    """One kind of API source: its name, side, settings, and how to test and read it.

    `test(values, transport=None)` raises a ConnectorError whose kind says what is wrong;
    `read(values, since=None, transport=None)` gives back a Pulled. `quick` says whether the
    API can filter on changes (else a quick sync is a full pull). A PSA that takes changes back
    has `apply(values, change, transport=None)` giving back a ChangeResult, and `write_mode`,
    how it writes a change given its settings (connectors.writeback.Mode).
    """

    name: str
    title: str
    side: Side
    fields: tuple[Field, ...]
    test: Test
    read: Read
    quick: bool
    apply: Apply | None = None
    write_mode: Callable[[Values], Mode] | None = None

    def field(self, name: str) -> Field | None:
        return next((f for f in self.fields if f.name == name), None)

    @property
    def secrets(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.fields if f.secret)

    def with_defaults(self, values: Values) -> dict[str, str]:
        """Give back `values` over the defaults of this type's settings."""
        defaults = {f.name: f.default for f in self.fields if f.default is not None}
        return defaults | {k: v for k, v in values.items() if v}

    def missing(self, values: Values) -> list[str]:
        """Give back the settings a source needs that `values` lack."""
        given = self.with_defaults(values)
        return [f.name for f in self.fields if f.needed and not given.get(f.name)]


def _psa_pulled(pull: PsaPull, delta: Delta | None = None) -> Pulled:
    """Give back what a PSA connector's pull gives the store: its lines and catalogue."""
    return Pulled(
        lines=pull.lines,
        catalog=pull.catalog,
        cursor=pull.cursor,
        warnings=pull.warnings,
        records=pull.records.height,
        delta=delta,
    )


# -- ConnectWise ---------------------------------------------------------------------------------


def _connectwise_settings(values: Values) -> connectwise.ConnectWiseSettings:
    return connectwise.ConnectWiseSettings(
        base_url=values["base_url"],
        company_id=values["company_id"],
        public_key=values["public_key"],
        private_key=values["private_key"],
        client_id=values["client_id"],
    )


def _connectwise_test(values: Values, *, transport: httpx.BaseTransport | None = None) -> None:
    with connectwise.connect(_connectwise_settings(values), transport=transport) as client:
        connectwise.check_connection(client)


def _connectwise_read(
    values: Values,
    *,
    since: datetime | None = None,
    transport: httpx.BaseTransport | None = None,
) -> Pulled:
    with connectwise.connect(_connectwise_settings(values), transport=transport) as client:
        pull = connectwise.read_psa(client, since=since)
    delta = None
    if since is not None:
        # Agreements changed since the cursor had every addition read again (connectwise
        # `_additions`), as had those of changed companies.
        aware = since.replace(tzinfo=UTC) if since.tzinfo is None else since
        moment = aware - connectwise.SKEW
        records = pull.records
        reread = records.filter((pl.col("entity") == "agreement") & (pl.col("updated_at") > moment))
        companies = records.filter(pl.col("entity") == "company")
        delta = Delta(
            contracts=pull.contract_ids,
            reread_contracts=frozenset(reread.get_column("external_id").to_list()),
            reread_accounts=frozenset(companies.get_column("external_id").to_list()),
            cancelled=pull.cancelled,
        )
    return _psa_pulled(pull, delta)


def _connectwise_apply(
    values: Values, change: QuantityChange, *, transport: httpx.BaseTransport | None = None
) -> ChangeResult:
    with connectwise.connect(_connectwise_settings(values), transport=transport) as client:
        return connectwise.apply_change(client, change)


def _connectwise_write_mode(values: Values) -> Mode:
    return connectwise.write_mode(values.get("write_mode"))


# -- Pax8 ----------------------------------------------------------------------------------------


def _pax8_test(values: Values, *, transport: httpx.BaseTransport | None = None) -> None:
    pax8.check_connection(pax8.Pax8Settings.from_values(values), transport=transport)


def _pax8_read(
    values: Values,
    *,
    since: datetime | None = None,
    transport: httpx.BaseTransport | None = None,
) -> Pulled:
    # Pax8 has no changed-since filter: every pull is a full one.
    pull = pax8.read_pax8(pax8.Pax8Settings.from_values(values), transport=transport)
    records = pull.companies.height + pull.products.height + pull.subscriptions.height
    return Pulled(usage=pull.usage(), records=records, commitments=pull.commitments())


# -- Autotask ------------------------------------------------------------------------------------


def _autotask_test(values: Values, *, transport: httpx.BaseTransport | None = None) -> None:
    settings = autotask.AutotaskSettings.from_values(values)
    with autotask.connect(settings, transport=transport) as client:
        autotask.check_connection(client)


def _autotask_read(
    values: Values,
    *,
    since: datetime | None = None,
    transport: httpx.BaseTransport | None = None,
) -> Pulled:
    settings = autotask.AutotaskSettings.from_values(values)
    with autotask.connect(settings, transport=transport) as client:
        # Always a full pull: contracts and services have no modified date, so a quick pull
        # reads every line anyway, and only the companies it reads again would have a name:
        # stored as a snapshot, the lines of the others would lose their account names.
        pull = autotask.read_psa(client)
    return _psa_pulled(pull)


def _autotask_apply(
    values: Values, change: QuantityChange, *, transport: httpx.BaseTransport | None = None
) -> ChangeResult:
    settings = autotask.AutotaskSettings.from_values(values)
    with autotask.connect(settings, transport=transport) as client:
        return autotask.apply_change(client, change)


# -- HaloPSA -------------------------------------------------------------------------------------


def _halopsa_test(values: Values, *, transport: httpx.BaseTransport | None = None) -> None:
    settings = halopsa.HaloSettings.from_values(values)
    with halopsa.connect(settings, transport=transport) as client:
        halopsa.check_connection(client)


def _halopsa_read(
    values: Values,
    *,
    since: datetime | None = None,
    transport: httpx.BaseTransport | None = None,
) -> Pulled:
    # Halo has no changed-since filter: every pull is a full one.
    settings = halopsa.HaloSettings.from_values(values)
    with halopsa.connect(settings, transport=transport) as client:
        pull = halopsa.read_psa(client, since=since)
    return _psa_pulled(pull)


def _halopsa_apply(
    values: Values, change: QuantityChange, *, transport: httpx.BaseTransport | None = None
) -> ChangeResult:
    settings = halopsa.HaloSettings.from_values(values)
    with halopsa.connect(settings, transport=transport) as client:
        return halopsa.apply_change(client, change)


# -- SentinelOne ---------------------------------------------------------------------------------


def _sentinelone_test(values: Values, *, transport: httpx.BaseTransport | None = None) -> None:
    settings = sentinelone.SentinelOneSettings.from_values(values)
    sentinelone.check_connection(settings, transport=transport)


def _sentinelone_read(
    values: Values,
    *,
    since: datetime | None = None,
    transport: httpx.BaseTransport | None = None,
) -> Pulled:
    settings = sentinelone.SentinelOneSettings.from_values(values)
    pull = sentinelone.read_sentinelone(settings, transport=transport)
    return Pulled(usage=pull.usage(), records=pull.sites.height)


# -- Datto SaaS Protection -----------------------------------------------------------------------


def _dattosaas_test(values: Values, *, transport: httpx.BaseTransport | None = None) -> None:
    settings = dattosaas.DattoSaasSettings.from_values(values)
    dattosaas.check_connection(settings, transport=transport)


def _dattosaas_read(
    values: Values,
    *,
    since: datetime | None = None,
    transport: httpx.BaseTransport | None = None,
) -> Pulled:
    settings = dattosaas.DattoSaasSettings.from_values(values)
    pull = dattosaas.read_dattosaas(settings, transport=transport)
    return Pulled(usage=pull.usage(), records=pull.domains.height + pull.seats.height)


# -- Microsoft Partner Center --------------------------------------------------------------------


def _partnercenter_test(values: Values, *, transport: httpx.BaseTransport | None = None) -> None:
    settings = partnercenter.PartnerCenterSettings.from_values(values)
    partnercenter.check_connection(settings, transport=transport)


def _partnercenter_read(
    values: Values,
    *,
    since: datetime | None = None,
    transport: httpx.BaseTransport | None = None,
) -> Pulled:
    settings = partnercenter.PartnerCenterSettings.from_values(values)
    pull = partnercenter.read_partnercenter(settings, transport=transport)
    records = pull.customers.height + pull.subscriptions.height
    return Pulled(usage=pull.usage(), records=records, commitments=pull.commitments())


TYPES: dict[str, SourceType] = {
    t.name: t
    for t in (
        SourceType(
            name="connectwise",
            title="ConnectWise PSA",
            side="psa",
            fields=(
                Field(
                    "base_url",
                    "The REST API address, ending in /apis/3.0.",
                    default="https://api-na.myconnectwise.net/v4_6_release/apis/3.0",
                ),
                Field("company_id", "The company id you sign in to ConnectWise with."),
                Field("public_key", "The API member's public key.", secret=True),
                Field("private_key", "The API member's private key.", secret=True),
                Field("client_id", "The client id registered with ConnectWise.", secret=True),
                Field(
                    "write_mode",
                    'How approved changes are written: "in_place" (the addition\'s quantity is '
                    'edited, on or after the effective date) or "effective_dated" (the addition '
                    "is cancelled the day before and a new one added from the effective date); "
                    "empty is in_place.",
                    required=False,
                ),
            ),
            test=_connectwise_test,
            read=_connectwise_read,
            quick=True,
            apply=_connectwise_apply,
            write_mode=_connectwise_write_mode,
        ),
        SourceType(
            name="pax8",
            title="Pax8",
            side="vendor",
            fields=(
                Field("client_id", "The API application's client id (Pax8 > Integrations)."),
                Field("client_secret", "The API application's client secret.", secret=True),
                Field("base_url", "The Partner API address.", default="https://api.pax8.com/v1"),
                Field(
                    "token_url",
                    "Where TrueUp signs in.",
                    default="https://token-manager.pax8.com/oauth/token",
                ),
                Field("audience", "The token's audience.", default="https://api.pax8.com"),
            ),
            test=_pax8_test,
            read=_pax8_read,
            quick=False,
        ),
        SourceType(
            name="autotask",
            title="Autotask PSA",
            side="psa",
            fields=(
                Field(
                    "username",
                    "The API-only user's login, e.g. api@example.com (Admin > Resources/Users, "
                    "security level API User).",
                ),
                Field("secret", "The API user's secret (password).", secret=True),
                Field(
                    "integration_code",
                    "The API tracking identifier shown on the API user's page.",
                    secret=True,
                ),
                Field(
                    "zone_url",
                    "Your zone's REST address ending in /V1.0/; leave empty to find it from the "
                    "username.",
                    required=False,
                ),
                Field(
                    "discovery_url",
                    "Where TrueUp asks which zone the user is in.",
                    default=autotask.DISCOVERY_URL,
                ),
            ),
            test=_autotask_test,
            read=_autotask_read,
            quick=False,
            apply=_autotask_apply,
            write_mode=lambda values: autotask.WRITE_MODE,
        ),
        SourceType(
            name="halopsa",
            title="HaloPSA",
            side="psa",
            fields=(
                Field(
                    "base_url",
                    "The resource server URL, ending in /api (Configuration > Integrations > "
                    "HaloPSA API), e.g. https://acme.halopsa.com/api.",
                ),
                Field(
                    "client_id",
                    "The client id of an API application using Client ID and Secret (services), "
                    "scope all.",
                ),
                Field("client_secret", "That application's client secret.", secret=True),
                Field(
                    "auth_url",
                    "The token endpoint; leave empty for /auth/token beside the API.",
                    required=False,
                ),
                Field("tenant", "Your tenant name: hosted Halo needs it.", required=False),
            ),
            test=_halopsa_test,
            read=_halopsa_read,
            quick=False,
            apply=_halopsa_apply,
            write_mode=lambda values: halopsa.WRITE_MODE,
        ),
        SourceType(
            name="sentinelone",
            title="SentinelOne",
            side="vendor",
            fields=(
                Field(
                    "console_url",
                    "Your management console's address, e.g. https://usea1-acme.sentinelone.net.",
                ),
                Field(
                    "api_token",
                    "The API token of a service user with viewer rights (Settings > Users > "
                    "Service Users).",
                    secret=True,
                ),
                Field(
                    "count",
                    'What a site bills for: "active" (licences in use) or "allocated" '
                    "(licences given to the site).",
                    default="active",
                ),
            ),
            test=_sentinelone_test,
            read=_sentinelone_read,
            quick=False,
        ),
        SourceType(
            name="dattosaas",
            title="Datto SaaS Protection",
            side="vendor",
            fields=(
                Field(
                    "public_key",
                    "The API public key (Datto Partner Portal > Admin > Integrations > API Keys).",
                ),
                Field("secret_key", "The API secret key of the same pair.", secret=True),
                Field("base_url", "The Datto API address.", default="https://api.datto.com/v1"),
            ),
            test=_dattosaas_test,
            read=_dattosaas_read,
            quick=False,
        ),
        SourceType(
            name="partnercenter",
            title="Microsoft Partner Center",
            side="vendor",
            fields=(
                Field(
                    "tenant_id", "Your partner tenant's id (a GUID or its .onmicrosoft.com domain)."
                ),
                Field(
                    "app_id",
                    "The web app's id (Partner Center > Account settings > App management).",
                ),
                Field("app_secret", "A key (secret) created for that app.", secret=True),
                Field(
                    "base_url",
                    "The Partner Center API address.",
                    default="https://api.partnercenter.microsoft.com/v1",
                ),
                Field(
                    "authority",
                    "Where TrueUp signs in (Microsoft Entra ID).",
                    default="https://login.microsoftonline.com",
                ),
                Field(
                    "scope",
                    "The token's scope.",
                    default="https://api.partnercenter.microsoft.com/.default",
                ),
            ),
            test=_partnercenter_test,
            read=_partnercenter_read,
            quick=False,
        ),
    )
}
"""Every API source type, by name."""


def source_type(name: str) -> SourceType:
    """Give back the source type of that name, or a TrueUpError listing the known ones."""
    found = TYPES.get(name.strip().lower())
    if found is None:
        known = ", ".join(TYPES)
        raise TrueUpError(f'unknown source type "{name}": use one of {known} (or csv)')
    return found
