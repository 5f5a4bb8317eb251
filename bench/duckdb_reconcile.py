"""`python -m bench.duckdb_reconcile`: the card rules of DESIGN 4 as DuckDB SQL, a second opinion.

    python -m bench.duckdb_reconcile --psa psa.csv --usage usage-pax8.csv [--usage ...] \
        --account-map account-map.csv --product-map product-map.csv --catalog catalog.csv \
        --out cards.csv

writes one row per card (PSA account and PSA product), sorted by account_id then product_id:
byte for byte what `trueup reconcile --all` writes. It shares no code with the engine: it follows
the engine's rules as written in `engine/cards.py` and `engine/mapping.py`, over canonical, clean
CSV files (every column read as text, numbers cast to DECIMAL(18,4)). Money is computed in
integers, since DuckDB divides decimals as doubles.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import duckdb

from bench.sql import CARDS, INPUTS

CSV = "delim = ',', quote = '\"', escape = '\"', header = true, all_varchar = true"


def _files(paths: list[Path]) -> str:
    return "[" + ", ".join("'" + str(p).replace("'", "''") + "'" for p in paths) + "]"


EMPTY = {
    "account_map_raw": "vendor, vendor_account_id, psa_account_id, excluded",
    "product_map_raw": "vendor, vendor_product_id, psa_product_id, excluded",
    "catalog_raw": "product_id, product_name, unit_price, unit_cost, billing_cycle",
}
"""The columns of the optional inputs, for a table with no rows where no file was given."""


def _table(con: duckdb.DuckDBPyConnection, table: str, files: list[Path], **options: str) -> None:
    if files:
        extra = "".join(f", {key} = {value}" for key, value in options.items())
        con.execute(f"CREATE TABLE {table} AS FROM read_csv({_files(files)}, {CSV}{extra})")
    else:
        columns = ", ".join(f"{c} VARCHAR" for c in EMPTY[table].split(", "))
        con.execute(f"CREATE TABLE {table} ({columns})")


def load(
    con: duckdb.DuckDBPyConnection,
    psa: Path,
    usage: list[Path],
    account_maps: list[Path],
    product_maps: list[Path],
    catalog: Path | None,
) -> None:
    """Create the raw tables: text, in file order (`rowid` is the order maps are read in)."""
    _table(con, "psa_raw", [psa])
    _table(con, "usage_raw", usage, union_by_name="true")
    if "status" not in {row[0] for row in con.execute("DESCRIBE usage_raw").fetchall()}:
        con.execute("ALTER TABLE usage_raw ADD COLUMN status VARCHAR")
    _table(con, "account_map_raw", account_maps)
    _table(con, "product_map_raw", product_maps)
    _table(con, "catalog_raw", [catalog] if catalog is not None else [])


def write_cards(con: duckdb.DuckDBPyConnection, out: Path) -> None:
    """Build the cards from the raw tables and write them as the cards CSV."""
    con.execute(INPUTS)
    con.execute(CARDS)
    path = str(out).replace("'", "''")
    con.execute(
        f"COPY (FROM cards ORDER BY account_id, product_id) TO '{path}' "
        "(FORMAT csv, HEADER true, DELIMITER ',')"
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--psa", type=Path, required=True)
    parser.add_argument("--usage", type=Path, action="append", required=True)
    parser.add_argument("--account-map", type=Path, action="append", default=[])
    parser.add_argument("--product-map", type=Path, action="append", default=[])
    parser.add_argument("--catalog", type=Path)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    con = duckdb.connect()
    load(con, args.psa, args.usage, args.account_map, args.product_map, args.catalog)
    write_cards(con, args.out)


if __name__ == "__main__":
    main()
