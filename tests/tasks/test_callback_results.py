"""The call-back results read back: the call list the monthly workbook writes (real XLSX), filled in as the
call centre would, read from a folder: good rows summarised, bad rows returned with their errors, other
months' lists and files that are not call lists handled as said."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from openpyxl import load_workbook

from complaints.callback import summarise_results
from complaints.ledger import normalize
from complaints.periods import Period
from tasks.callback_results import read_results
from tasks.config_files import load_settings
from tasks.render import context_from_settings
from tasks.render.monthly import CALLBACK_SHEET, write_monthly_workbook
from tasks.sources import read_table

CASE = Path(__file__).resolve().parents[1] / "cases" / "callback_population_7"


def _call_list(tmp_path: Path, month: str, sample: list[str]) -> Path:
    ledger = normalize(read_table(CASE / "ledger.csv", "ledger"), "ledger")
    p = Period.parse(month)
    rows = ledger[(ledger["received_at"] >= str(p.start)) & (ledger["received_at"] < str(p.end))]
    ctx = context_from_settings(load_settings().settings, period=month, run_id="r1",
                                generated_at=dt.datetime(2026, 10, 13, 9, 0))
    callback = {"population": 7, "sample_size": len(sample), "share": 0.2, "seed": 5, "sample": sample}
    return write_monthly_workbook(rows, month, ctx, tmp_path / f"list-{month}.xlsx", callback=callback)


def test_results_read_back_and_bad_rows_returned(tmp_path: Path) -> None:
    path = _call_list(tmp_path, "2026-09", ["C2", "C5", "C7"])
    wb = load_workbook(path)
    ws = wb[CALLBACK_SHEET]
    header = [c.value for c in ws[2]]
    ids = [ws.cell(row=r, column=header.index("投诉编号") + 1).value for r in (3, 4, 5)]
    assert ids == ["C2", "C5", "C7"]
    assert ws.data_validations.dataValidation  # the result columns have their dropdowns

    def fill(row: int, **values: str) -> None:
        for col, value in values.items():
            ws.cell(row=row, column=header.index(col) + 1, value=value)

    fill(3, 是否主动联系客户="是", 对处理结果的意见="满意", 服务态度评价="基本满意", 处理效率评价="不满意",
         回访日期="2026-10-20")
    fill(4, 是否主动联系客户="否", 对处理结果的意见="很好")  # not an allowed answer
    fill(5, 是否主动联系客户="是", 对处理结果的意见="未接通", 回访日期="10月20日")  # not a date
    wb.save(path)
    folder = path.parent
    _call_list(folder, "2026-08", ["C1"])  # August's list: not read for September
    (folder / "broken.xlsx").write_bytes(b"not a workbook")

    good, bad = read_results(folder, Period.parse("2026-09"))
    assert [r["投诉编号"] for r in good] == ["C2"]
    by_row = {(b["file"], b["row"]): b for b in bad}
    assert set(by_row) == {("broken.xlsx", None), ("list-2026-09.xlsx", 4), ("list-2026-09.xlsx", 5)}
    assert "对处理结果的意见“很好”不是可选值" in by_row[("list-2026-09.xlsx", 4)]["errors"][0]
    assert by_row[("list-2026-09.xlsx", 5)]["complaint_id"] == "C7"
    assert "回访日期" in by_row[("list-2026-09.xlsx", 5)]["errors"][0]
    summary = summarise_results(good, "2026-09")
    assert summary == {"month": "2026-09", "cases": 1, "contacted": {"是": 1, "否": 0},
                       "opinion": {"满意": 1, "基本满意": 0, "不满意": 0, "未接通": 0},
                       "attitude": {"满意": 0, "基本满意": 1, "不满意": 0},
                       "efficiency": {"满意": 0, "基本满意": 0, "不满意": 1}}
    json.dumps(bad, ensure_ascii=False)  # figures-ready


def test_unfilled_list_has_nothing_to_read(tmp_path: Path) -> None:
    path = _call_list(tmp_path, "2026-09", ["C2"])
    good, bad = read_results(path.parent, Period.parse("2026-09"))
    assert good == [] and [b["errors"] for b in bad] == [["未填写抽访结果"]]
