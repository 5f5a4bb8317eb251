"""The errors a request ends in: each says what went wrong and what the user can do next."""

from __future__ import annotations

import httpx

from errors import ConnectorError, ConnectorErrorKind


def unreachable(
    name: str, host: str, exc: httpx.TransportError, where: str, attempt: int, unknown: bool
) -> ConnectorError:
    """Gives the error for a request that got no reply; `unknown` when it may have acted."""
    what = name_of(exc)
    tries = _tries(attempt)
    if unknown:
        return ConnectorError(
            f"{name} did not answer {where} in time ({what}), and the request may "
            "have been carried out. Read the current state before sending it again.",
            kind=ConnectorErrorKind.UNREACHABLE,
            outcome_unknown=True,
        )
    return ConnectorError(
        f"Could not reach {name} at {host} ({what}, {tries}). Check the source's base "
        "URL, and that the server is up and reachable from this machine.",
        kind=ConnectorErrorKind.UNREACHABLE,
    )


def failure(
    name: str,
    response: httpx.Response,
    method: str,
    where: str,
    attempt: int,
    waited: float,
    *,
    repeatable: bool,
    asked: float | None = None,
) -> ConnectorError:
    """Gives the error for a final failed response, saying what is wrong and what to do."""
    status = response.status_code
    tries = _tries(attempt)
    if status == 401:
        return ConnectorError(
            f"{name} refused our credentials (HTTP 401 at {where}). Check the keys in the "
            "source's settings: they may be wrong, expired or revoked.",
            kind=ConnectorErrorKind.AUTH,
        )
    if status == 403:
        return ConnectorError(
            f"{name} does not allow our API user to {method} {where} (HTTP 403). Give the "
            f"API user's role access to it in {name}, then try again.",
            kind=ConnectorErrorKind.PERMISSION,
        )
    if status == 404:
        return ConnectorError(
            f"{name} has nothing at {where} (HTTP 404). Check the source's base URL (site, "
            "codebase or zone) in its settings.",
            kind=ConnectorErrorKind.NOT_FOUND,
        )
    if status == 429:
        if asked is not None:
            detail = f"it asks us to wait {asked:.0f} s more, beyond the retry budget"
        else:
            detail = f"{tries}, {waited:.0f} s of waiting"
        return ConnectorError(
            f"{name} is limiting our requests (HTTP 429 at {where}; {detail}). Try again "
            "in a few minutes, or lower the source's concurrency.",
            kind=ConnectorErrorKind.RATE_LIMITED,
        )
    if status >= 500:
        # Only a 503 says the server did nothing; after any other 5xx a write may have landed.
        unknown = not repeatable and status != 503
        note = " The request may have been carried out: read before sending it again." * unknown
        return ConnectorError(
            f"{name} failed with HTTP {status} at {where} ({tries}). The fault is on "
            f"{name}'s side: try again later.{note}",
            kind=ConnectorErrorKind.SERVER,
            outcome_unknown=unknown,
        )
    return ConnectorError(
        f"{name} rejected {method} {where} (HTTP {status}){_said(response)}.",
        kind=ConnectorErrorKind.REJECTED,
    )


def _tries(attempt: int) -> str:
    return "1 try" if attempt == 1 else f"{attempt} tries"


def name_of(exc: httpx.TransportError) -> str:
    if isinstance(exc, httpx.ConnectTimeout | httpx.PoolTimeout):
        return "timed out connecting"
    if isinstance(exc, httpx.TimeoutException):
        return "timed out waiting for the reply"
    if isinstance(exc, httpx.ConnectError):
        return "could not connect"
    return "the connection failed"


def _said(response: httpx.Response) -> str:
    """Gives the source's own explanation of a rejection, when it sent one as JSON."""
    try:
        body = response.json()
    except (ValueError, UnicodeDecodeError):
        return ""
    said = body.get("message") or body.get("errors") if isinstance(body, dict) else None
    return f": {str(said)[:300]}" if said else ""
