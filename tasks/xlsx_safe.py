"""Workbooks that cannot be weaponised: no value read from a source is ever a live formula.

OWASP (CSV injection): a cell whose text starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage
return may be evaluated by a spreadsheet program (as the file is opened, or as soon as the cell is
edited). Every workbook the project writes (the quarantine workbook, the monthly publication tables,
the error lists returned to branches, the intake template) goes through :func:`neutralise` just before
it is saved: such a text is stored as a string cell (never ``data_type == "f"``) with Excel's quote
prefix, so it is shown and read back exactly as written. Numbers (negative amounts included) are
numeric cells and are left alone. The project writes no formulas of its own into cells (data
validation lists are not cells).

This module lives at ``tasks/`` level, not under ``tasks/render``, because the source readers use it too
and ``tasks.render`` loads the document and chart libraries.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
from openpyxl.cell.cell import Cell
from openpyxl.workbook.workbook import Workbook

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r", "\n")


def is_formula_like(value: Any) -> bool:
    """True for a text a spreadsheet program could take for a formula."""
    return isinstance(value, str) and value.startswith(FORMULA_PREFIXES)


def neutralise_cell(cell: Cell) -> None:
    """Store the cell's value as text when it could be taken for a formula."""
    value = cell.value
    if cell.data_type == "f" or is_formula_like(value):
        cell.data_type = "s"
        cell.quotePrefix = True


def neutralise(wb: Workbook) -> Workbook:
    """Every cell of every sheet of ``wb`` that could be a formula stored as text (in place)."""
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                if isinstance(cell, Cell):  # merged cells have no value of their own
                    neutralise_cell(cell)
    return wb


def write_frames_xlsx(path: Any, sheets: dict[str, pd.DataFrame]) -> Any:
    """``DataFrame.to_excel`` for each sheet (no index), neutralised, saved to ``path``."""
    with pd.ExcelWriter(path, engine="openpyxl") as writer:
        for name, frame in sheets.items():
            frame.to_excel(writer, sheet_name=name, index=False)
        neutralise(writer.book)
    return path
