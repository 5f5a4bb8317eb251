"""`python -m bench.engine_api`: the engine run on canonical CSV files through its Python API.

Takes the arguments of `trueup reconcile --all` and writes the same cards CSV. It reads only the
canonical files of `bench.generate` (no header aliases, no validation), so it measures the engine
and the CSV writer without the importer; `bench.run` falls back to it where `trueup` is missing.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import polars as pl

from connectors.csv.export import write_cards
from engine import reconcile
from engine.schema import QUANTITY

MONTHS = {
    "monthly": 1,
    "quarterly": 3,
    "semi-annual": 6,
    "semiannual": 6,
    "annual": 12,
    "annually": 12,
    "yearly": 12,
}
TRUE = ["true", "1", "yes", "y", "t"]


def _read(path: Path, decimals: tuple[str, ...] = ()) -> pl.DataFrame:
    frame = pl.read_csv(path, infer_schema=False)
    return frame.with_columns(pl.col(c).cast(QUANTITY) for c in decimals if c in frame.columns)


def _flag(column: str) -> pl.Expr:
    return pl.col(column).str.strip_chars().str.to_lowercase().is_in(TRUE).fill_null(False)


def _months() -> pl.Expr:
    cycle = pl.col("billing_cycle").str.strip_chars().str.to_lowercase()
    return cycle.replace_strict(MONTHS, default=None, return_dtype=pl.Int32).alias("billing_months")


def _maps(files: list[Path]) -> pl.DataFrame | None:
    if not files:
        return None
    return pl.concat([_read(f) for f in files]).with_columns(_flag("excluded").alias("excluded"))


def load(
    psa: Path,
    usage: list[Path],
    account_maps: list[Path],
    product_maps: list[Path],
    catalog: Path | None,
) -> dict[str, pl.DataFrame | None]:
    """Give back the engine's input frames, read from canonical CSV files."""
    return {
        "psa_lines": _read(psa, ("quantity", "unit_price", "unit_cost")).with_columns(
            _flag("prorate").alias("prorate"), _months()
        ),
        "usage": pl.concat([_read(f, ("quantity", "unit_cost")) for f in usage], how="diagonal"),
        "account_maps": _maps(account_maps),
        "product_maps": _maps(product_maps),
        "catalog": None
        if catalog is None
        else _read(catalog, ("unit_price", "unit_cost")).with_columns(_months()),
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--psa", type=Path, required=True)
    parser.add_argument("--usage", type=Path, action="append", required=True)
    parser.add_argument("--account-map", type=Path, action="append", default=[])
    parser.add_argument("--product-map", type=Path, action="append", default=[])
    parser.add_argument("--catalog", type=Path)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    frames = load(args.psa, args.usage, args.account_map, args.product_map, args.catalog)
    write_cards(reconcile(**frames).cards, args.out)


if __name__ == "__main__":
    main()
