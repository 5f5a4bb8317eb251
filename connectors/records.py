"""Reading the records an API sends: the parsing the PSA and vendor connectors share.

- Numbers become exact decimals, never through float arithmetic: the HTTP layer parses JSON
  numbers as floats, and each is read back through its shortest repr (`str`), the literal the
  API sent. They are rounded half-up to 4 places (DESIGN 4.9).
- A record that does not fit raises a SCHEMA ConnectorError naming the connector, the entity
  ("agreement additions") and the record ("agreement addition 7").
- PSA connectors read leniently (`text`, `flag`, `timestamp`, `day` give None for what they
  cannot read) and count the values they round (`NumberReader`); vendor connectors read one
  record strictly through a `FieldReader`, each wrong field an error.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, fields
from datetime import UTC, date, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any, TypeVar

import polars as pl

from engine.schema import QUANTITY, conform
from errors import ConnectorError, ConnectorErrorKind

PLACES = Decimal("0.0001")

Record = dict[str, Any]
SchemaError = Callable[[str, str], ConnectorError]
"""Gives back the error for an answer of `entity` that has `problem`."""

TIMESTAMP = pl.Datetime("us", "UTC")

RECORDS: dict[str, Any] = {
    "entity": pl.String,
    "external_id": pl.String,
    "updated_at": TIMESTAMP,
}
"""Every record a PSA sync read: one row per entity and id, with its last change if known."""

Settings = TypeVar("Settings")


# -- values -------------------------------------------------------------------------------------


def exact(value: Any) -> Decimal | None:
    """Give back a JSON number or numeric text as an exact, finite Decimal; None if not one."""
    if isinstance(value, bool) or not isinstance(value, int | float | str | Decimal):
        return None
    try:
        # str() of a float is its shortest exact spelling: 2.5 stays 2.5, not 2.4999...
        number = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):  # ValueError: an int too long for str()
        return None
    return number if number.is_finite() else None


def rounded(number: Decimal) -> Decimal:
    """Give back `number` rounded half-up to 4 places."""
    return number.quantize(PLACES, rounding=ROUND_HALF_UP)


def text(value: Any) -> str | None:
    """Give back text stripped, None for anything else or blank."""
    return value.strip() or None if isinstance(value, str) else None


def flag(value: Any) -> bool | None:
    """Give back a JSON true or false, None for anything else."""
    return value if isinstance(value, bool) else None


def utc(moment: datetime) -> datetime:
    """Give back `moment` in UTC; a naive one is taken as UTC already."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def timestamp(value: Any) -> datetime | None:
    """Give back ISO 8601 text as a UTC datetime, None for anything else."""
    if not isinstance(value, str):
        return None
    try:
        return utc(datetime.fromisoformat(value))
    except ValueError:
        return None


def day(value: Any) -> date | None:
    """Give back the UTC date of ISO 8601 text, None for anything else."""
    moment = timestamp(value)
    return moment.date() if moment is not None else None


def kind(value: Any) -> str:
    """Give back what a JSON value is, for a message: "an object (id, name)", "null", "list"."""
    if isinstance(value, Mapping):
        keys = ", ".join(list(map(str, value))[:4])
        return f"an object ({keys})" if keys else "an empty object"
    return "null" if value is None else type(value).__name__


def snake(word: str | None) -> str | None:
    """Give back a CamelCase word in snake case: "PendingCancel" -> "pending_cancel"."""
    return None if word is None else re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", word).lower()


def count(n: int, noun: str) -> str:
    """Give back "1 line" or "3 lines"."""
    return f"1 {noun}" if n == 1 else f"{n} {noun}s"


# -- PSA records: lists of objects with ids, their numbers counted when rounded ------------------


@dataclass(frozen=True)
class Source:
    """A PSA as its schema errors name it: its name, what to check, and the singular of each
    entity whose name is not its plural less an "s" ("companies": "company")."""

    name: str
    check: str
    singulars: Mapping[str, str] = field(default_factory=dict)

    def error(self, entity: str, what: str) -> ConnectorError:
        """Give back the error for `entity` sent in a shape TrueUp does not expect."""
        return ConnectorError(
            f"{self.name} sent {entity} in a shape TrueUp does not expect: {what}. {self.check}",
            kind=ConnectorErrorKind.SCHEMA,
        )

    def which(self, entity: str, record: Record) -> str:
        """Give back how a message names one record of `entity`: "agreement addition 7"."""
        singular = self.singulars.get(entity, entity.removesuffix("s"))
        return f"{singular} {record.get('id')}"

    def records(self, payload: Any, entity: str) -> list[Record]:
        """Give back `payload` as a list of records with ids, or a ConnectorError naming
        `entity`."""
        if not isinstance(payload, list):
            raise self.error(entity, f"expected a list of {entity}, got {kind(payload)}")
        for item in payload:
            if not isinstance(item, dict):
                what = f"expected a list of {entity}, got a list holding {kind(item)}"
                raise self.error(entity, what)
            if item.get("id") is None:
                raise self.error(entity, f"one of the {entity} has no id")
        return payload


class NumberReader:
    """Reads numbers out of a PSA's records, counting the values rounded to 4 places."""

    def __init__(self, source: Source) -> None:
        self.source = source
        self.rounded = 0

    def number(
        self, record: Record, name: str, entity: str, *, required: bool = False
    ) -> Decimal | None:
        """Give back the field `name` rounded to 4 places; None when absent and not
        `required`."""
        value = record.get(name)
        if value is None:
            if required:
                raise self.source.error(
                    entity, f"{self.source.which(entity, record)} has no {name}"
                )
            return None
        number = exact(value)
        if number is None:
            what = f"{self.source.which(entity, record)} has {name} {value!r}, not a number"
            raise self.source.error(entity, what)
        result = rounded(number)
        self.rounded += result != number
        return result

    def warnings(self) -> list[str]:
        """Give back the warning that values were rounded, if any were."""
        if self.rounded == 0:
            return []
        if self.rounded == 1:
            return ["1 value had more than 4 decimal places and was rounded"]
        return [f"{self.rounded} values had more than 4 decimal places and were rounded"]


def records_frame(
    entity: str, items: Iterable[Record], updated_at: Callable[[Record], datetime | None]
) -> pl.DataFrame:
    """Give back one row per record (RECORDS): its entity, external id and `updated_at`."""
    rows = [
        {"entity": entity, "external_id": str(r["id"]), "updated_at": updated_at(r)} for r in items
    ]
    return pl.DataFrame(rows, schema=RECORDS)


def frame(rows: list[dict[str, Any]], schema: dict[str, Any]) -> pl.DataFrame:
    """Give back `rows` as a frame of `schema`; quantities are read wide, then narrowed."""
    wide = {
        name: (pl.Decimal(38, 4) if dtype == QUANTITY else dtype) for name, dtype in schema.items()
    }
    return conform(pl.DataFrame(rows, schema=wide), schema).collect()


# -- vendor records: one record read strictly, every wrong field an error ----------------------


def vendor_error(source: str, answerer: str, entity: str, problem: str) -> ConnectorError:
    """Give back the error for a vendor's answer TrueUp cannot read."""
    return ConnectorError(
        f"{source} {entity}: {problem}. {answerer} answered in a shape TrueUp does not know; try "
        "the sync again later, and if it persists report it with this message.",
        kind=ConnectorErrorKind.SCHEMA,
    )


def mappings(records: Iterable[Any], entity: str, fail: SchemaError) -> Iterable[Mapping[str, Any]]:
    """Give back each record, or `fail`'s error at the first that is not an object."""
    for index, record in enumerate(records):
        if not isinstance(record, Mapping):
            raise fail(entity, f"item {index} is {type(record).__name__}, not an object")
        yield record


def once(frame: pl.DataFrame, key: str) -> pl.DataFrame:
    """Give back one row per `key`, the last one read.

    Pages are asked for one after another, so a record that moves while we page can come
    twice; counted twice, its seats would add up.
    """
    return frame.unique(key, keep="last", maintain_order=True)


class FieldReader:
    """Reads the fields of one vendor record, naming the record in every error.

    A subclass gives `fail`, the vendor's schema error. The record is named by its `id_key`,
    and its `owner` ("customer 42") when given; a `mapping` inside it is named as its parent.
    """

    def __init__(
        self,
        record: Mapping[str, Any],
        entity: str,
        *,
        id_key: str = "id",
        owner: str | None = None,
        parent: FieldReader | None = None,
    ):
        self.record, self.entity, self.id_key = record, entity, id_key
        self.owner, self.parent = owner, parent

    def fail(self, entity: str, problem: str) -> ConnectorError:
        """Give back the vendor's error for an answer of `entity` with `problem`."""
        raise NotImplementedError

    def where(self) -> str:
        """Give back how a message names the record: "the record 7 of customer 42"."""
        if self.parent is not None:
            return self.parent.where()
        ident = self.record.get(self.id_key)
        where = f"the record {ident}" if isinstance(ident, str | int) else "a record"
        return where if self.owner is None else f"{where} of {self.owner}"

    def error(self, key: str, problem: str) -> ConnectorError:
        """Give back the error for the field `key` having `problem`."""
        return self.fail(self.entity, f'{self.where()} has "{key}" {problem}')

    def get(self, key: str, required: bool) -> Any:
        """Give back the field `key` as sent; an error if `required` and missing or blank."""
        value = self.record.get(key)
        if required and value in (None, ""):
            raise self.fail(self.entity, f'{self.where()} has no "{key}"')
        return value

    def text(self, key: str, *, required: bool = True) -> str | None:
        """Give back a text or whole-number field as text; None when missing or blank."""
        value = self.get(key, required)
        if value in (None, ""):
            return None
        if isinstance(value, bool) or not isinstance(value, str | int):
            raise self.error(key, f"of type {type(value).__name__}, not text")
        return str(value)

    def flag(self, key: str) -> bool | None:
        """Give back a true/false field; None when missing."""
        value = self.get(key, False)
        if value is not None and not isinstance(value, bool):
            raise self.error(key, f"= {value!r}, not true or false")
        return value

    def quantity(self, key: str) -> Decimal:
        """Give back a required number field, exact and rounded half-up to 4 places."""
        value = self.get(key, True)
        number = exact(value)
        if number is None:
            raise self.error(key, f"= {value!r}, not a number")
        return rounded(number)

    def date(self, key: str) -> date | None:
        """Give back a date field (the date of a date and time); None when missing or blank."""
        value = self.get(key, False)
        if value in (None, ""):
            return None
        try:
            return date.fromisoformat(str(value)[:10])
        except ValueError:
            raise self.error(key, f"= {value!r}, not a date") from None

    def timestamp(self, key: str) -> datetime | None:
        """Give back a date-and-time field in UTC; None when missing or blank."""
        value = self.get(key, False)
        if value in (None, ""):
            return None
        try:
            return utc(datetime.fromisoformat(str(value)))
        except ValueError:
            raise self.error(key, f"= {value!r}, not a date and time") from None

    def mapping(self, key: str) -> FieldReader:
        """Give back a reader of the object field `key` (empty when missing)."""
        value = self.get(key, False)
        if value is None:
            value = {}
        if not isinstance(value, Mapping):
            raise self.error(key, f"of type {type(value).__name__}, not an object")
        return type(self)(value, self.entity, parent=self)


# -- settings -----------------------------------------------------------------------------------


def missing_settings(values: Mapping[str, str], required: Iterable[str]) -> list[str]:
    """Give back the names among `required` that `values` leaves out or empty."""
    return [name for name in required if not values.get(name)]


def settings_of(cls: type[Settings], values: Mapping[str, str]) -> Settings:
    """Give back the settings dataclass `cls` from the values it knows, empty ones left out."""
    known = {f.name for f in fields(cls)}  # type: ignore[arg-type]
    return cls(**{k: v for k, v in values.items() if k in known and v})
