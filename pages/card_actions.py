"""The Cards page's selection bar: approve, schedule or dismiss the selected cards, through the
general warning (until a user silences it) and the spot check (never silenced), then undo.

Not a page. A bulk action is first a request held in the session (`Pending`); each dialog moves
it on a step or drops it, so a rerun in the middle of a dialog loses nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime

import polars as pl
import streamlit as st

from engine.contracts import default_contracts
from engine.schema import CardType
from pages.card_apply import apply_button
from pages.card_tiles import escaped
from pages.card_view import (
    TYPE_LABELS,
    commitment_warnings,
    money_text,
    next_month,
    quantity_text,
)
from pages.workspace import ago, plural
from store import Store
from store.decisions import (
    NO_CONTRACT,
    card_history,
    decide_cards,
    last_decision,
    undo_last_decision,
)
from store.prefs import get_pref, set_pref
from store.types import Action

PENDING = "cards.pending"
WARNED = "cards.warned"
"""Set once this session has seen the general warning."""
SILENCED = "cards.bulk_warning.off"
"""The user's preference: "1" once they asked not to see the general warning again."""
VERBS = {Action.APPROVE: "Approve", Action.SCHEDULE: "Schedule", Action.DISMISS: "Dismiss"}
PAST = {Action.APPROVE: "Approved", Action.SCHEDULE: "Scheduled", Action.DISMISS: "Dismissed"}
WHAT_HAPPENS = {
    Action.APPROVE: "Each change is approved to take effect on {date}; the cards leave the open "
    "list and their changes wait in *Approved changes* for the PSA.",
    Action.SCHEDULE: "Each card keeps its change open, with {date} saved as its effective date "
    "(status *scheduled*); approve it later.",
    Action.DISMISS: "Each card leaves the dashboard for its current vendor quantity; it comes "
    "back as new if that quantity changes.",
}


@dataclass(frozen=True)
class Pending:
    """A bulk action asked for and not done yet."""

    action: Action
    keys: tuple[str, ...]
    effective: date | None
    stage: str = "warn"
    """"warn" (the general warning), "spot" (the spot check) or "go"."""
    contracts: dict[str, str] = field(default_factory=dict)
    """New Revenue card key to the contract picked for it."""
    checked: bool = False
    """Cards were left out in the spot check: it stays open to confirm the rest."""


def selection_bar(
    store: Store, user: str, selected: pl.DataFrame, cards: pl.DataFrame, psa_lines: pl.DataFrame
) -> None:
    """Show what is selected and the actions on it; run the dialogs of an action asked for
    (on `cards`, every card the page knows, so that a dialog outlives a change of filter)."""
    today = date.today()
    if selected.is_empty():
        st.caption(
            "Tick cards (or a group's header) to approve, schedule or dismiss them together."
        )
    else:
        net = selected.get_column("monthly_value").sum()
        flagged = selected.filter("flagged").height
        flag_text = f" · {plural(flagged, 'outlier')}" if flagged else ""
        with st.container(border=True, key="cards-selection-bar"):
            st.markdown(
                f"**{plural(selected.height, 'card')} selected** · net "
                f"{money_text(net)} a month{flag_text}"
            )
            approve, schedule, dismiss = st.columns([1, 1.4, 1], vertical_alignment="bottom")
            keys = tuple(selected.get_column("key").to_list())
            default = default_date(selected, today)
            if approve.button(
                f"Approve {plural(selected.height, 'card')}",
                type="primary",
                icon=":material/done_all:",
                key="cards.approve",
                help=f"Effective {default:%d %B %Y}: the date they are scheduled for, or the "
                "first of next month.",
            ):
                ask(store, user, Pending(Action.APPROVE, keys, default))
            with schedule.popover("Set effective date", icon=":material/event:"):
                chosen = st.date_input(
                    "Effective date",
                    value=default,
                    key=f"cards.effective.{default:%Y%m%d}",
                    format="YYYY-MM-DD",
                )
                if st.button("Save as scheduled", key="cards.schedule", icon=":material/event:"):
                    ask(store, user, Pending(Action.SCHEDULE, keys, chosen))
                if st.button(
                    "Approve with this date",
                    key="cards.approve_dated",
                    type="primary",
                    icon=":material/done_all:",
                ):
                    ask(store, user, Pending(Action.APPROVE, keys, chosen))
            if dismiss.button(
                f"Dismiss {plural(selected.height, 'card')}",
                icon=":material/block:",
                key="cards.dismiss",
            ):
                ask(store, user, Pending(Action.DISMISS, keys, None))
            apply_button(store, user, selected)
            for warning in commitment_warnings(selected):
                st.warning(escaped(warning), icon=":material/lock_clock:")
            details(store, selected)
    pending: Pending | None = st.session_state.get(PENDING)
    if pending is not None:
        follow(store, user, pending, cards, psa_lines)


def default_date(selected: pl.DataFrame, today: date) -> date:
    """Give back the effective date an action on `selected` starts from: the date they are all
    scheduled for, where they share one, else the first of next month (DESIGN 6)."""
    dates = selected.get_column("effective_date").unique()
    if dates.len() == 1 and dates[0] is not None:
        return dates[0]  # type: ignore[no-any-return]
    return next_month(today)


def details(store: Store, selected: pl.DataFrame) -> None:
    """Show each selected card's proration preview, and a single card's history."""
    label = "Proration preview" if selected.height > 1 else "Proration preview and history"
    with st.expander(label, icon=":material/calendar_month:"):
        st.dataframe(
            selected.head(500).select(
                "account",
                "service",
                pl.col("change").cast(pl.Float64),
                pl.col("effective_date")
                .fill_null(next_month(date.today()))
                .dt.to_string("%Y-%m-%d")
                .alias("effective"),
                pl.when(pl.col("prorate").fill_null(False).not_())
                .then(pl.lit("no proration"))
                .otherwise(pl.col("prorated_amount").cast(pl.String).fill_null("no price"))
                .alias("prorated"),
            ),
            hide_index=True,
            width="stretch",
            column_config={
                "account": "Account",
                "service": "Service",
                "change": st.column_config.NumberColumn("Change", format="%+g"),
                "effective": "Effective",
                "prorated": st.column_config.TextColumn(
                    "Prorated amount",
                    help="What the change bills for the rest of its billing period, where its "
                    "contract prorates (DESIGN 6).",
                ),
            },
        )
        if selected.height == 1:
            card = selected.row(0, named=True)
            history = card_history(store, card["account_id"], card["product_id"])
            st.markdown("**History**")
            if history.is_empty():
                st.caption("No decision yet on this card.")
            else:
                st.dataframe(history, hide_index=True, width="stretch")


def ask(store: Store, user: str, pending: Pending) -> None:
    """Hold an action asked for, at its first step: the general warning unless it is silenced
    (or this session has seen it), else the spot check."""
    warned = st.session_state.get(WARNED) or get_pref(store, user, SILENCED) == "1"
    st.session_state[PENDING] = replace(pending, stage="spot" if warned else "warn")


def drop() -> None:
    st.session_state.pop(PENDING, None)


def follow(
    store: Store, user: str, pending: Pending, cards: pl.DataFrame, psa_lines: pl.DataFrame
) -> None:
    """Show the dialog of the action's step, or do the action once every step is passed."""
    chosen = cards.filter(pl.col("key").is_in(pending.keys))
    if chosen.is_empty():
        drop()
        return
    if pending.stage == "warn":
        warning_dialog(store, user, pending, chosen)
        return
    to_check = chosen.filter(
        pl.col("flagged") | (pl.col("card_type") == CardType.NEW_REVENUE.value)
    )
    if pending.stage == "spot" and (pending.checked or not to_check.is_empty()):
        # Of every card: the agreement holding most of an account's reconciled lines.
        spot_check_dialog(pending, chosen, psa_lines, default_contracts(cards, psa_lines))
        return
    act(store, user, pending, chosen)


@st.dialog("Before a bulk action", on_dismiss=drop)
def warning_dialog(store: Store, user: str, pending: Pending, chosen: pl.DataFrame) -> None:
    flagged = chosen.filter("flagged").height
    when = f"{pending.effective:%d %B %Y}" if pending.effective else ""
    among = f" ({plural(flagged, 'outlier')} among them)" if flagged else ""
    st.markdown(
        f"**{VERBS[pending.action]} {plural(chosen.height, 'card')}**{among}.\n\n"
        + WHAT_HAPPENS[pending.action].format(date=when)
        + "\n\nUndo takes the whole action back."
    )
    if flagged:
        st.warning(
            f"{plural(flagged, 'card is', 'cards are')} flagged as outliers: a spot check follows.",
            icon=":material/flag:",
        )
    silence = st.checkbox("Don't show this again", key="cards.silence")
    go, stop = st.columns(2)
    if go.button("Continue", type="primary", key="cards.warned_ok", width="stretch"):
        if silence:
            set_pref(store, user, SILENCED, "1")
        st.session_state[WARNED] = True
        st.session_state[PENDING] = replace(pending, stage="spot")
        st.rerun()
    if stop.button("Cancel", key="cards.warned_cancel", width="stretch"):
        drop()
        st.rerun()


@st.dialog("Spot check", width="large", on_dismiss=drop)
def spot_check_dialog(
    pending: Pending, chosen: pl.DataFrame, psa_lines: pl.DataFrame, defaults: pl.DataFrame
) -> None:
    outliers = chosen.filter("flagged")
    new = chosen.filter(pl.col("card_type") == CardType.NEW_REVENUE.value)
    st.markdown(
        f"Of the {plural(chosen.height, 'card')} to {VERBS[pending.action].lower()}, check these "
        "first."
    )
    if not outliers.is_empty():
        st.markdown(f"**Outliers: {plural(outliers.height, 'card')}**")
        st.caption(
            "A change out of proportion to the account's seats (DESIGN 6): a 5-seat customer "
            "at +50 is flagged, a 500-seat one is not."
        )
        st.dataframe(brief(outliers), hide_index=True, width="stretch")
        if st.button(f"Leave the {plural(outliers.height, 'outlier')} out", key="cards.drop_out"):
            leave_out(pending, outliers)
    contracts = dict(pending.contracts)
    if not new.is_empty():
        st.markdown(f"**New Revenue: {plural(new.height, 'card')}**")
        st.caption("Not billed yet. Approving one adds it to the agreement chosen for it.")
        st.dataframe(brief(new), hide_index=True, width="stretch")
        if pending.action is Action.APPROVE:
            contracts = contract_choices(new, psa_lines, contracts, defaults)
        if st.button(f"Leave the New Revenue out ({new.height:,})", key="cards.drop_new"):
            leave_out(pending, new)
    left = pending.keys
    go, stop = st.columns(2)
    if go.button(
        f"{VERBS[pending.action]} {plural(len(left), 'card')}",
        type="primary",
        key="cards.spot_ok",
        disabled=not left,
        width="stretch",
    ):
        st.session_state[PENDING] = replace(pending, stage="go", contracts=contracts)
        st.rerun()
    if stop.button("Cancel", key="cards.spot_cancel", width="stretch"):
        drop()
        st.rerun()


def leave_out(pending: Pending, cards: pl.DataFrame) -> None:
    """Take `cards` out of the action and show the spot check again."""
    out = set(cards.get_column("key").to_list())
    kept = tuple(k for k in pending.keys if k not in out)
    st.session_state[PENDING] = replace(pending, keys=kept, checked=True)
    st.rerun()


def brief(cards: pl.DataFrame) -> pl.DataFrame:
    """Give back the few columns a spot check reads, as text."""
    return cards.select(
        pl.col("account").alias("Account"),
        pl.col("service").alias("Service"),
        pl.col("psa_quantity").map_elements(quantity_text, return_dtype=pl.String).alias("PSA"),
        pl.col("vendor_quantity")
        .map_elements(quantity_text, return_dtype=pl.String)
        .fill_null("–")
        .alias("Vendor"),
        pl.col("card_type").replace_strict(TYPE_LABELS, default="").alias("Type"),
        # The exact cents, as text: a float column would show 31.5.
        pl.col("monthly_value").cast(pl.String).alias("Monthly value"),
    )


def contract_choices(
    new: pl.DataFrame, psa_lines: pl.DataFrame, picked: dict[str, str], defaults: pl.DataFrame
) -> dict[str, str]:
    """Let the user pick the agreement of each New Revenue card (`defaults` preselected)."""
    by_key = {
        f"{a}:{p}": c
        for a, p, c in defaults.select("account_id", "product_id", "contract_id").iter_rows()
    }
    agreements = (
        psa_lines.filter(pl.col("contract_id").is_not_null())
        .group_by("account_id")
        .agg(pl.col("contract_id").unique().sort())
    )
    options = dict(agreements.iter_rows())
    chosen: dict[str, str] = {}
    for card in new.iter_rows(named=True):
        choices = options.get(card["account_id"], [])
        if not choices:
            st.caption(
                f"{card['account']} · {card['service']}: no agreement in the PSA for this "
                "account, so it cannot be approved yet (it stays open)."
            )
            continue
        current = picked.get(card["key"]) or by_key.get(card["key"]) or choices[0]
        value = st.selectbox(
            f"Agreement for {card['account']} · {card['service']}",
            choices,
            index=choices.index(current) if current in choices else 0,
            key=f"cards.contract.{card['key']}",
        )
        chosen[card["key"]] = str(value)
    return chosen


def act(store: Store, user: str, pending: Pending, chosen: pl.DataFrame) -> None:
    """Do the action on the chosen cards, then say what it did on the next run."""
    drop()
    contracts = {}
    for key, contract in pending.contracts.items():
        account, _, product = key.partition(":")
        contracts[(account, product)] = contract
    decided = decide_cards(
        store,
        chosen,
        pending.action,
        effective_date=pending.effective,
        contracts=contracts,
        user=user,
    )
    when = (
        f", effective {pending.effective:%d %B %Y}"
        if pending.effective and pending.action is not Action.DISMISS
        else ""
    )
    message = f"{PAST[pending.action]} {plural(decided.decided, 'card')}{when}."
    refused = refusals(decided.refused, chosen)
    done(message, refused)


def refusals(refused: pl.DataFrame, chosen: pl.DataFrame) -> list[str]:
    """Give back a line per card left as it was: who decided it meanwhile and when."""
    if refused.is_empty():
        return []
    names = refused.join(
        chosen.select("account_id", "product_id", "account", "service"),
        on=["account_id", "product_id"],
        how="left",
    )
    now = datetime.now(UTC)
    lines = []
    for row in names.iter_rows(named=True):
        card = f"{row['account']} · {row['service']}"
        if row["action"] == NO_CONTRACT:
            lines.append(f"{card}: no agreement to add it to, so it stays open.")
        else:
            lines.append(
                f"{card}: already {PAST.get(Action(row['action']), row['action']).lower()} by "
                f"{row['made_by']} {ago(row['made_at'], now)} ({row['made_at']:%Y-%m-%d %H:%M} "
                "UTC); left as it is."
            )
    return lines


def done(message: str, refused: list[str] | None = None) -> None:
    """Say what an action did on the next run, and let the grid start unselected."""
    st.session_state["cards.flash"] = (message, refused or [])
    st.session_state["cards.version"] = st.session_state.get("cards.version", 0) + 1
    st.rerun()


def undo_button(store: Store, user: str, where: st.delta_generator.DeltaGenerator) -> None:
    """Offer to undo the user's last action on cards (one card, or one bulk action)."""
    last = last_decision(store, user)
    if last is None:
        return
    _, action, count, made_at = last
    label = f"Undo: {VERBS.get(action, str(action)).lower()} {plural(count, 'card')}"
    if where.button(
        label,
        key="cards.undo",
        icon=":material/undo:",
        help=f"Your last action on cards, made {ago(made_at, datetime.now(UTC))}.",
    ):
        undone = undo_last_decision(store, user=user)
        done(f"Undone: {label.removeprefix('Undo: ')} ({plural(undone, 'decision')} reversed).")
