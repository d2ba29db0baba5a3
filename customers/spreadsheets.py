"""Reading and writing spreadsheets (CSV and .xlsx) with tablib and openpyxl: nothing here
parses or writes either format by hand (docs/customers-import-export.md).

Every cell Kefu writes goes through ``neutralise``: a value a spreadsheet program would
read as a formula (``=cmd|' /C calc'!A0``, ``+1+1``, ``-2``, ``@SUM(...)``, or one hidden
behind a tab or carriage return) is written with a leading apostrophe, so it stays text."""

from __future__ import annotations

import io
from collections.abc import Iterable, Iterator, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import IO, Any

import tablib
from openpyxl import Workbook

FORMATS = ("csv", "xlsx")
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
CONTENT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


class UnreadableFile(ValueError):
    """The file is no CSV or .xlsx Kefu can read."""


def neutralise(value: Any) -> Any:
    """``value`` as a cell may safely hold it: text that starts like a formula gets a
    leading apostrophe; numbers, dates and booleans stay what they are."""
    if value is None:
        return ""
    if isinstance(value, bool | int | float | Decimal | date | datetime):
        return value
    text = str(value)
    if text.startswith(FORMULA_STARTS):
        return "'" + text
    return text


def format_of(file_name: str) -> str:
    name = file_name.lower()
    if name.endswith(".xlsx"):
        return "xlsx"
    if name.endswith((".csv", ".txt")):
        return "csv"
    raise UnreadableFile(file_name)


def _decode(raw: bytes) -> str:
    # Excel writes UTF-8 with a byte order mark, older Chinese Excel GB 18030.
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise UnreadableFile("encoding")


def read(stream: IO[bytes], fmt: str) -> tablib.Dataset:
    """The file as a dataset (first row: the headers)."""
    raw = stream.read()
    try:
        if fmt == "csv":
            return tablib.Dataset().load(_decode(raw), format="csv")
        return tablib.Dataset().load(io.BytesIO(raw), format="xlsx")
    except UnreadableFile:
        raise
    except Exception as exc:  # tablib and openpyxl raise many kinds for a broken file
        raise UnreadableFile(str(exc)) from exc


def cell_text(value: Any) -> str:
    """A cell read from a file as text (an .xlsx date as ISO date, a whole number without
    ``.0``)."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.date().isoformat() if not value.time() else value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def dataset(headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> tablib.Dataset:
    data = tablib.Dataset(headers=[str(h) for h in headers])
    for row in rows:
        data.append([neutralise(v) for v in row])
    return data


def export_bytes(headers: Sequence[str], rows: Iterable[Sequence[Any]], fmt: str) -> bytes:
    """A small table (an import's errors) as a whole file."""
    data = dataset(headers, rows)
    if fmt == "csv":
        text: str = data.export("csv")
        return ("\ufeff" + text).encode()
    out: bytes = data.export("xlsx")
    return out


def csv_chunks(
    headers: Sequence[str], rows: Iterable[Sequence[Any]], chunk: int = 2000
) -> Iterator[bytes]:
    """A CSV file in pieces of ``chunk`` rows, each written by tablib: the whole never sits
    in memory (a streamed export). The first piece starts with a byte order mark so Excel
    reads the UTF-8 (Chinese names) right."""
    yield ("\ufeff" + tablib.Dataset(headers=list(headers)).export("csv")).encode()
    piece = tablib.Dataset()
    for row in rows:
        piece.append([neutralise(v) for v in row])
        if piece.height >= chunk:
            yield piece.export("csv").encode()
            piece = tablib.Dataset()
    if piece.height:
        yield piece.export("csv").encode()


def write_xlsx(path: str, headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> int:
    """A large .xlsx written row by row (openpyxl's write-only mode: constant memory);
    returns the number of rows."""
    book = Workbook(write_only=True)
    sheet = book.create_sheet()
    sheet.append(list(headers))
    count = 0
    for row in rows:
        sheet.append([neutralise(v) for v in row])
        count += 1
    book.save(path)
    return count
