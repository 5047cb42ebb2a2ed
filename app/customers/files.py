"""Read an import file as a header and a stream of rows: CSV in any Chinese encoding, or XLSX.

CSV may be UTF-8 with or without a byte-order mark, or GBK/GB18030 (what Excel on a Chinese
Windows writes); the encoding is decided by one streaming pass over the bytes. XLSX is read
from its first sheet with openpyxl in read-only mode, so neither kind is ever held in memory
as a whole. Cells come back as written: a cell beginning with ``=``, ``+``, ``-`` or ``@`` is
plain text (XLSX formulas are not evaluated; their text is the value).
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import io
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import openpyxl
from openpyxl.utils.exceptions import InvalidFileException

SCAN_CHUNK_BYTES = 1024 * 1024
_XLSX_MAGIC = b"PK\x03\x04"
#: A cell value as the readers hand it over: text, or a date-time from an XLSX cell.
Cell = str | dt.datetime | None


class UnreadableFile(Exception):
    """The file cannot be read as CSV or XLSX at all; ``message`` is Chinese, for the user."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass
class Table:
    """An open import file: ``header`` cells, ``rows`` as (line number, cells) pairs.

    Line numbers are those a spreadsheet shows (the header is line 1). ``position`` and
    ``size`` measure progress in the file's own unit (bytes of a CSV, rows of an XLSX).
    """

    header: list[str]
    rows: Iterator[tuple[int, list[Cell]]]
    size: int
    position: object  # callable: () -> int


@contextmanager
def open_table(path: str | Path):
    """Open ``path`` as a :class:`Table` (context manager; closes the file at the end).

    :param path: a CSV (UTF-8 with/without BOM, GBK/GB18030; comma or tab separated) or XLSX.
    :returns: the table, header read.
    :raises UnreadableFile: missing or empty file, binary data that is not XLSX, a broken
        XLSX, or an empty header row.
    """
    path = Path(path)
    try:
        with path.open("rb") as raw:
            start = raw.read(4096)
    except OSError as error:
        raise UnreadableFile(f"无法读取文件：{error.strerror or error}") from error
    if not start:
        raise UnreadableFile("文件为空")
    if start.startswith(_XLSX_MAGIC):
        with _open_xlsx(path) as table:
            yield table
        return
    if b"\x00" in start:
        raise UnreadableFile("不是 CSV 或 XLSX 文件")
    with _open_csv(path, _csv_encoding(path, start)) as table:
        yield table


def _csv_encoding(path: Path, start: bytes) -> str:
    """``utf-8-sig`` with a BOM; ``utf-8`` if every byte decodes so; else ``gb18030``."""
    if start.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    decoder = codecs.getincrementaldecoder("utf-8")()
    with path.open("rb") as raw:
        try:
            while chunk := raw.read(SCAN_CHUNK_BYTES):
                decoder.decode(chunk)
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            return "gb18030"  # a superset of GBK and GB2312
    return "utf-8"


@contextmanager
def _open_csv(path: Path, encoding: str):
    raw = path.open("rb")
    try:
        text = io.TextIOWrapper(raw, encoding=encoding, errors="strict", newline="")
        first = text.readline()
        delimiter = "\t" if "\t" in first and "," not in first else ","
        header_reader = csv.reader([first], delimiter=delimiter)
        header = next(header_reader, [])
        if not any(cell.strip() for cell in header):
            raise UnreadableFile("第 1 行没有表头")
        reader = csv.reader(text, delimiter=delimiter)
        yield Table(header=header, rows=_csv_rows(reader), size=path.stat().st_size,
                    position=raw.tell)
    except UnicodeDecodeError as error:
        raise UnreadableFile(f"文件编码无法识别（{encoding}）") from error
    finally:
        raw.close()


def _csv_rows(reader) -> Iterator[tuple[int, list[Cell]]]:
    line = 1  # the header
    try:
        for cells in reader:
            start = line + 1
            line = reader.line_num + 1  # reader.line_num counts from the second line
            if any(cell.strip() for cell in cells):
                yield start, cells
    except csv.Error as error:
        raise UnreadableFile(f"第 {line + 1} 行附近 CSV 格式错误：{error}") from error


@contextmanager
def _open_xlsx(path: Path):
    try:
        book = openpyxl.load_workbook(path, read_only=True, data_only=False)
    except (InvalidFileException, zipfile.BadZipFile, KeyError, OSError, ValueError) as error:
        raise UnreadableFile("XLSX 文件已损坏或不是 XLSX 格式") from error
    try:
        sheet = book.worksheets[0]
        rows = sheet.iter_rows(values_only=True)
        header_row = next(rows, None)
        header = [_xlsx_cell(v) or "" for v in header_row or ()]
        if not any(str(cell).strip() for cell in header):
            raise UnreadableFile("第 1 行没有表头")
        counter = {"line": 1}
        yield Table(header=[str(h) for h in header], rows=_xlsx_rows(rows, counter),
                    size=sheet.max_row or 0, position=lambda: counter["line"])
    finally:
        book.close()


def _xlsx_rows(rows, counter) -> Iterator[tuple[int, list[Cell]]]:
    for values in rows:
        counter["line"] += 1
        cells = [_xlsx_cell(v) for v in values]
        if any(c is not None and (not isinstance(c, str) or c.strip()) for c in cells):
            yield counter["line"], cells


def _xlsx_cell(value) -> Cell:
    """An XLSX value as text, keeping date-times (naive: wall clock as typed)."""
    if value is None or isinstance(value, str | dt.datetime):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # ids typed as numbers: 100123.0 → "100123"
    if isinstance(value, dt.date):
        return dt.datetime.combine(value, dt.time())
    return str(value)
