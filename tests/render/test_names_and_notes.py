"""Issue 17, fast checks behind the rendered suite: names for codes, Chinese notes, rule-set titles."""

from __future__ import annotations

import re

import pytest
import yaml

from complaints.errors import UserError
from complaints.settings import Settings
from tasks.config_files import DEFAULT_CONFIG
from tasks.render.common import code_label, figure_name, note_zh, numbered, rule_versions
from tasks.render.context import NameMissing

NOTES = [  # the English notes complaints.figures writes (FIGURES.md), as they reach the renderer
    "0 ÷ 0: no eligible case was decided or became late in 2026Q3",
    "0 ÷ 0: no eligible regulator-forwarded case was decided or became late in 2026Q3",
    "0 ÷ 0: no case of 2026Q3 was revisited with a result",
    "0 ÷ 0: no case of 2026Q3 has a decision",
    "qoq is not used for a year (2025)",
    "the previous value (2025Q3) is unknown",
    "the previous value (2025Q3) is 0",
    "the current value (2026Q3) is unknown",
    "no exposure table was given",
    "no exposure row for entity SD, period 2026Q3, line property",
    "premium is missing in 2 exposure row(s), 2026Q3",
    "Σ premium is 0 (2026Q3)",
    "no events table was given",
    "no eligible case of 2026Q3 has a decision",
    "something nobody has translated yet",
    "山东分公司2026Q3财产险保费数据未报送（exposure 表缺少 SD/2026Q3/property 行），无法计算。",
]


@pytest.mark.parametrize("note", NOTES)
def test_every_note_prints_as_a_chinese_sentence(note: str) -> None:
    text = note_zh(note)
    assert text and not re.search(r"[A-Za-z]", text) and text.endswith("。")


def test_known_notes_keep_their_meaning() -> None:
    assert note_zh(NOTES[4]) == "年度报告不计算环比。"
    assert "上期数值为0" in str(note_zh(NOTES[6]))
    assert note_zh(NOTES[-1]) == "山东分公司2026年第三季度财产险保费数据未报送，无法计算。"


def test_a_branch_code_without_a_name_is_an_error_naming_it() -> None:
    names = {"GD": "广东分公司", "GD01": "广州中心支公司"}
    assert code_label("GD01", None, names) == "广州中心支公司"
    assert code_label("", None, names) == "未填写"
    with pytest.raises(NameMissing, match="GD03") as err:
        code_label("GD03", None, names)
    assert isinstance(err.value, UserError)  # exit 2, no traceback


def test_offices_must_name_a_known_parent() -> None:
    data = yaml.safe_load(DEFAULT_CONFIG.read_text(encoding="utf-8"))
    assert Settings.model_validate(data).offices  # the shipped configuration names its offices
    data["offices"].append({"code": "GD09", "name": "某支公司", "parent": "XX"})
    with pytest.raises(ValueError, match="XX"):
        Settings.model_validate(data)


def test_rule_sets_print_their_chinese_titles() -> None:
    figures = {"rule_sets": [
        {"id": "cbirc-2020-3", "version": "2020-03-01", "name": "银行业保险业消费投诉处理管理办法",
         "document": "银保监会令2020年第3号", "effective_from": "2020-03-01"},
        {"id": "company-internal", "version": "2021-01-01", "name": "公司《客户投诉管理办法》"},
    ]}
    text = rule_versions(figures)
    assert text == ("银行业保险业消费投诉处理管理办法（银保监会令2020年第3号，2020年3月1日起施行）；"
                    "公司《客户投诉管理办法》（2021年1月1日起施行）")


def test_unspecified_department_is_named() -> None:
    assert figure_name("by_department.unspecified.satisfaction.rate") == "未填写部门客户满意度"


def test_multi_line_items_become_paragraphs() -> None:
    assert numbered(["甲\n乙", "丙"]) == ["1．甲", "乙", "2．丙"]
