"""The monthly publication tables: source text starting with = + - @ (or a tab / CR) is stored as text,
never as a live formula; numbers stay numbers (issue 22 item 6)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import openpyxl
import pandas as pd
import pytest

from tasks.render import context_from_settings, write_monthly_workbook

from .conftest import GENERATED

HOSTILE = ['=HYPERLINK("http://evil.example","x")', "+1+cmd|' /C calc'!A0", "-2+3", "@SUM(1+1)", "\t=1"]


@pytest.fixture()
def ctx(settings: Any) -> Any:
    return context_from_settings(settings, period="2026Q3", run_id="adhoc-1", generated_at=GENERATED)


def test_monthly_workbook_has_no_formulas(ledger: pd.DataFrame, ctx: Any, tmp_path: Path) -> None:
    july = ledger[ledger["received_at"].dt.month == 7].reset_index(drop=True).copy()
    n = min(len(july), len(HOSTILE))
    july.loc[: n - 1, "summary"] = HOSTILE[:n]
    july.loc[0, "province"] = "=1+1"
    july.loc[0, "complaint_id"] = "@ID"
    path = write_monthly_workbook(july, "2026-07", ctx, tmp_path / "m.xlsx")
    wb = openpyxl.load_workbook(path)
    values = []
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                assert cell.data_type != "f", (ws.title, cell.coordinate, cell.value)
                values.append(cell.value)
    assert all(v in values for v in HOSTILE[:n]) and "=1+1" in values and "@ID" in values
    assert any(isinstance(v, int | float) and not isinstance(v, bool) for v in values)  # counts stay numbers
