"""The masking corpus: inputs → what every exit (documents, workbooks, bundle, logs, artifacts) prints.

Each row is one form seen in real or hostile data; the rows marked ``kept`` must come out unchanged
(dates, amounts, complaint ids, pseudonyms). The vectorised path (``mask_text``) and the per-value path
(``mask_value``) must agree, and masking must be idempotent.
"""

from __future__ import annotations

import pandas as pd
import pytest

from complaints.masking import contains_identifier, mask_text, mask_value

CORPUS: list[tuple[str, str]] = [
    # identity numbers
    ("身份证11010119900307123X", "身份证110***********123X"),
    ("身份证 110101 19900307 123X 已提供", "身份证 110***********123X 已提供"),
    ("身份证110101-19900307-1234", "身份证110***********1234"),
    ("证件 1101 0119 9003 0712 3X", "证件 110***********123X"),
    # mobiles
    ("电话13812345678", "电话138****5678"),
    ("电话 138 1234 5678", "电话 138****5678"),
    ("电话138-1234-5678", "电话138****5678"),
    ("电话138.1234.5678回访", "电话138****5678回访"),
    ("+86 138 1234 5678", "+86 138****5678"),
    ("+86.138.1234.5678", "+86.138****5678"),
    ("座机010-12345678", "座机010-********"),
    # bank cards
    ("卡号6222021234567890123", "卡号6222*****0123"),
    ("卡号 6222 0212 3456 7890 123", "卡号 6222*****0123"),
    ("卡号6222-0212-3456-7890", "卡号6222*****7890"),
    ("卡号 6222 0212 3456 7890", "卡号 6222*****7890"),
    # policy numbers after a label, e-mail
    ("保单号：P2026000123456理赔慢", "保单号：P2******56理赔慢"),
    ("邮箱 zhang.san@example.com", "邮箱 z***@example.com"),
    # names with a cue
    ("投诉人：张三反映", "投诉人：张**映"),
    ("投诉人为张伟，要求退保", "投诉人为张**，要求退保"),
    ("客户名叫李娜", "客户名叫李**"),
    ("客户赵敏女士来电", "客户赵**女士来电"),
    ("王建国先生来电", "王**先生来电"),
    ("张伟来电投诉理赔慢", "张**来电投诉理赔慢"),
    ("经核实，李娜表示不满", "经核实，李**表示不满"),
    ("欧阳娜娜称未收到赔款", "欧阳**称未收到赔款"),
    # kept: dates, times, amounts, ids, pseudonyms, ordinary text
    ("2026-07-01 09:30 受理", "2026-07-01 09:30 受理"),
    ("2026-07-01 2026-07-03 2026-07-05", "2026-07-01 2026-07-03 2026-07-05"),
    ("2026.07.01至2026.07.31", "2026.07.01至2026.07.31"),
    ("赔付金额 12,345.67 元，退费 -500 元", "赔付金额 12,345.67 元，退费 -500 元"),
    ("赔付 1234567.89 元", "赔付 1234567.89 元"),
    ("投诉编号 TS20260701001，重复投诉原编号 A1", "投诉编号 TS20260701001，重复投诉原编号 A1"),
    ("保单 P86202400012", "保单 P86202400012"),
    ("客户王某某来电", "客户王某某来电"),
    ("客户对结果不满", "客户对结果不满"),
    ("客户为何不满", "客户为何不满"),
    ("于当日来电，向客户表示歉意，曾多次投诉", "于当日来电，向客户表示歉意，曾多次投诉"),
    ("公司称已赔付", "公司称已赔付"),
    ("邮编 100101，门牌 12-3", "邮编 100101，门牌 12-3"),
]


@pytest.mark.parametrize(("text", "expected"), CORPUS, ids=[t for t, _ in CORPUS])
def test_corpus(text: str, expected: str) -> None:
    assert mask_value(text) == expected
    assert mask_value(expected) == expected  # idempotent


def test_vectorised_path_agrees_and_leaves_no_identifier() -> None:
    texts = [t for t, _ in CORPUS]
    out = mask_text(pd.Series(texts)).tolist()
    assert out == [e for _, e in CORPUS]
    assert contains_identifier(" ".join(out)) == []
