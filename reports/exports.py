"""Writing the reports as CSV (streamed) and .xlsx (openpyxl's write-only workbook, so a
large register is written row by row to a temporary file, then streamed from it).

Every text cell that a spreadsheet would read as a formula (it starts with ``= + - @``, or
a tab or carriage return before one) is prefixed with an apostrophe (OWASP's advice on CSV
injection): the reader sees the text, no spreadsheet runs it."""

from __future__ import annotations

import csv
import tempfile
from collections.abc import Iterable, Iterator
from decimal import Decimal
from typing import IO, Any

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# Excel's last row, less the header.
XLSX_MAX_ROWS = 1_048_575


def neutralise(value: Any) -> Any:
    """The cell as written: numbers as they are, text that could run as a formula quoted."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, (int, float, Decimal)):
        return value
    text = str(value)
    if text.startswith(FORMULA_STARTS):
        return "'" + text
    return text


class _Echo:
    def write(self, value: str) -> str:
        return value


def csv_lines(rows: Iterable[list[Any]]) -> Iterator[str]:
    """The rows as CSV text, a line at a time, with a BOM first so spreadsheets read UTF-8."""
    writer = csv.writer(_Echo())
    yield "\ufeff"
    for row in rows:
        yield writer.writerow([neutralise(v) for v in row])


def xlsx_file(rows: Iterable[list[Any]], title: str) -> IO[bytes]:
    """The rows in a one-sheet workbook, in a temporary file rewound to its start."""
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=title[:31])
    for row in rows:
        sheet.append([_xlsx_cell(v) for v in row])
    out = tempfile.TemporaryFile()  # noqa: SIM115 - closed by the response
    workbook.save(out)
    out.seek(0)
    return out


def _xlsx_cell(value: Any) -> Any:
    value = neutralise(value)
    if isinstance(value, Decimal):
        return float(value)
    return value
