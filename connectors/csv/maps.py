"""Map files: vendor accounts to PSA accounts, or vendor products to PSA products."""

from __future__ import annotations

import polars as pl

from connectors.csv import cells
from connectors.csv.cells import PROBLEMS, Check, value
from connectors.csv.headers import Columns, accepted_names
from connectors.csv.parse import yes_no
from engine.schema import ACCOUNT_MAP, PRODUCT_MAP, conform
from errors import InputError, Problem


def map_kind(name: str, columns: Columns) -> str:
    """Give back which map a file is, "account" or "product", from its columns."""
    has_account = "vendor_account_id" in columns.positions
    has_product = "vendor_product_id" in columns.positions
    if has_account and has_product:
        message = (
            "the file has both a vendor account id and a vendor product id column; "
            "account maps and product maps are separate files"
        )
    elif not (has_account or has_product):
        names = [*accepted_names("vendor_account_id"), *accepted_names("vendor_product_id")]
        message = (
            f"no vendor account id or vendor product id column, so this is not a map file; "
            f"headers found: {columns.found()}; accepted: {', '.join(names)}"
        )
    else:
        return "account" if has_account else "product"
    raise InputError(Problem(name, None, None, message))


def required(kind: str) -> dict[str, tuple[str, ...]]:
    """Give back the columns a map of this kind must have."""
    return {f"PSA {kind} id": (f"psa_{kind}_id",)}


def map_frame(
    name: str, text: pl.DataFrame, columns: Columns, kind: str, *, vendor: str | None
) -> tuple[pl.DataFrame, list[str]]:
    """Give back the map (an ACCOUNT_MAP or PRODUCT_MAP frame, one row per vendor and vendor id).

    A row that is not excluded needs a PSA id; an excluded row keeps none. Rows repeating a
    vendor id with the same target are kept once; different targets are an error.
    """
    vendor_id, psa_id = f"vendor_{kind}_id", f"psa_{kind}_id"
    vendor_value, checks = cells.vendor(name, columns, vendor)
    excluded = yes_no(cells.field_text(columns, "excluded"))
    is_excluded = excluded.value.fill_null(False)
    if "excluded" in columns.positions:
        checks.append(
            Check(
                "excluded", excluded.invalid, pl.format('"{}" is not yes or no', pl.col("excluded"))
            )
        )
    checks += [
        Check(vendor_id, pl.col(vendor_id).is_null(), pl.lit(f"no vendor {kind} id")),
        Check(
            psa_id,
            pl.col(psa_id).is_null() & is_excluded.not_(),
            pl.lit(f"no PSA {kind} id, and the row is not excluded"),
        ),
    ]
    values = {
        "vendor": vendor_value,
        vendor_id: pl.col(vendor_id),
        psa_id: pl.when(is_excluded.not_()).then(pl.col(psa_id)),
        "excluded": is_excluded,
        "reason": cells.field_text(columns, "reason"),
        "auto": pl.lit(False),
    }
    evaluated = cells.evaluate(text, values, checks)
    found = cells.problems(columns, evaluated, checks)
    clean = evaluated.filter(~pl.any_horizontal(pl.col(r"^failed:\d+$")))
    cells.raise_problems(name, found, _conflicts(clean, columns, kind))
    schema = ACCOUNT_MAP if kind == "account" else PRODUCT_MAP
    frame = clean.unique(["value:vendor", f"value:{vendor_id}"], keep="first", maintain_order=True)
    return conform(frame.select(value(f).alias(f) for f in schema), schema).collect(), []


def _conflicts(clean: pl.DataFrame, columns: Columns, kind: str) -> pl.DataFrame:
    """Give back a problem for each row mapping a vendor id differently from its first row."""
    key = [value("vendor"), value(f"vendor_{kind}_id")]
    target = (
        pl.when(value("excluded"))
        .then(pl.lit("excluded"))
        .otherwise(pl.format('mapped to "{}"', value(f"psa_{kind}_id")))
    )
    rows = clean.select(*key, pl.col("row"), target.alias("target"))
    first = rows.group_by(key, maintain_order=True).agg(
        pl.col("row").first().alias("first_row"), pl.col("target").first().alias("first_target")
    )
    conflicting = rows.join(first, on=["value:vendor", f"value:vendor_{kind}_id"]).filter(
        pl.col("target") != pl.col("first_target")
    )
    field = f"psa_{kind}_id"
    return conflicting.select(
        pl.col("row"),
        pl.lit(columns.positions[field], pl.Int64).alias("position"),
        pl.lit(columns.header(field), pl.String).alias("column"),
        pl.format(
            'vendor "{}" {} "{}" is {} here but {} in row {}',
            value("vendor"),
            pl.lit(kind),
            value(f"vendor_{kind}_id"),
            pl.col("target"),
            pl.col("first_target"),
            pl.col("first_row"),
        ).alias("message"),
    ).cast(PROBLEMS)  # type: ignore[arg-type]
