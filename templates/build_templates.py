"""Build the Word templates of the filings (run once; the generated .docx files are committed).

    .venv/bin/python templates/build_templates.py [--config config/complaints.yaml] [--out templates/]

Compliance officers may then edit the .docx files in Word (wording, letterhead, fonts, margins): the
renderer (``tasks/render``) only fills the ``{{ … }}`` placeholders and ``{%tr for %}`` table loops
(docxtpl / Jinja2, rendered with autoescape). Keep each ``{{ … }}`` tag inside one run when editing
(type it in one go; do not format half of a tag). Re-running this script overwrites edits.

Fonts come from ``rendering.body_font`` / ``rendering.heading_font`` in the configuration (default
宋体 body, 黑体 headings), set as East Asian fonts (``w:eastAsia``) on the styles.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from collections.abc import Sequence
from pathlib import Path

from docx import Document
from docx.document import Document as DocumentObject
from docx.enum.section import WD_ORIENT
from docx.enum.style import WD_STYLE_TYPE
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_LINE_SPACING
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Mm, Pt, RGBColor
from docx.table import Table
from docx.text.paragraph import Paragraph

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tasks.render.docx_utils import (  # noqa: E402
    add_field,
    apply_fonts,
    save_deterministic,
    set_core_properties,
)

TEMPLATE_FILES = {
    "quarterly": "quarterly_report.docx",
    "annual": "annual_self_inspection.docx",
    "forwarded": "forwarded_case_report.docx",
    "rectification": "rectification_report.docx",
}
BUILD_TIME = dt.datetime(2026, 1, 1)  # templates are reproducible too
RED = RGBColor(0xC0, 0x00, 0x00)
TEXT_WIDTH_MM = 210 - 28 - 26


# ---------------------------------------------------------------- document skeleton and styles


def new_document(body_font: str, heading_font: str, title: str) -> DocumentObject:
    doc = Document()
    section = doc.sections[0]
    section.orientation = WD_ORIENT.PORTRAIT
    section.page_width, section.page_height = Mm(210), Mm(297)
    section.top_margin, section.bottom_margin = Mm(30), Mm(25)
    section.left_margin, section.right_margin = Mm(28), Mm(26)
    section.header_distance, section.footer_distance = Mm(15), Mm(15)

    styles = doc.styles
    normal = styles["Normal"]
    normal.font.size = Pt(12)
    normal.paragraph_format.space_after = Pt(0)
    normal.paragraph_format.line_spacing_rule = WD_LINE_SPACING.ONE_POINT_FIVE

    body = styles.add_style("Report Body", WD_STYLE_TYPE.PARAGRAPH)
    body.base_style = normal
    body.paragraph_format.first_line_indent = Pt(24)  # two characters
    body.paragraph_format.alignment = WD_ALIGN_PARAGRAPH.JUSTIFY

    cell = styles.add_style("Table Cell", WD_STYLE_TYPE.PARAGRAPH)
    cell.base_style = normal
    cell.font.size = Pt(10.5)
    cell.paragraph_format.line_spacing_rule = WD_LINE_SPACING.SINGLE
    cell.paragraph_format.space_before = Pt(1)
    cell.paragraph_format.space_after = Pt(1)

    rtitle = styles.add_style("Report Title", WD_STYLE_TYPE.PARAGRAPH)
    rtitle.base_style = normal
    rtitle.font.size = Pt(18)
    rtitle.font.bold = False
    rtitle.paragraph_format.alignment = WD_ALIGN_PARAGRAPH.CENTER
    rtitle.paragraph_format.line_spacing_rule = WD_LINE_SPACING.SINGLE
    rtitle.paragraph_format.space_after = Pt(6)

    for name, size, before in (("Heading 1", 14, 12), ("Heading 2", 12, 6), ("Heading 3", 12, 4)):
        h = styles[name]
        h.font.size = Pt(size)
        h.font.bold = name != "Heading 1"
        h.paragraph_format.space_before = Pt(before)
        h.paragraph_format.space_after = Pt(4)
        h.paragraph_format.line_spacing_rule = WD_LINE_SPACING.ONE_POINT_FIVE
    styles["Caption"].font.size = Pt(10.5)
    styles["Caption"].font.bold = False
    styles["Caption"].paragraph_format.alignment = WD_ALIGN_PARAGRAPH.CENTER
    for name in ("Header", "Footer"):
        styles[name].font.size = Pt(9)
        styles[name].paragraph_format.line_spacing_rule = WD_LINE_SPACING.SINGLE
    apply_fonts(doc, body_font, heading_font)
    styles["Caption"].font.color.rgb = RGBColor(0, 0, 0)

    header = section.header.paragraphs[0]
    header.style = styles["Header"]
    header.alignment = WD_ALIGN_PARAGRAPH.CENTER
    header.add_run("{{ institution }}　{{ period_label }}")
    second = section.header.add_paragraph(style=styles["Header"])
    second.alignment = WD_ALIGN_PARAGRAPH.CENTER
    second.add_run("运行编号：{{ run_id }}　生成时间：{{ generated_at_text }}")
    _bottom_border(second)

    footer = section.footer.paragraphs[0]
    footer.style = styles["Footer"]
    footer.alignment = WD_ALIGN_PARAGRAPH.CENTER
    footer.add_run("第 ")
    add_field(footer, "PAGE")
    footer.add_run(" 页　共 ")
    add_field(footer, "NUMPAGES")
    footer.add_run(" 页")
    set_core_properties(doc, title=title, author="complaints", when=BUILD_TIME)
    return doc


def _bottom_border(paragraph: Paragraph) -> None:
    ppr = paragraph._p.get_or_add_pPr()
    borders = OxmlElement("w:pBdr")
    bottom = OxmlElement("w:bottom")
    for k, v in (("w:val", "single"), ("w:sz", "4"), ("w:space", "1"), ("w:color", "000000")):
        bottom.set(qn(k), v)
    borders.append(bottom)
    ppr.append(borders)


def para(
    doc: DocumentObject,
    text: str = "",
    style: str = "Report Body",
    *,
    align: str | None = None,
    bold: bool = False,
    color: RGBColor | None = None,
) -> Paragraph:
    p = doc.add_paragraph(style=style)
    if text:
        run = p.add_run(text)
        run.bold = bold or None
        if color is not None:
            run.font.color.rgb = color
    if align == "center":
        p.alignment = WD_ALIGN_PARAGRAPH.CENTER
    elif align == "right":
        p.alignment = WD_ALIGN_PARAGRAPH.RIGHT
    return p


def tag(doc: DocumentObject, text: str) -> Paragraph:
    """A paragraph holding only a docxtpl block tag (``{%p … %}``); removed when rendered."""
    return doc.add_paragraph(text, style="Normal")


def heading(doc: DocumentObject, text: str, level: int = 1) -> Paragraph:
    return doc.add_paragraph(text, style=f"Heading {level}")


def title(doc: DocumentObject, lines: Sequence[str]) -> None:
    for line in lines:
        doc.add_paragraph(line, style="Report Title")
    para(doc, "", "Normal")


def loop_table(
    doc: DocumentObject,
    headers: Sequence[str],
    loop: str,
    cells: Sequence[str],
    widths_mm: Sequence[float],
    *,
    numeric_from: int = 1,
    footer: Sequence[str] | None = None,
    numeric_cols: Sequence[int] | None = None,
) -> Table:
    """A table with a header row, one data row repeated by ``{%tr for … %}`` and an optional total row."""
    rows = 4 + (1 if footer else 0)
    table = doc.add_table(rows=rows, cols=len(headers))
    table.style = doc.styles["Table Grid"]
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    _fill(table.rows[0].cells, headers, bold=True, center=True)
    _repeat_header(table)
    _fill([table.rows[1].cells[0]], [f"{{%tr for {loop} %}}"])
    _fill(table.rows[2].cells, cells, numeric_from=numeric_from, numeric_cols=numeric_cols)
    _fill([table.rows[3].cells[0]], ["{%tr endfor %}"])
    if footer:
        _fill(table.rows[4].cells, footer, numeric_from=numeric_from, bold=True)
    _widths(table, widths_mm)
    para(doc, "", "Normal")
    return table


def _widths(table: Table, widths_mm: Sequence[float]) -> None:
    """Column widths on the grid (LibreOffice) and on every cell (Word); fixed layout."""
    table.autofit = False
    scale = min(1.0, TEXT_WIDTH_MM / sum(widths_mm))
    widths_mm = [round(w * scale, 1) for w in widths_mm]
    for column, width in zip(table.columns, widths_mm, strict=True):
        column.width = Mm(width)
    for row in table.rows:
        for cell, width in zip(row.cells, widths_mm, strict=True):
            cell.width = Mm(width)


def fixed_table(
    doc: DocumentObject,
    rows: Sequence[Sequence[str]],
    widths_mm: Sequence[float],
    *,
    header: bool = True,
    numeric_from: int = 1,
) -> Table:
    table = doc.add_table(rows=len(rows), cols=len(rows[0]))
    table.style = doc.styles["Table Grid"]
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    for i, values in enumerate(rows):
        _fill(
            table.rows[i].cells,
            values,
            bold=header and i == 0,
            center=header and i == 0,
            numeric_from=numeric_from,
        )
    if header:
        _repeat_header(table)
    _widths(table, widths_mm)
    para(doc, "", "Normal")
    return table


def _fill(
    cells: Sequence[object],
    texts: Sequence[str],
    *,
    bold: bool = False,
    center: bool = False,
    numeric_from: int = 99,
    numeric_cols: Sequence[int] | None = None,
) -> None:
    for i, (cell, text) in enumerate(zip(cells, texts, strict=False)):
        p = cell.paragraphs[0]  # type: ignore[attr-defined]
        p.style = "Table Cell"
        run = p.add_run(text)
        run.bold = bold or None
        if center:
            p.alignment = WD_ALIGN_PARAGRAPH.CENTER
        elif (i in numeric_cols) if numeric_cols is not None else i >= numeric_from:
            p.alignment = WD_ALIGN_PARAGRAPH.RIGHT


def _repeat_header(table: Table) -> None:
    trpr = table.rows[0]._tr.get_or_add_trPr()
    el = OxmlElement("w:tblHeader")
    el.set(qn("w:val"), "true")
    trpr.append(el)


def notes(doc: DocumentObject, var: str) -> None:
    """Footnote paragraphs for figures shown as 「—」 (``var`` is a list of strings)."""
    tag(doc, f"{{%p for note in {var} %}}")
    p = para(doc, "注：{{ note }}", "Table Cell")
    p.runs[0].font.size = Pt(9)
    tag(doc, "{%p endfor %}")


def image(doc: DocumentObject, var: str, caption: str) -> None:
    tag(doc, f"{{%p if {var} %}}")
    picture = para(doc, f"{{{{ {var} }}}}", "Normal", align="center")
    picture.paragraph_format.keep_with_next = True
    doc.add_paragraph(caption, style="Caption")
    tag(doc, "{%p endif %}")


def pending(doc: DocumentObject, cond: str, what: str, key: str) -> None:
    """The visible 「待补充」 marker shown when the officer's narrative is missing."""
    tag(doc, f"{{%p if not {cond} %}}")
    p = para(
        doc,
        f"【待补充】{what}尚未提供。请在叙述文件 {{{{ narrative_file }}}} 中填写 {key} 后重新生成本报告。",
        bold=True,
        color=RED,
    )
    p.alignment = WD_ALIGN_PARAGRAPH.LEFT
    tag(doc, "{%p endif %}")


def numbered(doc: DocumentObject, var: str) -> None:
    tag(doc, f"{{%p for item in {var} %}}")
    para(doc, "{{ item }}")
    tag(doc, "{%p endfor %}")


def signature(doc: DocumentObject) -> None:
    para(doc, "特此报告。")
    para(doc, "", "Normal")
    para(doc, "{{ institution }}", "Normal", align="right")
    para(doc, "{{ report_date_text }}", "Normal", align="right")


def quality_annex(doc: DocumentObject) -> None:
    annex = heading(doc, "附表　数据质量说明", 1)
    annex.paragraph_format.page_break_before = True
    para(
        doc,
        "本报告数据取自公司投诉台账，统计截至时点为{{ as_of_text }}。统计以“件”为单位，同一投诉人就同一事项"
        "再次投诉的计为重复投诉（计次不计件），投诉升级另计一件。台账数据经质量校验后方纳入统计；读取的记录除本期外，"
        "还包括计算环比、同比和趋势所需的此前各期记录以及此前仍未办结的案件。具体情况如下：",
    )
    tag(doc, "{%p if has_quality %}")
    fixed_table(
        doc,
        [
            ["项目", "数值"],
            ["读取记录数", "{{ quality.read }}"],
            ["校验通过记录数", "{{ quality.accepted }}"],
            ["隔离（未纳入统计）记录数", "{{ quality.quarantined }}"],
            ["执行校验规则数", "{{ quality.checks_run }}"],
            ["未通过校验规则数", "{{ quality.checks_failed }}"],
        ],
        (90, 60),
    )
    tag(doc, "{%p if quality.failed_rows %}")
    para(doc, "未通过的校验规则及涉及记录数：")
    loop_table(
        doc,
        ["校验规则", "涉及记录数"],
        "r in quality.failed_rows",
        ["{{ r.check }}", "{{ r.count }}"],
        (110, 40),
    )
    tag(doc, "{%p endif %}")
    tag(doc, "{%p if quality.accept_risk %}")
    para(doc, "风险接受说明：{{ quality.accept_risk }}")
    tag(doc, "{%p endif %}")
    tag(doc, "{%p else %}")
    para(doc, "【待补充】本次运行未提供数据质量校验结果。", bold=True, color=RED)
    tag(doc, "{%p endif %}")
    tag(doc, "{%p if all_notes %}")
    para(doc, "数据说明（报告中以「—」表示的数据及原因）：")
    loop_table(
        doc, ["指标", "说明"], "n in all_notes", ["{{ n.name }}", "{{ n.reason }}"], (60, 95), numeric_from=99
    )
    tag(doc, "{%p endif %}")
    para(doc, "运行编号：{{ run_id }}；统计规则版本：{{ rule_versions }}。")


# ---------------------------------------------------------------- the four templates


def quarterly(body_font: str, heading_font: str) -> DocumentObject:
    doc = new_document(body_font, heading_font, "保险消费投诉处理工作情况报告")
    title(doc, ["{{ institution }}", "{{ period_label }}保险消费投诉处理工作情况报告"])
    para(doc, "{{ addressee }}：", "Normal")
    para(
        doc,
        "根据监管部门关于保险消费投诉处理工作的报告要求，现将我{{ org_word }}{{ period_label }}"
        "保险消费投诉处理工作情况报告如下。",
    )

    heading(doc, "一、总体情况")
    para(
        doc,
        "{{ period_label }}，我{{ org_word }}共接收保险消费投诉{{ n.cases }}件（{{ n.contacts }}次），"
        "其中有效投诉{{ n.valid_cases }}件，涉及投诉事项{{ n.issues }}个；重复投诉{{ n.repeat_contacts }}次，"
        "投诉升级{{ n.escalated_cases }}件，监管转办投诉{{ n.regulator_forwarded_cases }}件，"
        "重大投诉{{ n.major_cases }}件。投诉件数环比{{ chg.cases_qoq }}、同比{{ chg.cases_yoy }}；"
        "有效投诉件数环比{{ chg.valid_qoq }}、同比{{ chg.valid_yoy }}。",
    )
    loop_table(
        doc,
        ["指标", "本季度", "上季度", "环比", "上年同期", "同比"],
        "r in change_rows",
        [
            "{{ r.name }}",
            "{{ r.current }}",
            "{{ r.qoq_prev }}",
            "{{ r.qoq_pct }}",
            "{{ r.yoy_prev }}",
            "{{ r.yoy_pct }}",
        ],
        (42, 24, 24, 24, 24, 24),
    )
    notes(doc, "notes_overview")

    heading(doc, "二、投诉与业务量对比")
    para(
        doc,
        "{{ period_label }}，我{{ org_word }}亿元保费投诉量为{{ vol.per_100m_premium }}件/亿元，"
        "万张保单投诉量为{{ vol.per_10k_policies }}件/万张，投诉率为{{ vol.complaint_rate_pct }}。"
        "分业务类型情况如下：",
    )
    loop_table(
        doc,
        ["业务类型", "投诉件数", "亿元保费投诉量", "万张保单投诉量", "投诉率", "万人次投诉量"],
        "r in volume_rows",
        [
            "{{ r.name }}",
            "{{ r.cases }}",
            "{{ r.per_100m_premium }}",
            "{{ r.per_10k_policies }}",
            "{{ r.complaint_rate_pct }}",
            "{{ r.per_10k_insured }}",
        ],
        (26, 24, 28, 28, 28, 28),
    )
    para(
        doc,
        "注：亿元保费投诉量＝有效投诉件数÷(保费收入÷1亿元)；万张保单投诉量＝有效投诉件数÷(承保件数÷1万)；"
        "投诉率＝投诉件数÷承保件数×100%；万人次投诉量仅适用于人身险。",
        "Table Cell",
    )
    notes(doc, "notes_volume")

    heading(doc, "三、投诉分布情况")
    heading(doc, "（一）按投诉事由", 2)
    para(doc, "{{ top5_text }}")
    loop_table(
        doc,
        ["投诉事由", "投诉件数", "占比", "涉及该事由的件数"],
        "r in category_rows",
        ["{{ r.name }}", "{{ r.cases }}", "{{ r.share }}", "{{ r.issues }}"],
        (50, 35, 35, 40),
        footer=["合计", "{{ n.cases }}", "{{ category_share_total }}", "{{ n.issues }}"],
    )
    image(doc, "category_chart", "图1　{{ period_label }}投诉事由分布")
    heading(doc, "（二）按投诉渠道", 2)
    loop_table(
        doc,
        ["投诉渠道", "投诉件数", "占比"],
        "r in channel_rows",
        ["{{ r.name }}", "{{ r.cases }}", "{{ r.share }}"],
        (70, 45, 45),
    )
    heading(doc, "（三）按业务及产品类型", 2)
    loop_table(
        doc,
        ["产品类型", "投诉件数", "占比"],
        "r in product_rows",
        ["{{ r.name }}", "{{ r.cases }}", "{{ r.share }}"],
        (70, 45, 45),
    )
    heading(doc, "（四）按机构及地区", 2)
    loop_table(
        doc,
        ["处理机构", "投诉件数", "占比"],
        "r in branch_rows",
        ["{{ r.name }}", "{{ r.cases }}", "{{ r.share }}"],
        (70, 45, 45),
    )
    loop_table(
        doc,
        ["省份（地区）", "投诉件数", "占比"],
        "r in province_rows",
        ["{{ r.name }}", "{{ r.cases }}", "{{ r.share }}"],
        (70, 45, 45),
    )
    heading(doc, "（五）按投诉级别", 2)
    loop_table(
        doc,
        ["投诉级别", "投诉件数", "占比"],
        "r in severity_rows",
        ["{{ r.name }}", "{{ r.cases }}", "{{ r.share }}"],
        (70, 45, 45),
    )
    heading(doc, "（六）近期投诉量趋势", 2)
    loop_table(
        doc,
        ["期间", "投诉件数", "有效投诉件数"],
        "r in trend_rows",
        ["{{ r.label }}", "{{ r.cases }}", "{{ r.valid_cases }}"],
        (70, 45, 45),
    )
    image(doc, "trend_chart", "图2　近{{ trend_count }}个季度投诉量趋势")

    heading(doc, "四、投诉处理情况")
    para(
        doc,
        "{{ period_label }}应在法定时限内作出处理决定的投诉中，"
        "按时办结{{ tl.on_time }}件，超时{{ tl.late }}件，"
        "尚在处理时限内{{ tl.pending }}件，投诉处理及时率为{{ tl.rate }}。已作出处理决定的投诉平均处理时长"
        "{{ tl.mean_days }}天，中位数{{ tl.median_days }}天。截至{{ as_of_text }}，逾期未办结投诉"
        "{{ tl.overdue_open }}件。监管转办投诉办理及时率为{{ ftl.rate }}（按时{{ ftl.on_time }}件，"
        "超时{{ ftl.late }}件，处理中{{ ftl.pending }}件）。",
    )
    para(doc, "内部制度执行情况如下表：")
    loop_table(
        doc,
        ["考核项目", "达标(件)", "未达标(件)", "处理中(件)", "达标率", "目标值"],
        "r in compliance_rows",
        [
            "{{ r.name }}",
            "{{ r.within }}",
            "{{ r.late }}",
            "{{ r.pending }}",
            "{{ r.rate }}",
            "{{ r.target }}",
        ],
        (54, 20, 22, 22, 22, 22),
    )
    para(
        doc,
        "本季度共作出处理决定{{ out.decided }}件，"
        "其中投诉属实{{ out.upheld }}件，属实率{{ out.upheld_rate }}，"
        "累计赔付（补偿）金额{{ out.redress_total }}元。投诉人申请核查{{ rev.requested }}件，"
        "其中在30日内作出核查决定{{ rev.decided_on_time }}件。",
    )
    para(
        doc,
        "本季度共回访投诉人{{ sat.revisited }}人次，其中满意及基本满意{{ sat.satisfied }}人次，"
        "未联系上{{ sat.not_reached }}人次，客户满意度为{{ sat.rate }}。",
    )
    notes(doc, "notes_handling")

    heading(doc, "五、重大投诉情况")
    tag(doc, "{%p if major_rows %}")
    para(
        doc,
        "{{ period_label }}共发生重大投诉{{ n.major_cases }}件{{ major_listed_text }}，具体情况如下"
        "（投诉人个人信息已脱敏）：",
    )
    loop_table(
        doc,
        ["投诉编号", "收到日期", "处理机构", "事由", "涉及金额(元)", "处理状态", "投诉摘要"],
        "r in major_rows",
        [
            "{{ r.id }}",
            "{{ r.received }}",
            "{{ r.branch }}",
            "{{ r.category }}",
            "{{ r.amount }}",
            "{{ r.status }}",
            "{{ r.summary }}",
        ],
        (26, 21, 18, 12, 21, 18, 40),
        numeric_cols=[4],
    )
    tag(doc, "{%p else %}")
    para(doc, "{{ period_label }}未发生重大投诉。")
    tag(doc, "{%p endif %}")

    heading(doc, "六、存在的问题及改进措施")
    heading(doc, "（一）存在的问题", 2)
    tag(doc, "{%p if findings %}")
    para(doc, "经对本季度投诉数据的分析，发现以下问题：")
    numbered(doc, "findings")
    tag(doc, "{%p else %}")
    para(doc, "本季度各项考核指标均达到目标值，主要指标未出现超过预警阈值的恶化。")
    tag(doc, "{%p endif %}")
    numbered(doc, "problems")
    pending(doc, "problems", "“存在的问题”中由合规负责人撰写的分析", "problems")
    heading(doc, "（二）改进措施", 2)
    numbered(doc, "measures")
    pending(doc, "measures", "“改进措施”", "measures")
    signature(doc)
    quality_annex(doc)
    return doc


def annual(body_font: str, heading_font: str) -> DocumentObject:
    doc = new_document(body_font, heading_font, "保险消费投诉处理工作自查报告")
    title(doc, ["{{ institution }}", "{{ period_label }}保险消费投诉处理工作自查报告"])
    para(doc, "{{ addressee }}：", "Normal")
    para(
        doc,
        "根据监管部门关于开展保险消费投诉处理工作年度自查的要求，我{{ org_word }}对{{ period_label }}"
        "投诉处理制度建设及执行情况进行了全面自查，现将有关情况报告如下。",
    )

    heading(doc, "一、基本情况")
    para(
        doc,
        "{{ period_label }}，我{{ org_word }}共接收保险消费投诉{{ n.cases }}件（{{ n.contacts }}次），"
        "同比{{ chg.cases_yoy }}；其中有效投诉{{ n.valid_cases }}件，同比{{ chg.valid_yoy }}；"
        "监管转办投诉{{ n.regulator_forwarded_cases }}件，重大投诉{{ n.major_cases }}件。"
        "亿元保费投诉量{{ vol.per_100m_premium }}件/亿元（同比{{ chg.rate_yoy }}），"
        "万张保单投诉量{{ vol.per_10k_policies }}件/万张，"
        "投诉处理及时率{{ tl.rate }}，客户满意度{{ sat.rate }}。",
    )
    para(doc, "分季度情况及与上年对比如下：")
    loop_table(
        doc,
        ["季度", "投诉件数", "上年同期", "有效投诉", "上年同期", "处理及时率", "客户满意度"],
        "r in quarter_rows",
        [
            "{{ r.label }}",
            "{{ r.cases }}",
            "{{ r.prev_cases }}",
            "{{ r.valid_cases }}",
            "{{ r.prev_valid }}",
            "{{ r.timeliness }}",
            "{{ r.satisfaction }}",
        ],
        (22, 22, 22, 22, 22, 23, 23),
        footer=[
            "全年",
            "{{ n.cases }}",
            "{{ prev_year.cases }}",
            "{{ n.valid_cases }}",
            "{{ prev_year.valid_cases }}",
            "{{ tl.rate }}",
            "{{ sat.rate }}",
        ],
    )
    image(doc, "trend_chart", "图1　近{{ trend_count }}个季度投诉量趋势")
    para(doc, "按投诉事由分布：{{ top5_text }}")
    loop_table(
        doc,
        ["投诉事由", "投诉件数", "占比"],
        "r in category_rows",
        ["{{ r.name }}", "{{ r.cases }}", "{{ r.share }}"],
        (70, 45, 45),
    )
    image(doc, "category_chart", "图2　{{ period_label }}投诉事由分布")
    notes(doc, "notes_overview")

    heading(doc, "二、投诉处理制度建设及执行情况")
    heading(doc, "（一）制度建设情况", 2)
    tag(doc, "{%p if rules_rows %}")
    para(doc, "截至{{ period_end_text }}，我{{ org_word }}执行的投诉处理相关制度如下：")
    loop_table(
        doc,
        ["序号", "制度名称", "施行日期", "类别"],
        "r in rules_rows",
        ["{{ r.no }}", "{{ r.name }}", "{{ r.effective_from }}", "{{ r.source }}"],
        (14, 100, 26, 20),
        numeric_from=99,
    )
    tag(doc, "{%p else %}")
    para(doc, "【待补充】配置中未列明现行投诉处理制度（rules_in_force）。", bold=True, color=RED)
    tag(doc, "{%p endif %}")
    heading(doc, "（二）制度执行情况", 2)
    para(doc, "对可由数据检验的制度要求，逐项测算执行情况如下：")
    loop_table(
        doc,
        ["制度要求", "达标/应考核(件)", "处理中(件)", "执行率", "目标值", "结论"],
        "r in execution_rows",
        [
            "{{ r.name }}",
            "{{ r.detail }}",
            "{{ r.pending }}",
            "{{ r.rate }}",
            "{{ r.target }}",
            "{{ r.status }}",
        ],
        (46, 28, 18, 20, 22, 22),
        numeric_cols=[1, 2, 3, 4],
    )
    notes(doc, "notes_handling")

    heading(doc, "三、考核情况")
    para(
        doc,
        "按照公司投诉考核办法，对各责任部门{{ period_label }}投诉处理情况考核如下（投诉处理及时率目标"
        "{{ dept_targets.timeliness }}，客户满意度目标{{ dept_targets.satisfaction }}）：",
    )
    loop_table(
        doc,
        ["责任部门", "投诉件数", "处理及时率", "客户满意度", "考核结果"],
        "r in dept_rows",
        ["{{ r.name }}", "{{ r.cases }}", "{{ r.timeliness }}", "{{ r.satisfaction }}", "{{ r.result }}"],
        (30, 22, 26, 26, 52),
        numeric_cols=[1, 2, 3],
    )
    notes(doc, "notes_dept")

    heading(doc, "四、存在的问题")
    tag(doc, "{%p if findings %}")
    para(doc, "经自查，数据反映出以下问题：")
    numbered(doc, "findings")
    tag(doc, "{%p else %}")
    para(doc, "全年各项考核指标均达到目标值，主要指标未出现超过预警阈值的恶化。")
    tag(doc, "{%p endif %}")
    numbered(doc, "problems")
    pending(doc, "problems", "“存在的问题”中由合规负责人撰写的分析", "problems")

    heading(doc, "五、改进措施")
    heading(doc, "（一）上年度改进措施落实情况", 2)
    tag(doc, "{%p if last_year_rows %}")
    loop_table(
        doc,
        ["上年度措施", "相关指标", "上年", "本年", "变化"],
        "r in last_year_rows",
        ["{{ r.measure }}", "{{ r.figure }}", "{{ r.before }}", "{{ r.after }}", "{{ r.moved }}"],
        (62, 30, 22, 22, 22),
        numeric_from=2,
    )
    tag(doc, "{%p endif %}")
    pending(doc, "last_year_rows", "上年度改进措施及其落实情况", "last_year_measures")
    heading(doc, "（二）下一步改进措施", 2)
    numbered(doc, "measures")
    pending(doc, "measures", "“改进措施”", "measures")
    signature(doc)
    quality_annex(doc)
    return doc


def forwarded(body_font: str, heading_font: str) -> DocumentObject:
    doc = new_document(body_font, heading_font, "转办投诉处理情况报告")
    title(doc, ["关于转办投诉（编号{{ c.forward_ref }}）", "处理情况的报告"])
    para(doc, "{{ addressee }}：", "Normal")
    para(
        doc,
        "我{{ org_word }}于{{ c.received_date }}收到贵局转办的保险消费投诉（转办编号{{ c.forward_ref }}，"
        "转送日期{{ c.forwarded_date }}），现将处理情况报告如下。",
    )
    heading(doc, "一、投诉基本情况")
    fixed_table(
        doc,
        [
            ["转办编号", "{{ c.forward_ref }}"],
            ["本公司投诉编号", "{{ c.complaint_id }}"],
            ["处理机构", "{{ c.branch }}"],
            ["投诉人", "{{ c.complainant }}"],
            ["保单号", "{{ c.policy_no }}"],
            ["业务类型/产品", "{{ c.product }}"],
            ["投诉事由", "{{ c.category }}"],
            ["投诉级别", "{{ c.severity }}"],
            ["涉及金额(元)", "{{ c.amount }}"],
            ["投诉请求及事实摘要", "{{ c.summary }}"],
        ],
        (45, 110),
        header=False,
        numeric_from=99,
    )
    heading(doc, "二、受理情况")
    para(doc, "{{ acceptance_text }}")
    heading(doc, "三、处理过程")
    para(doc, "{{ process_text }}")
    tag(doc, "{%p if event_rows %}")
    loop_table(
        doc,
        ["时间", "处理环节"],
        "r in event_rows",
        ["{{ r.time }}", "{{ r.event }}"],
        (50, 105),
        numeric_from=99,
    )
    tag(doc, "{%p endif %}")
    heading(doc, "四、处理时限")
    fixed_table(
        doc,
        [
            ["项目", "情况"],
            ["适用规定", "{{ t.rule }}"],
            ["起算日期", "{{ t.start }}"],
            ["处理时限", "{{ t.limit }}"],
            ["应办结日期", "{{ t.due }}"],
            ["作出处理决定日期", "{{ t.decided }}"],
            ["实际用时", "{{ t.taken }}"],
            ["是否在时限内", "{{ t.verdict }}"],
        ],
        (45, 110),
        numeric_from=99,
    )
    heading(doc, "五、处理结果")
    para(doc, "{{ decision_text }}")
    heading(doc, "六、投诉人对处理结果的意见")
    para(doc, "{{ complainant_text }}")
    signature(doc)
    return doc


def rectification(body_font: str, heading_font: str) -> DocumentObject:
    doc = new_document(body_font, heading_font, "整改情况报告")
    title(doc, ["关于{{ subject }}", "整改情况的报告"])
    para(doc, "{{ addressee }}：", "Normal")
    para(
        doc,
        "我{{ org_word }}于{{ received_text }}收到{{ issuer }}《{{ reference }}》（以下简称整改要求）。"
        "按照整改要求，我{{ org_word }}逐项研究制定整改措施并组织落实，整改报告应于{{ due_text }}前报送"
        "（收到之日起{{ days }}日内）。现将整改情况报告如下。",
    )
    heading(doc, "一、整改工作总体情况")
    para(
        doc, "整改要求共涉及{{ items|length }}个事项，已完成{{ done_count }}项，正在推进{{ open_count }}项。"
    )
    loop_table(
        doc,
        ["序号", "整改事项", "整改措施", "完成情况"],
        "r in items",
        ["{{ r.no }}", "{{ r.issue }}", "{{ r.measures_text }}", "{{ r.status }}"],
        (14, 48, 70, 24),
        numeric_from=99,
    )
    heading(doc, "二、各项整改措施及成效")
    tag(doc, "{%p for r in items %}")
    heading(doc, "（{{ r.no_zh }}）{{ r.issue }}", 2)
    tag(doc, "{%p for m in r.measures %}")
    para(doc, "{{ loop.index }}．{{ m }}")
    tag(doc, "{%p endfor %}")
    tag(doc, "{%p if r.figures %}")
    para(doc, "整改成效：{{ r.figures_text }}")
    tag(doc, "{%p endif %}")
    tag(doc, "{%p endfor %}")
    tag(doc, "{%p if figure_rows %}")
    heading(doc, "三、相关指标情况")
    para(doc, "{{ figures_caption }}")
    loop_table(doc, ["指标", "数值"], "r in figure_rows", ["{{ r.name }}", "{{ r.value }}"], (90, 60))
    tag(doc, "{%p endif %}")
    para(doc, "下一步，我{{ org_word }}将持续跟踪整改成效，巩固整改成果，建立健全长效机制。")
    signature(doc)
    return doc


BUILDERS = {"quarterly": quarterly, "annual": annual, "forwarded": forwarded, "rectification": rectification}


def build_all(out_dir: Path, body_font: str = "宋体", heading_font: str = "黑体") -> list[Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    return [
        save_deterministic(BUILDERS[kind](body_font, heading_font), out_dir / name)
        for kind, name in TEMPLATE_FILES.items()
    ]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--config", default=None, help="configuration file (default: config/complaints.yaml)")
    parser.add_argument("--out", default=str(Path(__file__).resolve().parent), help="output directory")
    args = parser.parse_args(argv)
    from tasks.config_files import load_settings

    rendering = load_settings(args.config).settings.rendering
    for path in build_all(Path(args.out), rendering.body_font, rendering.heading_font):
        print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
