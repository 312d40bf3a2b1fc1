"""complaints.masking: identifiers and names are hidden; masking is idempotent and keeps missing values."""

from __future__ import annotations

import pandas as pd

from complaints.masking import contains_identifier, mask_frame, mask_policy_no, mask_text, may_unmask


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
