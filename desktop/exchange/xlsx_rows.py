"""Whole rows into an xlsxwriter worksheet in constant-memory mode, each row's XML made
at once (no Qt).

xlsxwriter's own path costs a dozen Python calls a cell (write_string, the dimension
check, the row table, then _write_cell, the control-character and whitespace regexes,
the XML escape): at a million rows of 13 columns that was most of an XLSX export.
Here a row is one f-string per cell and one write; a string that needs any escaping
(& < >, control characters, a literal _xHHHH_, surrounding whitespace, more than
16,383 characters) goes through xlsxwriter's own helpers, so every cell is written as
xlsxwriter writes it (tests/exchange/test_export.py compares the sheet XML byte for
byte). One difference, on purpose: xlsxwriter writes a string that looks like
"<r>...</r>" unescaped, as rich text XML (a name typed that way made a broken file);
here it is text like any other.

This touches xlsxwriter's internals (the row file `fh`, `dim_*`, both set by the
worksheet in constant-memory mode); the version is pinned in uv.lock and the test
above fails if they change.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from typing import Any

from xlsxwriter.utility import (
    _preserve_whitespace,
    _utf16_len,
    _utf16_truncate,
    xl_col_to_name,
)

MAX_ROWS = 1_048_576  # Excel's rows and columns on a sheet (xlsxwriter drops the rest)
MAX_COLS = 16_384
STR_MAX = 32_767  # UTF-16 units in a cell (xlsxwriter truncates the rest)
# What makes a string leave the quick path: anything xlsxwriter escapes or marks.
_SPECIAL = re.compile(r"[&<>\x00-\x08\x0b-\x1f\ufffe\uffff]|_x[0-9a-fA-F]{4}_|^\s|\s$")


def _escaped(ws: Any, text: str) -> tuple[str, str]:
    """xlsxwriter's inline string (worksheet._write_string, then _write_cell in
    constant-memory mode): the text as written between <t> tags, and the <t> attribute."""
    if len(text) > STR_MAX // 2 and _utf16_len(text) > STR_MAX:
        text = _utf16_truncate(text, STR_MAX)
    text = ws._escape_control_characters(text)
    preserve = ' xml:space="preserve"' if _preserve_whitespace(text) else ""
    return ws._escape_data(text), preserve


class SheetRows:
    """Appends rows to `ws`, a worksheet of a constant_memory workbook on which nothing
    else is written; `close` before the workbook closes."""

    def __init__(self, ws: Any) -> None:
        if not ws.constant_memory or ws.table:
            raise ValueError("SheetRows needs an empty constant_memory worksheet")
        self.ws = ws
        self.write = ws.fh.write
        self.row = 0  # the next row's index
        self.names = [xl_col_to_name(c) for c in range(64)]
        self.rmin: int | None = None
        self.rmax = self.cmin = self.cmax = 0

    def append(self, values: Iterable[Any]) -> None:
        """The next row: None leaves a cell empty, int and float are numbers, everything
        else text (str() of it). Past Excel's last row or column nothing is written."""
        n = self.row
        self.row += 1
        if n >= MAX_ROWS:
            return
        r = n + 1
        cells: list[str] = []
        add = cells.append
        names = self.names
        special = _SPECIAL.search
        first = last = -1
        for c, v in enumerate(values):
            if v is None:
                continue
            if c >= len(names):
                if c >= MAX_COLS:
                    break
                names.extend(xl_col_to_name(i) for i in range(len(names), c + 1))
            cls = v.__class__
            if cls is not str:
                if isinstance(v, int | float):
                    if cls is float and not math.isfinite(v):
                        raise TypeError("NAN/INF not supported in write_number() "
                                        "without 'nan_inf_to_errors' Workbook() option")
                    add(f'<c r="{names[c]}{r}"><v>{v:.16G}</v></c>')
                    if first < 0:
                        first = c
                    last = c
                    continue
                v = v if isinstance(v, str) else str(v)
            if special(v) or len(v) > 16_383:
                text, preserve = _escaped(self.ws, v)
                add(f'<c r="{names[c]}{r}" t="inlineStr"><is><t{preserve}>{text}</t></is></c>')
            else:
                add(f'<c r="{names[c]}{r}" t="inlineStr"><is><t>{v}</t></is></c>')
            if first < 0:
                first = c
            last = c
        if first < 0:
            return  # no cell: no <row> (as xlsxwriter)
        self.write(f'<row r="{r}">{"".join(cells)}</row>')
        if self.rmin is None:
            self.rmin, self.cmin, self.cmax = n, first, last
        else:
            self.cmin = min(self.cmin, first)
            self.cmax = max(self.cmax, last)
        self.rmax = n

    def close(self) -> None:
        """The sheet's dimensions, as xlsxwriter would have kept them."""
        if self.rmin is not None:
            ws = self.ws
            ws.dim_rowmin, ws.dim_rowmax = self.rmin, self.rmax
            ws.dim_colmin, ws.dim_colmax = self.cmin, self.cmax
