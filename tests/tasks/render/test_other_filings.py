"""Forwarded-case report, rectification report and the monthly workbook."""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from pathlib import Path
from typing import Any

import openpyxl
import pandas as pd
import pytest

from complaints.masking import contains_identifier
from tasks.calendar_files import load_calendar
from tasks.render import (
    RequirementError,
    context_from_settings,
    due_date,
    load_requirement,
    render_forwarded_report,
    render_rectification_report,
    write_monthly_workbook,
)
from tasks.render.monthly import DETAIL_SHEET, REGION_SHEET, SUMMARY_SHEET
from tasks.rulebooks import load_rulebooks

from .conftest import FIXTURES, GENERATED, PLANTED, all_xml_text, find_table, load_figures, paragraphs


@pytest.fixture()
def ctx(settings: Any) -> Any:
    return context_from_settings(
        settings,
        period="2026Q3",
        run_id="adhoc-1",
        generated_at=GENERATED,
        narrative_dir=FIXTURES / "none",
        addressee="国家金融监督管理总局广东监管局",
    )


def _case(ledger: pd.DataFrame, cid: str) -> pd.Series:
    return ledger[ledger["complaint_id"] == cid].iloc[0]


def test_forwarded_accepted_case(
    ledger: pd.DataFrame, events: pd.DataFrame, ctx: Any, tmp_path: Path
) -> None:
    path = render_forwarded_report(_case(ledger, "C2026070311"), events, ctx, tmp_path)
    assert path.name == "转办投诉处理情况报告_粤金复转_2026_0712号.docx"
    text = "\n".join(paragraphs(path))
    assert "关于转办投诉（编号粤金复转〔2026〕0712号）" in text and "国家金融监督管理总局广东监管局：" in text
    assert "该投诉符合受理条件" in text and "2026年7月3日向投诉人确认收到投诉" in text
    assert (
        "经调查核实，投诉反映的问题属实。我公司向投诉人支付赔付（补偿）款86,000.00元。结案方式：客户接受。"
        in text
    )
    assert "投诉人接受处理结果，已于2026年7月28日结案。回访结果：满意。" in text
    timing = {r[0]: r[1] for r in find_table(path, "项目")[1:]}
    # complex: 30 days + 5 paused days from 2026-07-03
    assert timing["处理时限"] == "30日（情况复杂），另扣除不计入处理期限的5日"
    assert timing["应办结日期"] == "2026年8月7日" and timing["实际用时"] == "21日（自然日）"
    assert timing["是否在时限内"] == "是"
    assert [r[1] for r in find_table(path, "时间")[1:]] == [
        "系统记录",
        "联系客户",
        "进度告知",
        "进度告知",
        "联系客户",
    ]
    xml = all_xml_text(path)
    assert contains_identifier(xml) == [] and [p for p in PLANTED if p in xml] == []


def test_forwarded_rejected_and_pending(
    ledger: pd.DataFrame, events: pd.DataFrame, ctx: Any, tmp_path: Path
) -> None:
    rejected = "\n".join(
        paragraphs(render_forwarded_report(_case(ledger, "C2026072203"), events, ctx, tmp_path / "r.docx"))
    )
    assert (
        "该投诉不予受理，原因：非本机构事项。我公司已于2026年7月25日将不予受理的决定及理由告知投诉人。"
        in rejected
    )
    assert "该投诉已于2026年7月25日按无效投诉办结" in rejected and "尚在处理中" not in rejected
    assert "国家金融监督管理总局江苏监管局：" in rejected  # the office that forwarded it (苏…), not ctx's
    pending_path = render_forwarded_report(_case(ledger, "C2026091207"), None, ctx, tmp_path / "p.docx")
    timing = {r[0]: r[1] for r in find_table(pending_path, "项目")[1:]}
    assert timing["应办结日期"] == "2026年10月12日"  # complex, 30 days from 2026-09-12
    assert timing["是否在时限内"] == "尚未作出处理决定，距应办结日期尚余2日"


def test_due_date_rules() -> None:
    cal, books = load_calendar(), load_rulebooks()
    case2013 = pd.Series(
        {"received_at": pd.Timestamp("2019-09-27 10:00"), "complexity": "simple", "clock_paused_days": 0}
    )
    due, rule, limit, start = due_date(case2013, cal, books)
    assert "2013" in rule and start == dt.date(2019, 9, 27) and limit == "10个工作日"
    # 10th working day after Fri 27 Sep 2019: Sun 29 Sep and Sat 12 Oct were make-up working days, 1-7 Oct off
    assert due == dt.date(2019, 10, 16)
    restarted = pd.Series(
        {
            "received_at": pd.Timestamp("2026-01-05"),
            "clock_restarted_at": pd.Timestamp("2026-01-10"),
            "complexity": None,
            "clock_paused_days": 2,
        }
    )
    due, rule, limit, _ = due_date(restarted, cal, books)
    assert due == dt.date(2026, 1, 27)  # 10 Jan + 15 + 2
    assert "2020" in rule and limit == "15日，另扣除不计入处理期限的2日"


def test_rectification(ctx: Any, tmp_path: Path) -> None:
    req = load_requirement(FIXTURES / "rectification_2026.yaml")
    result = render_rectification_report(req, load_figures("figures_2026Q3.json"), ctx, tmp_path)
    assert result.incomplete == []
    text = "\n".join(paragraphs(result.path))
    assert "关于理赔投诉处理时效问题" in text and "国家金融监督管理总局广东监管局：" in text
    assert "于2026年9月15日收到" in text and "应于2026年10月15日前报送（收到之日起30日内）" in text
    # 2026Q3 began before the requirement (received 2026-09-15): the baseline, never 整改成效
    assert "整改成效" not in text.replace("跟踪整改成效", "")
    assert "整改前基线：理赔投诉3个工作日内处理的比例整改前（2026年第三季度）为78.91%" in text
    assert find_table(result.path, "序号")[1][3] == "已完成"
    table = find_table(result.path, "指标")
    assert table[0][1:] == ["整改前（2026年第三季度）", "整改后", "变化"]
    assert {r[0]: r[1:] for r in table[1:]}["监管转办件办理及时率"] == ["96.55%", "待统计", "—"]
    after = dict(load_figures("figures_2026Q3.json"), period="2026Q4")
    after["claims_3wd"] = dict(after["claims_3wd"], rate=0.9)
    both = render_rectification_report(req, after, ctx, tmp_path / "both.docx",
                                       baseline=load_figures("figures_2026Q3.json"))
    text = "\n".join(paragraphs(both.path))
    assert ("整改成效：理赔投诉3个工作日内处理的比例由整改前（2026年第三季度）的78.91%"
            "变为整改后（2026年第四季度）的90.00%") in text
    rows = {r[0]: r[1:] for r in find_table(both.path, "指标")[1:]}
    assert rows["理赔投诉3个工作日内处理的比例"] == ["78.91%", "90.00%", "上升11.09个百分点"]


def test_rectification_incomplete_and_errors(ctx: Any, tmp_path: Path) -> None:
    req = {
        "reference": "X函〔2026〕1号",
        "received": "2026-09-01",
        "items": [{"issue": "回访率低", "figures": ["satisfaction.rate"]}],
    }
    result = render_rectification_report(req, None, ctx, tmp_path / "r.docx")
    assert len(result.incomplete) == 2 and "未填写整改措施" in result.incomplete[0]
    assert "【待补充】整改措施尚未填写。" in "\n".join(paragraphs(result.path))
    with pytest.raises(RequirementError, match="missing received, items"):
        render_rectification_report({"reference": "x"}, None, ctx, tmp_path / "x.docx")
    bad = tmp_path / "bad.yaml"
    bad.write_text("reference: a\nreceived: 2026-13-01\nitems: [{issue: x}]\n", encoding="utf-8")
    with pytest.raises(RequirementError, match="bad.yaml.*month must be"):
        load_requirement(bad)


def _sheet(path: Path, name: str) -> list[tuple[Any, ...]]:
    return list(openpyxl.load_workbook(path)[name].iter_rows(values_only=True))


def test_monthly_workbook(ledger: pd.DataFrame, ctx: Any, tmp_path: Path) -> None:
    july = ledger[ledger["received_at"].dt.month == 7].reset_index(drop=True)
    path = write_monthly_workbook(july, "2026-07", ctx, tmp_path)
    assert openpyxl.load_workbook(path).sheetnames == [SUMMARY_SHEET, REGION_SHEET, DETAIL_SHEET]
    summary = _sheet(path, SUMMARY_SHEET)
    assert summary[0][0] == "示例人寿保险股份有限公司2026年7月投诉处理汇总表"
    rows = {r[0]: r[1:] for r in summary[2:]}
    assert rows["江苏分公司"][:3] == (2, 3, 1)  # 2 cases, 3 contacts (one repeat), 1 valid
    assert rows["合计"][0] == 4 and rows["合计"][-1] == 89200
    region = _sheet(path, REGION_SHEET)
    assert region[1] == ("省份（地区）", "销售", "理赔", "退保", "合计")
    assert {r[0]: r[1:] for r in region[2:]}["广东"] == (0, 2, 0, 2)
    detail = _sheet(path, DETAIL_SHEET)
    assert len(detail) == 2 + len(july)
    with zipfile.ZipFile(path) as z:
        xml = "\n".join(z.read(n).decode() for n in z.namelist() if n.endswith(".xml"))
    assert contains_identifier(xml.replace("<", " <")) == [] and [p for p in PLANTED if p in xml] == []
    again = write_monthly_workbook(july, "2026-07", ctx, tmp_path / "again.xlsx")
    assert again.read_bytes() == path.read_bytes()
    with zipfile.ZipFile(io.BytesIO(path.read_bytes())) as z:
        assert "2026-10-10T09:30:00Z" in z.read("docProps/core.xml").decode()


def test_unmask_role(ledger: pd.DataFrame, settings: Any, tmp_path: Path) -> None:
    ctx = context_from_settings(
        settings,
        period="2026-07",
        run_id="r",
        generated_at=GENERATED,
        role="auditor",
        unmask_roles=("auditor",),
    )
    path = write_monthly_workbook(ledger.iloc[:1], "2026-07", ctx, tmp_path / "u.xlsx")
    assert "13912345678" in str(_sheet(path, DETAIL_SHEET)[2])


def test_forwarded_and_rectification_are_reproducible(
    ledger: pd.DataFrame, events: pd.DataFrame, ctx: Any, tmp_path: Path
) -> None:
    a = render_forwarded_report(_case(ledger, "C2026070311"), events, ctx, tmp_path / "a.docx")
    b = render_forwarded_report(_case(ledger, "C2026070311"), events, ctx, tmp_path / "b.docx")
    assert a.read_bytes() == b.read_bytes()
    req = load_requirement(FIXTURES / "rectification_2026.yaml")
    r1 = render_rectification_report(req, None, ctx, tmp_path / "r1.docx").path
    r2 = render_rectification_report(req, None, ctx, tmp_path / "r2.docx").path
    assert r1.read_bytes() == r2.read_bytes()
