"""The cards' tile view: one tile per card, a page of them at a time, so 20,000 stay quick.

Not a page. Names are written with `st.text`-like elements or escaped Markdown, never as HTML.
"""

from __future__ import annotations

import math

import polars as pl
import streamlit as st

from pages.card_view import TYPE_LABELS, money_text, quantity_text

PER_PAGE = 30
COLUMNS = 3
BADGE_COLOURS = {
    "increase": "green",
    "decrease": "orange",
    "removal": "red",
    "new_revenue": "blue",
    "no_vendor_data": "gray",
}
MARKDOWN_SPECIALS = "\\`*_{}[]()<>#+-.!|~$"


def escaped(text: str | None) -> str:
    """Give back `text` with every Markdown special character escaped: shown as written."""
    return "".join(f"\\{c}" if c in MARKDOWN_SPECIALS else c for c in (text or ""))


def tiles(cards: pl.DataFrame, version: int) -> list[str]:
    """Show a page of tiles and give back the keys of the cards ticked on it."""
    pages = max(1, math.ceil(cards.height / PER_PAGE))
    top = st.columns([1, 3], vertical_alignment="center")
    page = int(
        top[0].number_input(
            f"Page (of {pages:,})",
            min_value=1,
            max_value=pages,
            value=1,
            # A new count of pages (another filter) starts again at page 1.
            key=f"cards.tile_page.{pages}",
        )
    )
    start = (min(page, pages) - 1) * PER_PAGE
    shown = cards.slice(start, PER_PAGE)
    top[1].caption(
        f"Cards {start + 1 if shown.height else 0:,}–{start + shown.height:,} of {cards.height:,}."
    )
    ticked: list[str] = []
    rows = [shown.slice(i, COLUMNS) for i in range(0, shown.height, COLUMNS)]
    for row in rows:
        for column, card in zip(st.columns(COLUMNS), row.iter_rows(named=True), strict=False):
            with column.container(border=True):
                if tile(card, version):
                    ticked.append(card["key"])
    return ticked


def tile(card: dict[str, object], version: int) -> bool:
    """Show one card's tile; give back whether it is ticked."""
    head, badge = st.columns([3, 2])
    ticked = head.checkbox(
        escaped(str(card["account"])),
        key=f"cards.tile.{version}.{card['key']}",
        help=str(card["key"]),
    )
    colour = BADGE_COLOURS.get(str(card["card_type"]), "gray")
    badge.badge(TYPE_LABELS.get(str(card["card_type"]), ""), color=colour)
    st.caption(escaped(str(card["service"])))
    psa, change, vendor = st.columns(3)
    psa.metric("PSA", quantity_text(card["psa_quantity"]))  # type: ignore[arg-type]
    change_value = card["change"]
    change.metric(
        "Change",
        "–"
        if change_value is None
        else f"{'+' if change_value > 0 else ''}"  # type: ignore[operator]
        f"{quantity_text(change_value)}",  # type: ignore[arg-type]
    )
    vendor.metric("Vendor", quantity_text(card["vendor_quantity"]))  # type: ignore[arg-type]
    flags = " · ⚑ outlier" if card["flagged"] else ""
    value = card["monthly_value"]
    money = f"{money_text(value)} a month" if value is not None else "no price"  # type: ignore[arg-type]
    if not card["prorate"]:
        prorated = "no proration"
    elif card["prorated_amount"] is None:
        prorated = "no prorated amount"
    else:
        prorated = f"prorated {money_text(card['prorated_amount'])}"  # type: ignore[arg-type]
    when = card["effective_date"]
    dated = f" from {when:%Y-%m-%d}" if when else ""
    st.markdown(f"{money} · {escaped(str(card['status']))}{dated}{flags}")
    st.caption(prorated)
    if card.get("commitment"):
        st.caption(f"◷ {escaped(str(card['commitment']))}")
    return ticked
