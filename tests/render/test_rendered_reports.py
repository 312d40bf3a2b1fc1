"""Issue 17: the quarterly and annual reports as the regulator reads them (LibreOffice PDF and the DOCX
tables), from the demo and from edge-case ledgers derived from it."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from docx import Document

from complaints.findings import format_value
from tasks.render.filings import major_rank
from tests.render.rendered_docs import Demo, Rendered, render_edge

pytestmark = pytest.mark.slow

# Latin words a report may print: units and the institution's registered names (none in the demo)
ALLOWED_LATIN = {"APP"}
SIGNATURE_LINE = re.compile(r"（盖章）|^\s*\d{4}\s*年\s*\d{1,2}\s*月\s*\d{1,2}\s*日\s*$|联系人|联系电话")


# ------------------------------------------------------------------ the documents under test


@pytest.fixture(scope="session")
def edge_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("edges")


@pytest.fixture(scope="session")
def branch_with_offices(demo: Demo, edge_dir: Path) -> Rendered:
    """The 广东 branch's own quarterly report: its entity and its offices (中心支公司)."""
    offices = {o.parent for o in demo.loaded.settings.offices}
    entity = sorted(offices)[0]
    return render_edge(demo, edge_dir, "branch", annual=False, entity=entity)


@pytest.fixture(scope="session")
def no_major_quarter(demo: Demo, edge_dir: Path) -> Rendered:
    """A quarter without any major case: the demo's ledger without the quarter's major cases."""

    def drop_major(frames: dict[str, pd.DataFrame], figures: Any) -> None:
        major = set(figures.ids("counts.major_cases"))
        ledger = frames["ledger"]
        frames["ledger"] = ledger[~ledger["complaint_id"].isin(major)].reset_index(drop=True)

    return render_edge(demo, edge_dir, "no-major", annual=False, change=drop_major)


UNDECIDED: dict[str, str] = {}


@pytest.fixture(scope="session")
def undecided_major(demo: Demo, edge_dir: Path) -> Rendered:
    """A major case (by amount only: not forwarded, media or group) that has no decision yet."""

    def undecide(frames: dict[str, pd.DataFrame], figures: Any) -> None:
        ledger = frames["ledger"]
        major = ledger["complaint_id"].isin(set(figures.ids("counts.major_cases")))
        plain = (
            major
            & ~ledger["regulator_forwarded"].fillna(False).astype(bool)
            & ~ledger["media_exposed"].fillna(False).astype(bool)
            & (pd.to_numeric(ledger["group_size"], errors="coerce").fillna(1) < 20)
            & ledger["decided_at"].notna()
        )
        pick = ledger[plain].sort_values("amount_involved").index[0]  # the smallest: never listed by amount
        UNDECIDED["id"] = str(ledger.at[pick, "complaint_id"])
        for col in ("decided_at", "closed_at", "outcome", "revisited_at", "satisfaction"):
            ledger.loc[pick, col] = None

    return render_edge(demo, edge_dir, "undecided-major", annual=False, change=undecide)


@pytest.fixture(scope="session")
def missing_exposure_year(demo: Demo, edge_dir: Path) -> Rendered:
    """A year whose business volume lacks one row (one entity, one quarter, one business line)."""

    def drop_row(frames: dict[str, pd.DataFrame], figures: Any) -> None:
        exposure = frames["exposure"]
        year = str(demo.quarter.year - 1)
        rows = exposure[exposure["period"].astype(str).str.startswith(year)]
        frames["exposure"] = exposure.drop(index=rows.index[0]).reset_index(drop=True)

    return render_edge(demo, edge_dir, "missing-exposure", annual=True, change=drop_row)


ALL = ["demo_quarterly", "demo_annual", "branch_with_offices", "no_major_quarter", "undecided_major",
       "missing_exposure_year"]


@pytest.fixture(params=ALL)
def doc(request: pytest.FixtureRequest) -> Rendered:
    return request.getfixturevalue(request.param)


# ------------------------------------------------------------------ reading documents back


def docx_tables(path: Path) -> list[list[list[str]]]:
    return [[[c.text for c in row.cells] for row in t.rows] for t in Document(str(path)).tables]


def number(text: str) -> float:
    """A printed count, amount or share; 「—」 (no value) sorts and sums as 0."""
    return 0.0 if text.strip() == "—" else float(text.replace(",", "").rstrip("%"))


def body_lines(page: str) -> list[str]:
    """A page's lines without the running header (first lines up to 生成时间) and the page footer."""
    lines = [line.strip() for line in page.splitlines() if line.strip()]
    for i, line in enumerate(lines[:4]):
        if "生成时间" in line:
            lines = lines[i + 1:]
            break
    return [line for line in lines if not re.fullmatch(r"第\s*\d+\s*页\s*共\s*\d+\s*页", line)]


# ------------------------------------------------------------------ the checks


def test_no_latin_words_outside_the_allowlist(doc: Rendered) -> None:
    """Chinese only: no code, English note, rule-set id or column name; the run id only in the annex."""
    table = _major_table(doc)
    ids = {r[0] for r in table[1:]} if table else set()  # the institution's own case numbers
    offenders = []
    for n, page in enumerate(doc.pages, 1):
        for line in body_lines(page):
            if doc.run_id and doc.run_id in line.replace(" ", ""):
                assert "运行编号" in line, f"run id outside the annex line on page {n}: {line}"
                line = line.replace(doc.run_id, "")
            for complaint_id in ids:
                line = line.replace(complaint_id, "")
            for word in re.findall(r"[A-Za-z]+", line):
                # 「95xxx」: a number masked in the complainant's text
                if word not in ALLOWED_LATIN and not re.fullmatch(r"x+", word):
                    offenders.append(f"p{n}: {word!r} in {line.strip()!r}")
    assert not offenders, "\n".join(offenders[:20])


def test_no_page_header_carries_the_run_id(doc: Rendered) -> None:
    assert doc.run_id
    for n, page in enumerate(doc.pages, 1):
        head = "".join(page.splitlines()[:4]).replace(" ", "")
        assert doc.run_id not in head, f"page {n} header shows the run id"
    # it is in the annex and in the document properties
    assert doc.run_id in Document(str(doc.docx)).core_properties.keywords
    assert any("运行编号" in p and doc.run_id in p.replace(" ", "").replace("\n", "")
               for p in ["".join(doc.pages[-2:])])


def test_totals_equal_what_they_claim(doc: Rendered) -> None:
    """Every table with a 合计 row: the 合计 equals the sum of its (top-level) rows, and for the
    distribution tables the period's cases (or issues, for the 件次 column)."""
    cases = doc.figures["counts"]["cases"]
    checked = 0
    for table in docx_tables(doc.docx):
        totals = [r for r in table if r and r[0] == "合计"]
        if not totals:
            continue
        total = totals[0]
        rows = [r for r in table[1:] if r[0] != "合计" and not r[0].startswith("\u3000")]
        for col, header in enumerate(table[0]):
            if col == 0 or "占比" in header:
                continue
            claimed = number(total[col])
            assert claimed == sum(number(r[col]) for r in rows), (table[0], header)
            if "件次" in header:
                assert claimed == doc.figures["counts"]["issues"]
            elif header == "投诉件数":
                assert claimed == cases, (table[0][0], claimed, cases)
        if "占比" in table[0]:
            assert total[table[0].index("占比")] == "100.00%"
        checked += 1
    # quarterly: 事由, 渠道, 产品, 机构, 省份, 级别; annual: 事由
    assert checked >= (1 if doc.ctx.period.isdigit() else 6)


def test_branch_rows_are_names_and_provinces_are_totals(doc: Rendered) -> None:
    tables = [t for t in docx_tables(doc.docx) if t[0][0] == "机构"]
    if not tables:
        assert doc.ctx.period.isdigit()  # the annual report has no branch table
        return
    table = tables[0]
    by_branch = doc.figures["by_branch"]
    text = "".join(r[0] for r in table)
    assert not [c for c in by_branch if c and re.search(rf"\b{re.escape(c)}\b", text)], text
    # each 「（含下辖机构）」 row is its own 「其中」 rows' total
    for i, row in enumerate(table):
        if row[0].endswith("（含下辖机构）"):
            members = []
            for sub in table[i + 1:]:
                if not sub[0].startswith("\u3000"):
                    break
                members.append(number(sub[1]))
            assert len(members) >= 2 and number(row[1]) == sum(members)
    if doc.name == "branch":
        head = [r for r in table[1:] if r[0].endswith("（含下辖机构）")]
        assert len(head) == 1 and number(head[0][1]) == doc.figures["counts"]["cases"]


def _major_table(doc: Rendered) -> list[list[str]] | None:
    return next((t for t in docx_tables(doc.docx) if t[0][0] == "投诉编号"), None)


def test_major_list_is_ordered_as_its_heading_says(doc: Rendered) -> None:
    table = _major_table(doc)
    text = "".join(doc.pages)
    assert "证据包" not in text  # never points the regulator at the internal archive
    major = doc.figures["counts"]["major_cases"]
    if table is None:
        if doc.name.startswith(("demo-q", "branch", "undecided")):
            pytest.fail("the quarterly report lost its major-case list")
        return
    heading = re.sub(r"\s+", "", text)
    assert "按监管转办、媒体曝光、群体投诉、尚未办结、其他的顺序分类列示" in heading
    assert "类内按涉及金额从高到低排列" in heading
    rows = table[1:]
    header = table[0]
    tags, amounts = header.index("重点情形"), header.index("涉及金额(元)")
    keys = [(major_rank(r[tags]), -number(r[amounts])) for r in rows]
    assert keys == sorted(keys), "rows not in the heading's order"
    left_out = major - len(rows)
    if left_out > 0:
        assert f"其余{left_out}件未列示" in heading
    # both 「major」 counts explained when the severity table shows 重大投诉件
    assert f"本期共{major}件" in heading
    severity_major = doc.figures["by_severity"].get("major")
    if severity_major:
        assert f"“重大投诉件”{severity_major}件仅指受理时定级为重大的投诉" in heading


def test_quarter_without_major_cases(no_major_quarter: Rendered) -> None:
    assert no_major_quarter.figures["counts"]["major_cases"] == 0
    text = re.sub(r"\s+", "", "".join(no_major_quarter.pages))
    assert _major_table(no_major_quarter) is None
    assert "未发生重大投诉" in text and "未发生投诉人数20人及以上的群体投诉" in text


def test_undecided_major_case_is_listed_as_open(undecided_major: Rendered) -> None:
    table = _major_table(undecided_major)
    assert table is not None
    row = next((r for r in table[1:] if r[0] == UNDECIDED["id"]), None)
    assert row is not None, "an undecided major case must be listed (the smallest amount, yet undecided)"
    header = table[0]
    assert "尚未办结" in row[header.index("重点情形")] and row[header.index("处理状态")] == "处理中"


def test_missing_exposure_row_is_explained_in_chinese(missing_exposure_year: Rendered) -> None:
    text = re.sub(r"\s+", "", "".join(missing_exposure_year.pages))
    assert "业务量数据中缺少相应期间、机构或业务条线的记录" in text
    assert "exposure" not in text


def test_signature_block_is_never_alone_on_a_page(doc: Rendered) -> None:
    pages = [body_lines(p) for p in doc.pages]
    signed = [i for i, lines in enumerate(pages) if any("（盖章）" in line for line in lines)]
    assert len(signed) == 1
    lines = pages[signed[0]]
    start = next(i for i, line in enumerate(lines) if "（盖章）" in line)
    before = [line for line in lines[:start] if not re.search(r"特此报告|附件：", line)]
    assert before, f"page {signed[0] + 1} holds only the signature block: {lines}"
    after = lines[start:start + 3]
    assert any(SIGNATURE_LINE.search(line) for line in after)
    assert any("联系人" in line and "联系电话" in line for line in after)


def test_report_has_the_content_a_real_report_carries(doc: Rendered) -> None:
    text = re.sub(r"\s+", "", "".join(doc.pages))
    assert "附件：数据质量说明" in text and "附件数据质量说明" in text
    assert "号" in text.split("国家金融监督管理总局")[0] or "号" in text[:200]  # 文号
    assert "尚未作出处理决定的投诉" in text or "均已作出处理决定" in text
    assert "监管部门转办投诉" in text or "未收到监管部门转办的投诉" in text
    if not doc.ctx.period.isdigit():
        assert "群体投诉" in text
        assert "典型案例" in text and "对监管工作的意见和建议" in text
    # the breakdowns by status add up to the totals they break down
    forwarded = re.search(r"按处理状态分，(.*?)。", text)
    if forwarded:
        parts = [int(x) for x in re.findall(r"(\d+)件", forwarded.group(1))]
        assert sum(parts) == doc.figures["counts"]["regulator_forwarded_cases"]
    still_open = re.search(r"尚未作出处理决定的投诉共(\d+)件，其中(.*?)。", text)
    if still_open:
        assert sum(int(x) for x in re.findall(r"(\d+)件", still_open.group(2))) == int(still_open.group(1))
    # the call-back sentence does not count the unreached among the call-backs
    sat = doc.figures["satisfaction"]
    if sat.get("not_reached") and not doc.ctx.period.isdigit():
        assert f"另有{sat['not_reached']}件回访未联系上投诉人，未计入上述回访件数" in text


def test_multi_line_narrative_items_are_separate_paragraphs(doc: Rendered) -> None:
    if doc.ctx.period.isdigit():
        return
    paragraphs = [p.text for p in Document(str(doc.docx)).paragraphs]
    assert any(p.startswith("1．某客户反映销售人员夸大收益") for p in paragraphs)
    assert "相关销售人员已被问责。" in paragraphs
    assert not any("\n" in p for p in paragraphs)


def test_rows_do_not_split_and_headers_repeat(doc: Rendered) -> None:
    from docx.oxml.ns import qn

    tables = Document(str(doc.docx)).tables
    # the closing block (last paragraph, 特此报告, 附件, seal, date, contact) is one unsplittable row
    closing = [t for t in tables if "（盖章）" in t.cell(0, 0).text]
    assert len(closing) == 1 and "特此报告" in closing[0].cell(0, 0).text
    for table in tables:
        rows = table._tbl.findall(qn("w:tr"))
        if len(rows) == 1:
            continue
        assert all(r.find(qn("w:trPr")) is not None and r.find(qn("w:trPr")).find(qn("w:cantSplit"))
                   is not None for r in rows)
        assert rows[0].find(qn("w:trPr")).find(qn("w:tblHeader")) is not None


def test_ids_and_amounts_do_not_wrap(doc: Rendered) -> None:
    """In the PDF text every complaint id and every amount of the major list is on one line."""
    table = _major_table(doc)
    if table is None:
        return
    text = "".join(doc.pages)
    for row in table[1:]:
        assert row[0] in text, f"id {row[0]} wraps"
        assert row[table[0].index("涉及金额(元)")] in text


# ------------------------------------------------------------------ issue 19: 溯源 and 整改


def _table_headed(doc: Rendered, first: str) -> list[list[str]] | None:
    return next((t for t in docx_tables(doc.docx) if t and t[0] and t[0][0] == first), None)


def test_root_cause_table_names_counts_and_total(doc: Rendered) -> None:
    """The root-cause table: names (not codes) in order of count with 未填写原因 last, each count the
    figure's, and a 合计（按原因计） that is the sum of the rows — more than the cases when cases have
    several causes, as the note under it says."""
    from complaints.ledger import ROOT_CAUSES

    table = _table_headed(doc, "投诉原因")
    assert table is not None, "no root-cause table"
    causes = doc.figures["by_root_cause"]
    names = {v: k for k, v in ROOT_CAUSES.items()} | {"未填写原因": "unspecified"}
    rows = [r for r in table[1:] if not r[0].startswith("合计")]
    assert rows and all(r[0] in names for r in rows), [r[0] for r in rows]
    assert {names[r[0]]: number(r[1]) for r in rows} == {k: v for k, v in causes.items() if v}
    named = [number(r[1]) for r in rows if r[0] != "未填写原因"]
    assert named == sorted(named, reverse=True)
    assert rows[-1][0] == "未填写原因" or "unspecified" not in causes
    total = [r for r in table if r[0] == "合计（按原因计）"]
    assert len(total) == 1 and number(total[0][1]) == sum(number(r[1]) for r in rows)
    assert number(total[0][1]) >= doc.figures["counts"]["cases"]
    text = re.sub(r"\s+", "", "".join(doc.pages))
    assert f"可能多于投诉件数（{format_value(doc.figures['counts']['cases'], 'count')}件）" in text
    for row in rows:  # nothing wrapped: each name and count on one line of the PDF
        assert any(row[0] in line and row[1] in line for page in doc.pages for line in page.splitlines()), row


def test_annual_lists_the_rectification_items_against_their_baseline(demo: Demo,
                                                                     demo_annual: Rendered) -> None:
    """改进措施: each rectification item opened by the year's end with owner, due date, status, its
    baseline quarter's value, the latest quarter's and whether it moved — as the bundle measured them."""
    import json

    table = _table_headed(demo_annual, "整改事项")
    assert table is not None, "no rectification-item table in the annual report"
    assert table[0] == ["整改事项", "责任部门", "完成期限", "状态", "基线", "最新", "是否改善"]
    measured = json.loads((demo.annual_bundle / "figures" / "rectification.json").read_text("utf-8"))
    year = int(demo_annual.ctx.period)
    opened = [i.id for i in demo.loaded.settings.rectification_items if i.opened.year <= year]
    assert opened and [m["id"] for m in measured] == opened
    assert len(table) - 1 == len(measured)
    text = re.sub(r"\s+", "", "".join(demo_annual.pages))
    for n, (row, m) in enumerate(zip(table[1:], measured, strict=True), 1):
        base, latest = m["measured"]["baseline"], m["measured"]["latest"]
        assert row[:4] == [m["title"], m["owner"], m["due"], {"planned": "未启动", "in_progress": "整改中",
                                                              "done": "已完成"}[m["status"]]]
        # the note under the table names the metric and both quarters (Chinese names, never codes)
        assert f"{n}．{m['title']}：衡量指标为" in text
        note = text.split(f"{n}．{m['title']}：")[1].split("。")[0]
        assert "基线为" in note and "最新为" in note and str(year) in note
        assert not re.search(r"[A-Za-z]", note), note
        assert latest["period"].startswith(str(year))  # never a quarter after the report's year
        if m["metric"] == "cases":
            assert (row[4], row[5]) == (f"{format_value(base['value'], 'count')}件",
                                        f"{format_value(latest['value'], 'count')}件")
        moved = {"improved": "改善", "unchanged": "持平", "worsened": "未改善"}[m["measured"]["moved"]]
        assert row[6].split("（")[0] == moved
