"""`python -m bench.generate`: a synthetic month written as the canonical CSV files of DESIGN 5.

    python -m bench.generate --out bench/out/month --usage-rows 1000000 --psa-lines 700000 --seed 1

writes `psa.csv` (one row per contract line), `usage-<vendor>.csv` (one row per usage line, one
file per vendor that sent one; `ninjaone` has maps but no file this month), `account-map.csv`,
`product-map.csv` (one row per mapped or excluded vendor account / SKU), `catalog.csv` (one row
per PSA product, a few missing) and `manifest.json` (the sizes and seed that made them).
Unknown values are empty cells; names hold no commas or quotes, so no field needs quoting.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import polars as pl

from bench import names, rows, world
from bench.usage import usage_rows

CONTRACT_KINDS = ["Managed Services", "Security Agreement", "Cloud Services"]


def generate(out: Path, usage_count: int, psa_count: int, seed: int) -> dict[str, int]:
    """Write the month's files into `out` and give back how many rows each has."""
    rng = np.random.default_rng(seed)
    cast = world.build(rng, psa_count)
    labour = round(0.08 * psa_count)
    billed = round((psa_count - labour) / 1.03)
    pairs = rows.subscriptions(rng, cast, billed, round(0.03 * billed))
    files = {
        "psa.csv": _psa(rng, cast, rows.psa_lines(rng, cast, pairs, psa_count)),
        "account-map.csv": _account_map(rng, cast),
        "product-map.csv": _product_map(rng, cast),
        "catalog.csv": _catalog(cast),
    }
    usage = _usage(cast, usage_rows(rng, cast, pairs, usage_count))
    for vendor in rows.WITH_FILE:
        of_vendor = usage.filter(pl.col("vendor") == vendor)
        if vendor != rows.STATUS_VENDOR:
            of_vendor = of_vendor.drop("status")
        files[f"usage-{vendor}.csv"] = of_vendor

    out.mkdir(parents=True, exist_ok=True)
    for name, frame in files.items():
        # An empty text is written as an empty cell, never as "".
        frame.with_columns(pl.col(pl.String).replace("", None)).write_csv(out / name, null_value="")
    counts = {name: frame.height for name, frame in files.items()}
    manifest = {"usage_rows": usage_count, "psa_lines": psa_count, "seed": seed, "rows": counts}
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
    return counts


def _psa(rng: np.random.Generator, cast: world.World, lines: pl.DataFrame) -> pl.DataFrame:
    contracts = cast.accounts.select(
        "account", pl.int_ranges("contracts").alias("contract")
    ).explode("contract")
    n_contracts = contracts.height
    contracts = contracts.select(
        "account",
        "contract",
        names.with_prefix("", names.distinct_numbers(rng, n_contracts, 1000, 3)).alias(
            "contract_id"
        ),
        names.pick(CONTRACT_KINDS, contracts.get_column("contract").to_numpy()).alias(
            "contract_name"
        ),
        pl.Series("prorate", np.where(rng.random(n_contracts) < 0.7, "true", "false")),
    )
    n = lines.height
    joined = (
        lines.join(contracts, on=["account", "contract"], how="left", maintain_order="left")
        .join(cast.accounts, on="account", how="left", maintain_order="left")
        .join(cast.products, on="product", how="left", maintain_order="left")
    )
    price = joined.get_column("price").to_numpy()
    months = joined.get_column("months").to_numpy()
    # Customer discounts give four-place prices; a few lines bill on the other cycle.
    price = np.where(
        rng.random(n) < 0.15, (price * rng.uniform(0.8, 0.97, n)).astype(np.int64), price
    )
    flip = (rng.random(n) < 0.05) & joined.get_column("vendor").is_not_null().to_numpy()
    price = np.where(flip, np.where(months == 1, price * 12, price // 12), price)
    months = np.where(flip, 13 - months, months)
    return joined.select(
        "account_id",
        # A renamed company keeps its old name on some lines; its name is the smallest.
        pl.when(pl.col("renamed") & pl.Series(rng.random(n) < 0.3))
        .then(pl.col("account_name") + " Inc.")
        .otherwise(pl.col("account_name"))
        .alias("account_name"),
        "contract_id",
        "contract_name",
        "product_id",
        pl.when(pl.Series(rng.random(n) < 0.02))
        .then("OLD - " + pl.col("product_name"))
        .otherwise(pl.col("product_name"))
        .alias("product_name"),
        names.with_prefix("", names.distinct_numbers(rng, n, 10_000, 3)).alias("line_id"),
        names.decimal_text(joined.get_column("quantity").to_numpy(), 2).alias("quantity"),
        names.decimal_text(price, 4, 2).alias("unit_price"),
        names.decimal_text((price * 0.7).astype(np.int64), 4, 2).alias("unit_cost"),
        "prorate",
        _cycle(months).alias("billing_cycle"),
    )[rng.permutation(n)]


def _usage(cast: world.World, lines: pl.DataFrame) -> pl.DataFrame:
    distributors = {v.name: v.distributor for v in world.VENDORS}
    joined = (
        lines.join(
            cast.tenants.select("tenant", "vendor", "tenant_id", "tenant_name"),
            on="tenant",
            how="left",
            maintain_order="left",
        )
        .join(
            cast.skus.select("sku", "sku_id", "sku_name", "product", "term"),
            on="sku",
            how="left",
            maintain_order="left",
        )
        .join(
            cast.products.select("product", "cost"), on="product", how="left", maintain_order="left"
        )
    )
    cost = joined.get_column("cost")
    return joined.select(
        "vendor",
        pl.col("vendor").replace_strict(distributors).alias("distributor"),
        pl.col("tenant_id").alias("account_id"),
        pl.col("tenant_name").alias("account_name"),
        pl.col("sku_id").alias("product_id"),
        pl.col("sku_name").alias("product_name"),
        names.decimal_text(joined.get_column("quantity").to_numpy(), 2).alias("quantity"),
        pl.when(cost.is_not_null())
        .then(names.decimal_text(cost.fill_null(0).to_numpy(), 4, 2))
        .alias("unit_cost"),
        pl.col("term").alias("billing_term"),
        "status",
    )


def _account_map(rng: np.random.Generator, cast: world.World) -> pl.DataFrame:
    maps = cast.tenants.filter(pl.col("status").is_in(["mapped", "excluded"])).join(
        cast.accounts.select("account", "account_id"),
        on="account",
        how="left",
        maintain_order="left",
    )
    excluded = pl.col("status") == "excluded"
    return maps.select(
        "vendor",
        pl.col("tenant_id").alias("vendor_account_id"),
        pl.when(~excluded).then(pl.col("account_id")).alias("psa_account_id"),
        pl.when(excluded).then(pl.lit("true")).alias("excluded"),
        pl.when(excluded & (pl.col("account") < 0))
        .then(pl.lit("Our own tenant"))
        .when(excluded)
        .then(pl.lit("Billed directly by the vendor"))
        .alias("reason"),
    )[rng.permutation(maps.height)]


def _product_map(rng: np.random.Generator, cast: world.World) -> pl.DataFrame:
    maps = cast.skus.filter(pl.col("status").is_in(["mapped", "excluded"])).join(
        cast.products.select("product", "product_id"),
        on="product",
        how="left",
        maintain_order="left",
    )
    excluded = pl.col("status") == "excluded"
    return maps.select(
        "vendor",
        pl.col("sku_id").alias("vendor_product_id"),
        pl.when(~excluded).then(pl.col("product_id")).alias("psa_product_id"),
        pl.when(excluded).then(pl.lit("true")).alias("excluded"),
        pl.when(excluded).then(pl.lit("Not for resale")).alias("reason"),
    )[rng.permutation(maps.height)]


def _catalog(cast: world.World) -> pl.DataFrame:
    listed = cast.products.filter(pl.col("in_catalog"))
    return listed.select(
        "product_id",
        "product_name",
        names.decimal_text(listed.get_column("price").to_numpy(), 4, 2).alias("unit_price"),
        names.decimal_text(listed.get_column("cost").to_numpy(), 4, 2).alias("unit_cost"),
        _cycle(listed.get_column("months").to_numpy()).alias("billing_cycle"),
    )


def _cycle(months: np.ndarray) -> pl.Series:
    return pl.Series(np.where(months == 12, "annual", "monthly"))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=Path("bench/out/month"))
    parser.add_argument("--usage-rows", type=int, default=1_000_000)
    parser.add_argument("--psa-lines", type=int, help="default: 0.7 × usage rows")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    psa_lines = args.psa_lines if args.psa_lines is not None else round(0.7 * args.usage_rows)
    started = time.perf_counter()
    counts = generate(args.out, args.usage_rows, psa_lines, args.seed)
    size = sum(f.stat().st_size for f in args.out.glob("*.csv"))
    for name, count in counts.items():
        print(f"{name:24} {count:>10,} rows")
    print(f"{size / 1e6:.0f} MB of CSV in {args.out}, {time.perf_counter() - started:.1f} s")


if __name__ == "__main__":
    main()
