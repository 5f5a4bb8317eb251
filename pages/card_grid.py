"""The cards' list view: an AG Grid (free edition) that sends back only the selected card keys.

Not a page. Grouping is built here, not with AG Grid's row groups (an Enterprise feature that
shows a trial watermark away from localhost): each group is a full-width header row of our own,
with a toggle that hides its cards through an external filter and a checkbox that selects them.
Every name reaches the browser as data and is written with `textContent`, never as HTML.
"""

from __future__ import annotations

import json

import polars as pl
import streamlit as st
from st_aggrid import AgGrid, DataReturnMode, JsCode

import settings

CARD, GROUP = "card", "group"
GROUP_ID = "\x00group "
"""Row ids of group headers start with a character no card key holds."""

# The component hands each function to `new Function("return " + code)`: one expression each.
ROW_ID = JsCode("function (p) { return p.data.row_id; }")
IS_GROUP_ROW = JsCode(
    "function (p) { return !!(p.rowNode.data && p.rowNode.data.kind === 'group'); }"
)
COLLAPSED = "window.trueupCollapsed = window.trueupCollapsed || {}"
EXTERNAL_FILTER_PRESENT = JsCode(
    f"function () {{ const c = ({COLLAPSED}); return Object.values(c).some(Boolean); }}"
)
EXTERNAL_FILTER_PASSES = JsCode(
    f"""function (node) {{
        const c = ({COLLAPSED});
        return !node.data || node.data.kind === 'group' || !c[node.data.group];
    }}"""
)
# Sorting keeps each group's cards under its header, sorted among themselves.
KEEP_GROUPS_TOGETHER = JsCode(
    """function (params) {
        const nodes = params.nodes;
        if (!nodes.some(n => n.data && n.data.kind === 'group')) { return; }
        const heads = [], cards = new Map();
        for (const n of nodes) {
            if (n.data.kind === 'group') { heads.push(n); continue; }
            if (!cards.has(n.data.group)) { cards.set(n.data.group, []); }
            cards.get(n.data.group).push(n);
        }
        heads.sort((a, b) => a.data.group_order - b.data.group_order);
        let i = 0;
        for (const h of heads) {
            nodes[i++] = h;
            for (const c of (cards.get(h.data.group) || [])) { nodes[i++] = c; }
            cards.delete(h.data.group);
        }
        for (const rest of cards.values()) { for (const c of rest) { nodes[i++] = c; } }
    }"""
)
# A group header's selection selects its cards, hidden ones too; unticking a card unticks its
# header (without unticking the others).
GROUP_SELECTION = JsCode(
    """function (e) {
        const d = e.node.data;
        if (!d || e.source === 'groupCascade' || e.source === 'groupSync') { return; }
        if (d.kind === 'group') {
            const nodes = [];
            e.api.forEachNode(n => {
                if (n.data && n.data.kind === 'card' && n.data.group === d.group) { nodes.push(n); }
            });
            e.api.setNodesSelected({
                nodes: nodes, newValue: !!e.node.isSelected(), source: 'groupCascade'
            });
        } else if (d.group && !e.node.isSelected()) {
            const head = e.api.getRowNode(d.group_row_id);
            if (head && head.isSelected()) { head.setSelected(false, false, 'groupSync'); }
        }
    }"""
)
GROUP_ROW = JsCode(
    f"""class GroupRow {{
        init(params) {{
            const d = params.data, api = params.api, node = params.node;
            const collapsed = ({COLLAPSED});
            const gui = document.createElement('div');
            gui.className = 'trueup-group';
            gui.setAttribute('data-group', d.group_label);
            const box = document.createElement('input');
            box.type = 'checkbox';
            box.className = 'trueup-group-check';
            box.setAttribute('aria-label', 'Select the cards of ' + d.group_label);
            box.checked = !!node.isSelected();
            box.addEventListener('click', e => {{
                e.stopPropagation();
                node.setSelected(box.checked, false, 'groupHeader');
            }});
            const toggle = document.createElement('button');
            toggle.className = 'trueup-group-toggle';
            const show = () => {{
                const shut = !!collapsed[d.group];
                toggle.textContent = shut ? '▸' : '▾';
                toggle.setAttribute('aria-expanded', shut ? 'false' : 'true');
                toggle.setAttribute('aria-label', (shut ? 'Expand ' : 'Collapse ') + d.group_label);
            }};
            show();
            toggle.addEventListener('click', e => {{
                e.stopPropagation();
                collapsed[d.group] = !collapsed[d.group];
                show();
                api.onFilterChanged();
            }});
            const name = document.createElement('span');
            name.className = 'trueup-group-name';
            name.textContent = d.group_label;
            const figures = document.createElement('span');
            figures.className = 'trueup-group-figures';
            figures.textContent = d.group_figures;
            gui.append(box, toggle, name, figures);
            this.onSelected = () => {{ box.checked = !!node.isSelected(); }};
            node.addEventListener('rowSelected', this.onSelected);
            this.node = node;
            this.gui = gui;
        }}
        getGui() {{ return this.gui; }}
        refresh() {{ return false; }}
        destroy() {{ this.node.removeEventListener('rowSelected', this.onSelected); }}
    }}"""
)
# The rows come as one JSON string of arrays (fields once, then values), parsed here: a third of
# the bytes of records, and no Arrow table to convert row by row in the browser.
LOAD_ROWS = JsCode(
    """function (e) {
        const ctx = e.context;
        if (!ctx || ctx.trueupLoaded) { return; }
        ctx.trueupLoaded = true;
        const data = JSON.parse(ctx.trueupRows);
        const fields = data.fields, n = fields.length;
        const rows = data.rows.map(values => {
            const row = {};
            for (let i = 0; i < n; i++) { if (values[i] !== null) { row[fields[i]] = values[i]; } }
            return row;
        });
        e.api.setGridOption('rowData', rows);
    }"""
)
# Only the keys of the selected cards go back to Python, however many rows the grid holds.
SELECTED_KEYS = JsCode(
    """function ({ eventData }) {
        const keys = [];
        for (const n of eventData.api.getSelectedNodes()) {
            if (n.data && n.data.kind === 'card') { keys.push(n.data.row_id); }
        }
        return { selected: keys };
    }"""
)
QUANTITY = JsCode(
    """function (p) {
        if (p.value === null || p.value === undefined) {
            return p.data && p.data.kind === 'card' ? '–' : '';
        }
        return Number(p.value).toLocaleString('en-US', { maximumFractionDigits: 4 });
    }"""
)
CHANGE = JsCode(
    """function (p) {
        if (p.value === null || p.value === undefined) { return ''; }
        const text = Number(p.value).toLocaleString('en-US', { maximumFractionDigits: 4 });
        return p.value > 0 ? '+' + text : text;
    }"""
)
MONEY = JsCode(
    """function (p) {
        if (p.value === null || p.value === undefined) { return ''; }
        return Number(p.value).toLocaleString('en-US', {
            minimumFractionDigits: 2, maximumFractionDigits: 2
        });
    }"""
)
CSS = {
    ".trueup-group": {
        "display": "flex",
        "align-items": "center",
        "gap": "10px",
        "height": "100%",
        "padding": "0 12px",
        "font-weight": "600",
        "background": "rgba(128, 128, 128, 0.10)",
    },
    ".trueup-group-toggle": {
        "border": "none",
        "background": "transparent",
        "cursor": "pointer",
        "font-size": "15px",
        "width": "22px",
    },
    ".trueup-group-figures": {"font-weight": "400", "opacity": "0.8"},
    ".trueup-flagged": {"color": "#b45309", "font-weight": "600"},
}


def column_defs() -> list[dict[str, object]]:
    """Give back the grid's columns: sortable, resizable, each with its own filter."""
    text, number = "agTextColumnFilter", "agNumberColumnFilter"
    money = f"Monthly value ({settings.get('currency')})"
    return [
        {"field": "account", "headerName": "Account", "filter": text, "minWidth": 170},
        {"field": "service", "headerName": "Service", "filter": text, "minWidth": 190},
        {"field": "contract", "headerName": "Contract", "filter": text, "width": 110},
        {"field": "vendor", "headerName": "Vendor", "filter": text, "width": 120},
        {
            "field": "psa_quantity",
            "headerName": "PSA qty",
            "filter": number,
            "type": "rightAligned",
            "valueFormatter": QUANTITY,
            "width": 105,
        },
        {
            "field": "vendor_quantity",
            "headerName": "Vendor qty",
            "filter": number,
            "type": "rightAligned",
            "valueFormatter": QUANTITY,
            "width": 115,
        },
        {
            "field": "change",
            "headerName": "Change",
            "filter": number,
            "type": "rightAligned",
            "valueFormatter": CHANGE,
            "width": 100,
        },
        {"field": "type", "headerName": "Type", "filter": text, "width": 125},
        {
            "field": "monthly_value",
            "headerName": money,
            "filter": number,
            "type": "rightAligned",
            "valueFormatter": MONEY,
            "width": 170,
        },
        {"field": "status", "headerName": "Status", "filter": text, "width": 110},
        {"field": "effective_date", "headerName": "Effective", "filter": text, "width": 115},
        {"field": "proration", "headerName": "Proration", "filter": text, "width": 125},
        {
            "field": "flags",
            "headerName": "Flags",
            "filter": text,
            "width": 150,
            "cellClass": "trueup-flagged",
        },
    ]


def grid_options(payload: str) -> dict[str, object]:
    """Give back the grid's options, its rows in `payload` (see `payload_of`); the same on every
    run of a view, so the grid keeps its state."""
    return {
        "context": {"trueupRows": payload},
        "onGridReady": LOAD_ROWS,
        "columnDefs": column_defs(),
        "defaultColDef": {"sortable": True, "resizable": True, "floatingFilter": False},
        "rowSelection": {
            "mode": "multiRow",
            "checkboxes": True,
            "headerCheckbox": True,
            "selectAll": "filtered",
            "enableClickSelection": False,
        },
        "getRowId": ROW_ID,
        "isFullWidthRow": IS_GROUP_ROW,
        "fullWidthCellRenderer": GROUP_ROW,
        "isExternalFilterPresent": EXTERNAL_FILTER_PRESENT,
        "doesExternalFilterPass": EXTERNAL_FILTER_PASSES,
        "postSortRows": KEEP_GROUPS_TOGETHER,
        "onRowSelected": GROUP_SELECTION,
        "autoSizeStrategy": {"type": "fitGridWidth", "defaultMinWidth": 80},
        "animateRows": False,
        "suppressCellFocus": True,
        "rowHeight": 34,
        "headerHeight": 38,
    }


def payload_of(rows: pl.DataFrame) -> str:
    """Give back the grid's rows (pages.card_view.grid_rows) as the grid loads them: JSON of
    `{"fields": [names], "rows": [[values], ...]}`, columns all empty left out."""
    kept = rows.select(c for c in rows.columns if rows.get_column(c).null_count() < rows.height)
    return json.dumps({"fields": kept.columns, "rows": kept.rows()}, separators=(",", ":"))


def card_grid(payload: str, count: int, key: str) -> list[str]:
    """Show the `count` rows of `payload` (see `payload_of`) and give back the keys of the
    selected cards.

    The grid sends back only `{"selected": [keys]}` on each change of selection, so a click
    costs the same with 20 rows as with 20,000. Its rows are read once, when it opens: a grid
    of other rows needs another `key`.
    """
    # As tall as its rows, up to a screenful: a short list leaves no empty box.
    height = max(160, min(600, 40 + 34 * count + 24))
    response = AgGrid(
        None,
        gridOptions=grid_options(payload),
        height=height,
        key=key,
        data_return_mode=DataReturnMode.CUSTOM,
        custom_jscode_for_grid_return=SELECTED_KEYS,
        update_on=[("selectionChanged", 60)],
        allow_unsafe_jscode=True,
        enable_enterprise_modules=False,
        custom_css=CSS,
        theme="streamlit",
        show_toolbar=False,
        use_json_serialization=False,
    )
    return selected_keys(response.get("selected") if response.raw_data else None)


def selected_keys(value: object) -> list[str]:
    """Give back the card keys in a value the grid sent (or a test injected), else none."""
    if not isinstance(value, list):
        return []
    return [k for k in value if isinstance(k, str) and not k.startswith(GROUP_ID)]


def injected(key: str) -> list[str] | None:
    """Give back the selection held in the session for the grid `key`, as the browser last sent
    it (or a test set it), before the grid is drawn."""
    value = st.session_state.get(key)
    return selected_keys(value.get("selected")) if isinstance(value, dict) else None
