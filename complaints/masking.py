"""Masking of personal data in text printed in filings, workbooks and archives (pure, vectorised).

Confidentiality (DOMAIN.md; seed 001 第四条; GB/T 43568-2023): filings must not expose names, identity
numbers, phone numbers or policy numbers unless a role needs them (``Rendering.unmask_roles``).

What is masked by :func:`mask_text` (every exit: documents, workbooks, the bundle, logs and Prefect
artifacts goes through :func:`mask_value` / :func:`mask_text`; the corpus is
``tests/domain/test_masking_corpus.py``):

- 18-character resident identity numbers (last character may be X), also written in groups 6-8-4 or
  4-4-4-4-2 separated by spaces, hyphens or dots: ``110***********123X`` (separators dropped);
- 11-digit mainland mobile numbers (also +86), also 3-4-4 with spaces, hyphens or dots: ``138****5678``;
  landlines ``010-********``;
- bank card numbers written in groups of four (13-19 digits, spaces or hyphens) and any other run of 13
  or more digits (bank cards, policy numbers in free text): ``6222*****1234``;
- policy numbers after a label (保单号/保险单号/合同号…): ``保单号：P2******89``;
- e-mail addresses: ``z***@example.com``;
- personal names (the given name becomes ``**``, a common Chinese surname stays) where a cue says a
  person is named: after a label (投诉人/客户/被保险人/姓名…, optionally followed by 为/是/叫/名叫/系),
  before a title (先生/女士/小姐/老师/同志), or as the subject of a report at the start of a text or
  clause (``张伟来电``, ``，李娜表示``: surname + 1-2 characters + 来电/致电/来访/来函/反映/投诉/称/表示/
  诉称/反馈/要求/认为). A bare name with no such cue is not recognisable as a name by rule (the ledger has no
  name column: ``complainant_ref`` is a pseudonymous reference) and is left as written.

Kept as written: dates and times (``2026-07-01 09:30``), amounts (``12,345.67``, ``-500``), complaint ids
and unlabelled policy numbers in free text with fewer than 13 consecutive digits (longer runs are masked
as possible card numbers), and pseudonyms such as ``王某``. The ``complaint_id`` column is never masked.

Masking is idempotent (masking masked text changes nothing) and errs on the side of hiding too much.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

# Common single-character Chinese surnames (covers the vast majority of the population).
SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
    "姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
    "常温康施文牛樊葛邢安齐易乔伍庞颜倪庄聂章鲁岳翟殷詹申欧耿关兰焦俞左柳甘祝包宁尚符舒阮柯纪梅童凌毕单季裴"
    "霍涂成苗谷盛曲翁冉骆蓝路游辛靳管柴蒙鲍华喻祁蒲房滕屈饶解牟艾尤阳时穆农司卓古吉缪简车项连芦麦褚娄窦戚岑"
    "景党宫费卜冷晏席卫米柏宗瞿桂全佟应臧闵苟邬边卞姬师和仇栾隋商刁沙荣巫寇桑郎甄丛仲虞敖巩明佘池查麻苑迟邝"
)
_COMPOUND_SURNAMES = "欧阳|司马|上官|诸葛|东方|皇甫|尉迟|公孙|慕容|长孙|宇文|司徒|夏侯|令狐"
_SURNAME = f"(?:{_COMPOUND_SURNAMES}|[{SURNAMES}])"
_NAME_LABELS = (
    "姓名|投诉人|被投诉人|被保险人|投保人|受益人|联系人|申请人|委托人|代理人|客户|当事人"
    "|患者|死者|车主|父亲|母亲|其父|其母|丈夫|妻子|儿子|女儿|配偶|业务员|营销员|销售人员|代理人员"
    "|经办人|理赔员|客户经理"
)
_HAN = r"[\u4e00-\u9fa5]"

MASK_CHAR = "*"

_ID_NUMBER = re.compile(r"(?<![0-9A-Za-z])(\d{3})\d{11}(\d{3}[0-9Xx])(?![0-9A-Za-z])")
# the same written in groups (6-8-4 or 4-4-4-4-2) with one kind of separator
_ID_GROUPED = re.compile(
    r"(?<![0-9A-Za-z])(?:\d{6}([ .\-])\d{8}\1\d{3}[0-9Xx]|\d{4}([ .\-])\d{4}\2\d{4}\2\d{4}\2\d[0-9Xx])"
    r"(?![0-9A-Za-z])"
)
# 3-4-4 with hyphens, dots or spaces
_MOBILE = re.compile(r"(?<!\d)((?:\+?86[-. ]?)?1[3-9]\d)[-. ]?\d{4}[-. ]?(\d{4})(?!\d)")
# bank cards in groups of four (the last group 1-4 digits), 13-19 digits in all
_CARD_GROUPED = re.compile(
    r"(?<![\d.])\d{4}(?:([ \-])\d{4}(?:\1\d{4}){1,2}\1\d{1,4}|([ \-])\d{4}\2\d{4}\2\d{4})(?![\d.])"
)
_LANDLINE = re.compile(r"(?<!\d)(0\d{2,3})-\d{7,8}(?!\d)")
_LONG_DIGITS = re.compile(r"(?<!\d)(\d{4})\d{5,}(\d{4})(?!\d)")
_POLICY_LABELLED = re.compile(
    r"((?:保单|保险单|保险合同|合同|投保单|批单)(?:号码|号|编号)\s*[:：]?\s*)"
    r"([A-Za-z0-9]{2})[A-Za-z0-9\-]+([A-Za-z0-9]{2})"
)
_EMAIL = re.compile(r"([A-Za-z0-9])[A-Za-z0-9._%+\-]*@([A-Za-z0-9.\-]+\.[A-Za-z]{2,})")
# label + optional colon + surname + 1-2 given-name characters (may over-mask a following verb: safe side)
_GIVEN = f"(?:(?!先生|女士|小姐){_HAN}){{1,2}}"
_NAME_AFTER_LABEL = re.compile(
    f"((?:{_NAME_LABELS})\\s*[:：]?\\s*(?:为(?!何)|是|叫|名叫|系)?\\s*)({_SURNAME})(?!某)({_GIVEN})"
)
_NAME_BEFORE_TITLE = re.compile(f"({_SURNAME})({_HAN}{{1,2}})(?=先生|女士|小姐|老师|同志)")
_REPORT_VERBS = "来电|致电|来访|来函|反映|投诉|称|表示|诉称|反馈|要求|认为"
# the subject of a report at the start of a text or clause: "张伟来电…", "…，李娜表示…" (surnames that are
# also common function words starting a clause - 于当日来电, 向客户表示, 曾多次投诉 - are left out)
_SUBJECT_SURNAMES = "".join(c for c in SURNAMES if c not in "于向和应时全明成常曾车单司")
_NAME_AS_SUBJECT = re.compile(
    f"((?:^|(?<=[，。；、,;.!?！？\\s（(]))(?:{_COMPOUND_SURNAMES}|[{_SUBJECT_SURNAMES}]))"
    f"(?!某)({_HAN}{{1,2}})(?=(?:{_REPORT_VERBS}))"
)


def _grouped_id(m: re.Match[str]) -> str:
    digits = re.sub(r"[ .\-]", "", m.group(0))
    return digits[:3] + MASK_CHAR * 11 + digits[-4:]


def _grouped_card(m: re.Match[str]) -> str:
    digits = re.sub(r"[ \-]", "", m.group(0))
    return digits[:4] + MASK_CHAR * 5 + digits[-4:]


_RULES: tuple[tuple[re.Pattern[str], Any], ...] = (
    (_ID_NUMBER, r"\1" + MASK_CHAR * 11 + r"\2"),
    (_ID_GROUPED, _grouped_id),
    (_CARD_GROUPED, _grouped_card),
    (_MOBILE, r"\1" + MASK_CHAR * 4 + r"\2"),
    (_LANDLINE, r"\1-" + MASK_CHAR * 8),
    (_POLICY_LABELLED, r"\1\2" + MASK_CHAR * 6 + r"\3"),
    (_LONG_DIGITS, r"\1" + MASK_CHAR * 5 + r"\2"),
    (_EMAIL, r"\1***@\2"),
    (_NAME_AFTER_LABEL, r"\1\2" + MASK_CHAR * 2),
    (_NAME_BEFORE_TITLE, r"\1" + MASK_CHAR * 2),
    (_NAME_AS_SUBJECT, r"\1" + MASK_CHAR * 2),
)
# A superset of what the rules match, in RE2 syntax (Arrow's vectorised regex: no look-around; \d and \s
# are ASCII there, so Unicode classes are spelt out): text it does not match has nothing to mask.
_CANDIDATE = "|".join((
    r"\p{Nd}{13}",  # ID numbers, long digit runs
    r"1[3-9]\p{Nd}[-. ]?\p{Nd}{4}[-. ]?\p{Nd}{4}",  # mobile numbers
    r"\p{Nd}{4}[-. ]\p{Nd}{4}[-. ]\p{Nd}{4}",  # grouped ID and card numbers
    r"\p{Nd}{6}[-. ]\p{Nd}{8}",  # grouped ID numbers
    r"0\p{Nd}{2,3}-\p{Nd}{7}",  # landlines
    r"@",  # e-mail
    r"(?:保单|保险单|保险合同|合同|投保单|批单)(?:号码|号|编号)",
    f"(?:{_NAME_LABELS})[^\\p{{Han}}]*(?:为|是|叫|名叫|系)?[^\\p{{Han}}]*{_SURNAME}",  # label [colon] [为…]
    f"{_SURNAME}\\p{{Han}}{{1,2}}(?:先生|女士|小姐|老师|同志)",
    f"{_SURNAME}\\p{{Han}}{{1,2}}(?:{_REPORT_VERBS})",
))


def mask_value(text: str) -> str:
    """One text masked (:func:`mask_text` of a single value)."""
    for pattern, replacement in _RULES:
        text = pattern.sub(replacement, text)
    return text


def mask_text(values: pd.Series) -> pd.Series:
    """Mask personal identifiers in free text (see the module docstring). Missing stays missing.

    Vectorised: an Arrow regex (:data:`_CANDIDATE`) picks the values that may hold an identifier, and
    the rules run once per distinct such value."""
    s = values.astype("str")
    candidate = _candidates(s)
    if not candidate.any():
        return s
    codes, uniques = pd.factorize(s[candidate])
    masked = pd.array([mask_value(str(u)) for u in uniques], dtype="str")
    out = s.array.copy()
    out[candidate] = masked.take(codes)
    return pd.Series(out, index=values.index)


# a column whose first values repeat this much is matched once per distinct value (free-text summaries
# picked from a few thousand phrasings: 1M rows in 0.04 s instead of 0.17 s); unique references are not
_SAMPLE_ROWS = 65_536
_DISTINCT_SHARE = 0.5


def _candidates(s: pd.Series) -> np.ndarray:
    """Where :data:`_CANDIDATE` matches in ``s`` (text; missing: False)."""
    arr = getattr(s.array, "_pa_array", None)
    if not isinstance(arr, pa.ChunkedArray) or len(s) <= _SAMPLE_ROWS:
        return s.str.contains(_CANDIDATE, regex=True, na=False).to_numpy(dtype=bool)
    sample = pc.count_distinct(arr.slice(0, _SAMPLE_ROWS)).as_py()
    if sample > _DISTINCT_SHARE * _SAMPLE_ROWS:
        return s.str.contains(_CANDIDATE, regex=True, na=False).to_numpy(dtype=bool)
    encoded = pc.dictionary_encode(arr).combine_chunks()
    hit = np.append(pc.match_substring_regex(encoded.dictionary, _CANDIDATE).to_numpy(zero_copy_only=False),
                    False)  # the last slot: a missing value's
    codes = pc.fill_null(encoded.indices, len(encoded.dictionary)).to_numpy(zero_copy_only=False)
    return np.asarray(hit[codes], dtype=bool)


def mask_policy_no(values: pd.Series) -> pd.Series:
    """Mask policy numbers: first 2 and last 4 characters kept, the rest replaced by six ``*``.

    Numbers of 8 characters or fewer keep only their last 2 characters. Missing stays missing.
    """
    s = values.astype("string").str.strip()
    n = s.str.len()
    long = s.str.slice(0, 2) + MASK_CHAR * 6 + s.str.slice(-4)
    short = MASK_CHAR * 6 + s.str.slice(-2)
    out = long.where(n > 8, short)
    out = out.where(~s.str.contains(r"\*", regex=True).fillna(False), s)  # already masked: keep
    return out.astype("str")


def may_unmask(role: str | None, unmask_roles: Iterable[str]) -> bool:
    """True only when ``role`` is named in the configured ``unmask_roles``."""
    return role is not None and role in set(unmask_roles)


def mask_frame(
    frame: pd.DataFrame,
    text_columns: tuple[str, ...] = ("summary", "complainant_ref"),
    policy_columns: tuple[str, ...] = ("policy_no",),
) -> pd.DataFrame:
    """A copy of ``frame`` with the given text and policy-number columns masked (absent columns skipped).
    The other columns are shared with ``frame``, not copied (pandas copies on write)."""
    out = frame.copy(deep=False)
    for col in text_columns:
        if col in out.columns:
            out[col] = mask_text(out[col])
    for col in policy_columns:
        if col in out.columns:
            out[col] = mask_policy_no(out[col])
    return out


def contains_identifier(text: str) -> list[str]:
    """The raw identifiers (ID numbers, mobile numbers, card numbers, long digit runs, also written in
    groups) still present in ``text``."""
    found = []
    for pattern in (_ID_NUMBER, _ID_GROUPED, _CARD_GROUPED, _MOBILE, re.compile(r"(?<!\d)\d{13,}(?!\d)")):
        found += [m.group(0) for m in pattern.finditer(text)]
    return found
