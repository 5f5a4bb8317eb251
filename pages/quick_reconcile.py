"""Quick reconcile: a PSA export and vendor usage files in, service cards out. Nothing is stored."""

from __future__ import annotations

import io
from decimal import Decimal

import polars as pl
import streamlit as st

import settings
from connectors.csv import parse_columns
from connectors.csv.export import cards_for_export, unmapped_for_export
from connectors.csv.inputs import Upload, read_inputs
from engine import CardType, GroupBy, Reconciliation, flag_outliers, group_summary, reconcile
from engine.schema import OPEN_TYPES
from errors import TrueUpError
from pages.workspace import as_text, through_the_router

FILE_TYPES = ["csv", "txt", "tsv", "xlsx"]
TYPE_LABELS = {
    CardType.INCREASE: "Increase",
    CardType.DECREASE: "Decrease",
    CardType.REMOVAL: "Removal",
    CardType.NEW_REVENUE: "New Revenue",
    CardType.UNCHANGED: "Unchanged",
    CardType.NO_VENDOR_DATA: "No vendor data",
}


@st.cache_data(show_spinner="Reading the files and reconciling…", max_entries=4)
def run(
    psa: Upload,
    usage: tuple[Upload, ...],
    maps: tuple[Upload, ...],
    catalog: Upload | None,
    vendor: str | None,
    usage_columns: str,
    psa_columns: str,
    decimal_comma: bool,
    auto_map: bool,
) -> tuple[Reconciliation, list[str]]:
    """Give back the reconciliation of the uploaded files and the import's warnings."""
    inputs = read_inputs(
        psa,
        usage,
        [(m, None) for m in maps],
        catalog,
        vendor=vendor or None,
        usage_columns=parse_columns(usage_columns) if usage_columns.strip() else None,
        psa_columns=parse_columns(psa_columns) if psa_columns.strip() else None,
        decimal_comma=decimal_comma,
    )
    result = reconcile(
        inputs.psa_lines,
        inputs.usage,
        inputs.account_maps,
        inputs.product_maps,
        inputs.catalog,
        auto_map=auto_map,
    )
    return result, inputs.warnings


def upload(file: st.runtime.uploaded_file_manager.UploadedFile) -> Upload:
    return file.name, file.getvalue()


def money(amount: Decimal | None) -> str:
    return f"{amount or 0:,.2f} {settings.get('currency')}"


through_the_router()

st.title("Quick reconcile")
st.caption(
    "Upload a PSA export and one or more vendor usage files (CSV or Excel) to see where they "
    "differ. Nothing is stored: this page is for a one-off check."
)

left, right = st.columns(2)
psa_file = left.file_uploader("PSA export (one row per agreement line)", type=FILE_TYPES)
usage_files = left.file_uploader("Vendor usage files", type=FILE_TYPES, accept_multiple_files=True)
map_files = right.file_uploader(
    "Account and product map files (optional)", type=FILE_TYPES, accept_multiple_files=True
)
catalog_file = right.file_uploader("Product catalogue with prices (optional)", type=FILE_TYPES)

with st.expander("Import options"):
    vendor = st.text_input("Vendor of usage files without a vendor column", placeholder="e.g. Pax8")
    usage_columns = st.text_input(
        "Usage columns by hand", placeholder="quantity=Seats,account_name=Organisation"
    )
    psa_columns = st.text_input("PSA columns by hand", placeholder="quantity=Qty,line_id=Addition")
    decimal_comma = st.checkbox("Numbers use a decimal comma (1.234,5)")
    auto_map = st.checkbox("Map vendor accounts and products whose names match exactly", value=True)

if psa_file is None or not usage_files:
    st.info(
        "Upload the PSA export and at least one usage file to reconcile.",
        icon=":material/upload_file:",
    )
    st.stop()

try:
    result, warnings = run(
        upload(psa_file),
        tuple(upload(f) for f in usage_files),
        tuple(upload(f) for f in map_files or []),
        upload(catalog_file) if catalog_file else None,
        vendor.strip() or None,
        usage_columns,
        psa_columns,
        decimal_comma,
        auto_map,
    )
except TrueUpError as error:
    # The message echoes the files' cells: shown as written, never as Markdown.
    message = as_text(str(error)).replace("\n", "  \n")
    st.error(f"**{error.title}**\n\n{message}", icon=":material/error:")
    st.stop()

for warning in warnings:
    st.warning(warning, icon=":material/warning:")

cards = flag_outliers(
    result.cards, settings.decimal("outlier_min_change"), settings.decimal("outlier_ratio")
)
by_type = {row["key"]: row for row in group_summary(cards, GroupBy.TYPE).iter_rows(named=True)}
open_value = sum((by_type[t]["net_monthly_value"] for t in OPEN_TYPES if t in by_type), Decimal(0))
unmapped_accounts = result.unmapped.filter(pl.col("kind") == "account").height
unmapped_products = result.unmapped.filter(pl.col("kind") == "product").height

metrics = st.columns(len(OPEN_TYPES) + 3)
for column, card_type in zip(metrics, OPEN_TYPES, strict=False):
    row = by_type.get(card_type)
    column.metric(
        TYPE_LABELS[card_type],
        row["cards"] if row else 0,
        money(row["net_monthly_value"]) if row else None,
        delta_color="normal",
    )
metrics[-3].metric("Net monthly value", money(open_value))
metrics[-2].metric("Unmapped accounts", unmapped_accounts)
metrics[-1].metric("Unmapped services", unmapped_products)

if result.auto_account_maps.height or result.auto_product_maps.height:
    st.caption(
        f"Mapped by exact name: {result.auto_account_maps.height} vendor accounts and "
        f"{result.auto_product_maps.height} services."
    )

cards_tab, unmapped_tab = st.tabs(
    [f"Cards ({cards.height:,})", f"Unmapped ({result.unmapped.height:,})"]
)
with cards_tab:
    shown_types = st.multiselect(
        "Card types",
        list(TYPE_LABELS),
        default=[t for t in OPEN_TYPES],
        format_func=lambda t: TYPE_LABELS[CardType(t)],
    )
    search = st.text_input("Search account or service", placeholder="e.g. Contoso")
    shown = cards.filter(pl.col("card_type").is_in([str(t) for t in shown_types]))
    if search.strip():
        needle = search.strip().lower()
        shown = shown.filter(
            pl.concat_str(
                "account_name",
                "account_id",
                "product_name",
                "product_id",
                separator=" ",
                ignore_nulls=True,
            )
            .str.to_lowercase()
            .str.contains(needle, literal=True)
        )
    st.dataframe(
        shown.select(
            pl.col("account_name").fill_null("(not in the PSA export)"),
            "account_id",
            "product_name",
            "contract_id",
            "vendor",
            "psa_quantity",
            "vendor_quantity",
            "change",
            "card_type",
            "unit_price",
            "monthly_value",
            "flagged",
        ),
        hide_index=True,
        width="stretch",
        column_config={
            "account_name": "Account",
            "account_id": "Account id",
            "product_name": "Service",
            "contract_id": "Contract",
            "vendor": "Vendor",
            "psa_quantity": st.column_config.NumberColumn("PSA qty"),
            "vendor_quantity": st.column_config.NumberColumn("Vendor qty"),
            "change": st.column_config.NumberColumn("Change"),
            "card_type": "Type",
            "unit_price": st.column_config.NumberColumn("Unit price", format="%.2f"),
            "monthly_value": st.column_config.NumberColumn("Monthly value", format="%.2f"),
            "flagged": st.column_config.CheckboxColumn("Outlier"),
        },
    )
    buffer = io.BytesIO()
    cards_for_export(shown).write_csv(buffer, null_value="")
    st.download_button(
        f"Download {shown.height:,} card{'' if shown.height == 1 else 's'} (CSV)",
        buffer.getvalue(),
        file_name="cards.csv",
        mime="text/csv",
        icon=":material/download:",
    )

with unmapped_tab:
    st.caption(
        "Vendor accounts and services with neither a map nor an exclusion: their usage reaches "
        "no card. Add them to a map file and upload it above."
    )
    st.dataframe(result.unmapped, hide_index=True, width="stretch")
    buffer = io.BytesIO()
    unmapped_for_export(result.unmapped).write_csv(buffer, null_value="")
    st.download_button(
        "Download the unmapped list (CSV)",
        buffer.getvalue(),
        file_name="unmapped.csv",
        mime="text/csv",
        icon=":material/download:",
    )
