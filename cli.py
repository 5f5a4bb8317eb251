"""The `trueup` command: the engine and the importers without a browser, for scripts and cron."""

from __future__ import annotations

import os

# Polars allocates through jemalloc, which by default keeps freed pages for ten seconds: an
# import's scratch memory would then still count while the engine runs. Returning freed pages
# from a background thread after a tenth of a second keeps the peak near what is in use.
# (Read once, when Polars first allocates: so before it is imported.)
os.environ.setdefault(
    "_RJEM_MALLOC_CONF", "background_thread:true,dirty_decay_ms:100,muzzy_decay_ms:0"
)

import sys
import time
from collections import Counter
from decimal import Decimal
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import polars as pl
import typer

import settings
from connectors.csv import parse_columns
from connectors.csv.export import cards_for_export, neutralised, unmapped_for_export
from connectors.csv.inputs import Inputs, read_inputs
from engine import CardType, GroupBy, Reconciliation, group_summary, reconcile
from engine.mapping import suggest_unmapped
from engine.schema import CATALOG, OPEN_TYPES
from errors import TrueUpError

if TYPE_CHECKING:
    from collections.abc import Callable
    from datetime import date, datetime

    from store import Action, CurrentCards, SourceState, Store
    from store.alerts import SyncWatch
    from store.month import MonthSummary
    from store.types import Role

app = typer.Typer(
    help="TrueUp: the monthly billing true-up of an MSP.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

HIDDEN_BY_DEFAULT = {CardType.UNCHANGED.value, CardType.NO_VENDOR_DATA.value}

# The input options `reconcile` and `suggest` share, declared once.
AccountMaps = Annotated[list[Path] | None, typer.Option(help="An account map file; repeatable.")]
ProductMaps = Annotated[list[Path] | None, typer.Option(help="A product map file; repeatable.")]
VendorOption = Annotated[
    str | None, typer.Option(help="The vendor of usage files without a vendor column.")
]
UsageColumns = Annotated[
    str | None, typer.Option(help="Usage columns by hand: quantity=Seats,account_name=Org")
]
PsaColumns = Annotated[
    str | None, typer.Option(help="PSA columns by hand: quantity=Qty,line_id=Addition")
]
DecimalComma = Annotated[
    bool, typer.Option("--decimal-comma", help="Numbers use a decimal comma: 1.234,5")
]
NoAutoMap = Annotated[bool, typer.Option("--no-auto-map", help="Do not map exact name matches.")]


@app.callback()
def _root() -> None:
    """TrueUp: the monthly billing true-up of an MSP."""


@app.command("reconcile")
def reconcile_command(
    psa: Annotated[Path, typer.Option(help="The PSA export: one row per agreement line.")],
    usage: Annotated[
        list[Path], typer.Option(help="A vendor usage file (CSV or .xlsx[#sheet]); repeat.")
    ],
    account_map: AccountMaps = None,
    product_map: ProductMaps = None,
    catalog: Annotated[
        Path | None, typer.Option(help="The PSA product catalogue, for New Revenue prices.")
    ] = None,
    vendor: VendorOption = None,
    columns: UsageColumns = None,
    psa_columns: PsaColumns = None,
    decimal_comma: DecimalComma = False,
    no_auto_map: NoAutoMap = False,
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
        _, result = _reconcile_files(
            psa,
            usage,
            account_map or [],
            product_map or [],
            catalog,
            vendor=vendor,
            columns=columns,
            psa_columns=psa_columns,
            decimal_comma=decimal_comma,
            auto_map=not no_auto_map,
        )
    except TrueUpError as error:
        _fail(error)
    cards = result.cards
    if not all_cards:
        cards = cards.filter(~pl.col("card_type").is_in(HIDDEN_BY_DEFAULT))
    _write_csv(cards_for_export(cards), out)
    if unmapped_out is not None:
        _write_csv(unmapped_for_export(result.unmapped), unmapped_out)
    typer.echo(run_summary(result), err=True)


def _reconcile_files(
    psa: Path,
    usage: list[Path],
    account_maps: list[Path],
    product_maps: list[Path],
    catalog: Path | None,
    *,
    vendor: str | None,
    columns: str | None,
    psa_columns: str | None,
    decimal_comma: bool,
    auto_map: bool,
) -> tuple[Inputs, Reconciliation]:
    """Give back the files of a quick reconciliation read, and their reconciliation; the files'
    warnings are printed on stderr."""
    inputs = read_inputs(
        psa,
        usage,
        [(f, "account") for f in account_maps] + [(f, "product") for f in product_maps],
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
        auto_map=auto_map,
    )
    return inputs, result


def run_summary(result: Reconciliation) -> str:
    """Give back the few lines printed after a reconcile: cards per type, unmapped, net value."""
    by_type = {
        row["key"]: row for row in group_summary(result.cards, GroupBy.TYPE).iter_rows(named=True)
    }
    order = (*OPEN_TYPES, CardType.UNCHANGED, CardType.NO_VENDOR_DATA)
    shown = ", ".join(f"{by_type[t]['cards']} {t.value}" for t in order if t in by_type)
    kinds = Counter(result.unmapped.get_column("kind").to_list())
    net = sum((by_type[t]["net_monthly_value"] for t in OPEN_TYPES if t in by_type), Decimal(0))
    currency = settings.get("currency")
    return "\n".join(
        [
            f"cards: {shown or 'none'}",
            f"unmapped: {kinds['account']} accounts, {kinds['product']} products",
            f"net monthly value of open cards: {net:,.2f} {currency}",
        ]
    )


@app.command("suggest")
def suggest_command(
    psa: Annotated[
        Path | None,
        typer.Option(help="The PSA export: one row per agreement line (default: the store)."),
    ] = None,
    usage: Annotated[
        list[Path] | None,
        typer.Option(help="A vendor usage file (CSV or .xlsx[#sheet]); repeat. Needs --psa."),
    ] = None,
    account_map: AccountMaps = None,
    product_map: ProductMaps = None,
    catalog: Annotated[
        Path | None, typer.Option(help="The PSA product catalogue: more products to suggest.")
    ] = None,
    vendor: VendorOption = None,
    columns: UsageColumns = None,
    psa_columns: PsaColumns = None,
    decimal_comma: DecimalComma = False,
    no_auto_map: NoAutoMap = False,
    out: Annotated[
        Path | None, typer.Option(help="Write the suggestions here (default: stdout).")
    ] = None,
) -> None:
    """Suggest a PSA account or product for each unmapped vendor account and product, as CSV.

    With --psa and --usage: for those files, read as `trueup reconcile` reads them.
    Without: for the store's current syncs and maps."""
    file_only = {
        "--usage": usage,
        "--account-map": account_map,
        "--product-map": product_map,
        "--catalog": catalog,
        "--vendor": vendor,
        "--columns": columns,
        "--psa-columns": psa_columns,
        "--decimal-comma": decimal_comma,
        "--no-auto-map": no_auto_map,
    }
    try:
        if psa is None:
            given = [flag for flag, value in file_only.items() if value]
            if given:
                one = len(given) == 1
                raise TrueUpError(
                    f"{', '.join(given)} {'is' if one else 'are'} for suggesting from files: "
                    f"give --psa and --usage too, or leave {'it' if one else 'them'} out to "
                    "suggest from the store"
                )
            suggestions = _store_suggestions()
        else:
            if not usage:
                raise TrueUpError("suggesting from files needs vendor usage too: --usage FILE")
            inputs, result = _reconcile_files(
                psa,
                usage,
                account_map or [],
                product_map or [],
                catalog,
                vendor=vendor,
                columns=columns,
                psa_columns=psa_columns,
                decimal_comma=decimal_comma,
                auto_map=not no_auto_map,
            )
            no_catalog = pl.DataFrame(schema=CATALOG)
            suggestions = _suggestions(
                result,
                inputs.usage,
                inputs.psa_lines,
                inputs.catalog if inputs.catalog is not None else no_catalog,
                inputs.account_maps,
            )
    except TrueUpError as error:
        _fail(error)
    _write_csv(suggestions, out)
    typer.echo(suggest_summary(suggestions), err=True)


def _store_suggestions() -> pl.DataFrame:
    from store import current_cards

    current = current_cards(_store())
    inputs = current.inputs
    return _suggestions(
        current.result, inputs.usage, inputs.psa_lines, inputs.catalog, inputs.account_maps
    )


def _suggestions(
    result: Reconciliation,
    usage: pl.DataFrame,
    psa_lines: pl.DataFrame,
    catalog: pl.DataFrame,
    account_maps: pl.DataFrame,
) -> pl.DataFrame:
    """Give back one suggestion per unmapped item of the reconciliation (SUGGESTIONS)."""
    # The accounts auto-mapped in this reconciliation are taken too: a PSA account that just got
    # a vendor's account by exact name is not the best guess for another account of that vendor.
    taken = pl.concat([account_maps, result.auto_account_maps])
    return suggest_unmapped(result.unmapped, usage, psa_lines, catalog, taken)


def suggest_summary(suggestions: pl.DataFrame) -> str:
    """Give back the lines printed after suggest: the unmapped items of each kind, and how many
    of them got a suggestion."""
    unmapped = Counter(suggestions.get_column("kind").to_list())
    offered = suggestions.filter(pl.col("psa_id").is_not_null())
    suggested = Counter(offered.get_column("kind").to_list())
    return "\n".join(
        [
            f"unmapped: {unmapped['account']} accounts, {unmapped['product']} products",
            f"suggestions: {suggested['account']} of {unmapped['account']} accounts, "
            f"{suggested['product']} of {unmapped['product']} products",
        ]
    )


class ImportKind(StrEnum):
    PSA = "psa"
    USAGE = "usage"
    CATALOG = "catalog"
    MAP = "map"


@app.command("import")
def import_command(
    file: Annotated[Path, typer.Argument(help="The CSV or .xlsx file (book.xlsx#Sheet).")],
    kind: Annotated[
        ImportKind,
        typer.Option(
            help="psa, usage, catalog (the PSA's product catalogue), or map (an account or "
            "product map file)."
        ),
    ],
    source: Annotated[
        str | None, typer.Option(help="The source this file syncs: the PSA's or a vendor's name.")
    ] = None,
    vendor: Annotated[
        str | None, typer.Option(help="The vendor of usage rows without one (default: --source).")
    ] = None,
    distributor: Annotated[
        str | None, typer.Option(help="The distributor the vendor's counts come through.")
    ] = None,
    columns: Annotated[
        str | None,
        typer.Option(help="Columns by hand, remembered for the source: quantity=Seats,..."),
    ] = None,
    decimal_comma: Annotated[
        bool | None,
        typer.Option(
            "--decimal-comma/--no-decimal-comma",
            help="Numbers use a decimal comma: 1.234,5 (remembered for the source).",
        ),
    ] = None,
) -> None:
    """Import a file into the store: a PSA export, the PSA's catalogue or vendor usage as a new
    snapshot of its source (a sync), or a map file."""
    from store import import_csv

    store = _store()
    try:
        if kind is ImportKind.MAP:
            typer.echo(_import_map_file(store, file, vendor))
            return
        if not source:
            raise TrueUpError(f"name the source this {kind.value} file is a sync of: --source NAME")
        result = import_csv(
            store,
            source,
            kind.value,
            file,
            vendor=vendor,
            distributor=distributor,
            columns=parse_columns(columns) if columns else None,
            decimal_comma=decimal_comma,
        )
    except TrueUpError as error:
        _fail(error)
    for warning in result.warnings:
        typer.echo(f"warning: {warning}", err=True)
    typer.echo(
        f"{result.source}: sync {result.sync_run_id} stored {result.rows_stored:,} rows "
        f"from {result.rows_read:,} in {file.name}"
    )


maps_app = typer.Typer(
    help="Import and export the account and product maps (map files: DESIGN section 5).",
    no_args_is_help=True,
)
app.add_typer(maps_app, name="maps")


class MapKind(StrEnum):
    ACCOUNT = "account"
    PRODUCT = "product"


@maps_app.command("import")
def maps_import_command(
    file: Annotated[Path, typer.Argument(help="An account or product map file (CSV or .xlsx).")],
    vendor: Annotated[
        str | None, typer.Option(help="The vendor of the rows, when the file has no vendor column.")
    ] = None,
) -> None:
    """Store the maps of a map file (account or product, as its columns say) as one action."""
    store = _store()
    try:
        typer.echo(_import_map_file(store, file, vendor))
    except TrueUpError as error:
        _fail(error)


def _import_map_file(store: Store, file: Path, vendor: str | None) -> str:
    """Give back what a map file changed in the store, in a line, after storing its maps."""
    from store import import_maps

    maps = import_maps(store, file, vendor=vendor)
    return (
        f"{maps.kind} maps from {file.name}: {maps.added} added, {maps.changed} changed, "
        f"{maps.unchanged} unchanged"
    )


@maps_app.command("export")
def maps_export_command(
    out: Annotated[
        Path | None,
        typer.Option(
            help="The file to write; without --kind, both maps beside it: FILE-accounts.csv "
            "and FILE-products.csv. With --kind, - or none is stdout."
        ),
    ] = None,
    kind: Annotated[MapKind | None, typer.Option(help="Only this map: account or product.")] = None,
) -> None:
    """Write the stored maps as map files, which `trueup maps import` reads back unchanged."""
    from store.mapping import export_maps

    if kind is not None:
        targets = [(kind, out)]
    elif out is None or str(out) == "-":
        _fail(
            TrueUpError(
                "account and product maps have different columns, so they are two files: "
                "give --out FILE, or --kind account|product to write one map to stdout"
            )
        )
    else:
        targets = [(k, out.with_name(f"{out.stem}-{k.value}s{out.suffix}")) for k in MapKind]
    store = _store()
    for map_kind, path in targets:
        frame = export_maps(store, map_kind.value)
        where = _write_csv(frame, path)
        typer.echo(f"{map_kind.value} maps: {frame.height:,} rows to {where}", err=True)


@app.command("status")
def status_command() -> None:
    """Show the sources and their last syncs, the unmapped counts and the open cards."""
    from store import current_cards, source_states

    store = _store()
    with store.session() as session:
        states = source_states(session)
    if not states:
        typer.echo("no sources yet: import a file with `trueup import --source NAME --kind ...`")
        return
    typer.echo("sources:")
    for state in states:
        typer.echo(f"  {state.name} ({state.kind.value}): {_sync_line(state)}")
        if state.catalog is not None:
            catalog = state.catalog
            line = f"    catalogue: last good sync {catalog.started_at:%Y-%m-%d %H:%M} UTC, "
            line += f"{catalog.rows_stored:,} products"
            typer.echo(line + (f" from {catalog.file_name}" if catalog.file_name else ""))
    typer.echo(store_summary(current_cards(store)))


def _sync_line(state: SourceState) -> str:
    good, last = state.last_good, state.last
    line = "no good sync yet"
    if good is not None:
        line = f"last good sync {good.started_at:%Y-%m-%d %H:%M} UTC, {good.rows_stored:,} rows"
        if good.file_name:
            line += f" from {good.file_name}"
    if last is not None and last is not good:
        first_line = (last.error or "").splitlines()[0] if last.error else ""
        line += f"; last sync {last.status.value} {last.started_at:%Y-%m-%d %H:%M}"
        line += f": {first_line}" if first_line else ""
    return line


@app.command("cards")
def cards_command(
    all_cards: Annotated[
        bool,
        typer.Option("--all", help="Also unchanged, no-vendor-data and decided cards."),
    ] = False,
    out: Annotated[
        Path | None, typer.Option(help="Write the cards here (default: stdout).")
    ] = None,
) -> None:
    """Write the current cards from the store as CSV: the reconcile columns plus `status`."""
    from store import current_cards
    from store.cards import is_open

    current = current_cards(_store())
    cards = current.cards if all_cards else current.cards.filter(is_open())
    table = cards_for_export(cards).with_columns(cards.get_column("status"))
    _write_csv(table, out)
    typer.echo(store_summary(current), err=True)


def store_summary(current: CurrentCards) -> str:
    """Give back the lines that sum up the current cards: unmapped counts, then the open cards
    (undecided, or scheduled) by type with their monthly value, and the net."""
    from store.cards import is_open

    kinds = Counter(current.result.unmapped.get_column("kind").to_list())
    open_cards = current.cards.filter(is_open())
    by_type = open_cards.group_by("card_type").agg(
        pl.len().alias("cards"), pl.col("monthly_value").sum().alias("value")
    )
    counts = {row["card_type"]: row for row in by_type.iter_rows(named=True)}
    currency = settings.get("currency")
    lines = [f"unmapped: {kinds['account']} accounts, {kinds['product']} products"]
    shown = [
        f"{counts[t.value]['cards']} {t.value} ({counts[t.value]['value'] or 0:,.2f})"
        for t in OPEN_TYPES
        if t.value in counts
    ]
    lines.append(f"open cards: {', '.join(shown) or 'none'}")
    net = open_cards.get_column("monthly_value").sum() or 0
    lines.append(f"net monthly value of open cards: {net:,.2f} {currency}")
    return "\n".join(lines)


CardKeys = Annotated[
    list[str], typer.Argument(help="Cards as ACCOUNT_ID:PRODUCT_ID (split at the first ':').")
]


@app.command("approve")
def approve_command(
    keys: CardKeys,
    effective: Annotated[
        str | None,
        typer.Option(
            help="When the change takes effect, YYYY-MM-DD (default: the 1st of next month)."
        ),
    ] = None,
    contract: Annotated[
        str | None,
        typer.Option(
            help="The agreement New Revenue goes to (default: the account's agreement holding "
            "most of its reconciled lines)."
        ),
    ] = None,
) -> None:
    """Approve the changes of these cards, as one action (`trueup undo` reverses it)."""
    _decide_command(keys, "approve", effective, contract)


@app.command("dismiss")
def dismiss_command(keys: CardKeys) -> None:
    """Dismiss these cards until their vendor quantity changes, as one action."""
    _decide_command(keys, "dismiss", None, None)


@app.command("schedule")
def schedule_command(
    keys: CardKeys,
    effective: Annotated[str, typer.Option(help="When the change will take effect, YYYY-MM-DD.")],
) -> None:
    """Save an effective date on these cards without approving them: they stay open."""
    _decide_command(keys, "schedule", effective, None)


PAST = {"approve": "approved", "dismiss": "dismissed", "schedule": "scheduled"}
KEY = ["account_id", "product_id"]
KEY_TYPE = [*KEY, "card_type"]


def _decide_command(
    keys: list[str], verb: str, effective: str | None, contract: str | None
) -> None:
    """Decide on the cards named by `keys`; exit 1 when some had a decision that holds (left as
    they were), 2 when a key names no card, a card asks for no decision, or New Revenue has no
    agreement to go to."""
    from datetime import date

    from engine.contracts import default_contracts
    from store import Action, current_cards
    from store.decisions import NO_CONTRACT, decide_cards
    from store.types import now

    action = Action(verb)
    try:
        when = date.fromisoformat(effective) if effective is not None else None
    except ValueError:
        _fail(TrueUpError(f"--effective {effective} is not a date: give it as YYYY-MM-DD"))
    wanted = _card_keys(keys)
    store = _store()
    current = current_cards(store)
    chosen = current.cards.join(wanted, on=KEY, how="semi")
    known = set(chosen.select(KEY).iter_rows())
    unknown = [f"{a}:{p}" for a, p in wanted.iter_rows() if (a, p) not in known]
    if unknown:
        _fail(TrueUpError(f"no such card: {', '.join(unknown)} (see `trueup cards --all`)"))
    decidable = {t.value for t in OPEN_TYPES}
    if action is Action.DISMISS:
        decidable.add(CardType.NO_VENDOR_DATA.value)  # shown as information, and dismissible
    closed = chosen.filter(~pl.col("card_type").is_in(decidable))
    if not closed.is_empty():
        named = [f"{a}:{p} is {t}" for a, p, t in closed.select(KEY_TYPE).iter_rows()]
        _fail(TrueUpError(f"not an open card: {'; '.join(named)}: there is nothing to {verb}"))
    contracts: dict[tuple[str, str], str] = {}
    if contract is not None:
        contracts = {key: contract for key in known}
    elif action is Action.APPROVE:
        # Worked out here, from the cards already read, rather than again by the store.
        defaults = default_contracts(current.cards, current.inputs.psa_lines).drop_nulls()
        contracts = {(a, p): c for a, p, c in defaults.iter_rows()}
    at = now()
    decided = decide_cards(store, chosen, action, effective_date=when, contracts=contracts, at=at)
    if decided.decided:
        line = f"{PAST[verb]} {decided.decided:,} card{'s' * (decided.decided != 1)}"
        if action is not Action.DISMISS:
            line += f", effective {', '.join(map(str, _effective_dates(chosen, action, when, at)))}"
        typer.echo(line)
    no_contract = decided.refused.filter(pl.col("action") == NO_CONTRACT)
    held = decided.refused.filter(pl.col("action") != NO_CONTRACT)
    for a, p, done, by, made_at in held.iter_rows():
        typer.echo(
            f"{a}:{p}: already {PAST[done]} by {by} at {made_at:%Y-%m-%d %H:%M} UTC; left as it is",
            err=True,
        )
    if not no_contract.is_empty():
        lacking = ", ".join(f"{a}:{p}" for a, p in no_contract.select(KEY).iter_rows())
        _fail(
            TrueUpError(
                f"{lacking}: New Revenue, and the account has no agreement to add it to: "
                "give one with --contract ID"
            )
        )
    if not held.is_empty():
        raise typer.Exit(1)


def _effective_dates(
    cards: pl.DataFrame, action: Action, when: date | None, at: datetime
) -> list[date]:
    """Give back the dates the decided cards take effect on: the date given, else (approving)
    the date a scheduled card was scheduled for, else the first of next month."""
    from store import Action, CardStatus
    from store.decisions import first_of_next_month

    default = first_of_next_month(at)
    if when is not None or action is not Action.APPROVE:
        return [when or default]
    scheduled = pl.col("status") == CardStatus.SCHEDULED.value
    dates = cards.select(
        pl.when(scheduled).then(pl.col("effective_date")).otherwise(pl.lit(default))
    )
    return sorted(set(dates.to_series().drop_nulls()))


def _card_keys(keys: list[str]) -> pl.DataFrame:
    """Give back the cards named ACCOUNT_ID:PRODUCT_ID (split at the first ':'), each once."""
    bad = [key for key in keys if ":" not in key]
    if bad:
        _fail(
            TrueUpError(
                f"not a card: {', '.join(bad)}: name a card as ACCOUNT_ID:PRODUCT_ID, "
                "as `trueup cards` lists them"
            )
        )
    pairs = [tuple(key.split(":", 1)) for key in keys]
    return pl.DataFrame(pairs, schema=KEY, orient="row").unique(maintain_order=True)


@app.command("undo")
def undo_command() -> None:
    """Reverse your last action on cards: one card, or the whole of one bulk action."""
    from store.decisions import last_decision, undo_last_decision

    store = _store()
    last = last_decision(store)
    undone = undo_last_decision(store)
    if not undone or last is None:
        typer.echo("nothing to undo")
        return
    typer.echo(f"undid {last[1].value} of {undone:,} card{'s' * (undone != 1)}")


@app.command("export-changes")
def export_changes_command(
    out: Annotated[Path, typer.Option(help="The file to write: FILE.csv or FILE.xlsx.")],
) -> None:
    """Write the approved changes still to apply in the PSA, and mark them exported, so that
    each goes out once."""
    from connectors.csv.export import write_changes
    from store.changes import export_changes

    suffix = out.suffix.lower()
    if suffix not in (".csv", ".xlsx"):
        _fail(TrueUpError(f"{out}: write the changes to a .csv or .xlsx file"))
    store = _store()
    try:
        # Opened before the changes are marked: a file that cannot be written marks nothing.
        with out.open("wb") as file:
            changes = export_changes(store)
            write_changes(changes, file, excel=suffix == ".xlsx")
    except OSError as error:
        _fail(TrueUpError(f"cannot write {error.filename}: {error.strerror}"))
    count = changes.height
    typer.echo(f"exported {count:,} change{'s' * (count != 1)} to {out}")


class SummaryFormat(StrEnum):
    TABLE = "table"
    CSV = "csv"
    JSON = "json"


MonthOption = Annotated[
    str | None, typer.Option("--month", help="The month, YYYY-MM (default: this month).")
]


@app.command("summary")
def summary_command(
    month: MonthOption = None,
    output: Annotated[
        SummaryFormat,
        typer.Option(
            "--format",
            help="table: for reading; json: the figures the Month page and the report show; "
            "csv: one row per vendor or distributor, after an '(all vendors)' row that also "
            "carries the month's per-type, dismissed and open figures.",
        ),
    ] = SummaryFormat.TABLE,
) -> None:
    """Print a month's headline figures and its figures per vendor or distributor: what the
    decisions made in it changed, and what was left open."""
    import json

    summary = _month_summary(month)
    figures = summary.to_json()
    if output is SummaryFormat.JSON:
        typer.echo(json.dumps(figures, indent=2))
    elif output is SummaryFormat.CSV:
        _write_csv(summary_rows(figures), None)
    else:
        typer.echo(summary_table(figures, settings.get("currency")))


ALL_VENDORS = "(all vendors)"


def summary_rows(figures: dict[str, Any]) -> pl.DataFrame:
    """Give back a month's `to_json()` figures as one table: an '(all vendors)' row with the
    headline, then one row per vendor or distributor (money as exact text)."""
    from engine.month import FIGURES

    columns = ["month", "vendor", "approved", "net_change", "recovered", "dismissed"]
    columns += [name for name in FIGURES if name not in (*columns, "period")]
    counts = {name for name, dtype in FIGURES.items() if dtype == pl.Int64}
    schema = {name: pl.Int64 if name in counts else pl.String for name in columns}
    headline = {"vendor": ALL_VENDORS, **figures["headline"]}
    rows = [{"month": figures["month"], **row} for row in [headline, *figures["by_vendor"]]]
    # Vendor names come from vendors' files: neutralised for a spreadsheet, money left as is.
    return pl.DataFrame(rows, schema=schema).with_columns(neutralised("vendor"))


def summary_table(figures: dict[str, Any], currency: str) -> str:
    """Give back a month's `to_json()` figures as lines to read: the headline, then the
    vendors or distributors."""
    from datetime import UTC, datetime

    from report import figure_text, headline_rows, month_name, status_text

    lines = [f"{month_name(figures['month'])}: {status_text(figures, datetime.now(UTC))}"]
    for row in headline_rows(figures["headline"], currency):
        label = ("  " if row.part else "") + row.label
        lines.append(f"{label:<26}{row.count:>8}{row.money:>20}".rstrip())
    vendors = figures["by_vendor"]
    if not vendors:
        return "\n".join([*lines, "", "no decisions in this month"])
    width = max(len("vendor or distributor"), *(len(v["vendor"]) for v in vendors))
    header = ["approved", "net change", "recovered", "dismissed"]
    lines += ["", f"{'vendor or distributor':<{width}}{header[0]:>10}"]
    lines[-1] += f"{header[1]:>20}{header[2]:>20}{header[3]:>11}"
    for vendor in vendors:
        net, got = (figure_text(vendor[k], currency) for k in ("net_change", "recovered"))
        lines.append(
            f"{vendor['vendor']:<{width}}{vendor['approved']:>10,}{net:>20}{got:>20}"
            f"{vendor['dismissed']:>11,}"
        )
    return "\n".join(lines)


@app.command("report")
def report_command(
    out: Annotated[Path, typer.Option(help="The PDF file to write.")],
    month: MonthOption = None,
) -> None:
    """Write a month's report as one page of PDF: the headline figures, the month per vendor
    or distributor, and its charts beside the months before it."""
    from report import figure_text, month_name
    from report.pdf import month_report

    summary = _month_summary(month)
    currency = settings.get("currency")
    pdf = month_report(summary, currency)
    try:
        out.write_bytes(pdf)
    except OSError as error:
        _fail(TrueUpError(f"cannot write {error.filename}: {error.strerror}"))
    headline = summary.to_json()["headline"]
    typer.echo(
        f"wrote the {month_name(summary.period)} report to {out}: "
        f"revenue recovered {figure_text(headline['recovered'], currency)}, "
        f"net change in billed MRR {figure_text(headline['net_change'], currency)}"
    )


@app.command("close-month")
def close_month_command(
    month: MonthOption = None,
    reopen: Annotated[
        bool, typer.Option("--reopen", help="Reopen a closed month: its figures go live again.")
    ] = False,
) -> None:
    """Close a month (default: this month): freeze its summary, with the cards open now, so
    that its figures and report stay the same whatever comes later. For cron on the 1st:
    `trueup close-month --month $(date -d yesterday +%Y-%m)`."""
    from report import figure_text, month_name
    from store.month import close_month, reopen_month

    period = _month(month)
    store = _store()
    if reopen:
        if not reopen_month(store, period):
            _fail(TrueUpError(f"{period} is not closed: there is nothing to reopen"))
        typer.echo(f"reopened {month_name(period)}: its figures are live again")
        return
    try:
        closed = close_month(store, period)
    except TrueUpError as error:
        _fail(error)
    headline = closed.to_json()["headline"]
    currency = settings.get("currency")
    typer.echo(
        f"closed {month_name(period)}: revenue recovered "
        f"{figure_text(headline['recovered'], currency)}, "
        f"{headline['open'] or 0:,} cards left open"
    )


def _month(month: str | None) -> str:
    """Give back the month asked for (default: this month), or fail when it is not YYYY-MM."""
    import re

    from store.month import current_period

    if month is not None and not re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", month):
        _fail(TrueUpError(f"--month {month}: write the month as YYYY-MM, e.g. 2026-11"))
    return month or current_period()


def _month_summary(month: str | None) -> MonthSummary:
    """Give back the month's summary from the store, or fail with why not (a month written
    other than YYYY-MM, or one not begun)."""
    from store.month import month_summary

    period = _month(month)
    store = _store()
    try:
        return month_summary(store, period)
    except TrueUpError as error:
        _fail(error)
    raise AssertionError("unreachable: _fail exits")


@app.command("demo")
def demo_command(
    reset: Annotated[
        bool,
        typer.Option("--reset", help="Delete everything in the store first, then seed the demo."),
    ] = False,
) -> None:
    """Seed the demo into an empty store: a realistic MSP with a year of syncs, maps, decisions
    and closed months, and this month's work open. With --reset, delete everything in the store
    and seed it again."""
    import time

    from store import current_cards, ensure_demo, reset_demo

    store = _store()
    started = time.perf_counter()
    try:
        demo = reset_demo(store) if reset else ensure_demo(store)
        if demo is None:
            raise TrueUpError(
                "the store already holds sources, maps or decisions; "
                "`trueup demo --reset` deletes everything in it and seeds the demo again"
            )
    except TrueUpError as error:
        _fail(error)
    seconds = time.perf_counter() - started
    first, last = demo.months[0], demo.months[-1]
    typer.echo(
        f"demo seeded in {seconds:.1f} s: {demo.customers} customers, {demo.syncs} syncs "
        f"from {first:%B %Y} to {last:%B %Y}, {demo.decisions} decisions"
    )
    typer.echo(store_summary(current_cards(store)))


source_app = typer.Typer(
    help="The API sources: the PSA and the vendor portals TrueUp syncs itself.",
    no_args_is_help=True,
)
app.add_typer(source_app, name="source")


@source_app.command("types")
def source_types_command() -> None:
    """List the API source types and the settings each needs."""
    from connectors.registry import TYPES

    for kind in TYPES.values():
        quick = "quick sync reads only changes" if kind.quick else "quick sync reads everything"
        typer.echo(f"{kind.name}: {kind.title} ({kind.side}; {quick})")
        for field in kind.fields:
            notes = [note for note in ("secret" * field.secret, "required" * field.needed) if note]
            if field.default is not None:
                notes.append(f"default {field.default}")
            typer.echo(f"  {field.name} ({', '.join(notes) or 'optional'}): {field.help}")


@source_app.command("add")
def source_add_command(
    name: Annotated[str, typer.Argument(help="The source's name, e.g. psa or pax8.")],
    source_type: Annotated[str, typer.Option("--type", help="The API: see `trueup source types`.")],
    values: Annotated[
        list[str] | None,
        typer.Option("--set", help="A setting as KEY=VALUE; repeatable."),
    ] = None,
) -> None:
    """Add an API source, or change the settings of one (secrets are stored encrypted)."""
    from store.audit import current_user
    from store.sources import add_source
    from store.types import now

    pairs: dict[str, str] = {}
    for pair in values or []:
        key, equals, value = pair.partition("=")
        if not equals or not key.strip():
            _fail(TrueUpError(f'--set takes KEY=VALUE, not "{pair.partition("=")[0]}"'))
        pairs[key.strip()] = value.strip()
    store = _store()
    try:
        with store.session() as session:
            saved = add_source(session, name, source_type, pairs, user=current_user(), at=now())
    except TrueUpError as error:
        _fail(error)
    done = "added" if saved.added else "changed"
    typer.echo(f'source "{saved.name}" {done} ({saved.type})')
    typer.echo(f"  settings: {', '.join(saved.settings) or 'none'}")
    if saved.secrets:
        typer.echo(f"  secrets stored encrypted: {', '.join(saved.secrets)}")
    if saved.file_secrets:
        typer.echo(f"  secrets read from .streamlit/secrets.toml: {', '.join(saved.file_secrets)}")
    typer.echo(f"next: `trueup source test {saved.name}`, then `trueup sync --full`")


@source_app.command("test")
def source_test_command(
    name: Annotated[str, typer.Argument(help="The source to test.")],
) -> None:
    """Sign in to the source and read one record; say plainly what is wrong if that fails."""
    from errors import ADVICE, ConnectorError
    from store.credentials import redact
    from store.sources import source_config

    store = _store()
    secrets: list[str] = []
    try:
        with store.session() as session:
            config = source_config(session, name)
        secrets = config.secret_values
        config.type.test(config.values)
    except ConnectorError as error:
        what = ADVICE[error.kind][0].lower()
        typer.echo(f"{name}: {what}: {redact(str(error), secrets)}")
        raise typer.Exit(1) from None
    except TrueUpError as error:
        typer.echo(f"{name}: not tested: {error}")
        raise typer.Exit(1) from None
    typer.echo(f"{name}: connection ok ({config.type.title})")


@source_app.command("list")
def source_list_command() -> None:
    """List the sources: their type and, for API sources, the settings they have."""
    from store.sources import listed

    store = _store()
    with store.session() as session:
        rows = listed(session)
    if not rows:
        typer.echo("no sources yet: add one with `trueup source add NAME --type ...`")
    for name, kind, source_type, keys in rows:
        typer.echo(f"{name} ({kind}, {source_type})" + (f": {', '.join(keys)}" if keys else ""))


@source_app.command("key")
def source_key_command() -> None:
    """Print a new secret key for TRUEUP_SECRET_KEY (it encrypts the stored credentials)."""
    from store.credentials import new_key

    typer.echo(new_key())


user_app = typer.Typer(
    help="The people who may sign in to the app: local accounts and single sign-on identities.",
    no_args_is_help=True,
)
app.add_typer(user_app, name="user")

RoleOption = Annotated[str, typer.Option("--role", help="viewer, approver or admin.")]
PasswordStdin = Annotated[
    bool,
    typer.Option("--password-stdin", help="Read the password from standard input (scripts)."),
]


@user_app.command("add")
def user_add_command(
    username: Annotated[str, typer.Argument(help="Their username (an e-mail for --sso).")],
    role: RoleOption,
    name: Annotated[str | None, typer.Option("--name", help="Their name as shown.")] = None,
    sso: Annotated[
        bool, typer.Option("--sso", help="They sign in by single sign-on: no password.")
    ] = False,
    password_stdin: PasswordStdin = False,
) -> None:
    """Add a person: a local account (asks for the password twice) or, with --sso, a single
    sign-on identity given a role."""
    from store.users import add_user

    password = None if sso else _new_password(password_stdin)
    _change_users(
        lambda session, by: add_user(
            session, username, _role(role), password=password, display_name=name, by=by
        )
    )
    how = "signs in by single sign-on" if sso else "signs in with a password"
    typer.echo(f"{username.strip().lower()} added as {_role(role).value} ({how})")


@user_app.command("passwd")
def user_passwd_command(
    username: Annotated[str, typer.Argument(help="The local account.")],
    password_stdin: PasswordStdin = False,
) -> None:
    """Give a local account a new password (asks for it twice)."""
    from store.users import change_password

    password = _new_password(password_stdin)
    _change_users(lambda session, by: change_password(session, username, password, by=by))
    typer.echo(f"password of {username.strip().lower()} changed")


@user_app.command("role")
def user_role_command(
    username: Annotated[str, typer.Argument(help="The person.")],
    role: Annotated[str, typer.Argument(help="viewer, approver or admin.")],
) -> None:
    """Give a person another role."""
    from store.users import change_role

    _change_users(lambda session, by: change_role(session, username, _role(role), by=by))
    typer.echo(f"{username.strip().lower()} is now {_role(role).value}")


@user_app.command("remove")
def user_remove_command(
    username: Annotated[str, typer.Argument(help="The person.")],
) -> None:
    """Remove a person: they can no longer sign in (the audit log keeps what they did)."""
    from store.users import remove_user

    _change_users(lambda session, by: remove_user(session, username, by=by))
    typer.echo(f"{username.strip().lower()} removed")


@user_app.command("list")
def user_list_command() -> None:
    """List the people who may sign in, their role and how they sign in."""
    from store.users import people

    with _store().session() as session:
        rows = [
            (u.username, u.role.value, u.display_name, u.password_hash is not None)
            for u in people(session)
        ]
    if not rows:
        typer.echo("no one yet: add an admin with `trueup user add NAME --role admin`")
    for username, role, display, local in rows:
        shown = f" ({display})" if display else ""
        how = "password" if local else "single sign-on"
        typer.echo(f"{username}{shown}: {role}, {how}")


def _role(role: str) -> Role:
    from store.types import Role

    try:
        return Role(role.strip().lower())
    except ValueError:
        _fail(TrueUpError(f'"{role}" is not a role: use viewer, approver or admin'))
    raise AssertionError("unreachable: _fail exits")


def _new_password(from_stdin: bool) -> str:
    """Give back a new password: the first line of standard input, or typed twice, hidden."""
    from store.users import UserError, check_password

    if from_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    try:
        check_password(password)
    except UserError as error:
        _fail(error)
    return password


def _change_users(change: Callable[[Any, str], object]) -> None:
    """Make a change to the people who may sign in, as the install's operator (this shell)."""
    from store.audit import current_user

    store = _store()
    try:
        with store.session() as session:
            change(session, current_user())
    except TrueUpError as error:
        _fail(error)


@app.command("sync")
def sync_command(
    quick: Annotated[
        bool,
        typer.Option(
            "--quick/--full",
            help="Quick: only what changed since the last good sync, where the API can tell; "
            "full: everything again.",
        ),
    ] = True,
    source: Annotated[
        str | None, typer.Option(help="Only this source (default: every API source).")
    ] = None,
) -> None:
    """Sync the API sources into new snapshots; exit 1 if any failed (for cron).

    One sync per source at a time: a source syncing already (from the Sync page, or an
    earlier cron run) fails with a message saying so. Runs left `running` by a sync that was
    killed are marked failed first.
    """
    from store.running import reap
    from store.sources import api_sources
    from store.sync import sync_source

    store = _store()
    for run_id in reap(store):
        typer.echo(
            f"sync run {run_id} was left running by a sync that stopped: marked failed", err=True
        )
    if source is None:
        with store.session() as session:
            names = api_sources(session)
        if not names:
            typer.echo("no API sources yet: add one with `trueup source add NAME --type ...`")
            return
    else:
        names = [source]
    mode = "quick" if quick else "full"
    watch = _watch_for_alerts(store)
    failed: list[tuple[str, str]] = []
    for name in names:
        started = time.monotonic()
        try:
            result = sync_source(store, name, mode=mode)
        except TrueUpError as error:
            failed.append((name, str(error)))
            seconds = time.monotonic() - started
            typer.echo(f"{name}: failed after {seconds:.1f} s: {error}")
            continue
        for warning in result.warnings:
            typer.echo(f"warning: {name}: {warning}", err=True)
        stored = result.rows_stored
        rows = (
            f"{stored['usage']:,} usage rows"
            if "usage" in stored
            else f"{stored['psa']:,} lines, {stored['catalog']:,} catalogue products"
        )
        typer.echo(
            f"{name}: ok, {mode} sync, {rows} from {result.rows_read:,} records "
            f"in {result.seconds:.1f} s"
        )
    if watch is not None:
        _alert_after_syncs(store, watch, failed)
    if failed:
        raise typer.Exit(1)


def _watch_for_alerts(store: Store) -> SyncWatch | None:
    """Give back what the alert after the syncs compares with, or None: alerts are not set up,
    or cannot be (said on stderr; the syncs run all the same)."""
    from store.alerts import watch_syncs

    try:
        return watch_syncs(store)
    except TrueUpError as error:
        typer.echo(f"alerts: {error}; no alert will be sent", err=True)
        return None


def _alert_after_syncs(store: Store, watch: SyncWatch, failed: list[tuple[str, str]]) -> None:
    """Send the alert the syncs call for; a failure to send is said on stderr, and changes no
    exit code."""
    from store.alerts import alert_after_syncs

    try:
        alert, problems = alert_after_syncs(store, watch, failed)
    except TrueUpError as error:
        typer.echo(f"alerts: {error}; no alert was sent", err=True)
        return
    for problem in problems:
        typer.echo(f"alert not sent: {problem}", err=True)
    if alert is not None and len(problems) < watch.targets.count:
        typer.echo(f"alert sent: {alert.subject}")


@app.command("apply")
def apply_command(
    keys: Annotated[
        list[str] | None,
        typer.Argument(help="Only these cards, as ACCOUNT_ID:PRODUCT_ID (default: every one)."),
    ] = None,
    dry_run: Annotated[
        bool,
        typer.Option("--dry-run", help="Read the PSA and compare; write and record nothing."),
    ] = False,
) -> None:
    """Send the approved changes that are due to the PSA, each once; exit 1 if any ended in
    conflict, rejected, failed or unknown (for cron on the 1st)."""
    from store.writeback import FAILING, apply_changes

    if keys:
        _card_keys(keys)  # fails on a key that is not ACCOUNT_ID:PRODUCT_ID
    try:
        done = apply_changes(_store(), keys or None, dry_run=dry_run)
    except TrueUpError as error:
        _fail(error)
    if not done:
        typer.echo("nothing to apply")
        return
    for change in done:
        old = "new line" if change.old_quantity is None else f"{change.old_quantity.normalize():f}"
        typer.echo(
            f"{change.key} {change.account_name} / {change.product_name}: {old} -> "
            f"{change.new_quantity.normalize():f}: {change.state}"
            + (f" ({change.message})" if change.message else "")
        )
    counts = Counter(change.state for change in done)
    typer.echo(("dry run: " * dry_run) + ", ".join(f"{n} {s}" for s, n in sorted(counts.items())))
    if FAILING & set(counts):
        raise typer.Exit(1)


@app.command("backup")
def backup_command(
    out: Annotated[Path, typer.Option("--out", help="The backup file to write (a zip).")],
) -> None:
    """Back up the whole workspace to one file, consistent while the app runs (for cron).

    It restores into SQLite or PostgreSQL alike with `trueup restore FILE`.
    """
    from store.backup import backup

    try:
        manifest = backup(_store(), out)
    except TrueUpError as error:
        _fail(error)
    rows = sum(manifest.rows.values())
    typer.echo(
        f"backup written to {out}: {rows:,} rows of {len(manifest.rows)} tables "
        f"(schema {manifest.revision}, TrueUp {manifest.trueup})"
    )


@app.command("restore")
def restore_command(
    file: Annotated[Path, typer.Argument(help="A file `trueup backup` wrote.")],
) -> None:
    """Restore a backup into an empty database (DATABASE_URL, else data/trueup.db).

    A database that holds data is refused, and a damaged file restores nothing.
    """
    from store.backup import read_manifest, restore

    try:
        read_manifest(file)  # a wrong file is said before any database is made
        manifest = restore(_store(), file)
    except TrueUpError as error:
        _fail(error)
    rows = sum(manifest.rows.values())
    typer.echo(
        f"restored {rows:,} rows of {len(manifest.rows)} tables from {file} "
        f"(backed up {manifest.created_at:%Y-%m-%d %H:%M} UTC from {manifest.database})"
    )


alert_app = typer.Typer(help="Alerts after `trueup sync`, set up under [alerts] in secrets.toml.")
app.add_typer(alert_app, name="alert")


@alert_app.command("test")
def alert_test_command() -> None:
    """Send a test message to every alert target; exit 1 if any failed."""
    from connectors.alerts import send
    from store.alerts import alert_targets, sample_alert

    try:
        targets = alert_targets()
    except TrueUpError as error:
        _fail(error)
    if targets is None:
        raise _fail(TrueUpError("no alerts are set up: add [alerts] to .streamlit/secrets.toml"))
    problems = send(sample_alert(), targets)
    for problem in problems:
        typer.echo(f"alert not sent: {problem}", err=True)
    if problems:
        raise typer.Exit(1)
    typer.echo("test alert sent")


def _write_csv(frame: pl.DataFrame, out: Path | None) -> str:
    """Give back where the frame went, after writing it as CSV to `out`, or to stdout when `out`
    is none or "-"."""
    try:
        if out is None or str(out) == "-":
            frame.write_csv(sys.stdout.buffer, null_value="")
            sys.stdout.flush()
            return "stdout"
        # Opened here, not by Polars: Polars' errors carry no file name or reason to show.
        with out.open("wb") as file:
            frame.write_csv(file, null_value="")
    except OSError as error:
        _fail(TrueUpError(f"cannot write {error.filename}: {error.strerror}"))
    return str(out)


def _store() -> Store:
    """Give back the store (DATABASE_URL, else data/trueup.db), or fail with why not."""
    from store import open_store

    try:
        return open_store()
    except TrueUpError as error:
        _fail(error)
    raise AssertionError("unreachable: _fail exits")


def _fail(error: TrueUpError) -> typer.Exit:
    typer.echo(f"error: {error}", err=True)
    raise typer.Exit(2)


def main() -> None:
    """Run the `trueup` command."""
    app()


if __name__ == "__main__":
    main()
