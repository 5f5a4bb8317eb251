"""A quick reconciliation's files read into the engine's input frames, all or nothing."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

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
    imported: list[Imported] = []

    def keep(result: Imported) -> Imported:
        imported.append(result)
        return result

    source, name = _source(psa)
    psa_file = keep(read_psa(source, name=name, columns=psa_columns, decimal_comma=decimal_comma))
    usage_frames = []
    for ref in usage:
        source, name = _source(ref)
        usage_frames.append(
            keep(
                read_usage(
                    source,
                    name=name,
                    vendor=vendor,
                    columns=usage_columns,
                    decimal_comma=decimal_comma,
                )
            ).frame
        )
    by_kind: dict[str, list[pl.DataFrame]] = {"account": [], "product": []}
    for ref, expected in maps:
        source, name = _source(ref)
        result = keep(read_map(source, name=name))
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
    catalog_frame = None
    if catalog is not None:
        source, name = _source(catalog)
        catalog_frame = keep(read_catalog(source, name=name, decimal_comma=decimal_comma)).frame

    return Inputs(
        psa_lines=psa_file.frame,
        usage=pl.concat(usage_frames) if usage_frames else pl.DataFrame(schema=USAGE),
        account_maps=_concat(by_kind["account"], ACCOUNT_MAP),
        product_maps=_concat(by_kind["product"], PRODUCT_MAP),
        catalog=catalog_frame,
        warnings=[w for result in imported for w in result.warnings],
    )


def _concat(frames: list[pl.DataFrame], schema: Schema) -> pl.DataFrame:
    return pl.concat(frames) if frames else pl.DataFrame(schema=schema)
