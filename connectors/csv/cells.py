"""The steps all kinds of file share: cells as trimmed text, checks, and the problems found."""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from connectors.csv.headers import Columns
from connectors.csv.parse import Parsed, decimal, number_problem, simple_pattern
from connectors.csv.reader import Table
from errors import InputError, Problem

PROBLEMS = {"row": pl.Int64, "position": pl.Int64, "column": pl.String, "message": pl.String}
"""Problems found in a file, one row each, before they become `Problem`s."""


@dataclass(frozen=True)
class Check:
    """A rule on each row: where `failed` is true, `message` says what is wrong in `field`'s cell.

    `field` is the field whose column the problem is shown in; None shows it for the whole row.
    """

    field: str | None
    failed: pl.Expr
    message: pl.Expr


def text_cells(table: Table, columns: Columns) -> pl.DataFrame:
    """Give back one row per non-blank row of the file: `row` and each found field's trimmed text.

    An empty or all-whitespace cell is null. A row is blank when every cell is empty, including
    cells of columns no field is read from.
    """
    fields = {field: pl.col(f"c{position}") for field, position in columns.positions.items()}
    # Trimming copies a column; most columns of a real export need none, so ask first.
    untidy = table.frame.select(
        _untidy(cell).any().alias(field) for field, cell in fields.items()
    ).row(0, named=True)
    cells = table.frame.select(
        pl.col("row").cast(pl.Int64),
        *(
            (_trimmed(cell) if untidy[field] else cell).alias(field)
            for field, cell in fields.items()
        ),
    )
    blank = pl.all_horizontal(pl.col(field).is_null() for field in fields)
    candidates = cells.select(blank).to_series()
    if not candidates.any():
        return cells
    # Only the rows empty in every field read are checked for text in the other columns.
    others = [f"c{i}" for i in range(len(columns.headers)) if i not in columns.positions.values()]
    if others:
        rest = table.frame.filter(candidates).select(
            "row",
            pl.any_horizontal(_trimmed(pl.col(c)).is_not_null() for c in others).alias("text"),
        )
        filled = rest.filter("text")["row"].cast(pl.Int64)
        return cells.filter(blank.not_() | pl.col("row").is_in(filled.implode()))
    return cells.filter(blank.not_())


def _untidy(cell: pl.Expr) -> pl.Expr:
    """Give back whether a cell is empty or has whitespace around it (a length comparison is
    twice as fast as a regular expression here)."""
    length = cell.str.len_bytes()
    return (length == 0) | (cell.str.strip_chars().str.len_bytes() != length)


def _trimmed(cell: pl.Expr) -> pl.Expr:
    return cell.str.strip_chars().replace("", None)


def require_rows(name: str, cells: pl.DataFrame) -> None:
    """Raise an InputError when the file has a header but no data rows."""
    if cells.height == 0:
        raise InputError(Problem(name, None, None, "the file has a header but no data rows"))


def number_checks(
    numbers: dict[str, Parsed], columns: Columns, *, decimal_comma: bool
) -> list[Check]:
    """Give back the checks of number cells: each is a number; a quantity is there and is not
    negative."""
    checks = []
    for field in present(columns, *numbers):
        parsed, cell = numbers[field], pl.col(field)
        if field == "quantity":
            checks.append(Check(field, cell.is_null(), pl.lit("the quantity is empty")))
        currency = field != "quantity"
        message = number_problem(cell, decimal_comma=decimal_comma, currency=currency)
        checks.append(Check(field, parsed.invalid, message))
        if field == "quantity":
            negative = pl.format('"{}" is negative; quantities cannot be negative', cell)
            checks.append(Check(field, parsed.value < 0, negative))
    return checks


def simple_numbers(text: pl.DataFrame, fields: list[str], *, decimal_comma: bool) -> set[str]:
    """Give back the fields, of those named, whose every cell a plain cast reads.

    Most files hold plain numbers; reading those with a cast skips the costly checks.
    """
    found = [field for field in fields if field in text.columns]
    if not found:
        return set()
    pattern = simple_pattern(decimal_comma=decimal_comma)
    plain = text.select(pl.col(field).str.contains(pattern).all() for field in found)
    return {field for field in found if plain[field][0]}


def numbers(
    text: pl.DataFrame, columns: Columns, fields: list[str], *, decimal_comma: bool
) -> dict[str, Parsed]:
    """Give back the number fields read as decimals (prices may have a currency sign)."""
    simple = simple_numbers(text, fields, decimal_comma=decimal_comma)
    return {
        field: decimal(
            field_text(columns, field),
            decimal_comma=decimal_comma,
            currency=field != "quantity",
            simple=field in simple,
        )
        for field in fields
    }


def value(field: str) -> pl.Expr:
    """Give back the column `evaluate` stores a field's read value in."""
    return pl.col(f"value:{field}")


def evaluate(cells: pl.DataFrame, values: dict[str, pl.Expr], checks: list[Check]) -> pl.DataFrame:
    """Give back the cells with each field's value (`value(field)`) and each check's result.

    One pass, so that a parse shared by a value and its checks is done once.
    """
    return (
        cells.lazy()
        .with_columns(
            *(expr.alias(f"value:{field}") for field, expr in values.items()),
            *(c.failed.fill_null(False).alias(f"failed:{i}") for i, c in enumerate(checks)),
        )
        .collect()
    )


def problems(columns: Columns, evaluated: pl.DataFrame, checks: list[Check]) -> pl.DataFrame:
    """Give back the problems the checks found in an `evaluate`d frame (a PROBLEMS frame)."""
    if not checks:
        return pl.DataFrame(schema=PROBLEMS)
    failed = pl.any_horizontal(pl.col(r"^failed:\d+$"))
    found = [pl.DataFrame(schema=PROBLEMS)]
    # Most files are clean: asking first spares a filter that costs as much as the file.
    if not evaluated.select(failed.any()).item():
        return found[0]
    bad = evaluated.filter(failed)
    for i, check in enumerate(checks):
        position = columns.positions.get(check.field, -1) if check.field else -1
        column = columns.header(check.field) if check.field and position >= 0 else None
        found.append(
            bad.filter(pl.col(f"failed:{i}")).select(
                pl.col("row"),
                pl.lit(position, pl.Int64).alias("position"),
                pl.lit(column, pl.String).alias("column"),
                check.message.cast(pl.String).alias("message"),
            )
        )
    return pl.concat(found)


def raise_problems(name: str, *found: pl.DataFrame) -> None:
    """Raise an InputError listing the first problems in file order, if there are any."""
    every = pl.concat(found) if found else pl.DataFrame(schema=PROBLEMS)
    if every.height == 0:
        return
    first = every.sort("row", "position").head(InputError.max_listed)
    raise InputError(
        [Problem(name, r["row"], r["column"], r["message"]) for r in first.iter_rows(named=True)],
        total=every.height,
    )


def rounded(*parsed: Parsed) -> pl.Expr:
    """Give back how many of a row's numbers were rounded to 4 places."""
    return pl.sum_horizontal(p.rounded.cast(pl.Int32) for p in parsed)


def rounding_warning(evaluated: pl.DataFrame) -> list[str]:
    """Give back the warning that values were rounded to 4 places, if any were (`evaluated`
    has a `rounded` value)."""
    count = int(evaluated["value:rounded"].sum())
    if count == 0:
        return []
    if count == 1:
        return ["1 value had more than 4 decimal places and was rounded"]
    return [f"{count} values had more than 4 decimal places and were rounded"]


def present(columns: Columns, *fields: str) -> list[str]:
    """Give back the fields, of those named, that the file has a column for."""
    return [field for field in fields if field in columns.positions]


def field_text(columns: Columns, field: str) -> pl.Expr:
    """Give back a field's text, or null for every row when the file has no column for it."""
    return pl.col(field) if field in columns.positions else pl.lit(None, pl.String)


def id_and_name(columns: Columns, item: str) -> tuple[pl.Expr, pl.Expr, Check]:
    """Give back an item's id and name, each falling back to the other, and the check that a row
    has one of them (`item` is "account" or "product")."""
    fields = present(columns, f"{item}_id", f"{item}_name")
    item_id = pl.coalesce(fields)
    name = pl.coalesce(list(reversed(fields)))
    return item_id, name, Check(fields[0], item_id.is_null(), pl.lit(f"no {item} id or name"))


def vendor(name: str, columns: Columns, given: str | None) -> tuple[pl.Expr, list[Check]]:
    """Give back each row's vendor: its vendor cell, else the vendor given on import."""
    given = (given or "").strip() or None
    if "vendor" not in columns.positions:
        if given is None:
            message = "no vendor column; give the vendor with --vendor"
            raise InputError(Problem(name, None, None, message))
        return pl.lit(given, pl.String), []
    if given is not None:
        return pl.col("vendor").fill_null(given), []
    missing = Check(
        "vendor", pl.col("vendor").is_null(), pl.lit("no vendor; give one with --vendor")
    )
    return pl.col("vendor"), [missing]
