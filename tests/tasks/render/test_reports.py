"""Quarterly and annual reports: numbers match the figures dict, nulls print 「—」 with their note,
missing narrative gives 「待补充」 + incomplete, required sections are enforced, bytes are reproducible."""

from __future__ import annotations

import copy
import re
import zipfile
from pathlib import Path
from typing import Any

import pytest
from docx import Document

from complaints.ledger import CATEGORIES, CHANNELS
from complaints.masking import contains_identifier
from tasks.config_files import load_settings
from tasks.render import FiguresError, Fonts, render_annual, render_quarterly

from .conftest import (
    GENERATED,
    PLANTED,
    all_xml_text,
    find_table,
    load_figures,
    paragraphs,
    pct,
    quarterly_ctx,
)

Q = load_figures("figures_2026Q3.json")
A = load_figures("figures_2025.json")


def test_overview_numbers(quarterly_doc: Any) -> None:
    text = "\n".join(paragraphs(quarterly_doc.path))
    c = Q["counts"]
    assert (
        f"共接收保险消费投诉{c['cases']}件（{c['contacts']}次），其中有效投诉{c['valid_cases']}件，"
        f"涉及投诉事项{c['issues']}个"
    ) in text
    assert (
        f"监管转办投诉{c['regulator_forwarded_cases']}件" in text and f"重大投诉{c['major_cases']}件" in text
    )
    assert "投诉件数环比上升11.96%、同比下降9.45%" in text
    table = find_table(quarterly_doc.path, "指标")
    assert table[1] == ["投诉件数", "412", "368", "+11.96%", "455", "-9.45%"]
    assert table[3] == [
        "亿元保费投诉量",
        f"{Q['rates']['per_100m_premium']:.2f}",
        "1.41",
        "-3.40%",
        "1.58",
        "-13.79%",
    ]


def test_category_and_channel_tables(quarterly_doc: Any) -> None:
    cases = Q["counts"]["cases"]
    table = find_table(quarterly_doc.path, "投诉事由")
    body = {row[0]: row[1:] for row in table[1:-1]}
    assert len(body) == len(Q["by_category"])
    for code, n in Q["by_category"].items():
        assert body[CATEGORIES[code]] == [
            str(n),
            f"{n / cases * 100:.2f}%",
            str(Q["issues_by_category"][code]),
        ]
    assert table[-1] == ["合计", str(cases), "100.00%", str(Q["counts"]["issues"])]
    assert [r[0] for r in table[1:4]] == ["理赔", "销售", "退保"]  # largest first
    channel_table = find_table(quarterly_doc.path, "投诉渠道")
    channels = {row[0]: row[1] for row in channel_table[1:-1]}
    assert channels == {CHANNELS[k]: str(v) for k, v in Q["by_channel"].items()}
    assert channel_table[-1][:2] == ["合计", str(sum(Q["by_channel"].values()))]
    # by name, a province's entity first with the total of its offices, then 「其中」 rows
    branch_table = find_table(quarterly_doc.path, "机构")
    names = {e.code: e.name for e in load_settings().settings.entities}
    names.update({o.code: o.name for o in load_settings().settings.offices})
    top = {row[0]: row[1] for row in branch_table[1:-1] if not row[0].startswith("\u3000")}
    assert top["总公司"] == str(Q["by_branch"]["HO"])
    assert branch_table[-1][:2] == ["合计", str(sum(Q["by_branch"].values()))]
    assert not any(code in "".join(r[0] for r in branch_table) for code in Q["by_branch"])


def test_rates_nulls_and_notes(quarterly_doc: Any) -> None:
    table = find_table(quarterly_doc.path, "业务类型")
    rows = {r[0]: r for r in table[1:]}
    life = Q["rates_by_business_line"]["life"]
    assert rows["人身险"][2:] == [
        f"{life['per_100m_premium']:.2f}",
        f"{life['per_10k_policies']:.2f}",
        f"{life['complaint_rate_pct']:.2f}%",
        f"{life['per_10k_insured']:.2f}",
    ]
    assert rows["财产险"][2] == "—" and rows["财产险"][5] == "不适用"
    text = "\n".join(paragraphs(quarterly_doc.path))
    note = "山东分公司2026年第三季度财产险保费数据未报送，无法计算。"  # its English aside dropped
    assert f"注：财产险亿元保费投诉量显示为「—」：{note}" in text


def test_handling_section(quarterly_doc: Any) -> None:
    table = find_table(quarterly_doc.path, "考核项目")
    rows = {r[0]: r[1:] for r in table[1:]}
    t = Q["timeliness"]
    assert rows["法定时限内作出处理决定"] == [
        str(t["on_time"]),
        str(t["late"]),
        str(t["pending"]),
        pct(t["rate"]),
        "95.00%",
    ]
    assert rows["理赔投诉3个工作日内处理"][3] == pct(Q["claims_3wd"]["rate"]) == "78.91%"
    text = "\n".join(paragraphs(quarterly_doc.path))
    assert f"投诉处理及时率为{pct(t['rate'])}" in text and "逾期未办结投诉4件" in text
    assert (
        "累计赔付（补偿）金额1,286,530.50元" in text
        and f"客户满意度为{pct(Q['satisfaction']['rate'])}" in text
    )


def test_findings_then_narrative_complete(quarterly_doc: Any) -> None:
    text = paragraphs(quarterly_doc.path)
    start = text.index("（一）存在的问题")
    section = text[start : text.index("（二）改进措施")]
    assert section[2].startswith("1．1个工作日内确认收到投诉的比例为96.87%，低于98.00%的目标值")
    assert any(p.startswith("6．理赔环节仍是投诉的主要来源") for p in section)  # narrative follows 5 findings
    assert "待补充" not in "\n".join(text)
    assert quarterly_doc.incomplete == []


def test_missing_narrative_is_visible_and_reported(settings: Any, tmp_path: Path) -> None:
    result = render_quarterly(Q, quarterly_ctx(settings, None, None, quality=None), tmp_path / "q.docx")
    text = "\n".join(paragraphs(result.path))
    # problems, measures, typical cases, suggestions, quality statement (the last narrative slot sits
    # in the closing block's table with 特此报告 and the signature)
    assert all_xml_text(result.path).count("【待补充】") == 5
    assert "本季度未发生重大投诉" not in text  # the count says 38: no "none" claim without rows
    assert [r.split("：")[0] for r in result.incomplete] == [
        "存在的问题", "改进措施", "典型案例", "意见和建议", "数据质量说明"
    ]


def test_header_footer_fonts_and_properties(quarterly_doc: Any) -> None:
    doc = Document(str(quarterly_doc.path))
    header = "\n".join(p.text for p in doc.sections[0].header.paragraphs)
    assert "示例人寿保险股份有限公司" in header and "2026年第三季度" in header
    # the run id is in the annex and the document properties, not on every page (issue 17)
    assert "20261010-0930-a1b2c3" not in header and "2026-10-10 09:30" in header
    assert "20261010-0930-a1b2c3" in doc.core_properties.keywords
    with zipfile.ZipFile(quarterly_doc.path) as z:
        footer = next(z.read(n).decode() for n in z.namelist() if n.startswith("word/footer"))
        styles = z.read("word/styles.xml").decode()
    assert "PAGE" in footer and "NUMPAGES" in footer
    assert re.search(r'w:styleId="Normal".*?w:eastAsia="宋体"', styles, re.S)
    assert re.search(r'w:styleId="Heading1".*?w:eastAsia="黑体"', styles, re.S)
    assert doc.core_properties.created.replace(tzinfo=None) == GENERATED
    assert doc.core_properties.revision == 1


def test_no_personal_data_and_autoescape(quarterly_doc: Any) -> None:
    text = all_xml_text(quarterly_doc.path)
    assert contains_identifier(text) == []
    assert [p for p in PLANTED if p in text] == []
    assert "投诉人张**" in text and "139****5678" in text  # masked forms present


def test_escaping_ampersand_and_angle_brackets(settings: Any, major_cases: Any, tmp_path: Path) -> None:
    major = major_cases.copy()
    major.loc[0, "summary"] = "退保 & 理赔 <急> 客户称“A&B”"
    result = render_quarterly(Q, quarterly_ctx(settings, None, major), tmp_path / "q.docx")
    rows = find_table(result.path, "投诉编号")
    assert rows[1][-1].endswith("】退保 & 理赔 <急> 客户称“A&B”")  # 【事由】summary


def test_required_sections_are_enforced(settings: Any, tmp_path: Path) -> None:
    broken = copy.deepcopy(Q)
    del broken["timeliness"], broken["by_channel"], broken["counts"]["valid_cases"]
    with pytest.raises(FiguresError, match="by_channel, timeliness, counts.valid_cases"):
        render_quarterly(broken, quarterly_ctx(settings, None, None), tmp_path / "q.docx")
    with pytest.raises(FiguresError, match="needs a quarter"):
        render_quarterly({**Q, "period": "2026"}, quarterly_ctx(settings, None, None), tmp_path / "q.docx")
    with pytest.raises(FiguresError, match="context is for 2026Q2"):
        render_quarterly(Q, quarterly_ctx(settings, None, None, period="2026Q2"), tmp_path / "q.docx")
    assert not (tmp_path / "q.docx").exists()


def test_nulls_everywhere_still_render(settings: Any, tmp_path: Path) -> None:
    figures = copy.deepcopy(Q)
    figures["timeliness"] = dict.fromkeys(figures["timeliness"])
    figures["qoq"] = None
    figures["notes"] = {"timeliness": "测试：本期无可评估案件"}
    result = render_quarterly(figures, quarterly_ctx(settings, None, None), tmp_path / "q.docx")
    text = "\n".join(paragraphs(result.path))
    assert "投诉处理及时率为—" in text and "环比无可比数据" in text
    assert "注：投诉处理及时率显示为「—」：测试：本期无可评估案件" in text


def test_byte_identical_rerender(
    settings: Any, narrative_dir: Path, major_cases: Any, quarterly_doc: Any, tmp_path: Path
) -> None:
    again = render_quarterly(Q, quarterly_ctx(settings, narrative_dir, major_cases), tmp_path / "again.docx")
    assert again.path.read_bytes() == quarterly_doc.path.read_bytes()
    with zipfile.ZipFile(again.path) as z:
        assert {i.date_time for i in z.infolist()} == {(1980, 1, 1, 0, 0, 0)}
        assert z.namelist()[0] == "[Content_Types].xml"


def test_font_override(settings: Any, tmp_path: Path) -> None:
    result = render_quarterly(
        Q, quarterly_ctx(settings, None, None, fonts=Fonts("仿宋", "楷体")), tmp_path / "f.docx"
    )
    with zipfile.ZipFile(result.path) as z:
        styles = z.read("word/styles.xml").decode()
    assert re.search(r'w:styleId="Normal".*?w:eastAsia="仿宋"', styles, re.S)
    assert re.search(r'w:styleId="Heading1".*?w:eastAsia="楷体"', styles, re.S)


# ------------------------------------------------------------------ annual


def test_annual_quarters_and_year(annual_doc: Any) -> None:
    table = find_table(annual_doc.path, "季度")
    q1 = A["by_quarter"]["Q1"]
    assert table[1] == [
        "第一季度",
        "402",
        "430",
        "379",
        "401",
        pct(q1["timeliness"]["rate"]),
        pct(q1["satisfaction"]["rate"]),
    ]
    assert table[4][-1] == "—"  # Q4 satisfaction null
    assert table[5] == [
        "全年",
        "1702",
        "1843",
        "1597",
        "1701",
        pct(A["timeliness"]["rate"]),
        pct(A["satisfaction"]["rate"]),
    ]
    text = "\n".join(paragraphs(annual_doc.path))
    assert "注：第四季度客户满意度显示为「—」：第四季度回访数据迁移至新系统" in text
    assert "亿元保费投诉量1.45件/亿元（同比下降10.27%）" in text  # nested yoy.rates.per_100m_premium


def test_annual_rules_execution_and_departments(annual_doc: Any) -> None:
    rules = find_table(annual_doc.path, "序号")
    assert rules[1][1].startswith("《银行业保险业消费投诉处理管理办法》") and rules[1][2] == "2020-03-01"
    execution = {r[0]: r[1:] for r in find_table(annual_doc.path, "制度要求")[1:]}
    assert execution["1个工作日内确认收到投诉"] == ["1564/1603", "0", "97.57%", "98.00%", "未达标"]
    assert execution["法定时限内作出处理决定"][:3] == ["1562/1603", "12", "97.44%"]
    assert execution["核查申请30日内作出核查决定"][0] == "25/26"
    depts = {r[0]: r[1:] for r in find_table(annual_doc.path, "责任部门")[1:]}
    assert depts["理赔"] == ["579", "96.20%", "87.10%", "满意度未达标，建议下浮"]
    assert depts["客服中心"][-1] == "达标，建议上浮"
    assert depts["财务"][-1] == "满意度无数据，不予调整"
    assert list(depts)[0] == "理赔"  # most cases first


def test_annual_incomplete_and_last_year_measures(settings: Any, tmp_path: Path) -> None:
    from tasks.render import Narrative, context_from_settings

    assert "上年度改进措施落实情况" in "".join(
        render_annual(
            A,
            context_from_settings(
                settings, period="2025", run_id="r", generated_at=GENERATED, narrative_dir=tmp_path
            ),
            tmp_path / "a0.docx",
        ).incomplete
    )
    narrative = Narrative(
        problems=("理赔时效仍需提升。",),
        measures=("优化理赔流程。",),
        last_year_measures=(
            {"measure": "压降销售误导投诉", "figure": "counts.cases"},
            {"measure": "提升回访率", "figure": "satisfaction.rate"},
            {"measure": "完善制度"},
        ),
    )
    ctx = context_from_settings(
        settings,
        period="2025",
        run_id="r",
        generated_at=GENERATED,
        narrative_dir=tmp_path,
        narrative=narrative,
        previous_figures={"satisfaction": {"rate": 0.91}},
    )
    result = render_annual(A, ctx, tmp_path / "a.docx")
    rows = find_table(result.path, "上年度措施")
    assert rows[1] == ["压降销售误导投诉", "投诉件数", "1843", "1702", "改善"]
    assert rows[2] == ["提升回访率", "客户满意度", "91.00%", "89.52%", "未改善"]
    assert rows[3] == ["完善制度", "—", "—", "—", "—"]
    assert "数据质量说明" in result.incomplete[0] and len(result.incomplete) == 1


def test_annual_requires_by_quarter(settings: Any, tmp_path: Path) -> None:
    from tasks.render import context_from_settings

    broken = {k: v for k, v in A.items() if k != "by_department"}
    with pytest.raises(FiguresError, match="by_department"):
        render_annual(
            broken,
            context_from_settings(settings, period="2025", run_id="r", generated_at=GENERATED),
            tmp_path / "a.docx",
        )


def test_configured_regulator_office_is_the_addressee() -> None:
    import datetime as dt

    from tasks.config_files import load_settings
    from tasks.render import context_from_settings

    settings = load_settings().settings
    gd = next(e for e in settings.entities if e.code == "GD")
    when = dt.datetime(2026, 10, 9)
    derived = context_from_settings(settings, period="2026Q3", run_id="r", generated_at=when,
                                    entity_code="GD", narrative_dir="/nonexistent")
    assert derived.addressee == "国家金融监督管理总局广东监管局"
    office = gd.model_copy(update={"regulator_office": "国家金融监督管理总局深圳监管局"})
    entities = [office if e.code == "GD" else e for e in settings.entities]
    custom = settings.model_copy(update={"entities": entities})
    ctx = context_from_settings(custom, period="2026Q3", run_id="r", generated_at=when,
                                entity_code="GD", narrative_dir="/nonexistent")
    assert ctx.addressee == "国家金融监督管理总局深圳监管局"
