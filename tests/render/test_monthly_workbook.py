"""Issue 17: the monthly publication workbook in Chinese, offices by name (never codes)."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from complaints.ledger import local_dates
from tasks.render import context_from_settings, write_monthly_workbook
from tasks.render.context import NameMissing
from tests.render.rendered_docs import Demo

pytestmark = pytest.mark.slow


def _month(demo: Demo) -> tuple[str, pd.DataFrame]:
    ledger = pd.read_parquet(demo.quarterly_bundle / "extract" / "ledger.parquet")
    month = f"{demo.quarter.year}-{demo.quarter.index * 3:02d}"  # the quarter's last month
    days = pd.Series(local_dates(ledger["received_at"]), index=ledger.index).astype(str)
    return month, ledger[days.str.startswith(month) & ledger["branch_code"].notna()]


def test_monthly_workbook_is_chinese_with_names(demo: Demo, tmp_path: Path) -> None:
    month, rows = _month(demo)
    ctx = context_from_settings(demo.loaded.settings, period=month, run_id="m",
                                generated_at=dt.datetime(2026, 11, 1, 9, 0))
    path = write_monthly_workbook(rows, month, ctx, tmp_path / "m.xlsx")
    wb = openpyxl.load_workbook(path, read_only=True)
    for ws in wb.worksheets:
        values = list(ws.iter_rows(min_row=2, max_row=2, values_only=True))[0]
        assert not [h for h in values if h is not None and re.search(r"[A-Za-z]", str(h))], ws.title
    detail = list(wb["案件处理明细表"].iter_rows(min_row=2, values_only=True))
    col = detail[0].index("处理机构")
    offices = {r[col] for r in detail[1:]}
    codes = set(rows["branch_code"].astype(str))
    assert offices and not offices & codes
    summary = [r[0] for r in wb["投诉处理汇总表"].iter_rows(min_row=3, values_only=True)]
    assert not set(summary) & codes
    wb.close()


def test_monthly_workbook_names_a_code_without_a_name(demo: Demo, tmp_path: Path) -> None:
    month, rows = _month(demo)
    rows = rows.copy()
    rows.loc[rows.index[0], "branch_code"] = "ZZ99"
    ctx = context_from_settings(demo.loaded.settings, period=month, run_id="m",
                                generated_at=dt.datetime(2026, 11, 1, 9, 0))
    with pytest.raises(NameMissing, match="ZZ99"):
        write_monthly_workbook(rows, month, ctx, tmp_path / "m.xlsx")
