"""Sources: the PSA and the vendors (CSV profiles or API sources) that syncs read from."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from connectors.registry import SourceType, source_type
from errors import TrueUpError
from store import credentials
from store.access import Permission, authorize
from store.audit import audit
from store.models import Source, SyncRun
from store.types import SourceKind


def source_named(session: Session, name: str) -> Source | None:
    """Give back the source of that name, if there is one."""
    return session.scalars(sa.select(Source).where(Source.name == name)).one_or_none()


def ensure_source(
    session: Session, name: str, kind: SourceKind, at: datetime, distributor: str | None = None
) -> Source:
    """Give back the source of that name, made now if it is new.

    There is one PSA per install (DESIGN 1): a second PSA source is refused, as is a sync of
    one kind into a source of the other.
    """
    name = name.strip()
    if not name:
        raise TrueUpError("a source needs a name, e.g. --source pax8")
    source = source_named(session, name)
    if source is not None:
        if source.kind != kind:
            raise TrueUpError(
                f'source "{name}" is a {source.kind.value} source; '
                f"give this file another source name"
            )
        if distributor and distributor != source.distributor:
            source.distributor = distributor
        return source
    if kind is SourceKind.PSA:
        psa = session.scalars(sa.select(Source.name).where(Source.kind == SourceKind.PSA)).first()
        if psa is not None:
            raise TrueUpError(
                f'the PSA is already the source "{psa}": import PSA exports with --source "{psa}"'
            )
    source = Source(name=name, kind=kind, distributor=distributor, created_at=at)
    session.add(source)
    session.flush()
    return source


# -- API sources: a type, its settings, its secrets encrypted ----------------------------------


@dataclass(frozen=True)
class SourceConfig:
    """An API source as a sync needs it: its type and every value, secrets decrypted.

    The values never show in a repr: they hold the secrets.
    """

    id: int
    name: str
    type: SourceType
    kind: SourceKind
    values: dict[str, str] = field(repr=False)
    cursor: datetime | None

    @property
    def secret_values(self) -> list[str]:
        """Give back the secret values, to mask them in any message."""
        return [v for k, v in self.values.items() if k in self.type.secrets]


@dataclass(frozen=True)
class SavedSource:
    """What `add_source` did: added or changed, and where each setting went (names only)."""

    name: str
    type: str
    added: bool
    settings: list[str]
    secrets: list[str]
    """Secrets stored, encrypted, in the database."""
    file_secrets: list[str]
    """Secrets read from `.streamlit/secrets.toml` ([sources.NAME])."""


def add_source(
    session: Session,
    name: str,
    type_name: str,
    values: Mapping[str, str],
    *,
    user: str,
    at: datetime,
    distributor: str | None = None,
    cleared: Collection[str] = (),
) -> SavedSource:
    """Give back what was saved after adding (or changing) the API source `name` of that type.

    Non-secret settings are stored as JSON, secrets encrypted under the secret key; with no key
    a given secret is refused (credentials.no_key_message). A blank value keeps what is stored;
    the settings named in `cleared` are dropped. Settings a source needs must be given, here,
    before, or in `.streamlit/secrets.toml`. `distributor`, when given, is the vendor's
    distributor ("" for none). Audited with setting names only.
    """
    authorize(session, user, Permission.SOURCES)
    kind_of = source_type(type_name)
    name = name.strip()
    merged = _merged(session, name, kind_of, values, cleared)
    existing, same_type = merged.existing, merged.existing is not None and merged.same_type
    if merged.given_secrets and merged.key is None:
        raise credentials.CredentialsError(
            credentials.no_key_message(name, list(merged.given_secrets))
        )
    missing = kind_of.missing(merged.in_file | merged.settings | merged.secrets)
    if missing:
        raise TrueUpError(
            f"a {kind_of.name} source needs {', '.join(missing)}: give them with "
            f"--set {missing[0]}=... (see `trueup source types`)"
        )
    source = existing or ensure_source(session, name, SourceKind(kind_of.side), at)
    if source.kind.value != kind_of.side:
        raise TrueUpError(
            f'source "{name}" is a {source.kind.value} source, and {kind_of.name} is a '
            f"{kind_of.side}: give this source another name"
        )
    old_settings = dict(existing.settings or {}) if same_type and existing else {}
    source.type = kind_of.name
    source.settings = merged.settings or None
    key = merged.key
    source.secrets = credentials.encrypt(merged.secrets, key) if merged.secrets and key else None
    if distributor is not None:
        source.distributor = distributor.strip() or None
    if not same_type or merged.settings != old_settings:
        # Another API, site or company: the last snapshot is no base for a quick sync.
        source.sync_cursor = None
    saved = SavedSource(
        name=name,
        type=kind_of.name,
        added=existing is None,
        settings=sorted(merged.settings),
        secrets=sorted(merged.secrets),
        file_secrets=sorted(
            k for k in merged.in_file if k in kind_of.secrets and k not in merged.secrets
        ),
    )
    audit(
        session,
        user,
        "source_added" if saved.added else "source_changed",
        {
            "source": name,
            "type": kind_of.name,
            "settings": merged.settings,
            "secrets": sorted(merged.given_secrets),
            **({} if saved.added else {"settings_before": old_settings}),
        },
        at,
    )
    return saved


@dataclass(frozen=True)
class _Merged:
    """A source's stored values with the given ones over them (secrets kept blank = unchanged)."""

    existing: Source | None
    same_type: bool
    settings: dict[str, str]
    secrets: dict[str, str] = field(repr=False)
    given_secrets: dict[str, str] = field(repr=False)
    in_file: dict[str, str] = field(repr=False)
    key: str | None = field(repr=False)


def _merged(
    session: Session,
    name: str,
    kind_of: SourceType,
    values: Mapping[str, str],
    cleared: Collection[str],
) -> _Merged:
    known = {f.name for f in kind_of.fields}
    unknown = sorted((set(values) | set(cleared)) - known)
    if unknown:
        raise TrueUpError(
            f"{kind_of.name} has no setting {', '.join(unknown)}: its settings are "
            f"{', '.join(f.name for f in kind_of.fields)} (see `trueup source types`)"
        )
    existing = source_named(session, name)
    same_type = existing is not None and existing.type == kind_of.name
    old_settings = dict(existing.settings or {}) if same_type and existing else {}
    given_secrets = {k: v for k, v in values.items() if k in kind_of.secrets and v}
    given_settings = {k: v for k, v in values.items() if k not in kind_of.secrets and v}
    key = credentials.secret_key()
    old_secrets: dict[str, str] = {}
    if same_type and existing is not None and existing.secrets:
        if key is None:
            raise credentials.CredentialsError(
                f'source "{name}" has credentials stored encrypted, and TrueUp has no secret '
                f"key to read them: set {credentials.KEY_ENV}"
            )
        old_secrets = credentials.decrypt(existing.secrets, key, name)
    kept = {k: v for k, v in old_settings.items() if k not in cleared}
    return _Merged(
        existing=existing,
        same_type=same_type,
        settings=kept | given_settings,
        secrets=old_secrets | given_secrets,
        given_secrets=given_secrets,
        in_file=credentials.file_secrets(name),
        key=key,
    )


def values_to_test(
    session: Session,
    name: str,
    type_name: str,
    values: Mapping[str, str],
    *,
    cleared: Collection[str] = (),
) -> dict[str, str]:
    """Give back the values a source would sync with if `values` were saved now, to test them.

    As `source_config` reads them (defaults, stored settings, `[sources.NAME]`, stored secrets),
    with the given values over them; a blank value keeps what is stored. Nothing is saved;
    what is still missing is `SourceType.missing` of the result.
    """
    kind_of = source_type(type_name)
    merged = _merged(session, name.strip(), kind_of, values, cleared)
    return kind_of.with_defaults(merged.settings | merged.in_file | merged.secrets)


def source_config(session: Session, name: str) -> SourceConfig:
    """Give back the API source `name` with every value it syncs with.

    Values: the type's defaults, under the stored settings, under `[sources.NAME]` of
    `.streamlit/secrets.toml`, under the stored secrets.
    """
    source = source_named(session, name.strip())
    if source is None:
        raise TrueUpError(f'there is no source "{name}": add it with `trueup source add`')
    if source.type == "csv":
        raise TrueUpError(
            f'source "{name}" syncs from files: import them with `trueup import --source {name}`'
        )
    kind_of = source_type(source.type)
    stored: dict[str, str] = {}
    if source.secrets:
        key = credentials.secret_key()
        if key is None:
            raise credentials.CredentialsError(
                f'the credentials of source "{name}" are stored encrypted, and TrueUp has no '
                f"secret key to read them: set {credentials.KEY_ENV}"
            )
        stored = credentials.decrypt(source.secrets, key, source.name)
    values = kind_of.with_defaults(
        dict(source.settings or {}) | credentials.file_secrets(source.name) | stored
    )
    missing = kind_of.missing(values)
    if missing:
        raise TrueUpError(
            f'source "{name}" lacks {", ".join(missing)}: set them with '
            f"`trueup source add {name} --type {kind_of.name} --set ...`, or under "
            f"[sources.{name}] in {credentials.SECRETS_FILE}"
        )
    return SourceConfig(source.id, source.name, kind_of, source.kind, values, source.sync_cursor)


def api_sources(session: Session) -> list[str]:
    """Give back the names of the API sources: the PSA first, then the vendors by name."""
    query = sa.select(Source.name).where(Source.type != "csv").order_by(Source.kind, Source.name)
    return list(session.scalars(query))


def listed(session: Session) -> list[tuple[str, str, str, list[str]]]:
    """Give back every source as (name, kind, type, names of its stored settings and secrets),
    the PSA first."""
    query = sa.select(Source).order_by(Source.kind, Source.name)
    rows = []
    for source in session.scalars(query):
        names = sorted(source.settings or {})
        if source.secrets:
            names.append("secrets (encrypted)")
        rows.append((source.name, source.kind.value, source.type, names))
    return rows


@dataclass(frozen=True)
class SourceDetails:
    """A source as Settings lists it: its settings, and the names (never the values) of its
    secrets, stored encrypted or read from `.streamlit/secrets.toml`."""

    name: str
    kind: SourceKind
    type: str
    """"csv", or an API source type (connectors.registry)."""
    distributor: str | None
    settings: dict[str, str]
    secrets: list[str]
    file_secrets: list[str]
    unreadable: str | None
    """Why the names of the stored secrets cannot be read (no key, or another key)."""
    synced: bool
    """Whether it has syncs: removing it then keeps them, and only drops its API settings."""


def source_details(session: Session) -> list[SourceDetails]:
    """Give back every source with its settings and the names of its secrets, the PSA first."""
    synced = set(session.scalars(sa.select(SyncRun.source_id).distinct()))
    key = credentials.secret_key()
    details = []
    for source in session.scalars(sa.select(Source).order_by(Source.kind, Source.name)):
        stored: list[str] = []
        unreadable = None
        if source.secrets:
            try:
                if key is None:
                    raise credentials.CredentialsError(
                        f"stored encrypted, and TrueUp has no secret key to read them: set "
                        f"{credentials.KEY_ENV}"
                    )
                stored = sorted(credentials.decrypt(source.secrets, key, source.name))
            except credentials.CredentialsError as error:
                unreadable = str(error)
        secret_names = source_type(source.type).secrets if source.type != "csv" else ()
        in_file = credentials.file_secrets(source.name) if secret_names else {}
        details.append(
            SourceDetails(
                name=source.name,
                kind=source.kind,
                type=source.type,
                distributor=source.distributor,
                settings=dict(source.settings or {}),
                secrets=stored,
                file_secrets=sorted(k for k in in_file if k in secret_names and k not in stored),
                unreadable=unreadable,
                synced=source.id in synced,
            )
        )
    return details


def remove_source(session: Session, name: str, *, user: str, at: datetime) -> bool:
    """Give back True when the source `name` was deleted, False when only its API settings were.

    A source with syncs keeps them (and its name, which maps and decisions refer to): it becomes
    a CSV source again, its settings and secrets dropped. Audited.
    """
    authorize(session, user, Permission.SOURCES)
    source = source_named(session, name.strip())
    if source is None:
        raise TrueUpError(f'there is no source "{name}"')
    has_syncs = session.scalars(
        sa.select(SyncRun.id).where(SyncRun.source_id == source.id).limit(1)
    ).first()
    detail = {"source": source.name, "type": source.type, "syncs_kept": has_syncs is not None}
    if has_syncs is None:
        session.delete(source)
    else:
        source.type = "csv"
        source.settings = None
        source.secrets = None
        source.sync_cursor = None
    audit(session, user, "source_removed", detail, at)
    return has_syncs is None


def psa_source(session: Session) -> tuple[str, str] | None:
    """Give back the PSA source's name and type ("csv" or an API type), if there is one."""
    query = sa.select(Source.name, Source.type).where(Source.kind == SourceKind.PSA)
    found = session.execute(query).first()
    return (found[0], found[1]) if found is not None else None
