"""Bearer tokens fetched on demand, cached, refreshed before they expire and once on a 401."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Generator

import httpx

log = logging.getLogger("trueup.http")

REFRESH_EARLY = 60.0  # seconds before expiry at which a cached token is no longer used


class TokenAuth(httpx.Auth):
    """Bearer token from `fetch()` -> (token, expires_in_seconds), cached and refreshed early.

    The token is refreshed 60 s before it expires (or half-way, for tokens that live under two
    minutes); a 401 refreshes it once and sends the request once more.
    """

    def __init__(
        self,
        fetch: Callable[[], tuple[str, float]],
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._fetch = fetch
        self._clock = clock
        self._lock = threading.Lock()
        self._token: str | None = None
        self._refresh_at = 0.0

    def token(self, *, stale: str | None = None) -> str:
        """Gives a usable token, fetching one when none is cached, it is due, or it is `stale`."""
        with self._lock:
            # A token another thread already replaced after the same 401 is fresh: reuse it.
            due = self._token is None or self._clock() >= self._refresh_at
            if due or (stale is not None and self._token == stale):
                token, expires_in = self._fetch()
                self._token = token
                self._refresh_at = self._clock() + expires_in - min(REFRESH_EARLY, expires_in / 2)
            assert self._token is not None
            return self._token

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        token = self.token()
        request.headers["Authorization"] = f"Bearer {token}"
        response = yield request
        if response.status_code == 401:
            log.info(
                "%s %s -> 401: fetching a new token and trying once more",
                request.method,
                request.url.path,
            )
            request.headers["Authorization"] = f"Bearer {self.token(stale=token)}"
            yield request
