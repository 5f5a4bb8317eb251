"""What a PSA sync gives back: the same shape from every PSA connector (STYLE 4)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import polars as pl

from connectors.records import utc


@dataclass(frozen=True)
class PsaPull:
    """What one sync read from a PSA.

    `lines` (PSA_LINES) and `catalog` (CATALOG) hold the active lines and catalogue items read:
    every one, or on a quick sync of a PSA that can filter by change only those changed since
    `since` (each connector's `read_psa` says which). `records` has one row per record read
    (RECORDS: `entity`, `external_id`, `updated_at`), `contract_ids` every active contract,
    `cancelled` the lines read that no longer bill, `calculated` the lines the PSA prices itself
    (from assets or users) which a write-back must skip, `cursor` the `since` of the next quick
    sync.
    """

    lines: pl.DataFrame
    catalog: pl.DataFrame
    records: pl.DataFrame
    contract_ids: frozenset[str]
    cancelled: frozenset[str]
    cursor: datetime | None
    since: datetime | None
    warnings: tuple[str, ...]
    calculated: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Lines:
    """Contract lines parsed: the PSA_LINES frame, the lines that no longer bill, the warnings,
    and the lines the PSA prices itself."""

    frame: pl.DataFrame
    cancelled: frozenset[str]
    warnings: list[str]
    calculated: frozenset[str] = frozenset()


def next_cursor(latest: Any, since: datetime | None) -> datetime | None:
    """Give back the later of `latest` (the newest change read, if a datetime) and `since`."""
    seen = [moment for moment in (latest, since and utc(since)) if isinstance(moment, datetime)]
    return max(seen) if seen else None
