"""Snapshot rows written and read in bulk: COPY on PostgreSQL, executemany on SQLite.

A million rows as ORM objects take minutes; these paths take seconds. Both run on the
connection of the caller's transaction, so a snapshot's rows commit or roll back with it.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from decimal import Decimal

import polars as pl
import sqlalchemy as sa

from engine.schema import QUANTITY, Schema, conform

CHUNK_ROWS = 100_000
"""Rows handed to the database at a time: bounds the memory of the Python-side copy."""

Write = Callable[[pl.DataFrame], None]
Progress = Callable[[int, int], None]
"""Called with (rows written, rows in all) after each chunk."""


def write_chunk(write: Write, chunk: pl.DataFrame) -> None:
    """Hand one chunk to the database (a seam: tests make it fail half-way)."""
    write(chunk)


def write_rows(
    connection: sa.Connection,
    table: str,
    schema: Schema,
    sync_run_id: int,
    frame: pl.DataFrame,
    on_progress: Progress | None = None,
) -> int:
    """Write `frame` as the rows of one sync run into `table`; give back how many."""
    dialect = connection.dialect.name
    rows = conform(frame, schema).collect()
    if dialect == "sqlite":
        # SQLite keeps quantities as ten-thousandths (see store.types.Quantity).
        rows = rows.with_columns(
            (pl.col(name) * 10_000).cast(pl.Int64)
            for name, dtype in schema.items()
            if dtype == QUANTITY
        )
    rows = rows.select(
        pl.lit(sync_run_id, pl.Int64).alias("sync_run_id"),
        pl.int_range(pl.len(), dtype=pl.Int64).alias("row"),
        *schema,
    )
    writer = _copy if dialect == "postgresql" else _executemany
    done = 0
    with writer(connection, table, rows.columns) as write:
        for chunk in rows.iter_slices(CHUNK_ROWS):
            write_chunk(write, chunk)
            done += chunk.height
            if on_progress is not None:
                on_progress(done, rows.height)
    return rows.height


@contextmanager
def _executemany(connection: sa.Connection, table: str, columns: list[str]) -> Iterator[Write]:
    cursor = connection.connection.cursor()
    sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"
    try:
        yield lambda chunk: cursor.executemany(sql, chunk.rows())
    finally:
        cursor.close()


@contextmanager
def _copy(connection: sa.Connection, table: str, columns: list[str]) -> Iterator[Write]:
    cursor = connection.connection.driver_connection.cursor()  # type: ignore[union-attr]
    sql = f"COPY {table} ({', '.join(columns)}) FROM STDIN (FORMAT csv)"
    # In CSV an unquoted empty field is NULL and "" an empty text, as Polars writes them.
    with cursor, cursor.copy(sql) as copy:
        yield lambda chunk: copy.write(_csv(chunk))


def _csv(chunk: pl.DataFrame) -> bytes:
    buffer = io.BytesIO()
    chunk.write_csv(buffer, include_header=False, null_value="")
    return buffer.getvalue()


def read_rows(
    connection: sa.Connection, table: str, schema: Schema, sync_run_ids: Sequence[int]
) -> pl.DataFrame:
    """Give back the rows of the given sync runs in `table`, in run then file order."""
    if not sync_run_ids:
        return pl.DataFrame(schema=schema)
    runs = ", ".join(str(int(i)) for i in sync_run_ids)
    where = f"FROM {table} WHERE sync_run_id IN ({runs})"
    if connection.dialect.name == "sqlite":
        # The key's index gives this order for free.
        sql = f"SELECT {', '.join(schema)} {where} ORDER BY sync_run_id, row"
        return read_query(connection, sql, schema)
    # PostgreSQL would sort on disk beyond its small work memory; Polars sorts in a blink.
    keyed = {"sync_run_id": pl.Int64, "row": pl.Int64, **schema}
    rows = read_query(connection, f"SELECT {', '.join(keyed)} {where}", keyed)
    return rows.sort("sync_run_id", "row").drop("sync_run_id", "row")


def read_query(connection: sa.Connection, sql: str, schema: Schema) -> pl.DataFrame:
    """Give back the result of `sql`, whose columns are those of `schema`, as a frame."""
    if connection.dialect.name == "postgresql":
        return _copy_out(connection, sql, schema)
    return _fetch(connection, sql, schema)


def _fetch(connection: sa.Connection, sql: str, schema: Schema) -> pl.DataFrame:
    raw = {
        name: pl.Int64 if dtype in (QUANTITY, pl.Boolean) else dtype
        for name, dtype in schema.items()
    }
    cursor = connection.connection.cursor()
    try:
        cursor.execute(sql)
        frames = [pl.DataFrame(schema=raw)]
        while batch := cursor.fetchmany(CHUNK_ROWS):
            frames.append(pl.DataFrame(batch, schema=raw, orient="row"))
    finally:
        cursor.close()
    ten_thousandth = pl.lit(Decimal("0.0001"), pl.Decimal(38, 4))
    return pl.concat(frames).select(
        (pl.col(name).cast(pl.Decimal(38, 0)) * ten_thousandth).cast(QUANTITY)
        if dtype == QUANTITY
        else pl.col(name).cast(dtype)
        for name, dtype in schema.items()
    )


def _copy_out(connection: sa.Connection, sql: str, schema: Schema) -> pl.DataFrame:
    data = bytearray()
    cursor = connection.connection.driver_connection.cursor()  # type: ignore[union-attr]
    with cursor, cursor.copy(f"COPY ({sql}) TO STDOUT (FORMAT csv)") as copy:
        for block in copy:
            data += block
    if not data:
        return pl.DataFrame(schema=schema)
    text = pl.read_csv(
        bytes(data),
        has_header=False,
        new_columns=list(schema),
        schema=dict.fromkeys(schema, pl.String),
    )
    # PostgreSQL writes booleans as t and f.
    return text.select(
        (pl.col(name) == "t").alias(name) if dtype == pl.Boolean else pl.col(name).cast(dtype)
        for name, dtype in schema.items()
    )
