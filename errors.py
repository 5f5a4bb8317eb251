"""One error hierarchy: each error carries a message a user can act on (STYLE 5)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class TrueUpError(Exception):
    """Something the user can fix; the message says what and how."""

    title = "Something went wrong"


@dataclass(frozen=True)
class Problem:
    """One bad value: where it is, as a spreadsheet numbers it, and what is wrong with it."""

    file: str
    row: int | None
    column: str | None
    message: str

    def __str__(self) -> str:
        where = self.file
        if self.row is not None:
            where += f" row {self.row}"
        if self.column is not None:
            where += f', column "{self.column}"'
        return f"{where}: {self.message}"


class InputError(TrueUpError):
    """A file that cannot be imported; nothing of it was kept."""

    title = "The file could not be imported"
    max_listed = 50

    def __init__(self, problems: list[Problem] | Problem, total: int | None = None) -> None:
        self.problems = [problems] if isinstance(problems, Problem) else list(problems)
        self.total = total if total is not None else len(self.problems)
        lines = [str(p) for p in self.problems[: self.max_listed]]
        if self.total > len(lines):
            lines.append(f"... and {self.total - len(lines)} more problems")
        super().__init__("\n".join(lines))


class ConnectorErrorKind(StrEnum):
    """What went wrong talking to a source, so a page or the CLI can say what to do next."""

    AUTH = "auth"  # credentials refused, even after a fresh token
    PERMISSION = "permission"  # the API user may not read or write this
    NOT_FOUND = "not_found"  # nothing at that address: usually a wrong site or base URL
    RATE_LIMITED = "rate_limited"  # still throttled when the retry budget ran out
    UNREACHABLE = "unreachable"  # could not connect, or no reply in time
    SERVER = "server"  # the source failed (5xx)
    SCHEMA = "schema"  # a reply that is not JSON or not of the expected shape
    REJECTED = "rejected"  # any other 4xx: the source refused this request


ADVICE: dict[ConnectorErrorKind, tuple[str, str]] = {
    ConnectorErrorKind.AUTH: (
        "Bad credentials",
        "The source refused the keys: check each one in Settings (or make new ones), then try "
        "again.",
    ),
    ConnectorErrorKind.PERMISSION: (
        "No permission",
        "The credentials work, but the API user may not read this: give it read rights to "
        "companies, agreements or subscriptions, then try again.",
    ),
    ConnectorErrorKind.NOT_FOUND: (
        "Wrong site or address",
        "Nothing answers at that address: check the source's address (base URL, site or "
        "company) in Settings.",
    ),
    ConnectorErrorKind.RATE_LIMITED: (
        "Rate-limited",
        "The source asks TrueUp to slow down: wait a few minutes and try again.",
    ),
    ConnectorErrorKind.UNREACHABLE: (
        "Unreachable",
        "TrueUp could not reach the source: check its address in Settings, and that this "
        "server's network (DNS, proxy, firewall) lets it through.",
    ),
    ConnectorErrorKind.SERVER: (
        "The source is failing",
        "It answered with a server error: try again later; if it lasts, ask its support.",
    ),
    ConnectorErrorKind.SCHEMA: (
        "Not the API TrueUp expects",
        "Something answered, but not as this API does: check that the address in Settings is "
        "the API's, not a web page's.",
    ),
    ConnectorErrorKind.REJECTED: (
        "The source refused the request",
        "Check the source's settings in Settings against the help of each, and try again.",
    ),
}
"""A ConnectorError's kind as TrueUp says it (Test connection, the Sync page, the CLI): what is
wrong, and what to do about it."""


class ConnectorError(TrueUpError):
    """A source that could not be read or written; `kind` says which way it failed.

    `outcome_unknown` is true when a write may have reached the source before it failed (a
    timeout after sending): read before writing again.
    """

    title = "The source could not be read"

    def __init__(
        self,
        message: str,
        *,
        kind: ConnectorErrorKind | str = ConnectorErrorKind.SERVER,
        outcome_unknown: bool = False,
    ) -> None:
        super().__init__(message)
        self.kind = ConnectorErrorKind(kind)
        self.outcome_unknown = outcome_unknown


class MappingError(TrueUpError):
    title = "The map could not be applied"


class ConflictError(TrueUpError):
    title = "The PSA changed under us"
