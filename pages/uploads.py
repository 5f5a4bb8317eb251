"""What the Sync page's upload wizard reads from a file before anything is stored.

Not a page (app.py registers its pages by hand). Both readers are cached per uploaded file, so
that choosing a column's role re-checks the file without reading it from the upload again.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import polars as pl
import streamlit as st

from connectors.csv import read_catalog, read_psa, read_usage
from connectors.csv.headers import FIELDS, normalise, resolve
from connectors.csv.reader import read_table
from errors import InputError, Problem

PREVIEW_ROWS = 8
FILE_TYPES = ["csv", "txt", "tsv", "xlsx"]
FIELD_LABELS = {
    "": "— not used —",
    "vendor": "Vendor",
    "distributor": "Distributor",
    "account_id": "Account id",
    "account_name": "Account name",
    "product_id": "Product id",
    "product_name": "Product name",
    "quantity": "Quantity",
    "unit_cost": "Unit cost",
    "unit_price": "Unit price",
    "billing_term": "Billing term",
    "billing_cycle": "Billing cycle",
    "status": "Status",
    "contract_id": "Contract id",
    "contract_name": "Contract name",
    "line_id": "Line id",
    "prorate": "Prorate",
}


@dataclass(frozen=True)
class Preview:
    """A file's header cells and its first rows (text, as read), or why it cannot be read."""

    headers: list[str] = field(default_factory=list)
    rows: pl.DataFrame = field(default_factory=pl.DataFrame)
    problems: list[Problem] = field(default_factory=list)
    total: int = 0


@dataclass(frozen=True)
class Checked:
    """A file read as an import would read it: its counts, or every problem row by row."""

    rows: int = 0
    """Data rows of the file."""
    stored: int = 0
    """Rows its snapshot would hold: usage rows after repeats add up, PSA lines, products."""
    warnings: list[str] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    total: int = 0
    """Problems in all (only the first ones are listed)."""


@st.cache_data(max_entries=2, show_spinner="Reading the file…")
def preview(_data: bytes, file_id: str, name: str) -> Preview:
    """Give back the headers and first rows of the uploaded file `file_id` (its bytes `_data`)."""
    try:
        table = read_table(_data, name=name)
    except InputError as error:
        return Preview(problems=error.problems, total=error.total)
    return Preview(table.headers, table.frame.head(PREVIEW_ROWS))


@st.cache_data(max_entries=4, show_spinner="Checking every row…")
def check(
    _data: bytes,
    file_id: str,
    name: str,
    kind: str,
    vendor: str,
    columns: tuple[tuple[str, str], ...],
    decimal_comma: bool,
) -> Checked:
    """Give back what importing the uploaded file `file_id` as `kind` would read, or why not."""
    chosen = dict(columns)
    try:
        if kind == "usage":
            imported = read_usage(
                _data, name=name, vendor=vendor, columns=chosen, decimal_comma=decimal_comma
            )
        elif kind == "psa":
            imported = read_psa(_data, name=name, columns=chosen, decimal_comma=decimal_comma)
        else:
            imported = read_catalog(_data, name=name, columns=chosen, decimal_comma=decimal_comma)
    except InputError as error:
        return Checked(problems=error.problems, total=error.total)
    return Checked(imported.rows, imported.frame.height, imported.warnings)


def role_options(kind: str) -> list[str]:
    """Give back the roles a column of a `kind` file can take: none, or one of its fields."""
    return ["", *(f for f in FIELD_LABELS if f and f in FIELDS[kind])]


def detected_roles(
    name: str, headers: list[str], kind: str, profile: dict[str, str] | None
) -> dict[int, str]:
    """Give back the field each column holds, by position: the source's remembered choices
    where this file has those headers, detection by header name for the rest."""
    present = {normalise(h) for h in headers if h}
    remembered = {
        f: h
        for f, h in (profile or {}).items()
        if f in FIELDS[kind] and (not h.strip() or normalise(h) in present)
    }
    found = resolve(name, headers, kind, remembered)
    return {position: f for f, position in found.positions.items()}


def column_choices(headers: list[str], kind: str, roles: dict[int, str]) -> dict[str, str]:
    """Give back the roles chosen per column as an import's `columns`: every field of the kind,
    each with its header, or "" for no column (so nothing is left to guess)."""
    chosen = {roles[p]: h for p, h in enumerate(headers) if roles.get(p)}
    return {f: chosen.get(f, "") for f in FIELDS[kind]}


def chosen_twice(headers: list[str], roles: dict[int, str]) -> dict[str, list[str]]:
    """Give back the fields chosen for more than one column, with those columns' headers."""
    by_field: dict[str, list[str]] = {}
    for position, role in roles.items():
        if role:
            by_field.setdefault(role, []).append(headers[position])
    return {f: hs for f, hs in by_field.items() if len(hs) > 1}


def labelled_rows(preview: Preview, roles: dict[int, str]) -> pl.DataFrame:
    """Give back the first rows with each column headed `Header → role`."""
    names: list[str] = []
    for position, header in enumerate(preview.headers):
        label = f"{header or f'column {position + 1}'} → {FIELD_LABELS[roles.get(position, '')]}"
        names.append(label if label not in names else f"{label} ({position + 1})")
    rows = preview.rows.select(pl.col("row").alias("Row"), *(f"c{i}" for i in range(len(names))))
    return rows.rename({f"c{i}": n for i, n in enumerate(names)})


def problems_table(problems: list[Problem], total: int) -> None:
    """Show a file's problems, one row each: where (file, row, column) and what is wrong."""
    st.dataframe(
        pl.DataFrame(
            [(p.file, p.row, p.column, p.message) for p in problems],
            schema={"File": pl.String, "Row": pl.Int64, "Column": pl.String, "Problem": pl.String},
            orient="row",
        ),
        hide_index=True,
        width="stretch",
    )
    if total > len(problems):
        st.caption(f"… and {total - len(problems):,} more problems of the same kinds.")
