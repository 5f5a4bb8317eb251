"""How long to wait before trying again: the server's Retry-After when it says, else backoff."""

from __future__ import annotations

import contextlib
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from email.utils import parsedate_to_datetime

import httpx

# 429 and 503 mean the server did not act on the request; 502 and 504 come from a gateway that
# may have passed it on, so they are retried only for requests that are safe to send twice.
NOT_ACTED_ON = frozenset({429, 503})
MAYBE_ACTED_ON = frozenset({502, 504})
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})


Sleep = Callable[[float], None]
"""How a client waits before a retry (tests hand in one that records the waits)."""


@dataclass(frozen=True)
class RetryPolicy:
    """Tries in all (first included), seconds of waiting in all, and the backoff's base and cap."""

    attempts: int = 5
    budget: float = 60.0
    base: float = 0.5
    cap: float = 30.0

    def __post_init__(self) -> None:
        if self.attempts < 1:
            raise ValueError("RetryPolicy.attempts counts the first try, so it must be at least 1")
        if self.budget < 0 or self.base < 0 or self.cap < 0:
            raise ValueError("RetryPolicy budget, base and cap are seconds and cannot be negative")

    def backoff(self, retry: int) -> float:
        """Seconds before retry number `retry` (1 for the first): full jitter, capped."""
        return random.uniform(0, min(self.cap, self.base * 2 ** (retry - 1)))


def retry_after(response: httpx.Response, *, now: float | None = None) -> float | None:
    """Seconds the server asks us to wait (Retry-After as seconds or an HTTP-date), or None."""
    value = response.headers.get("Retry-After", "").strip()
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:  # an HTTP-date is GMT even when it fails to say so
        return None
    # Measure against the server's own Date header where there is one: our clocks may disagree.
    reference = now if now is not None else time.time()
    date_header = response.headers.get("Date")
    if date_header:
        with contextlib.suppress(TypeError, ValueError, IndexError):
            reference = parsedate_to_datetime(date_header).timestamp()
    return max(0.0, when.timestamp() - reference)
