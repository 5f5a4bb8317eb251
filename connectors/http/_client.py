"""ApiClient: one per connector, every request retried, capped and logged the same way."""

from __future__ import annotations

import json as jsonlib
import logging
import re
import threading
import time
from collections.abc import Callable, Mapping
from types import TracebackType
from typing import Any, Self

import httpx

from connectors.http._failures import failure, name_of, unreachable
from connectors.http._progress import Meter, current_meter
from connectors.http._retry import (
    IDEMPOTENT_METHODS,
    MAYBE_ACTED_ON,
    NOT_ACTED_ON,
    RetryPolicy,
    Sleep,
    retry_after,
)
from errors import ConnectorError, ConnectorErrorKind

log = logging.getLogger("trueup.http")


class _WithoutHttpxRequestLines(logging.Filter):
    """Drops httpx's own per-request line: it shows the query string unmasked; ours replaces it."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith("HTTP Request:")


logging.getLogger("httpx").addFilter(_WithoutHttpxRequestLines())

# Failures that happen before the request leaves: safe to retry whatever the method.
_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)

# Query parameters whose values are never logged (tokens in URLs, SAS signatures, keys).
_SECRET_PARAM = re.compile(
    r"token|secret|passw|api_?key|^key$|^sig$|signature|^code$|integration_?code|auth|client_?id",
    re.I,
)


def body_mentions_timeout(response: httpx.Response) -> bool:
    """True for a 500 whose body mentions a timeout (ConnectWise's retry-worthy 500)."""
    return "timeout" in response.text.lower() or "timed out" in response.text.lower()


def loggable_url(url: httpx.URL) -> str:
    """Gives the URL without credentials and with secret-looking query values masked."""
    params = httpx.QueryParams(
        [(k, "***" if _SECRET_PARAM.search(k) else v) for k, v in url.params.multi_items()]
    )
    return str(url.copy_with(userinfo=b"", query=None, params=params))


class ApiClient:
    """One source's HTTP client: base URL, timeouts, retries within a budget, a concurrency cap.

    Retries 429/502/503/504 (502 and 504 only for requests safe to repeat), connect errors and
    timeouts, honouring Retry-After, else exponential backoff with full jitter. A 500 is retried
    only when `retry_500(response)` says so. Every attempt is logged as method, URL (secrets
    masked), status and milliseconds; headers and bodies never are. A client made inside
    `metering(meter)` counts its replies and pages into that meter.
    """

    def __init__(
        self,
        name: str,
        base_url: str,
        *,
        auth: httpx.Auth | None = None,
        headers: Mapping[str, str] | None = None,
        transport: httpx.BaseTransport | None = None,
        timeout: float = 30.0,
        retry: RetryPolicy | None = None,
        concurrency: int = 4,
        sleep: Sleep = time.sleep,
        retry_500: Callable[[httpx.Response], bool] | None = None,
    ) -> None:
        self.name = name
        self.retry = retry or RetryPolicy()
        self._sleep = sleep
        self._retry_500 = retry_500
        self._slots = threading.Semaphore(max(1, concurrency))
        self.meter: Meter | None = current_meter()
        self._http = httpx.Client(
            base_url=base_url,
            auth=auth,
            headers=dict(headers or {}),
            transport=transport,
            timeout=timeout,
        )

    @property
    def base_url(self) -> httpx.URL:
        return self._http.base_url

    def send(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        headers: Mapping[str, str] | None = None,
        idempotent: bool | None = None,
    ) -> httpx.Response:
        """Gives the successful response, retrying as the policy allows; else ConnectorError.

        `path` is relative to the base URL, or absolute (a next-page link). `idempotent` says
        whether the request may be sent twice; by default GET, HEAD, OPTIONS, PUT and DELETE.
        """
        method = method.upper()
        repeatable = method in IDEMPOTENT_METHODS if idempotent is None else idempotent
        request = self._http.build_request(
            method, path, params=dict(params) if params else None, json=json, headers=headers
        )
        where = request.url.path
        host = self._http.base_url.host or "its server"
        waited = 0.0
        for attempt in range(1, self.retry.attempts + 1):
            last = attempt == self.retry.attempts
            try:
                response = self._attempt(request)
            except httpx.TransportError as exc:
                # A connect error never reached the server; a timeout waiting for the reply may
                # have, so only a repeatable request is tried again after one.
                unknown = not repeatable and not isinstance(exc, _NOT_SENT)
                wait = self.retry.backoff(attempt)
                if unknown or last or waited >= self.retry.budget:
                    raise unreachable(self.name, host, exc, where, attempt, unknown) from exc
            else:
                if response.is_success:
                    return response
                if last or not self._retryable(response, repeatable):
                    raise failure(
                        self.name, response, method, where, attempt, waited, repeatable=repeatable
                    )
                asked = retry_after(response)
                if asked is not None and waited + asked > self.retry.budget:
                    raise failure(
                        self.name,
                        response,
                        method,
                        where,
                        attempt,
                        waited,
                        asked=asked,
                        repeatable=repeatable,
                    )
                wait = asked if asked is not None else self.retry.backoff(attempt)
                if waited >= self.retry.budget and wait > 0:
                    raise failure(
                        self.name, response, method, where, attempt, waited, repeatable=repeatable
                    )
            wait = min(wait, self.retry.budget - waited)
            self._sleep(wait)
            waited += wait
        raise AssertionError("unreachable: the loop returns or raises on its last attempt")

    def _retryable(self, response: httpx.Response, repeatable: bool) -> bool:
        status = response.status_code
        if status in NOT_ACTED_ON:
            return True
        if not repeatable:
            return False
        if status == 500:
            return self._retry_500 is not None and self._retry_500(response)
        return status in MAYBE_ACTED_ON

    def get_json(self, path: str, params: Mapping[str, Any] | None = None) -> Any:
        """Gives the parsed JSON body of a GET; ConnectorError (schema) when it is not JSON."""
        return self.parse_json(self.send("GET", path, params=params))

    def parse_json(self, response: httpx.Response) -> Any:
        """Gives the parsed JSON body; ConnectorError (schema) naming the path when it is not."""
        try:
            return jsonlib.loads(response.content)
        except (ValueError, UnicodeDecodeError) as exc:
            kind = response.headers.get("Content-Type", "no content type")
            start = response.text[:60].strip()
            detail = f"{exc}" if start else "the body is empty"
            raise self.schema_error(
                response.request.url.path,
                f"the reply is not JSON ({detail}; {kind}, starting {start!r}). "
                "Check that the base URL points at the API and not at a web or login page",
            ) from exc

    def schema_error(self, path: str, what: str) -> ConnectorError:
        """Gives the error for a reply of the wrong shape at `path`, saying `what` is wrong."""
        return ConnectorError(
            f"{self.name} sent an unexpected reply from {path}: {what}.",
            kind=ConnectorErrorKind.SCHEMA,
        )

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def _attempt(self, request: httpx.Request) -> httpx.Response:
        with self._slots:
            started = time.perf_counter()
            url = loggable_url(request.url)
            try:
                response = self._http.send(request)
            except httpx.TransportError as exc:
                ms = (time.perf_counter() - started) * 1000
                log.warning(
                    "%s %s %s -> %s in %.0f ms", self.name, request.method, url, name_of(exc), ms
                )
                raise
            ms = (time.perf_counter() - started) * 1000
            if self.meter is not None:
                self.meter.answered()
            level = logging.INFO if response.is_success else logging.WARNING
            log.log(
                level,
                "%s %s %s -> %d in %.0f ms",
                self.name,
                request.method,
                url,
                response.status_code,
                ms,
            )
            return response
