"""Settings > API sources: the sources TrueUp syncs itself, added, changed, tested, removed.

Not a page: Settings shows it (app.py registers its pages by hand). Secrets are typed into
password inputs, stored encrypted by store.sources, and never shown again, not even their length:
a source lists only the names of the secrets it has.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import streamlit as st

from connectors.registry import TYPES, SourceType
from errors import ADVICE, ConnectorError, TrueUpError
from pages.workspace import as_text, show_error, signed_in
from store import Store
from store import credentials as creds
from store.access import Permission
from store.sources import (
    SourceDetails,
    add_source,
    remove_source,
    source_details,
    values_to_test,
)
from store.types import SourceKind, now

ADDRESSES = ("base_url", "zone_url", "console_url", "discovery_url")
"""The settings that say where a source is, in the order Test connection names them."""


def label(name: str) -> str:
    """Give back a setting's name as a form labels it: `base_url` is `Base URL`."""
    words = [{"url": "URL", "id": "ID", "api": "API"}.get(w, w) for w in name.split("_")]
    return " ".join([words[0][:1].upper() + words[0][1:], *words[1:]])


def test_connection(kind: SourceType, values: Mapping[str, str]) -> None:
    """Sign in to the source with `values` and say plainly whether that worked, and if not why."""
    secrets = [v for k, v in values.items() if k in kind.secrets]
    try:
        with st.spinner(f"Connecting to {kind.title}…"):
            kind.test(values)
    except ConnectorError as error:
        what, then = ADVICE[error.kind]
        detail = as_text(creds.redact(str(error), secrets))  # the vendor's words, as written
        st.error(f"**{what}.** {then}\n\n{detail}", icon=":material/cloud_off:")
        return
    except TrueUpError as error:
        st.error(as_text(creds.redact(str(error), secrets)), icon=":material/cloud_off:")
        return
    where = next((values[a] for a in ADDRESSES if values.get(a)), None)
    reached = f" at {where}" if where else ""
    st.success(
        f"**Connection OK**: signed in to {kind.title}{reached} and read a first record.",
        icon=":material/cloud_done:",
    )


def sources_table(details: list[SourceDetails]) -> list[dict[str, str]]:
    """Give back one row per source: type, side, settings that are not secret, secret names."""
    rows = []
    for source in details:
        api = TYPES.get(source.type)
        if source.unreadable:
            secrets = f"stored, unreadable: {source.unreadable}"
        else:
            stored = [f"{label(n)} (encrypted)" for n in source.secrets]
            in_file = [f"{label(n)} (secrets.toml)" for n in source.file_secrets]
            secrets = ", ".join(stored + in_file)
        rows.append(
            {
                "Source": source.name,
                "Side": "PSA" if source.kind is SourceKind.PSA else "Vendor",
                "Type": api.title if api else "CSV upload",
                "Distributor": source.distributor or "",
                "Settings": ", ".join(f"{label(k)}: {v}" for k, v in source.settings.items()),
                "Secrets": secrets,
            }
        )
    return rows


def flash(text: str) -> None:
    """Say `text` after the rerun that shows the sources as they now are."""
    st.session_state["sources_flash"] = text
    st.session_state["sources_round"] = st.session_state.get("sources_round", 0) + 1
    st.rerun()


def setting_inputs(
    kind: SourceType, key: str, source: SourceDetails | None = None
) -> dict[str, str]:
    """Give back the values typed for each of `kind`'s settings (a form's inputs).

    Settings show their stored value or default; secrets are password inputs, always blank:
    for a saved source, blank keeps the one it has (stored, or in secrets.toml).
    """
    stored = source.settings if source is not None else {}
    kept = {n: "stored" for n in source.secrets} if source is not None else {}
    kept |= {n: "in secrets.toml" for n in source.file_secrets} if source is not None else {}
    values = {}
    for setting in kind.fields:
        help_text = setting.help
        if setting.secret:
            where = kept.get(setting.name)
            placeholder = f"{where}: leave blank to keep it" if where else None
            typed = st.text_input(
                label(setting.name) + (" *" if setting.needed else ""),
                type="password",
                help=help_text + " Stored encrypted, never shown again.",
                placeholder=placeholder,
                key=f"{key}-{setting.name}",
            )
        else:
            current = stored.get(setting.name) or setting.default or ""
            if setting.default is not None:
                help_text += f" Default: {setting.default}."
            typed = st.text_input(
                label(setting.name) + (" *" if setting.needed else ""),
                value=current,
                help=help_text,
                key=f"{key}-{setting.name}",
            )
        values[setting.name] = typed.strip()
    return values


def missing_message(kind: SourceType, values: Mapping[str, str]) -> str | None:
    """Give back what to fill in when `values` lack a setting the source needs."""
    missing = kind.missing(values)
    if not missing:
        return None
    named = ", ".join(label(n) for n in missing)
    return (
        f"A {kind.title} source needs **{named}**: fill {'them' if len(missing) > 1 else 'it'} in."
    )


def no_key_warning(name: str) -> None:
    """Say how to give TrueUp a secret key, when it has none to store credentials with."""
    st.warning(
        "**TrueUp has no secret key, so it cannot store credentials.** Make one with "
        f"`trueup source key` and set it as `{creds.KEY_ENV}` in the server's environment "
        f"(then restart the app), or as `secret_key` under `[trueup]` in `{creds.SECRETS_FILE}`. "
        f"Or leave the secrets blank here and put them in `{creds.SECRETS_FILE}` yourself, "
        f"under `[sources.{name or 'NAME'}]`. Test connection works either way.",
        icon=":material/key_off:",
    )


def add_form(opened: Store, details: list[SourceDetails]) -> None:
    """The form that adds an API source of a chosen type."""
    titles = {
        t.name: f"{'PSA' if t.side == 'psa' else 'Vendor'}: {t.title}" for t in TYPES.values()
    }
    kinds = sorted(TYPES, key=lambda n: TYPES[n].side != "psa")  # the PSA first
    psa = next((d for d in details if d.kind is SourceKind.PSA), None)
    # With the PSA already an API source, what is left to add is a vendor.
    first = next(i for i, n in enumerate(kinds) if TYPES[n].side == "vendor")
    chosen = st.selectbox(
        "Type",
        kinds,
        index=first if psa is not None and psa.type != "csv" else 0,
        format_func=titles.__getitem__,
        key="source-new-type",
    )
    kind = TYPES[chosen]
    if kind.side == "psa" and psa is not None and psa.type != "csv":
        st.info(
            f'The PSA is already the source "{psa.name}" (there is one per install): change it '
            "above, or remove it first.",
            icon=":material/info:",
        )
        return
    suggested = chosen
    if kind.side == "psa" and psa is not None:
        suggested = psa.name
        st.info(
            f'The PSA "{psa.name}" syncs from CSV uploads now: saved under its name, it syncs '
            f"from {kind.title} instead, and its snapshots so far stay.",
            icon=":material/info:",
        )
    key = f"source-new-{chosen}-{st.session_state.get('sources_round', 0)}"
    with st.form(key):
        name = st.text_input(
            "Name *",
            value=suggested,
            help="How TrueUp names this source: in the Sync page, "
            "the CLI (`trueup sync --source NAME`) and secrets.toml.",
            key=f"{key}-name",
        ).strip()
        distributor = None
        if kind.side == "vendor":
            distributor = st.text_input(
                "Distributor",
                value="Pax8" if chosen == "pax8" else "",
                help="Who you buy this vendor's licences through, if not from the vendor itself.",
                key=f"{key}-distributor",
            )
        values = setting_inputs(kind, key)
        save, test = st.columns(2)
        saved = save.form_submit_button("Add source", icon=":material/add:", type="primary")
        tested = test.form_submit_button("Test connection", icon=":material/network_check:")
    if not (saved or tested):
        return
    if not name:
        st.error("The source needs a **Name**: fill it in.", icon=":material/error:")
        return
    done = f'Source "{name}" added ({kind.title}). Sync it on the Sync page.'
    submit(opened, Submitted(name, kind, values, tested, distributor), done)


def edit_form(opened: Store, source: SourceDetails) -> None:
    """The form that changes a saved API source, tests it, or removes it."""
    kind = TYPES[source.type]
    key = f"source-edit-{source.name}-{st.session_state.get('sources_round', 0)}"
    with st.form(key):
        distributor = None
        if kind.side == "vendor":
            distributor = st.text_input(
                "Distributor", value=source.distributor or "", key=f"{key}-distributor"
            )
        values = setting_inputs(kind, key, source)
        save, test, remove = st.columns(3)
        saved = save.form_submit_button("Save changes", icon=":material/save:", type="primary")
        tested = test.form_submit_button("Test connection", icon=":material/network_check:")
        removed = remove.form_submit_button("Remove…", icon=":material/delete:")
    if removed:
        st.session_state[f"source-remove-{source.name}"] = True
    if st.session_state.get(f"source-remove-{source.name}"):
        remove_step(opened, source)
    if not (saved or tested):
        return
    # A setting emptied is one to clear; a secret left blank is one to keep.
    cleared = [
        f.name
        for f in kind.fields
        if not f.secret and source.settings.get(f.name) and not values[f.name]
    ]
    typed = Submitted(source.name, kind, values, tested, distributor, tuple(cleared))
    submit(opened, typed, f'Source "{source.name}" saved.')


@dataclass(frozen=True)
class Submitted:
    """What a source's form was submitted with, and whether to test it rather than save it."""

    name: str
    kind: SourceType
    values: dict[str, str] = field(repr=False)
    test: bool = False
    distributor: str | None = None
    cleared: tuple[str, ...] = ()


def submit(opened: Store, typed: Submitted, done: str) -> None:
    """Test the source as typed (over what is stored), or save it and say `done` after a rerun.

    What a source lacks is named first; the test runs outside any database transaction, as it
    may wait on the network.
    """
    kind = typed.kind
    try:
        with opened.session() as session:
            full = values_to_test(
                session, typed.name, kind.name, typed.values, cleared=typed.cleared
            )
            problem = missing_message(kind, full)
            if problem is None and not typed.test:
                add_source(
                    session, typed.name, kind.name, typed.values, user=signed_in().name, at=now(),
                    distributor=typed.distributor, cleared=typed.cleared,
                )  # fmt: skip
    except TrueUpError as error:
        show_error(error)
        return
    if problem is not None:
        st.error(problem, icon=":material/error:")
    elif typed.test:
        test_connection(kind, full)
    else:
        flash(done)


def remove_step(opened: Store, source: SourceDetails) -> None:
    """Ask before removing a source, saying what stays."""
    if source.synced:
        what = (
            f'Its settings and stored secrets are deleted; its syncs stay, and "{source.name}" '
            "becomes a CSV source you can upload files to."
        )
    else:
        what = "It has never synced: it is deleted with its settings and stored secrets."
    st.warning(f"**Remove {source.name}?** {what}", icon=":material/delete:")
    sure, cancel = st.columns(2)
    if sure.button("Remove it", key=f"source-remove-yes-{source.name}", type="primary"):
        with opened.session() as session:
            remove_source(session, source.name, user=signed_in().name, at=now())
        st.session_state.pop(f"source-remove-{source.name}", None)
        flash(f'Source "{source.name}" removed.')
    if cancel.button("Keep it", key=f"source-remove-no-{source.name}"):
        st.session_state.pop(f"source-remove-{source.name}", None)
        st.rerun()


def api_sources(opened: Store) -> None:
    """Show the sources, a form to change each API source, and one to add another."""
    st.subheader("Sources")
    st.caption(
        "The PSA and the vendors TrueUp reads. An API source syncs itself (Sync page, or "
        "`trueup sync`); its secrets are stored encrypted and never shown again."
    )
    done = st.session_state.pop("sources_flash", None)
    if done:
        st.success(done, icon=":material/check_circle:")
    has_key = creds.secret_key() is not None
    with opened.session() as session:
        details = source_details(session)
    if details:
        st.dataframe(sources_table(details), hide_index=True, width="stretch")
    else:
        st.info("No sources yet: add the PSA and the vendors below.", icon=":material/info:")
    if not signed_in().can(Permission.SOURCES):
        st.caption("Admins add, change and remove sources and their credentials.")
        return
    for source in details:
        if source.type == "csv":
            continue
        with st.expander(f"Change {source.name} ({TYPES[source.type].title})"):
            edit_form(opened, source)
    st.markdown("**Add an API source**")
    if not has_key:
        no_key_warning("")
    add_form(opened, details)
