"""Figure drift between a draft and the submitted document (complaints.submission), on hand-made texts."""

from __future__ import annotations

from complaints.submission import (
    DocumentText,
    approver_problem,
    figure_drift,
    figures_in,
    is_figure_sentence,
    paragraph_drift,
    table_drift,
)

SENTENCE = ("2026年第三季度，本公司共接收保险消费投诉1,320件（1,452次），其中有效投诉1,208件，"
            "投诉处理及时率为96.50%。")
NARRATIVE = "本季度公司持续完善投诉处理机制，加强一线人员培训。"
SIGNATURE = "2026年10月15日"
OVERVIEW = [["指标", "本期", "上期"], ["投诉件数", "1320", "1,187"], ["处理及时率", "96.50%", "95.1%"],
            ["说明", "按受理口径", "—"]]
BRANCHES = [["机构", "投诉件数", "占比"], ["广东分公司", "412", "31.2%"], ["江苏分公司", "388", "29.4%"],
            ["合计", "1320", "100.0%"]]


def draft() -> DocumentText:
    return DocumentText([SENTENCE, NARRATIVE, SIGNATURE], [OVERVIEW, BRANCHES])


def test_figures_are_read_as_values() -> None:
    got = [(f.text, f.key) for f in figures_in("共1,320件，占比３.5％，截至2026年10月20日，另12月31日")]
    assert got == [("1,320", ("number", "1320")), ("3.5%", ("%", "3.5")),
                   ("2026年10月20日", ("date", "2026-10-20")), ("12月31日", ("date", "-12-31"))]
    assert figures_in("1320")[0].key == figures_in("1,320")[0].key
    assert figures_in("24.50%")[0].key == figures_in("24.5%")[0].key
    assert figures_in("24.51%")[0].key != figures_in("24.5%")[0].key
    assert is_figure_sentence(SENTENCE) and not is_figure_sentence(SIGNATURE)
    assert not is_figure_sentence(NARRATIVE)


def test_wording_narrative_and_signature_date_may_change() -> None:
    edited = DocumentText(
        ["经统计，2026年第三季度本公司共接收保险消费投诉1320件（1452次），其中有效投诉1208件，投诉处理及时率为96.5%。",
         "本季度，公司进一步完善投诉处理机制，并组织一线人员专题培训。",
         "新增段落：联系人张三，电话见附件。",
         "2026年10月18日"],
        [OVERVIEW, BRANCHES])
    assert figure_drift(draft(), edited) == []


def test_a_changed_table_number_is_named_with_both_values() -> None:
    changed = [row[:] for row in BRANCHES]
    changed[2][1] = "398"
    drift = figure_drift(draft(), DocumentText([SENTENCE, NARRATIVE, SIGNATURE], [OVERVIEW, changed]))
    assert len(drift) == 1
    d = drift[0]
    assert (d.draft, d.submitted) == ("388", "398")
    assert d.where == "table 2, row 3 「江苏分公司」, column 「投诉件数」"
    assert str(d) == "table 2, row 3 「江苏分公司」, column 「投诉件数」: draft 388, submitted 398"


def test_a_removed_row_or_table_is_missing() -> None:
    without_row = [r for r in BRANCHES if r[0] != "江苏分公司"]
    drift = table_drift([OVERVIEW, BRANCHES], [OVERVIEW, without_row])
    assert {(d.where.split(",")[0], d.draft, d.submitted) for d in drift} >= {
        ("table 2", "388", None), ("table 2", "29.4%", None)}
    drift = table_drift([OVERVIEW, BRANCHES], [OVERVIEW])
    assert sorted(d.draft for d in drift) == sorted(["412", "31.2%", "388", "29.4%", "1320", "100.0%"])
    assert all(d.submitted is None for d in drift)


def test_tables_are_matched_by_header_and_rows_by_label() -> None:
    note = [["附注"], ["本表不含电话咨询"]]
    reordered = [BRANCHES[0], BRANCHES[2], BRANCHES[1], BRANCHES[3]]
    assert table_drift([OVERVIEW, BRANCHES], [note, BRANCHES, OVERVIEW]) == []
    assert table_drift([OVERVIEW, BRANCHES], [OVERVIEW, reordered]) == []


def test_a_changed_figure_in_a_sentence() -> None:
    edited = SENTENCE.replace("96.50%", "97.50%")
    drift = paragraph_drift([SENTENCE], ["经核对，" + edited])
    assert [(d.draft, d.submitted) for d in drift] == [("96.50%", "97.50%")]
    assert drift[0].where.startswith("paragraph 「2026年第三季度，本公司共接收")
    drift = paragraph_drift([SENTENCE], [SENTENCE.replace("，其中有效投诉1,208件", "")])
    assert [(d.draft, d.submitted) for d in drift] == [("1,208", None)]


def test_a_removed_figure_sentence_is_missing_entirely() -> None:
    drift = paragraph_drift([SENTENCE, NARRATIVE], [NARRATIVE, "完全不同的一段文字，没有任何数字。"])
    assert {d.draft for d in drift} == {"2026年", "1,320", "1,452", "1,208", "96.50%"}
    assert all(d.submitted is None for d in drift)


def test_approver_rules() -> None:
    assert approver_problem(False, None, None) is None
    assert approver_problem(True, "李四", "消费者权益保护工作分管负责人") is None
    assert "require" in (approver_problem(True, None, None) or "")
    assert "together" in (approver_problem(False, "李四", None) or "")


def test_ordinals_captions_and_the_officers_narrative_are_not_figures() -> None:
    assert [f.text for f in figures_in("1．1个工作日内确认收到投诉的比例为96.89%")] == ["1", "96.89%"]
    assert [f.text for f in figures_in("图1　2026年第三季度投诉事由分布")] == ["2026年"]
    narrative = "对回访未接通客户在3个工作日内再次回访，确保回访覆盖率。"
    draft = ["2．（示例）" + narrative, SENTENCE]
    edited = ["2．（示例）对回访未接通客户在2个工作日内再次回访。", SENTENCE]
    assert [(d.draft, d.submitted) for d in paragraph_drift(draft, edited)] == [("3", "2")]
    assert paragraph_drift(draft, edited, free_text=[narrative]) == []
    assert paragraph_drift(draft, edited[:1], free_text=[narrative]) != []  # figures elsewhere still count


def test_unfinished_places_are_named() -> None:
    from complaints.submission import unfinished

    doc = DocumentText(paragraphs=["一、总体情况", "【待补充】请在 narratives 中填写 problems 后重新生成。"],
                       tables=[[["联系人", "【待补充】"], ["电话", "020-1"]]])
    assert unfinished(doc) == ["paragraph 「【待补充】请在 narratives…」", "table 1, row 1 「【待补充】」"]
    assert unfinished(DocumentText(paragraphs=["特此报告。"], tables=[[["a", "1"]]])) == []
