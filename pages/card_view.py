"""What the Cards page shows: the view in the address (filters and grouping), the cards it
holds, and the rows of the grid, group headers included.

Not a page. Plain functions over frames, so that the page's tests can check them without a
browser.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import date, timedelta
from decimal import Decimal

import polars as pl

import settings
from engine import CardType, GroupBy, flag_outliers, group_summary, with_prorated_amount
from engine.schema import OPEN_TYPES
from pages.card_grid import CARD, GROUP, GROUP_ID
from store import Store, current_cards
from store.commitments import commitments_of_cards
from store.types import CardStatus

TYPE_LABELS = {
    CardType.INCREASE.value: "Increase",
    CardType.DECREASE.value: "Decrease",
    CardType.REMOVAL.value: "Removal",
    CardType.NEW_REVENUE.value: "New Revenue",
    CardType.NO_VENDOR_DATA.value: "No vendor data",
}
SHOWN_TYPES = tuple(TYPE_LABELS)
"""Unchanged cards are never listed; no-vendor-data cards are information (DESIGN 4.10)."""
DEFAULT_TYPES = tuple(t.value for t in OPEN_TYPES)
STATUSES = tuple(s.value for s in CardStatus)
DEFAULT_STATUSES = (CardStatus.OPEN.value, CardStatus.SCHEDULED.value)
GROUPINGS = {"account": "Account", "service": "Service", "contract": "Contract", "vendor": "Vendor"}
GROUPINGS_BY = {
    "account": ("account_id", "account", GroupBy.ACCOUNT),
    "service": ("product_id", "service", GroupBy.PRODUCT),
    "contract": ("contract_id", "contract_id", GroupBy.CONTRACT),
    "vendor": ("vendor", "vendor", GroupBy.VENDOR),
}
"""A page grouping: the column its groups are keyed by, the one named by, the engine's."""
GROUP_COLUMNS = ("group", "group_row_id", "group_label", "group_figures")
NO_KEY = "\x00none"


@dataclass(frozen=True)
class Loaded:
    """The cards of one state of the workspace, as the page lists them."""

    cards: pl.DataFrame
    """pages.card_view.prepared: one row per card, open or decided, with its `commitment`
    warning (see `with_commitments`)."""
    sources: list[str]
    psa_lines: pl.DataFrame
    unmapped_accounts: int
    unmapped_products: int


def loaded_cards(store: Store, today: date) -> Loaded:
    """Give back the current cards of `store` as the page lists them."""
    current = current_cards(store)
    usage = current.inputs.usage
    distributors = usage.group_by("vendor").agg(pl.col("distributor").drop_nulls().min())
    cards = prepared(current.cards, current.result.card_vendors, distributors, today)
    cards = with_commitments(cards, commitments_of_cards(store, current, today))
    sources = sorted(
        set(usage.get_column("vendor").drop_nulls())
        | set(distributors.get_column("distributor").drop_nulls())
    )
    kinds = current.result.unmapped.get_column("kind")
    return Loaded(
        cards,
        sources,
        current.inputs.psa_lines.select("account_id", "contract_id", "product_id"),
        int((kinds == "account").sum()),
        int((kinds == "product").sum()),
    )


def with_commitments(cards: pl.DataFrame, committed: pl.DataFrame) -> pl.DataFrame:
    """Give back `cards` with `commitment`: on a decrease or removal card over seats the vendor
    cannot reduce yet (engine CARD_COMMITMENTS), what to tell the user, one sentence per vendor
    and end date; null on the others."""
    told = (
        committed.with_columns(
            pl.struct("vendor", "commitment_end", "quantity")
            .map_elements(_commitment_text, return_dtype=pl.String)
            .alias("commitment")
        )
        .group_by("account_id", "product_id", maintain_order=True)
        .agg(pl.col("commitment").str.join(" "))
    )
    return cards.join(told, on=["account_id", "product_id"], how="left", maintain_order="left")


def _commitment_text(row: dict[str, object]) -> str:
    seats = row["quantity"]
    until = row["commitment_end"]
    count = quantity_text(seats)  # type: ignore[arg-type]
    noun = "seat" if seats == 1 else "seats"
    return (
        f"{row['vendor']}: {count} {noun} committed until {until:%d %b %Y}; "
        "the vendor cannot reduce them before then."
    )


def commitment_warnings(cards: pl.DataFrame) -> list[str]:
    """Give back the commitment warning of each of `cards` that has one, naming its card."""
    return [
        f"{account}, {service}: {text}"
        for account, service, text in cards.filter(pl.col("commitment").is_not_null())
        .select("account", "service", "commitment")
        .rows()
    ]


def next_month(today: date) -> date:
    """Give back the first day of the month after `today`'s: the default effective date."""
    return (today.replace(day=28) + timedelta(days=4)).replace(day=1)


@dataclass(frozen=True)
class View:
    """The filters and grouping of the Cards page, as its address holds them."""

    source: str = ""
    """A vendor or distributor; empty for all."""
    types: tuple[str, ...] = DEFAULT_TYPES
    statuses: tuple[str, ...] = DEFAULT_STATUSES
    flagged: bool = False
    search: str = ""
    group: str = ""
    """account, service, contract or vendor; empty for none."""

    @classmethod
    def from_query(cls, query: Mapping[str, str]) -> View:
        """Give back the view of an address's query (unknown values fall back to defaults)."""

        def listed(name: str, allowed: tuple[str, ...], default: tuple[str, ...]) -> tuple:
            if name not in query:
                return default
            return tuple(v for v in str(query[name]).split(",") if v in allowed)

        group = str(query.get("group", ""))
        return cls(
            source=str(query.get("vendor", "")),
            types=listed("type", SHOWN_TYPES, DEFAULT_TYPES),
            statuses=listed("status", STATUSES, DEFAULT_STATUSES),
            flagged=str(query.get("flagged", "")) in ("1", "true", "yes"),
            search=str(query.get("q", "")),
            group=group if group in GROUPINGS else "",
        )

    def to_query(self) -> dict[str, str]:
        """Give back the query that reproduces this view: only what differs from the default."""
        query: dict[str, str] = {}
        if self.source:
            query["vendor"] = self.source
        if self.types != DEFAULT_TYPES:
            query["type"] = ",".join(self.types)
        if self.statuses != DEFAULT_STATUSES:
            query["status"] = ",".join(self.statuses)
        if self.flagged:
            query["flagged"] = "1"
        if self.search.strip():
            query["q"] = self.search.strip()
        if self.group:
            query["group"] = self.group
        return query

    def but(self, **changes: object) -> View:
        """Give back this view with `changes` made."""
        return replace(self, **changes)  # type: ignore[arg-type]

    @property
    def id(self) -> str:
        """Give back a short id of the view: part of the grid's key, so that a new view starts
        a grid of its own (unselected, groups open)."""
        text = "&".join(f"{k}={v}" for k, v in sorted(self.to_query().items()))
        return hashlib.sha1(text.encode()).hexdigest()[:10]


def prepared(
    cards: pl.DataFrame, card_vendors: pl.DataFrame, distributors: pl.DataFrame, today: date
) -> pl.DataFrame:
    """Give back the cards the page lists, one row per card: the CARDS columns with `status` and
    `effective_date`, plus `key` (ACCOUNT_ID:PRODUCT_ID), display names, `sources` (every vendor
    and distributor that counts for it), `flagged` (DESIGN 6) and `prorated_amount` at its
    effective date (its scheduled one, else the first of next month)."""
    listed = cards.filter(pl.col("card_type").is_in(SHOWN_TYPES))
    flagged = flag_outliers(
        listed,
        settings.decimal("outlier_min_change"),
        settings.decimal("outlier_ratio"),
    )
    sources = (
        card_vendors.join(distributors, on="vendor", how="left")
        .select(
            "account_id",
            "product_id",
            pl.concat_list(pl.col("vendor"), pl.col("distributor")).alias("source"),
        )
        .explode("source")
        .drop_nulls("source")
        .group_by("account_id", "product_id")
        .agg(pl.col("source").unique().sort().alias("sources"))
    )
    shown = flagged.join(
        sources, on=["account_id", "product_id"], how="left", maintain_order="left"
    ).with_columns(
        (pl.col("account_id") + pl.lit(":") + pl.col("product_id")).alias("key"),
        pl.when(pl.col("account_name").fill_null("") != "")
        .then(pl.col("account_name"))
        .otherwise(pl.lit("(not in the PSA) ") + pl.col("account_id"))
        .alias("account"),
        pl.when(pl.col("product_name").fill_null("") != "")
        .then(pl.col("product_name"))
        .otherwise(pl.col("product_id"))
        .alias("service"),
        pl.col("sources").fill_null([]),
    )
    return with_proration(shown, next_month(today))


def with_proration(cards: pl.DataFrame, default: date) -> pl.DataFrame:
    """Give back `cards` with `prorated_amount` at each card's effective date (`default` where
    it has none): null where its contract does not prorate."""
    if cards.is_empty():
        return cards.with_columns(pl.lit(None).cast(pl.Decimal(38, 2)).alias("prorated_amount"))
    dated = cards.with_row_index("_row").with_columns(
        pl.col("effective_date").fill_null(default).alias("_at")
    )
    parts = [
        with_prorated_amount(part.drop("_at"), at)
        for (at,), part in dated.group_by("_at", maintain_order=True)
    ]
    return pl.concat(parts).sort("_row").drop("_row")


def filtered(cards: pl.DataFrame, view: View) -> pl.DataFrame:
    """Give back the cards of the view: its source, types, statuses, flags and search."""
    shown = cards.filter(
        pl.col("card_type").is_in(view.types) & pl.col("status").is_in(view.statuses)
    )
    if view.source:
        shown = shown.filter(pl.col("sources").list.contains(view.source))
    if view.flagged:
        shown = shown.filter("flagged")
    needle = view.search.strip().lower()
    if needle:
        shown = shown.filter(
            pl.any_horizontal(
                pl.col(c).str.to_lowercase().str.contains(needle, literal=True)
                for c in ("account", "service", "account_id", "product_id")
            ).fill_null(False)
        )
    return shown


def money_text(amount: Decimal | None) -> str:
    return f"{amount or 0:,.2f} {settings.get('currency')}"


def quantity_text(quantity: Decimal | None) -> str:
    """Give back a quantity as DESIGN 4.9 writes it (`12`, `12.5`); "–" without vendor data."""
    if quantity is None:
        return "–"
    text = f"{quantity:f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def _card_rows(cards: pl.DataFrame) -> pl.DataFrame:
    return cards.select(
        pl.col("key").alias("row_id"),
        pl.lit(CARD).alias("kind"),
        "account",
        "service",
        pl.col("contract_id").alias("contract"),
        "vendor",
        pl.col("psa_quantity").cast(pl.Float64),
        pl.col("vendor_quantity").cast(pl.Float64),
        pl.col("change").cast(pl.Float64),
        pl.col("card_type").replace_strict(TYPE_LABELS, default="").alias("type"),
        pl.col("monthly_value").cast(pl.Float64),
        "status",
        pl.col("effective_date").dt.to_string("%Y-%m-%d").alias("effective_date"),
        pl.when(pl.col("prorate").fill_null(False).not_())
        .then(pl.lit("no proration"))
        .otherwise(pl.col("prorated_amount").cast(pl.String).fill_null(pl.lit("no price")))
        .alias("proration"),
        pl.concat_str(
            pl.when("flagged").then(pl.lit("⚑ outlier")),
            pl.when(pl.col("commitment").is_not_null()).then(pl.lit("◷ committed")),
            separator=" · ",
            ignore_nulls=True,
        ).alias("flags"),
    )


def grid_rows(cards: pl.DataFrame, group: str) -> pl.DataFrame:
    """Give back the grid's rows: one per card, and with a grouping one header row per group
    (its card count, net change and net monthly value) before its cards, groups by name."""
    rows = _card_rows(cards)
    if not group:
        return rows.with_columns(
            *(pl.lit(None, pl.String).alias(c) for c in GROUP_COLUMNS),
            pl.lit(None, pl.Int32).alias("group_order"),
        )
    key, label, by = GROUPINGS_BY[group]
    missing = "(no contract)" if group == "contract" else "(none)"
    summary = group_summary(cards, by).with_columns(pl.col("key").fill_null(NO_KEY))
    labels = cards.group_by(pl.col(key).fill_null(NO_KEY).alias("key")).agg(
        pl.col(label).drop_nulls().min().fill_null(missing).alias("group_label")
    )
    heads = (
        summary.join(labels, on="key", how="left")
        .sort(pl.col("key") == NO_KEY, "group_label", "key")
        .with_row_index("group_order")
        .select(
            (pl.lit(GROUP_ID) + pl.col("group_order").cast(pl.String)).alias("row_id"),
            pl.lit(GROUP).alias("kind"),
            pl.col("key").alias("group"),
            (pl.lit(GROUP_ID) + pl.col("group_order").cast(pl.String)).alias("group_row_id"),
            "group_label",
            pl.struct("cards", "net_change", "net_monthly_value")
            .map_elements(_figures, return_dtype=pl.String)
            .alias("group_figures"),
            pl.col("group_order").cast(pl.Int32),
        )
    )
    members = rows.with_columns(cards.get_column(key).fill_null(NO_KEY).alias("group")).join(
        heads.select("group", "group_row_id", "group_order"), on="group", how="left"
    )
    both = pl.concat([heads, members], how="diagonal_relaxed")
    return both.sort("group_order", pl.col("kind") != GROUP, maintain_order=True)


def _figures(row: dict[str, object]) -> str:
    count = int(row["cards"])  # type: ignore[call-overload]
    change = row["net_change"]
    sign = "+" if isinstance(change, Decimal) and change > 0 else ""
    return (
        f"{count:,} card{'s' if count != 1 else ''} · net change {sign}"
        f"{quantity_text(change) if isinstance(change, Decimal) else '0'} · "
        f"{money_text(row['net_monthly_value'])} a month"  # type: ignore[arg-type]
    )
