"""complaints.masking: identifiers and names are hidden; masking is idempotent and keeps missing values."""

from __future__ import annotations

import pandas as pd

from complaints.masking import (
    contains_identifier,
    mask_frame,
    mask_policy_no,
    mask_text,
    mask_value,
    may_unmask,
)


def test_identifiers_are_masked() -> None:
    s = pd.Series(
        [
            "身份证11010119900307123X，电话13812345678，座机010-12345678，卡号6222021234567890123",
            "邮箱 zhang.san@example.com",
        ]
    )
    out = mask_text(s)
    assert out[0] == "身份证110***********123X，电话138****5678，座机010-********，卡号6222*****0123"
    assert out[1] == "邮箱 z***@example.com"
    assert contains_identifier(" ".join(out)) == []


def test_names_after_labels_and_before_titles() -> None:
    out = mask_text(
        pd.Series(
            [
                "投诉人：张三反映",
                "客户赵敏女士来电",
                "联系人王芳 电话",
                "其父张建国住院",
                "客户欧阳娜娜称",
                "客户对结果不满",
                "客户王某某",
            ]
        )
    )
    # the given name is 1-2 characters: a two-character name also hides the next character (safe side)
    assert out.tolist() == [
        "投诉人：张**映",
        "客户赵**女士来电",
        "联系人王** 电话",
        "其父张**住院",
        "客户欧阳**称",
        "客户对结果不满",
        "客户王某某",
    ]


def test_labelled_policy_numbers_in_text() -> None:
    out = mask_text(pd.Series(["保单号：P2026000123456理赔慢", "合同号AB12345678"]))
    assert out.tolist() == ["保单号：P2******56理赔慢", "合同号AB******78"]


def test_idempotent_and_missing_kept() -> None:
    s = pd.Series(["投诉人张三丰反映 13812345678 保单号:P86201900001", None, ""])
    once = mask_text(s)
    assert mask_text(once).tolist()[0] == once.tolist()[0]
    assert once.isna().tolist() == [False, True, False]
    assert str(once.dtype) == "str"


def test_mask_policy_no() -> None:
    out = mask_policy_no(pd.Series(["P8620240001234", "AB1234", None, "P8******1234"]))
    assert out.tolist()[:2] == ["P8******1234", "******34"]
    assert pd.isna(out[2])
    assert out[3] == "P8******1234"  # already masked: unchanged


def test_mask_frame_and_roles() -> None:
    frame = pd.DataFrame({"summary": ["电话13812345678"], "policy_no": ["P8620240001234"], "x": [1]})
    out = mask_frame(frame)
    assert out.loc[0, "summary"] == "电话138****5678" and out.loc[0, "policy_no"] == "P8******1234"
    assert frame.loc[0, "summary"] == "电话13812345678"  # input untouched
    assert may_unmask("auditor", ["auditor"]) and not may_unmask("officer", ["auditor"])
    assert not may_unmask(None, ["auditor"]) and not may_unmask("auditor", [])


def test_the_vectorised_prefilter_never_skips_what_the_rules_would_mask() -> None:
    """mask_text runs the rules only where the Arrow prefilter matches: on 20,000 random texts built from
    identifier-like fragments (full-width digits, ideographic spaces, colons, labels, titles), every text
    the prefilter skips is one the rules leave unchanged, and the result equals the rules run row by row."""
    import random

    from complaints.masking import mask_value

    fragments = ["客户", "投诉人", "：", ":", "\u3000", " ", "王", "欧阳", "小明", "张建国", "先生", "女士",
                 "老师", "反映", "理赔", "1", "3", "8", "0", "-", "１３８", "１２３４５６７８", "@", "a.b",
                 "example.com", "保单号", "合同编号", "P", "X", "某", "，", "\n", "13812345678", "010",
                 "110101199003071234", "6222021234567890123", "司马", "光", "同志", "+86", "139-1234-5678",
                 "139 1234 5678"]
    rng = random.Random(20261121)
    texts = ["".join(rng.choice(fragments) for _ in range(rng.randint(1, 12))) for _ in range(20_000)]
    expected = [mask_value(t) for t in texts]
    assert sum(e != t for e, t in zip(expected, texts, strict=True)) > 1000  # the corpus exercises the rules
    out = mask_text(pd.Series(texts + [None]))
    assert out.iloc[:-1].tolist() == expected and pd.isna(out.iloc[-1])


def test_a_column_of_repeated_phrasings_is_matched_once_per_value_with_the_same_result() -> None:
    """A long column whose first rows repeat (free-text summaries picked from a few phrasings) is matched
    once per distinct value: the same masks, in the same rows, missing values kept missing, as the rules
    run row by row, including an identifier that first appears after the sampled rows."""
    phrasings = ["客户反映理赔时效慢", "投诉人：张建国称未收到回访", "联系电话13812345678", None,
                 "身份证110101199003071234", "退保金额有误"]
    texts = [phrasings[i % len(phrasings)] for i in range(70_000)] + ["王小明先生来电", "客户反映理赔时效慢"]
    s = pd.Series(texts, dtype="str")
    out = mask_text(s)
    expected = [None if t is None else mask_value(t) for t in texts]
    assert [None if pd.isna(v) else v for v in out.tolist()] == expected
    assert out.iloc[-2] == "王**先生来电" and out.iloc[2] == "联系电话138****5678"
