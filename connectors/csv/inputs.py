"""A quick reconciliation's files read into the engine's input frames, all or nothing."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl

from connectors.csv import Imported, read_catalog, read_map, read_psa, read_usage
from engine.schema import ACCOUNT_MAP, PRODUCT_MAP, USAGE, Schema
from errors import InputError, Problem

Upload = tuple[str, bytes]
"""A file as it arrives through a browser: its name and its bytes."""
FileRef = Path | Upload


@dataclass(frozen=True)
class Inputs:
    """The frames `engine.reconcile` takes, and what the import had to say about them."""

    psa_lines: pl.DataFrame
    usage: pl.DataFrame
    account_maps: pl.DataFrame
    product_maps: pl.DataFrame
    catalog: pl.DataFrame | None
    warnings: list[str] = field(default_factory=list)


def _source(ref: FileRef) -> tuple[Path | bytes, str]:
    if isinstance(ref, Path):
        return ref, ref.name
    name, data = ref
    return data, name


def read_inputs(
    psa: FileRef,
    usage: Sequence[FileRef],
    maps: Sequence[tuple[FileRef, str | None]] = (),
    catalog: FileRef | None = None,
    *,
    vendor: str | None = None,
    usage_columns: dict[str, str] | None = None,
    psa_columns: dict[str, str] | None = None,
    decimal_comma: bool = False,
) -> Inputs:
    """Give back every file read; the first bad file raises and nothing is kept.

    `maps` pairs each map file with the kind it must be ("account", "product") or None to
    take whichever its columns say.
    """
    psa_file = _read(read_psa, psa, columns=psa_columns, decimal_comma=decimal_comma)
    usage_files = [
        _read(read_usage, ref, vendor=vendor, columns=usage_columns, decimal_comma=decimal_comma)
        for ref in usage
    ]
    map_files = [(_read(read_map, ref), expected) for ref, expected in maps]
    catalog_file = (
        _read(read_catalog, catalog, decimal_comma=decimal_comma) if catalog is not None else None
    )

    by_kind: dict[str, list[pl.DataFrame]] = {"account": [], "product": []}
    for (result, name), expected in map_files:
        if expected is not None and result.kind != expected:
            flag, article = (
                ("--account-map", "an") if result.kind == "account" else ("--product-map", "a")
            )
            raise InputError(
                Problem(
                    name, None, None, f"this is {article} {result.kind} map; give it with {flag}"
                )
            )
        by_kind[result.kind].append(result.frame)

    imported = [psa_file, *usage_files, *(m for m, _ in map_files)]
    if catalog_file:
        imported.append(catalog_file)
    return Inputs(
        psa_lines=psa_file[0].frame,
        usage=pl.concat([f.frame for f, _ in usage_files])
        if usage_files
        else pl.DataFrame(schema=USAGE),
        account_maps=_concat(by_kind["account"], ACCOUNT_MAP),
        product_maps=_concat(by_kind["product"], PRODUCT_MAP),
        catalog=catalog_file[0].frame if catalog_file else None,
        warnings=[w for result, _ in imported for w in result.warnings],
    )


def _read(reader: Callable[..., Imported], ref: FileRef, **options: Any) -> tuple[Imported, str]:
    source, name = _source(ref)
    return reader(source, name=name, **options), name


def _concat(frames: list[pl.DataFrame], schema: Schema) -> pl.DataFrame:
    return pl.concat(frames) if frames else pl.DataFrame(schema=schema)
