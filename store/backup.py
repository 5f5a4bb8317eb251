"""Backups: the whole store as one file that restores into SQLite or PostgreSQL alike.

A backup is a zip: `manifest.json` (the TrueUp version, the schema revision, when it was made
and the rows of each table) and one JSON Lines file per table, in which money and quantities
are exact decimals as text and times are ISO 8601 in UTC. It is read in one transaction
(REPEATABLE READ on PostgreSQL; one read transaction on SQLite, whose WAL keeps it steady), so
it is consistent while the app and syncs keep writing. Rows are streamed through in batches,
never held whole.
"""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from importlib import metadata
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic import command
from alembic.script import ScriptDirectory

from errors import TrueUpError
from store.db import Store
from store.migrate import config, current
from store.models import Base
from store.types import Instant, Quantity, now

FORMAT = "trueup-backup"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
BATCH = 2_000
"""Rows read or written at a time."""

TABLES = Base.metadata.sorted_tables
"""Every table, each after the tables its foreign keys point to: the order restores insert in."""


class BackupError(TrueUpError):
    title = "The backup cannot be used"


@dataclass(frozen=True)
class Manifest:
    """What a backup holds: made by which TrueUp, at which schema revision, when, and how many
    rows of each table."""

    trueup: str
    revision: str | None
    created_at: datetime
    database: str
    rows: dict[str, int]

    def dump(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "trueup": self.trueup,
            "revision": self.revision,
            "created_at": self.created_at.isoformat(),
            "database": self.database,
            "rows": self.rows,
        }

    @classmethod
    def load(cls, data: Any) -> Manifest:
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            raise ValueError("it has no TrueUp backup manifest")
        if data.get("format_version") != FORMAT_VERSION:
            raise ValueError(f"its format version {data.get('format_version')} is not known")
        return cls(
            trueup=str(data["trueup"]),
            revision=data["revision"],
            created_at=datetime.fromisoformat(data["created_at"]),
            database=str(data["database"]),
            rows={str(k): int(v) for k, v in data["rows"].items()},
        )


def backup(
    store: Store, out: Path, *, progress: Callable[[str, int], None] | None = None
) -> Manifest:
    """Give back the manifest of a backup of the whole store, written to `out`.

    `progress` is told each table's name and rows once it is written. The file is written
    beside `out` and renamed into place, so an interrupted backup never leaves a partial file
    under the name of a good one.
    """
    partial = out.with_name(out.name + ".partial")
    connection = store.engine.connect()
    if store.dialect == "postgresql":
        connection = connection.execution_options(isolation_level="REPEATABLE READ")
    try:
        with connection, connection.begin(), _zip_for_writing(partial) as archive:
            revision = current(connection)
            rows: dict[str, int] = {}
            for table in TABLES:
                with archive.open(f"{table.name}.jsonl", "w") as entry:
                    rows[table.name] = _write_table(connection, table, entry)
                if progress is not None:
                    progress(table.name, rows[table.name])
            manifest = Manifest(_version(), revision, now(), store.dialect, rows)
            archive.writestr(MANIFEST, json.dumps(manifest.dump(), indent=2))
        partial.replace(out)
    except OSError as error:
        partial.unlink(missing_ok=True)
        raise TrueUpError(f"cannot write the backup {out}: {error.strerror or error}") from None
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    return manifest


def read_manifest(file: Path) -> Manifest:
    """Give back the manifest of the backup `file`; a BackupError if it is not a whole one."""
    with _zip_for_reading(file) as archive:
        return _manifest(archive, file)


def restore(store: Store, file: Path) -> Manifest:
    """Give back the manifest of the backup `file`, after restoring it into the store.

    The store must be empty (migrated, no rows). A backup made by an older TrueUp (an older
    schema revision) is restored into that schema, which is then migrated to this one. All is
    done in one transaction, so a wrong or damaged file leaves the store as it was.
    """
    with _zip_for_reading(file) as archive:
        manifest = _manifest(archive, file)
        try:
            with store.engine.begin() as connection:
                _check_target(connection, manifest)
                older = manifest.revision != current(connection)
                if older:
                    command.downgrade(config(connection), manifest.revision or "base")
                present = _columns(connection)
                for table in TABLES:
                    if table.name not in present:
                        if manifest.rows.get(table.name, 0):
                            raise BackupError(
                                f"{file} holds rows of {table.name}, which its schema revision "
                                f"{manifest.revision} does not have: it is damaged"
                            )
                        continue
                    restorable = _restorable(table, present[table.name])
                    written = _restore_table(connection, restorable, archive, file)
                    if written != manifest.rows.get(table.name, 0):
                        raise BackupError(
                            f"{file} is damaged: its {table.name} holds {written} rows where "
                            f"its manifest says {manifest.rows.get(table.name, 0)}; nothing "
                            "was restored"
                        )
                if store.dialect == "postgresql":
                    _reset_sequences(connection)
                if older:
                    command.upgrade(config(connection), "head")
        except (zipfile.BadZipFile, EOFError, ValueError, KeyError) as error:
            raise BackupError(
                f"{file} is damaged ({error}); nothing was restored. Use another backup."
            ) from None
        except sa.exc.StatementError as error:
            # Rows the database refuses (a file edited by hand): say why, not the rows' values.
            reason = str(getattr(error, "orig", None) or type(error).__name__).splitlines()[0]
            raise BackupError(
                f"{file} holds rows the database refuses ({reason}); nothing was restored. "
                "Use another backup."
            ) from None
    return manifest


def _version() -> str:
    try:
        return metadata.version("trueup")
    except metadata.PackageNotFoundError:
        return "unknown"


def _zip_for_writing(path: Path) -> zipfile.ZipFile:
    return zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED, allowZip64=True)


def _zip_for_reading(file: Path) -> zipfile.ZipFile:
    try:
        return zipfile.ZipFile(file)
    except FileNotFoundError:
        raise BackupError(f"there is no file {file}") from None
    except (zipfile.BadZipFile, OSError) as error:
        raise BackupError(
            f"{file} is not a whole TrueUp backup ({error}): it may be cut short or not a "
            "backup at all; nothing was restored"
        ) from None


def _manifest(archive: zipfile.ZipFile, file: Path) -> Manifest:
    try:
        return Manifest.load(json.loads(archive.read(MANIFEST)))
    except KeyError:
        raise BackupError(f"{file} is not a TrueUp backup: it has no {MANIFEST}") from None
    except (zipfile.BadZipFile, ValueError, TypeError) as error:
        raise BackupError(f"{file} is not a usable TrueUp backup: {error}") from None


def _write_table(connection: sa.Connection, table: sa.Table, entry: Any) -> int:
    """Give back the rows of `table` written to `entry` as JSON Lines, in primary-key order."""
    query = sa.select(table).order_by(*table.primary_key.columns)
    result = connection.execution_options(stream_results=True, yield_per=BATCH).execute(query)
    count = 0
    text = io.TextIOWrapper(entry, encoding="utf-8", newline="\n")
    for row in result.mappings():
        text.write(json.dumps(dict(row), default=_encode, ensure_ascii=False))
        text.write("\n")
        count += 1
    text.flush()
    text.detach()
    return count


def _encode(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    raise TypeError(f"cannot back up a value of type {type(value).__name__}")


def _check_target(connection: sa.Connection, manifest: Manifest) -> None:
    if manifest.revision not in _known_revisions():
        raise BackupError(
            f"the backup is of schema revision {manifest.revision}, made by TrueUp "
            f"{manifest.trueup}, which is newer than this one ({_version()}): upgrade TrueUp, "
            "then restore"
        )
    holding = [
        table.name
        for table in TABLES
        if connection.execute(sa.select(sa.literal(1)).select_from(table).limit(1)).first()
    ]
    if holding:
        raise BackupError(
            f"the database already holds data ({', '.join(holding)}): restore only into an "
            "empty database. Create a new one (or move the SQLite file aside), point "
            "DATABASE_URL at it, and restore before the app starts there (the app seeds the "
            "demo into an empty store)"
        )


def _known_revisions() -> set[str]:
    """Give back every schema revision this TrueUp's migrations know."""
    return {script.revision for script in ScriptDirectory.from_config(config()).walk_revisions()}


def _columns(connection: sa.Connection) -> dict[str, set[str]]:
    """Give back each table of the database and its columns (the schema of the backup)."""
    inspector = sa.inspect(connection)
    return {
        name: {column["name"] for column in inspector.get_columns(name)}
        for name in inspector.get_table_names()
    }


def _restorable(table: sa.Table, present: set[str]) -> sa.Table:
    """Give back a copy of `table` of only the columns `present` in the database, that writes a
    missing JSON value as SQL NULL, as an ORM insert leaves it, not as the JSON text `null`."""
    copy = sa.Table(
        table.name,
        sa.MetaData(),
        *(column._copy() for column in table.columns if column.name in present),
    )
    for column in copy.columns:
        if isinstance(column.type, sa.JSON):
            column.type = sa.JSON(none_as_null=True)
    return copy


def _restore_table(
    connection: sa.Connection, table: sa.Table, archive: zipfile.ZipFile, file: Path
) -> int:
    decoders = {column.name: _decoder(column.type) for column in table.columns}
    count = 0
    for batch in _batches(archive, f"{table.name}.jsonl"):
        rows = [
            {name: decoders[name](value) for name, value in row.items() if name in decoders}
            for row in batch
        ]
        connection.execute(sa.insert(table), rows)
        count += len(rows)
    return count


def _batches(archive: zipfile.ZipFile, name: str) -> Iterator[list[dict[str, Any]]]:
    """Give back the rows of one table's file, BATCH at a time; its CRC is checked at its end."""
    with archive.open(name) as entry:
        batch: list[dict[str, Any]] = []
        for line in io.TextIOWrapper(entry, encoding="utf-8"):
            row = json.loads(line)
            if not isinstance(row, dict):
                raise ValueError(f"a line of {name} is not a row")
            batch.append(row)
            if len(batch) == BATCH:
                yield batch
                batch = []
        if batch:
            yield batch


def _decoder(column_type: Any) -> Callable[[Any], Any]:
    def keep(value: Any) -> Any:
        return value

    def make(parse: Callable[[str], Any]) -> Callable[[Any], Any]:
        return lambda value: None if value is None else parse(value)

    if isinstance(column_type, Quantity | sa.Numeric):
        return make(Decimal)
    if isinstance(column_type, Instant | sa.DateTime):
        return make(datetime.fromisoformat)
    if isinstance(column_type, sa.Date):
        return make(date.fromisoformat)
    return keep


def _reset_sequences(connection: sa.Connection) -> None:
    """Set each serial id's sequence past the ids restored, so new rows take new ids."""
    for table in TABLES:
        for column in table.primary_key.columns:
            if column.autoincrement is True or (
                column.autoincrement == "auto"
                and isinstance(column.type, sa.Integer)
                and len(table.primary_key.columns) == 1
            ):
                connection.execute(
                    sa.text(
                        f"SELECT setval(pg_get_serial_sequence('{table.name}', '{column.name}'), "
                        f'COALESCE(MAX("{column.name}"), 1), MAX("{column.name}") IS NOT NULL) '
                        f'FROM "{table.name}"'
                    )
                )
