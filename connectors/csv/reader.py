"""A file (CSV or .xlsx, path or uploaded bytes) read as a table of text cells."""

from __future__ import annotations

import codecs
import csv
import io
import re
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from errors import InputError, Problem

Source = str | Path | bytes
"""A file path (`book.xlsx#Sheet` names a sheet) or the bytes of an uploaded file."""

XLSX_MAGIC = b"PK\x03\x04"
XLS_MAGIC = b"\xd0\xcf\x11\xe0"
BOM = b"\xef\xbb\xbf"
_LEADING_BLANK_LINES = re.compile(rb"(?:[ \t]*\r?\n)*")
_NOT_BLANK = re.compile(rb"[^\xef\xbb\xbf \t\r\n]")
"""Any byte but whitespace and the BOM's: searched for, not stripped, to copy nothing."""

# Windows-1252 leaves five bytes undefined; read them as their Latin-1 code points (as browsers
# do) so that such a file still imports instead of failing on one odd byte.
codecs.register_error(
    "trueup-latin1",
    lambda err: (err.object[err.start : err.end].decode("latin-1"), err.end),  # type: ignore[attr-defined]
)


@dataclass(frozen=True)
class Table:
    """A file's header cells and its rows as text.

    `frame` has one String column per header cell, named `c0`, `c1`... by position (headers
    may repeat or be empty), and `row`: the row number as a spreadsheet shows it. Blank rows
    are still there, as rows of nulls or whitespace.
    """

    name: str
    headers: list[str]
    frame: pl.DataFrame


def read_table(source: Source, *, name: str | None = None, sheet: str | None = None) -> Table:
    """Give back the file as a table of text cells, whatever its format and encoding."""
    fast = _read_plain_csv(source, name, sheet)
    if fast is not None:
        return fast
    data, name, sheet = _load(source, name, sheet)
    if data[:4] == XLSX_MAGIC:
        return _read_xlsx(data, name, sheet)
    if sheet:
        raise InputError(
            Problem(name, None, None, f'sheet "{sheet}" was given but the file is not an .xlsx')
        )
    _check_text(data, name)
    return _read_csv(data, name)


def _read_plain_csv(source: Source, name: str | None, sheet: str | None) -> Table | None:
    """Give back a CSV file on disk read by Polars from its path (mapped, not copied into
    memory) when it starts plainly: no BOM, no blank lines before the header, UTF-8 text.
    Otherwise None, and the caller reads the bytes and handles each quirk."""
    if isinstance(source, bytes) or sheet:
        return None
    path = Path(source)
    try:
        with path.open("rb") as file:
            head = file.read(65536)
    except OSError:
        return None
    plain = (
        _NOT_BLANK.match(head) is not None
        and not head.startswith((BOM, XLSX_MAGIC, XLS_MAGIC))
        and b"\x00" not in head[:8192]
    )
    if not plain:
        return None
    try:
        frame = _polars_csv(path, detect_separator(head))
    except pl.exceptions.PolarsError:
        return None
    return _table(name or path.name, frame, 1)


def _load(source: Source, name: str | None, sheet: str | None) -> tuple[bytes, str, str | None]:
    if isinstance(source, bytes):
        return source, name or "upload", sheet
    path = Path(source)
    if not path.exists() and "#" in str(source):
        file, _, in_path = str(source).rpartition("#")
        path = Path(file)
        sheet = sheet or in_path or None
    try:
        data = path.read_bytes()
    except OSError as error:
        reason = "does not exist" if isinstance(error, FileNotFoundError) else "cannot be read"
        raise InputError(Problem(name or str(source), None, None, f"the file {reason}")) from None
    return data, name or path.name, sheet


def _check_text(data: bytes, name: str) -> None:
    if _NOT_BLANK.search(data) is None:
        raise InputError(Problem(name, None, None, "the file is empty"))
    head = data[:8192]
    if b"\x00" not in head:
        return
    if head.startswith(XLS_MAGIC):
        message = "this is an old Excel .xls workbook; save it as .xlsx or CSV"
    elif head.startswith((b"\xff\xfe", b"\xfe\xff")):
        message = "this is UTF-16 text; save it as CSV UTF-8"
    else:
        message = "this is not a text (CSV) file or an Excel .xlsx workbook"
    raise InputError(Problem(name, None, None, message))


def _read_csv(data: bytes, name: str) -> Table:
    if data.startswith(BOM):
        data = data[len(BOM) :]
    leading = _LEADING_BLANK_LINES.match(data)
    end = leading.end() if leading else 0
    # Blank lines before the header are rows too, as a spreadsheet numbers them.
    header_row = data.count(b"\n", 0, end) + 1
    if end:
        data = data[end:]
    separator = detect_separator(data[:65536])
    try:
        frame = _polars_csv(data, separator)
    except pl.exceptions.PolarsError:
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            text = data.decode("cp1252", errors="trueup-latin1")
            try:
                frame = _polars_csv(text.encode("utf-8"), separator)
            except pl.exceptions.PolarsError:
                frame = _python_csv(text, separator, name, header_row)
        else:
            frame = _python_csv(text, separator, name, header_row)
    return _table(name, frame, header_row)


def _polars_csv(data: bytes | Path, separator: str) -> pl.DataFrame:
    return pl.read_csv(
        data, has_header=False, infer_schema=False, separator=separator, quote_char='"'
    )


def detect_separator(head: bytes) -> str:
    """Give back the delimiter the header line uses most: `,`, `;` or tab (`,` on a tie)."""
    counts = {b",": 0, b";": 0, b"\t": 0}
    quoted = False
    for byte in head:
        char = bytes((byte,))
        if char == b'"':
            quoted = not quoted
        elif quoted:
            continue
        elif char == b"\n":
            break
        elif char in counts:
            counts[char] += 1
    best = max(counts, key=lambda c: counts[c])
    return (best if counts[best] else b",").decode()


def _python_csv(text: str, separator: str, name: str, header_row: int) -> pl.DataFrame:
    """Give back the rows as Python's csv module reads them: the slow path for the files Polars
    refuses (a stray quote inside a value such as `24" monitor`, rows with extra cells)."""
    records: list[list[str]] = []
    reader = csv.reader(io.StringIO(text), delimiter=separator, strict=True)
    try:
        records.extend(reader)
    except csv.Error as error:
        message = {
            "unexpected end of data": 'a quote (") opened in this row is never closed',
        }.get(str(error), f"the CSV cannot be read here ({error})")
        raise InputError(Problem(name, header_row + len(records), None, message)) from None
    width = len(records[0])
    ragged = [
        Problem(name, header_row + i, None, f"has {len(r)} cells but the header has {width}")
        for i, r in enumerate(records)
        if len(r) > width and any(cell.strip() for cell in r[width:])
    ]
    if ragged:
        raise InputError(ragged[: InputError.max_listed], total=len(ragged))
    columns: list[list[str | None]] = [[] for _ in range(width)]
    for record in records:
        for position in range(width):
            columns[position].append(record[position] if position < len(record) else None)
    return pl.DataFrame(
        {f"column_{i}": cells for i, cells in enumerate(columns)},
        schema={f"column_{i}": pl.String for i in range(width)},
    )


def _read_xlsx(data: bytes, name: str, sheet: str | None) -> Table:
    import fastexcel

    try:
        sheets = fastexcel.read_excel(data).sheet_names
        chosen = _sheet(name, sheets, sheet)
        frame = pl.read_excel(
            data,
            engine="calamine",
            sheet_name=chosen,
            has_header=False,
            read_options={"dtypes": "string"},
            drop_empty_rows=False,
            drop_empty_cols=False,
            raise_if_empty=False,
        )
    except InputError:
        raise
    except Exception as error:  # calamine raises many kinds for a broken workbook
        message = f"the workbook cannot be read ({error})"
        raise InputError(Problem(name, None, None, message)) from None
    if frame.height == 0:
        raise InputError(Problem(name, None, None, f'sheet "{chosen}" is empty'))
    return _table(name, frame.select(pl.all().cast(pl.String)), 1)


def _sheet(name: str, sheets: list[str], wanted: str | None) -> str:
    """Give back the sheet to read: the one named (in any case), or the first."""
    if not sheets:
        raise InputError(Problem(name, None, None, "the workbook has no sheets"))
    if wanted is None:
        return sheets[0]
    if wanted in sheets:
        return wanted
    same = [s for s in sheets if s.casefold() == wanted.casefold()]
    if len(same) == 1:
        return same[0]
    listed = ", ".join(f'"{s}"' for s in sheets)
    raise InputError(Problem(name, None, None, f'there is no sheet "{wanted}"; sheets: {listed}'))


def _table(name: str, frame: pl.DataFrame, header_row: int) -> Table:
    headers = [(cell or "").strip().lstrip("\ufeff").strip() for cell in frame.row(0)]
    rows = (
        frame.slice(1)
        .rename({old: f"c{i}" for i, old in enumerate(frame.columns)})
        .with_row_index("row", offset=header_row + 1)
    )
    return Table(name, headers, rows)
