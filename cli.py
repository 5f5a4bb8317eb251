"""The `trueup` command: the engine and the importers without a browser, for scripts and cron."""

from __future__ import annotations

import sys
from collections import Counter
from pathlib import Path
from typing import Annotated

import polars as pl
import typer

import settings
from connectors.csv import parse_columns
from connectors.csv.export import write_cards, write_unmapped
from connectors.csv.inputs import read_inputs
from engine import CardType, Reconciliation, reconcile
from engine.schema import OPEN_TYPES
from errors import TrueUpError

app = typer.Typer(
    help="TrueUp: the monthly billing true-up of an MSP.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

HIDDEN_BY_DEFAULT = {CardType.UNCHANGED.value, CardType.NO_VENDOR_DATA.value}


@app.callback()
def _root() -> None:
    """TrueUp: the monthly billing true-up of an MSP."""


@app.command("reconcile")
def reconcile_command(
    psa: Annotated[Path, typer.Option(help="The PSA export: one row per agreement line.")],
    usage: Annotated[
        list[Path], typer.Option(help="A vendor usage file (CSV or .xlsx[#sheet]); repeat.")
    ],
    account_map: Annotated[
        list[Path] | None, typer.Option(help="An account map file; repeatable.")
    ] = None,
    product_map: Annotated[
        list[Path] | None, typer.Option(help="A product map file; repeatable.")
    ] = None,
    catalog: Annotated[
        Path | None, typer.Option(help="The PSA product catalogue, for New Revenue prices.")
    ] = None,
    vendor: Annotated[
        str | None, typer.Option(help="The vendor of usage files without a vendor column.")
    ] = None,
    columns: Annotated[
        str | None, typer.Option(help="Usage columns by hand: quantity=Seats,account_name=Org")
    ] = None,
    psa_columns: Annotated[
        str | None, typer.Option(help="PSA columns by hand: quantity=Qty,line_id=Addition")
    ] = None,
    decimal_comma: Annotated[
        bool, typer.Option("--decimal-comma", help="Numbers use a decimal comma: 1.234,5")
    ] = False,
    no_auto_map: Annotated[
        bool, typer.Option("--no-auto-map", help="Do not map exact name matches.")
    ] = False,
    all_cards: Annotated[
        bool, typer.Option("--all", help="Also write unchanged and no_vendor_data cards.")
    ] = False,
    out: Annotated[
        Path | None, typer.Option(help="Write the cards here (default: stdout).")
    ] = None,
    unmapped_out: Annotated[
        Path | None, typer.Option(help="Write the unmapped vendor accounts and products here.")
    ] = None,
) -> None:
    """Reconcile a PSA export against vendor usage files and write the service cards as CSV."""
    try:
        inputs = read_inputs(
            psa,
            usage,
            [(f, "account") for f in account_map or []]
            + [(f, "product") for f in product_map or []],
            catalog,
            vendor=vendor,
            usage_columns=parse_columns(columns) if columns else None,
            psa_columns=parse_columns(psa_columns) if psa_columns else None,
            decimal_comma=decimal_comma,
        )
        for warning in inputs.warnings:
            typer.echo(f"warning: {warning}", err=True)
        result = reconcile(
            inputs.psa_lines,
            inputs.usage,
            inputs.account_maps,
            inputs.product_maps,
            inputs.catalog,
            auto_map=not no_auto_map,
        )
    except TrueUpError as error:
        _fail(error)
    cards = result.cards
    if not all_cards:
        cards = cards.filter(~pl.col("card_type").is_in(HIDDEN_BY_DEFAULT))
    try:
        if out is None:
            write_cards(cards, sys.stdout.buffer)
            sys.stdout.flush()
        else:
            write_cards(cards, out)
        if unmapped_out is not None:
            write_unmapped(result.unmapped, unmapped_out)
    except OSError as error:
        _fail(TrueUpError(f"cannot write {error.filename}: {error.strerror}"))
    typer.echo(run_summary(result), err=True)


def run_summary(result: Reconciliation) -> str:
    """Give back the few lines printed after a reconcile: cards per type, unmapped, net value."""
    types = Counter(result.cards.get_column("card_type").to_list())
    order = (*OPEN_TYPES, CardType.UNCHANGED, CardType.NO_VENDOR_DATA)
    shown = ", ".join(f"{types[t.value]} {t.value}" for t in order if types[t.value])
    kinds = Counter(result.unmapped.get_column("kind").to_list())
    open_cards = result.cards.filter(pl.col("card_type").is_in([t.value for t in OPEN_TYPES]))
    net = open_cards.get_column("monthly_value").sum() or 0
    currency = settings.get("currency")
    return "\n".join(
        [
            f"cards: {shown or 'none'}",
            f"unmapped: {kinds['account']} accounts, {kinds['product']} products",
            f"net monthly value of open cards: {net:,.2f} {currency}",
        ]
    )


def _fail(error: TrueUpError) -> typer.Exit:
    typer.echo(f"error: {error}", err=True)
    raise typer.Exit(2)


def main() -> None:
    """Run the `trueup` command."""
    app()


if __name__ == "__main__":
    main()
