"""PSA files: agreement lines (one row per contract line) and the product catalogue."""

from __future__ import annotations

import polars as pl

from connectors.csv import cells
from connectors.csv.cells import Check, value
from connectors.csv.headers import Columns
from connectors.csv.parse import billing_months, yes_no
from engine.schema import CATALOG, PSA_LINES, Schema, conform

LINES_REQUIRED = {
    "quantity": ("quantity",),
    "account": ("account_id", "account_name"),
    "product": ("product_id", "product_name"),
}
CATALOG_REQUIRED = {
    "product": ("product_id", "product_name"),
    "unit price": ("unit_price",),
}
"""The columns each file must have: each group needs one of its fields."""


def lines_frame(
    name: str, text: pl.DataFrame, columns: Columns, *, decimal_comma: bool
) -> tuple[pl.DataFrame, list[str]]:
    """Give back the PSA lines (a PSA_LINES frame, one row per row of the file) and the warnings.

    A line with no contract id takes its contract name; one with no line id, its row number.
    """
    account_id, account_name, account_check = cells.id_and_name(columns, "account")
    product_id, product_name, product_check = cells.id_and_name(columns, "product")
    fields = ["quantity", "unit_price", "unit_cost"]
    numbers = cells.numbers(text, columns, fields, decimal_comma=decimal_comma)
    checks = [
        account_check,
        product_check,
        *cells.number_checks(numbers, columns, decimal_comma=decimal_comma),
    ]
    prorate = yes_no(cells.field_text(columns, "prorate"))
    if "prorate" in columns.positions:
        checks.append(Check("prorate", prorate.invalid, _not_yes_no("prorate")))
    months = billing_months(cells.field_text(columns, "billing_cycle"))
    values = {
        "account_id": account_id,
        "account_name": account_name,
        "contract_id": pl.coalesce(
            [pl.col(f) for f in cells.present(columns, "contract_id", "contract_name")]
            or [pl.lit(None, pl.String)]
        ),
        "contract_name": cells.field_text(columns, "contract_name"),
        "product_id": product_id,
        "product_name": product_name,
        "line_id": cells.field_text(columns, "line_id").fill_null(pl.col("row").cast(pl.String)),
        **{field: parsed.value for field, parsed in numbers.items()},
        "prorate": prorate.value,
        "billing_months": months.value,
        "account_website": cells.field_text(columns, "account_website"),
        "rounded": cells.rounded(*numbers.values()),
        "unknown_cycle": months.invalid,
    }
    return _frame(name, text, columns, values, checks, PSA_LINES)


def catalog_frame(
    name: str, text: pl.DataFrame, columns: Columns, *, decimal_comma: bool
) -> tuple[pl.DataFrame, list[str]]:
    """Give back the catalogue (a CATALOG frame, one row per row of the file) and the warnings.

    A missing product id is the product's name; a missing name stays empty, so that the name
    on the PSA's lines is used.
    """
    product_id, _, product_check = cells.id_and_name(columns, "product")
    prices = cells.numbers(text, columns, ["unit_price", "unit_cost"], decimal_comma=decimal_comma)
    checks = cells.number_checks(prices, columns, decimal_comma=decimal_comma)
    months = billing_months(cells.field_text(columns, "billing_cycle"))
    values = {
        "product_id": product_id,
        "product_name": cells.field_text(columns, "product_name"),
        **{field: parsed.value for field, parsed in prices.items()},
        "billing_months": months.value,
        "account_website": cells.field_text(columns, "account_website"),
        "rounded": cells.rounded(*prices.values()),
        "unknown_cycle": months.invalid,
    }
    return _frame(name, text, columns, values, [product_check, *checks], CATALOG)


def _not_yes_no(field: str) -> pl.Expr:
    return pl.format('"{}" is not yes or no', pl.col(field))


def _frame(
    name: str,
    text: pl.DataFrame,
    columns: Columns,
    values: dict[str, pl.Expr],
    checks: list[Check],
    schema: Schema,
) -> tuple[pl.DataFrame, list[str]]:
    evaluated = cells.evaluate(text, values, checks)
    cells.raise_problems(name, cells.problems(columns, evaluated, checks))
    warnings = cells.rounding_warning(evaluated) + _cycle_warning(evaluated)
    frame = evaluated.select(value(field).alias(field) for field in schema)
    return conform(frame, schema).collect(), warnings


def _cycle_warning(evaluated: pl.DataFrame) -> list[str]:
    if not evaluated["value:unknown_cycle"].any():
        return []
    unknown = evaluated.filter(value("unknown_cycle"))
    shown = unknown["billing_cycle"].unique(maintain_order=True).head(3).to_list()
    examples = ", ".join(f'"{cycle}"' for cycle in shown)
    rows = "1 row has" if unknown.height == 1 else f"{unknown.height} rows have"
    return [
        f"{rows} a billing cycle that is not monthly, quarterly, semi-annual or annual "
        f"({examples}), read as monthly"
    ]
