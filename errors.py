"""One error hierarchy: each error carries a message a user can act on (STYLE 5)."""

from __future__ import annotations

from dataclasses import dataclass


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


class ConnectorError(TrueUpError):
    title = "The source could not be read"


class MappingError(TrueUpError):
    title = "The map could not be applied"


class ConflictError(TrueUpError):
    title = "The PSA changed under us"
