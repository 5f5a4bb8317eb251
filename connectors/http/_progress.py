"""Progress of a sync: a meter that every ApiClient made while it is current counts into."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass


@dataclass(frozen=True)
class Reading:
    """What a meter has counted so far: requests answered, pages and records read."""

    requests: int = 0
    pages: int = 0
    records: int = 0


class Meter:
    """Counts requests, pages and records; safe to count into from many threads at once."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._requests = self._pages = self._records = 0

    def answered(self) -> None:
        """Count one request that got a reply (any status: a retried 429 is work done too)."""
        with self._lock:
            self._requests += 1

    def page(self, records: int) -> None:
        """Count one page of `records` records read."""
        with self._lock:
            self._pages += 1
            self._records += records

    def reading(self) -> Reading:
        """Give back the counts so far."""
        with self._lock:
            return Reading(self._requests, self._pages, self._records)


_current: ContextVar[Meter | None] = ContextVar("trueup_http_meter", default=None)


def current_meter() -> Meter | None:
    """Give back the meter of the sync running in this context, if any."""
    return _current.get()


@contextmanager
def metering(meter: Meter) -> Iterator[Meter]:
    """Make `meter` count every ApiClient made inside the block.

    A client takes the meter when it is made, not per request: connectors read with thread
    pools, whose threads do not see this context.
    """
    token = _current.set(meter)
    try:
        yield meter
    finally:
        _current.reset(token)
