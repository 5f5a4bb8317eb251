"""Month: how a month went, for management, and what is left before the PSA invoices on the 1st.

The figures of a month count the decisions made in it (store.month); a closed month shows what
was frozen when it was closed. The month lives in the address (`?month=2026-10`), so that a
link reproduces the view.
"""

from __future__ import annotations

from decimal import Decimal

import altair as alt
import polars as pl
import streamlit as st

import settings
from connectors.csv.export import neutralised_frame
from engine.month import periods_since
from pages.card_tiles import escaped
from pages.workspace import money, plural, signed_in, through_the_router, workspace
from report import month_name
from report.charts import chart_png, chart_tables, month_charts
from store.access import Permission
from store.month import (
    MONTHS,
    MonthSummary,
    close_month,
    current_period,
    first_period,
    month_summary,
    reopen_month,
)
from store.month_close import Checklist, checklist

through_the_router()

PAGES = {"sync": "pages/sync.py", "mapping": "pages/mapping.py", "cards": "pages/cards.py"}
MILESTONE_ICONS = {
    "past": ":material/history:",  # a date gone by, not a step done
    "today": ":material/today:",
    "next": ":material/arrow_circle_right:",
    "later": ":material/schedule:",
}
CHARTS = {
    "by_type": "Approved changes by type, per month",
    "by_vendor": "Net change by vendor or distributor, per month",
    "recovered": "Revenue recovered, cumulative",
}
BREAKDOWN_COLUMNS = {
    "name": st.column_config.TextColumn("Name", width="medium"),
    "approved": st.column_config.NumberColumn("Approved", format="%d", width="small"),
    "net_change": st.column_config.NumberColumn("Net a month", format="accounting", width="small"),
    "recovered": st.column_config.NumberColumn("Recovered", format="accounting", width="small"),
    "dismissed": st.column_config.NumberColumn("Dismissed", format="%d", width="small"),
}


def report_pdf(summary: MonthSummary, currency: str) -> bytes:
    """Give back the month's one-page report, made when someone asks for it (the PDF library
    is imported then, not on every render)."""
    from report.pdf import month_report

    return month_report(summary, currency)


def signed(amount: Decimal | None) -> str:
    """Give back money with its sign, as a change reads: `+1,234.50 USD`, `-12.00 USD`."""
    return ("+" if (amount or 0) > 0 else "") + money(amount)


def headline(summary: MonthSummary) -> None:
    """Show the month's four headline figures, each with its trend over the months shown."""
    row, figures = summary.headline, summary.figures
    previous = figures.row(figures.height - 2, named=True) if figures.height > 1 else None

    def change(name: str) -> str | None:
        if previous is None or row[name] is None or previous[name] is None:
            return None
        return f"{signed(row[name] - previous[name])} on {month_name(previous['period'])}"

    def trend(name: str) -> list[float]:
        # Only the sparkline is drawn in floats; every figure shown stays exact.
        return [float(v or 0) for v in figures.get_column(name).to_list()]

    known = row["open"] is not None
    unknown = " A past month keeps this figure only if it was closed."
    recovered, net, risk, still = st.columns(4)
    recovered.metric(
        "Revenue recovered",
        money(row["recovered"]),
        change("recovered"),
        help="Monthly value of the increases and New Revenue approved in the month.",
        border=True,
        chart_data=trend("recovered"),
        chart_type="bar",
    )
    net.metric(
        "Net change in billed MRR",
        signed(row["net_change"]),
        change("net_change"),
        help="Monthly value of every change approved in the month: increases and New Revenue "
        "add, decreases and removals take away.",
        border=True,
        chart_data=trend("net_change"),
        chart_type="bar",
    )
    risk.metric(
        "Revenue at risk",
        money(row["at_risk"]) if known else "not recorded",
        change("at_risk"),
        delta_color="inverse",
        help="Monthly value of the increases and New Revenue still open: unbilled until "
        "approved." + ("" if known else unknown),
        border=True,
        chart_data=trend("at_risk"),
    )
    still.metric(
        "Cards still open",
        f"{row['open']:,}" if known else "not recorded",
        help="Cards asking for a decision: increases, decreases, removals, New Revenue."
        + ("" if known else unknown),
        border=True,
        chart_data=trend("open"),
    )
    parts = [
        f"{plural(row[kind], label)} {signed(row[kind + '_value'])}"
        for kind, label in (
            ("increase", "increase"),
            ("new_revenue", "New Revenue card"),
            ("decrease", "decrease"),
            ("removal", "removal"),
        )
        if row[kind]
    ]
    approved = f"**Approved: {plural(row['approved'], 'change')}**"
    if parts:
        approved += f" ({'; '.join(parts)} a month)"
    dismissed = f"**Dismissed: {row['dismissed']:,}**"
    if row["dismissed"]:
        dismissed += f" ({signed(row['dismissed_value'])} a month left as billed)"
    st.caption(f"{approved}. {dismissed}.")


def month_close(summary: MonthSummary, steps: Checklist) -> None:
    """Show what is left before the month can be closed, the month's rhythm, and the Close
    (or Reopen) button."""
    period, name = summary.period, month_name(summary.period)
    closed = summary.closed.get(period)
    with st.container(border=True):
        if closed is not None:
            st.markdown(
                f":material/lock: **{name} is closed**: closed by {escaped(closed.by)} on "
                f"{closed.at:%d %B %Y}. Its figures stay as they were then, whatever syncs or "
                "decisions come later."
            )
        else:
            st.markdown(f"**Month close: {steps.done} of {steps.total} done**")
            st.progress(steps.done / steps.total if steps.total else 1.0)
            if steps.next is not None:
                text, link = st.columns([4, 1], vertical_alignment="center")
                text.info(
                    f"**Next: {steps.next.title}**. {escaped(steps.next.detail)}. "
                    f"{steps.next.next_step}",
                    icon=":material/arrow_forward:",
                )
                if steps.next.page in PAGES:
                    link.page_link(PAGES[steps.next.page], label=f"Go to {steps.next.page.title()}")
        with st.expander("The checklist and the month's rhythm", expanded=closed is None):
            left, right = st.columns(2)
            for step in steps.steps:
                icon = (
                    ":material/check_circle:" if step.done else ":material/radio_button_unchecked:"
                )
                left.markdown(f"{icon} **{step.title}**  \n{escaped(step.detail)}")
            for milestone in steps.rhythm:
                right.markdown(
                    f"{MILESTONE_ICONS.get(milestone.state, '')} **{milestone.day:%a %d %b}: "
                    f"{milestone.title}**  \n{milestone.what}"
                )
        if not signed_in().can(Permission.SYNC):
            st.caption("Approvers and admins close and reopen months.")
            return
        if closed is not None:
            if st.button(f"Reopen {name}", icon=":material/lock_open:"):
                reopen_month(workspace(), period, user=signed_in().name)
                st.rerun()
            return
        left = steps.total - steps.done
        anyway = True
        if left:
            anyway = st.checkbox(
                f"Close {name} with {plural(left, 'step')} left",
                help="Closing freezes the month's figures as they are now.",
            )
        if st.button(f"Close {name}", type="primary", icon=":material/lock:", disabled=not anyway):
            close_month(workspace(), period, user=signed_in().name)
            st.toast(f"{name} is closed: its summary is frozen.", icon=":material/lock:")
            st.rerun()


def chart_block(key: str, chart: alt.Chart, table: pl.DataFrame, period: str) -> None:
    """Show one chart with the table behind it on demand, and its PNG and CSV downloads."""
    st.markdown(f"**{CHARTS[key]}**")
    st.altair_chart(chart, width="stretch")
    show, png, csv = st.columns([2, 1, 1], vertical_alignment="center")
    if show.toggle("Show the table", key=f"table-{key}"):
        st.dataframe(table, hide_index=True, width="stretch")
    png.download_button(
        "PNG",
        data=lambda: chart_png(chart),  # drawn on click: it takes the exporter a moment
        file_name=f"trueup-{key}-{period}.png",
        mime="image/png",
        on_click="ignore",
        icon=":material/image:",
        key=f"png-{key}",
    )
    csv.download_button(
        "CSV",
        data=neutralised_frame(table).write_csv(),  # opened in spreadsheets
        file_name=f"trueup-{key}-{period}.csv",
        mime="text/csv",
        on_click="ignore",
        icon=":material/download:",
        key=f"csv-{key}",
    )


def where(summary: MonthSummary) -> None:
    """Show where the month's changes were: by vendor or distributor, service and account."""
    vendors = summary.by_vendor.filter(pl.col("period") == summary.period)
    parts = (
        ("By vendor or distributor", vendors),
        ("By service", summary.by_service),
        ("Top accounts", summary.top_accounts),
    )
    for column, (title, frame) in zip(st.columns(3), parts, strict=True):
        column.markdown(f"**{title}**")
        if frame.is_empty():
            column.caption("No decisions in this month.")
            continue
        column.dataframe(
            frame.select(list(BREAKDOWN_COLUMNS)),
            hide_index=True,
            width="stretch",
            column_config=BREAKDOWN_COLUMNS,
        )


opened = workspace()
this_month = current_period()
choices = list(reversed(periods_since(first_period(opened), this_month, at_least=MONTHS)))
asked = st.query_params.get("month", this_month)
picker, title, report = st.columns([1.4, 3, 1], vertical_alignment="bottom")
period = picker.selectbox(
    "Month",
    choices,
    index=choices.index(asked) if asked in choices else 0,
    format_func=lambda p: month_name(p) + (" (this month)" if p == this_month else ""),
)
if st.query_params.get("month") != period:
    st.query_params["month"] = period
summary = month_summary(opened, period)
currency = settings.get("currency")
closed = summary.closed.get(period)
title.subheader(f"{month_name(period)}: {'closed' if closed else 'live figures'}")
report.download_button(
    "Report (PDF)",
    data=lambda: report_pdf(summary, currency),
    file_name=f"trueup-{period}.pdf",
    mime="application/pdf",
    on_click="ignore",
    icon=":material/picture_as_pdf:",
    type="primary",
    width="stretch",
)
headline(summary)
month_close(summary, checklist(opened, period))
st.markdown("#### Month over month")
charts, tables = month_charts(summary, currency), chart_tables(summary)
first, second = st.columns(2)
with first:
    chart_block("by_type", charts["by_type"], tables["by_type"], period)
with second:
    chart_block("by_vendor", charts["by_vendor"], tables["by_vendor"], period)
chart_block("recovered", charts["recovered"], tables["recovered"], period)
st.markdown(f"#### Where the changes are in {month_name(period)}")
where(summary)
