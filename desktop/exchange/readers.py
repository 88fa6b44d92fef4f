"""Reading a spreadsheet to import, without Qt: CSV in UTF-8 (with or without BOM) or
GBK/GB18030 (detected with charset-normalizer, or as the user says), and XLSX (openpyxl
read-only: one row in memory at a time). A file is a header and data rows; each data row
comes with its line (CSV) or row number (XLSX) for the error file."""

from __future__ import annotations

import csv
import datetime as dt
import io
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from desktop.errors import ValidationError

SAMPLE_BYTES = 1 << 20  # what the encoding is guessed from
CSV_FIELD_LIMIT = 64 << 20  # a cell of tens of megabytes is read (and refused by its field)
GB_NAMES = {"gbk", "gb2312", "gb18030", "hz", "cp936"}  # read as GB18030, their superset
DELIMITERS = ",\t;"
UNGUARD = frozenset("=+-@\t\r")  # what the export's formula guard prefixes with "'"

csv.field_size_limit(min(sys.maxsize, CSV_FIELD_LIMIT))


class UnreadableFile(ValidationError):
    """The file could not be read as a CSV or XLSX spreadsheet."""


@dataclass(frozen=True)
class SheetInfo:
    kind: str  # "csv" or "xlsx"
    encoding: str | None  # csv only
    delimiter: str  # csv only
    header: list[str]


def kind_of(path: Path) -> str:
    return "xlsx" if path.suffix.lower() in (".xlsx", ".xlsm") else "csv"


def detect_encoding(path: Path) -> str:
    """utf-8-sig (a BOM), utf-8, or what charset-normalizer finds (GBK and GB2312 read
    as GB18030). Raises UnreadableFile when nothing fits."""
    try:
        with path.open("rb") as fh:
            sample = fh.read(SAMPLE_BYTES)
    except OSError as exc:
        raise UnreadableFile(f"{path.name} cannot be read ({exc.strerror}).") from exc
    if sample.startswith(b"\xef\xbb\xbf"):
        return "utf-8-sig"
    try:
        sample.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError as exc:
        if exc.start >= len(sample) - 3 and len(sample) == SAMPLE_BYTES:
            return "utf-8"  # a character cut by the end of the sample
    from charset_normalizer import from_bytes

    best = from_bytes(sample).best()
    if best is None:
        raise UnreadableFile(f"{path.name}: the text encoding could not be recognised; "
                             "choose it (UTF-8 or GB18030).")
    name = best.encoding.lower().replace("-", "").replace("_", "")
    return "gb18030" if name in GB_NAMES else best.encoding


def _unguard(value: str) -> str:
    """A cell our export neutralised ("'=1+2") reads as it was."""
    if len(value) > 1 and value[0] == "'" and value[1] in UNGUARD:
        return value[1:]
    return value


def _cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**53:
        return str(int(value))
    if isinstance(value, dt.datetime):
        if value.time() == dt.time(0):
            return value.date().isoformat()
        return value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    return _unguard(str(value))


class Sheet:
    """One file to import: `info` (kind, encoding, header) and `rows()`, which yields
    (line number, cells) with the cells as text ('' for empty), header excluded."""

    def __init__(self, path: Path, encoding: str | None = None) -> None:
        self.path = Path(path)
        self.kind = kind_of(self.path)
        if self.kind == "csv":
            self.encoding: str | None = encoding or detect_encoding(self.path)
            self.delimiter = self._sniff()
        else:
            self.encoding, self.delimiter = None, ","
        self.header = self._header()

    @property
    def info(self) -> SheetInfo:
        return SheetInfo(self.kind, self.encoding, self.delimiter, self.header)

    def _open_text(self) -> io.TextIOWrapper:
        try:
            return self.path.open(encoding=self.encoding or "utf-8", newline="",
                                  errors="strict")
        except (OSError, LookupError) as exc:
            raise UnreadableFile(f"{self.path.name} cannot be read ({exc}).") from exc

    def _sniff(self) -> str:
        with self._open_text() as fh:
            try:
                first = fh.readline()
            except UnicodeDecodeError as exc:
                raise UnreadableFile(
                    f"{self.path.name} is not {self.encoding} text ({exc.reason}); "
                    "choose another encoding.") from exc
        counts = {d: first.count(d) for d in DELIMITERS}
        best = max(counts, key=lambda d: counts[d])
        return best if counts[best] else ","

    def _header(self) -> list[str]:
        for _, cells in self._raw_rows():
            header = [c.strip() for c in cells]
            if any(header):
                return header
            break
        raise UnreadableFile(f"{self.path.name} is empty: the first row must name the columns.")

    def rows(self) -> Iterator[tuple[int, list[str]]]:
        it = self._raw_rows()
        next(it, None)  # the header
        for line, cells in it:
            if any(cells):
                yield line, cells

    def _raw_rows(self) -> Iterator[tuple[int, list[str]]]:
        if self.kind == "xlsx":
            yield from self._xlsx_rows()
            return
        fh = self._open_text()
        try:
            reader = csv.reader(fh, delimiter=self.delimiter)
            line = 1
            for cells in reader:
                yield line, [_unguard(c) if c[:1] == "'" else c for c in cells]
                line = reader.line_num + 1
        except UnicodeDecodeError as exc:
            raise UnreadableFile(
                f"{self.path.name}: near line {line} the text is not {self.encoding} "
                f"({exc.reason}); choose another encoding.") from exc
        except csv.Error as exc:
            raise UnreadableFile(f"{self.path.name}, line {line}: {exc}.") from exc
        finally:
            fh.close()

    def _xlsx_rows(self) -> Iterator[tuple[int, list[str]]]:
        """Every sheet whose first row is the first sheet's header (an export past
        1,048,576 rows continues on the next sheet)."""
        import zipfile

        from openpyxl import load_workbook

        try:
            wb = load_workbook(self.path, read_only=True, data_only=True)
        except (OSError, KeyError, ValueError, zipfile.BadZipFile) as exc:
            raise UnreadableFile(f"{self.path.name} is not a readable XLSX workbook.") from exc
        try:
            header: list[str] | None = None
            for ws in wb.worksheets:
                for number, values in enumerate(ws.iter_rows(values_only=True), start=1):
                    cells = [_cell_text(v) for v in values]
                    while cells and cells[-1] == "":
                        cells.pop()
                    if number == 1:
                        if header is None:
                            header = cells
                        elif cells != header:
                            break  # another table: not part of the import
                        else:
                            continue
                    yield number, cells
        finally:
            wb.close()


def count_rows(path: Path) -> int:
    """About how many data rows (for progress): lines of a CSV, rows of an XLSX's sheets."""
    if kind_of(path) == "xlsx":
        from openpyxl import load_workbook

        try:
            wb = load_workbook(path, read_only=True)
            try:
                return max(sum((ws.max_row or 1) for ws in wb.worksheets) - 1, 0)
            finally:
                wb.close()
        except Exception:  # only an estimate for the progress bar
            return 0
    n = 0
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            n += block.count(b"\n")
    return max(n - 1, 0)
