"""The weekly publication workbook (real XLSX from the golden case): Chinese headers, names not codes,
personal data masked, autofilter and print setup on every sheet, escalated units marked."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from openpyxl import load_workbook

from cli.options import parse_as_of
from complaints.ledger import normalize
from complaints.weekly import weekly_overdue
from tasks.calendar_files import load_calendar
from tasks.config_files import load_settings
from tasks.render import context_from_settings
from tasks.render.weekly import BRANCH_SHEET, DEPT_SHEET, LIST_SHEET, write_weekly_workbook
from tasks.rulebooks import load_rulebooks
from tasks.sources import read_table
from tasks.weekly import escalation_notice, overdue_rows

CASE = Path(__file__).resolve().parents[2] / "cases" / "weekly_national_day"


def test_weekly_workbook(tmp_path: Path) -> None:
    ledger = normalize(read_table(CASE / "ledger.csv", "ledger"), "ledger")
    ledger.loc[ledger["complaint_id"] == "G1", "summary"] = "客户手机13812345678反映理赔慢"
    ledger.loc[ledger["complaint_id"] == "G1", "policy_no"] = "P440012345678"
    figures = weekly_overdue(ledger, week="2026-W41", as_of=parse_as_of("2026-10-14T10:00+08:00"),
                             calendar=load_calendar(), rulebooks=load_rulebooks(), entity="HO",
                             head_office="HO").figures
    settings = load_settings().settings
    ctx = context_from_settings(settings, period="2026-W41", run_id="r1",
                                generated_at=dt.datetime(2026, 10, 12, 9, 0))
    names = dict(ctx.entity_names)
    path = write_weekly_workbook(figures, overdue_rows(ledger, figures), ctx, tmp_path)
    assert path.name == "超时限投诉案件周公示_2026-W41.xlsx"
    wb = load_workbook(path)
    assert wb.sheetnames == [LIST_SHEET, BRANCH_SHEET, DEPT_SHEET]
    for ws in wb:
        assert ws.auto_filter.ref and ws.auto_filter.ref.startswith("A2:")
        assert ws.print_title_rows == "$2:$2"
        assert ws.page_setup.orientation == "landscape" and ws.page_setup.fitToWidth == 1
        assert ws.sheet_properties.pageSetUpPr.fitToPage
    rows = list(wb[LIST_SHEET].iter_rows(min_row=2, values_only=True))
    header, body = rows[0], rows[1:]
    assert header[:7] == ("投诉编号", "处理机构", "责任部门", "投诉事由", "收到日期", "处理时限截止日",
                          "超期天数")
    assert [r[0] for r in body] == ["G1", "Z2", "G5", "G2", "Z1"]
    g1 = dict(zip(header, body[0], strict=True))
    assert g1["责任部门"] == "理赔" and g1["超期天数"] == 16 and g1["处理时限截止日"] == "2026-09-25"
    assert g1["处理机构"] == names.get("GD", "GD")
    assert "13812345678" not in str(g1["投诉摘要"]) and "P440012345678" not in str(g1["保单号"])
    assert dict(zip(header, body[2], strict=True))["本周末是否已作出处理决定"].startswith("是")
    branch = {r[0]: r for r in wb[BRANCH_SHEET].iter_rows(min_row=3, values_only=True)}
    assert branch[names.get("ZJ", "ZJ")][1:] == (3, 2, 2 / 3, "是")
    assert branch[names.get("GD", "GD")][1:] == (4, 2, 0.5, "否")
    depts = {r[0] for r in wb[DEPT_SHEET].iter_rows(min_row=3, values_only=True)}
    assert depts == {"理赔", "保全", "销售", "未填写"}
    notice = escalation_notice(figures, names, "HO")
    assert notice is not None and "督办" in notice.subject
    assert sorted((u["unit_kind"], u["unit"]) for u in notice.payload["escalated"]) == [
        ("branch", "ZJ"), ("department", "claims"), ("department", "policy_service")]
