"""The forwarded-case report as the regulator reads it: rendered for edge cases, converted to PDF with
LibreOffice and read back (issue 17: true statements, the forwarding office as addressee, Chinese only,
no run id, the signature never alone on a page)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from _reports_fixtures import edge_case, events, latin_words, needs_tools, pdf_text, signature_alone

from complaints.case_statements import FORBIDDEN, case_state
from complaints.settings import ForwardingOffice
from tasks.config_files import load_settings
from tasks.render import context_from_settings, render_forwarded_report
from tasks.render.forwarded import AddresseeError, case_facts, due_date

GENERATED = dt.datetime(2026, 11, 20, 9, 30)
RUN_ID = "4f1c2a9be07d4d1e8a3b5c6d7e8f9a0b"
GUANGDONG = "国家金融监督管理总局广东监管局"


@pytest.fixture(scope="module")
def settings() -> Any:
    return load_settings().settings


def _ctx(settings: Any) -> Any:
    # no addressee given: the report must find the forwarding office itself
    return context_from_settings(settings, period="2026Q3", run_id=RUN_ID, generated_at=GENERATED)


@needs_tools
@pytest.mark.parametrize(
    ("name", "state", "must_say"),
    [
        ("rejected", "rejected",
         ["不予受理，原因：已进入诉讼仲裁", "不适用（该投诉不予受理）", "按无效投诉办结"]),
        ("withdrawn", "withdrawn", ["投诉人于2026年7月8日撤回投诉", "投诉人已于2026年7月8日撤回投诉"]),
        ("undecided", "overdue", ["尚在处理中", "已超出应办结日期"]),
        ("closed_satisfied_not_accepted", "closed",
         ["投诉人不接受处理结果", "回访结果：满意", "两项记录不一致"]),
    ],
)
def test_forwarded_report_pages(settings: Any, tmp_path: Path, name: str, state: str,
                                must_say: list[str]) -> None:
    case = edge_case(name)
    ctx = _ctx(settings)
    from tasks.calendar_files import load_calendar
    from tasks.rulebooks import load_rulebooks

    due = due_date(case, load_calendar(), load_rulebooks())[0]
    assert case_state(case_facts(case, GENERATED.date(), due)) == state
    closed = case["closed_at"]
    steps = events() if closed is None or closed != closed else events()[events()["at"] <= closed]
    docx = render_forwarded_report(case, steps, ctx, tmp_path / f"{name}.docx")
    pages = pdf_text(docx, tmp_path)
    text = "".join("".join(p.split()) for p in pages)  # LibreOffice breaks lines anywhere in Chinese
    assert [w for w in FORBIDDEN[state] if w in text] == []  # type: ignore[index]
    assert [w for w in must_say if w not in text] == []
    assert f"{GUANGDONG}：" in text and "国家金融监督管理总局：" not in text  # addressed to the forwarder
    assert latin_words("\n".join(pages)) == []
    assert RUN_ID not in text and RUN_ID[:8] not in text and "运行编号" not in text
    assert signature_alone(pages, ctx.institution, "2026年11月20日") == []
    # ids and amounts never wrap inside their cells
    flat = "\n".join(pages)
    assert "粤金复转〔2026〕0712号" in flat.replace(" ", "") and "C2026070311" in flat


def test_configured_office_wins_and_unknown_office_is_an_error(settings: Any, tmp_path: Path) -> None:
    case = edge_case("withdrawn")
    shenzhen = ForwardingOffice(name="国家金融监督管理总局深圳监管局", ref_prefixes=["粤金复转"])
    path = render_forwarded_report(case, None, _ctx(settings), tmp_path / "a.docx", offices=[shenzhen])
    from docx import Document

    first = [p.text for p in Document(str(path)).paragraphs if p.text.endswith("：")][0]
    assert first == "国家金融监督管理总局深圳监管局："
    case["forward_ref"] = "ZJ-2026-0001"  # a reference that names no office
    with pytest.raises(AddresseeError, match="ZJ-2026-0001.*filings.forwarding_offices"):
        render_forwarded_report(case, None, _ctx(settings), tmp_path / "b.docx")
    explicit = render_forwarded_report(case, None, _ctx(settings), tmp_path / "c.docx",
                                       addressee="某监管分局")
    assert "某监管分局：" in [p.text for p in Document(str(explicit)).paragraphs]


def test_branch_is_named_never_printed_as_a_code(settings: Any, tmp_path: Path) -> None:
    from docx import Document

    from complaints.errors import UserError

    path = render_forwarded_report(edge_case("withdrawn"), None, _ctx(settings), tmp_path / "named.docx")
    cells = [c.text for t in Document(str(path)).tables for row in t.rows for c in row.cells]
    assert "广东分公司" in cells and "GD" not in cells
    case = edge_case("withdrawn")
    case["branch_code"] = "GD01"  # a sub-branch: named by the configuration's offices
    path = render_forwarded_report(case, None, _ctx(settings), tmp_path / "sub.docx")
    cells = [c.text for t in Document(str(path)).tables for row in t.rows for c in row.cells]
    assert "广州中心支公司" in cells and "GD01" not in cells
    case["branch_code"] = "GD09"  # a sub-branch nobody named
    with pytest.raises(UserError, match="branch code 'GD09' has no name"):
        render_forwarded_report(case, None, _ctx(settings), tmp_path / "coded.docx")
