"""The rectification report as the regulator reads it: rendered, converted to PDF with LibreOffice and read
back (issue 17: a quarter before the requirement is never 整改成效; before/after per metric with the periods
named; the 附件 line; Chinese only, no run id, the signature never alone on a page)."""

from __future__ import annotations

import copy
import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
from _reports_fixtures import FIXTURES, latin_words, lines, needs_tools, pdf_text, signature_alone

from tasks.config_files import load_settings
from tasks.render import context_from_settings, load_requirement, render_rectification_report

GENERATED = dt.datetime(2026, 11, 20, 9, 30)
RUN_ID = "9a8b7c6d5e4f40312233445566778899"
ISSUER = "国家金融监督管理总局广东监管局"


def _figures(period: str, claims_3wd: float | None = None) -> dict[str, Any]:
    figures = json.loads((FIXTURES / "figures_2026Q3.json").read_text(encoding="utf-8"))
    figures = copy.deepcopy(figures)
    figures["period"] = period
    if claims_3wd is not None:
        figures["claims_3wd"]["rate"] = claims_3wd
    return figures


@pytest.fixture(scope="module")
def ctx() -> Any:
    return context_from_settings(load_settings().settings, period="2026Q4", run_id=RUN_ID,
                                 generated_at=GENERATED)


def _flat(pages: list[str]) -> str:
    return "".join("".join(p.split()) for p in pages)  # LibreOffice breaks lines anywhere in Chinese


def _common(pages: list[str], ctx: Any) -> None:
    text = _flat(pages)
    assert f"{ISSUER}：" in text
    assert latin_words("\n".join(pages)) == []
    assert RUN_ID not in text and RUN_ID[:8] not in text and "运行编号" not in text
    assert signature_alone(pages, ctx.institution, "2026年11月20日") == []


@needs_tools
def test_quarter_of_the_requirement_is_the_baseline_not_the_effect(ctx: Any, tmp_path: Path) -> None:
    req = load_requirement(FIXTURES / "rectification_2026.yaml")  # received 2026-09-15
    result = render_rectification_report(req, _figures("2026Q3"), ctx, tmp_path / "baseline.docx")
    pages = pdf_text(result.path, tmp_path)
    text = _flat(pages)
    _common(pages, ctx)
    assert "整改成效：" not in text  # 2026Q3 began before the requirement
    assert "整改前基线：" in text and "整改前（2026年第三季度）" in text
    assert "整改后数据待整改后首个完整统计期间结束后报告" in text
    assert "附件" not in text  # no attachment listed, no 附件 line


@needs_tools
def test_before_and_after_with_periods_named(ctx: Any, tmp_path: Path) -> None:
    req = dict(load_requirement(FIXTURES / "rectification_2026.yaml"))
    req["attachments"] = ["理赔投诉整改措施台账", "监管转办件跟踪表"]
    result = render_rectification_report(req, _figures("2026Q4", 0.9), ctx, tmp_path / "both.docx",
                                         baseline=_figures("2026Q2", 0.7))
    pages = pdf_text(result.path, tmp_path)
    text = _flat(pages)
    _common(pages, ctx)
    assert ("整改成效：理赔投诉3个工作日内处理的比例由整改前（2026年第二季度）的70.00%变为整改后"
            "（2026年第四季度）的90.00%") in text
    assert "整改前（2026年第二季度）" in text and "整改后（2026年第四季度）" in text
    assert "上升20.00个百分点" in text
    assert "附件：1．理赔投诉整改措施台账；2．监管转办件跟踪表" in text
    # a rate and its change each stay on one line of their cell
    assert any("70.00%" in line and "90.00%" in line for line in lines("\n".join(pages)))
    assert any("上升20.00个百分点" in "".join(line.split()) for line in lines("\n".join(pages)))


LONG = "落实第{}项配套措施，明确责任部门和完成时限，按月跟踪督办并通报进展情况。"


@needs_tools
@pytest.mark.parametrize("short", [32, 34])
def test_signature_keeps_with_the_text_at_a_page_break(ctx: Any, tmp_path: Path, short: int) -> None:
    """Lengths at which, without keep-with-next, LibreOffice puts the date (32) or 特此报告 and the whole
    signature block (34) alone on page 5 (found by a sweep with the template's keepNext removed)."""
    req = dict(load_requirement(FIXTURES / "rectification_2026.yaml"))
    items = [dict(i) for i in req["items"]]
    items[-1]["measures"] = [items[-1]["measures"], *(LONG.format(j) for j in range(1, 8)),
                             *(f"补充措施{j}。" for j in range(1, short + 1))]
    result = render_rectification_report(dict(req, items=items), None, ctx, tmp_path / f"long{short}.docx")
    pages = pdf_text(result.path, tmp_path)
    assert len(pages) == 5
    assert signature_alone(pages, ctx.institution, "2026年11月20日") == []
    assert "下一步" in pages[-1] or len(lines(pages[-1])) > 6  # the closing text went with the signature


def test_signature_block_is_chained_to_the_closing_paragraph(ctx: Any, tmp_path: Path) -> None:
    """Layout-independent: from the closing paragraph to the institution, every paragraph keeps with the
    next one, so Word and LibreOffice never leave the signature alone."""
    from docx import Document

    path = render_rectification_report(load_requirement(FIXTURES / "rectification_2026.yaml"), None, ctx,
                                       tmp_path / "chain.docx").path
    paras = Document(str(path)).paragraphs
    start = next(i for i, p in enumerate(paras) if p.text.startswith("下一步"))
    end = max(i for i, p in enumerate(paras) if p.text == ctx.institution)
    assert [i for i in range(start, end + 1) if not paras[i].paragraph_format.keep_with_next] == []


@needs_tools
def test_linked_items_before_and_after_never_the_later_figure_alone(ctx: Any, tmp_path: Path) -> None:
    """Issue 19: the rectification items linked to the requirement (the golden case rectification_item,
    hand-computed there) each show the baseline quarter and the latest quarter, with a note in words."""
    import yaml

    from complaints.ledger import normalize
    from complaints.rectification import measure_all
    from complaints.settings import RectificationItem
    from tasks.sources import read_table

    case = Path(__file__).resolve().parents[1] / "cases" / "rectification_item"
    spec = yaml.safe_load((case / "items.yaml").read_text(encoding="utf-8"))
    items = [RectificationItem(**i) for i in spec["rectification_items"]]
    ledger = normalize(read_table(case / "ledger.csv", "ledger"), "ledger")
    measured = measure_all(ledger, items, as_of=dt.datetime(2026, 10, 8, 9), entity="HO", head_office="HO")
    linked = [{**i.model_dump(mode="json"), "measured": m} for i, m in zip(items, measured, strict=True)]
    req = load_requirement(FIXTURES / "rectification_2026.yaml")
    result = render_rectification_report(req, None, ctx, tmp_path / "items.docx", linked_items=linked)
    pages = pdf_text(result.path, tmp_path)
    text = _flat(pages)
    _common(pages, ctx)
    assert "三、溯源整改事项成效" in text  # no figures given: the items' section is the third
    assert ("1．理赔环节合同条款解释不清：衡量指标为投诉原因为“合同条款”，事由为“理赔”的投诉件数，"
            "基线为2026年第一季度的3件，最新为2026年第三季度的3件，持平。") in text
    assert ("2．降低理赔合同条款类投诉占比：衡量指标为投诉原因为“合同条款”，事由为“理赔”的投诉占比，"
            "基线为2026年第一季度的60.00%，最新为2026年第三季度的75.00%，上升15.00个百分点。") in text
    from docx import Document

    rows = [[c.text for c in r.cells] for t in Document(str(result.path)).tables for r in t.rows]
    assert ["整改事项", "整改前", "整改后", "变化"] in rows
    assert ["理赔环节合同条款解释不清", "3件", "3件", "持平"] in rows
    assert ["降低理赔合同条款类投诉占比", "60.00%", "75.00%", "未改善"] in rows
    assert "60.00%" in lines("\n".join(pages)) and "75.00%" in lines("\n".join(pages))  # not wrapped
