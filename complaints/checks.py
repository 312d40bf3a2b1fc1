"""The quality-gate check catalogue (pure): stable ids, descriptions, severities and vectorised conditions.

Every check has a stable id (``L…`` ledger, ``X…`` exposure, ``E…`` events), a Chinese and an English
description, a severity (``blocking`` | ``warning``) and a level:

- ``row``: the check judges single rows; rows failing a *blocking* row check are quarantined (set aside
  with the ids of the checks they failed) and the rest go on;
- ``table``: the check judges the table as a whole (duplicate ids, links between rows, denominators);
  a blocking failure stops the filing unless the officer accepts the risk.

Each check is carried out by one Great Expectations expectation (``gx_type`` + ``gx_kwargs``; the GX
suites in ``expectations/*.json`` are generated from this catalogue and a test keeps them in sync) or,
where the rule needs data GX cannot see (raw values before parsing, another table), by a vectorised
pandas function in this module (``engine="pandas"``). Checks GX has no built-in expectation for run
through one custom expectation, ``expect_rows_to_pass_catalogue_check``, whose condition is
:data:`CONDITIONS` ``[check_id]`` (a frame → boolean "row fails" array).

No I/O and no GX here.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from complaints import ledger as L
from complaints.periods import Period

Severity = Literal["blocking", "warning"]
Level = Literal["row", "table"]
Engine = Literal["gx", "pandas"]

CUSTOM_EXPECTATION = "expect_rows_to_pass_catalogue_check"
AS_OF = {"$PARAMETER": "as_of"}

# Helper columns the gate adds to the events frame before validation (dropped afterwards).
EVENT_IN_LEDGER = "_ledger_has_complaint"
EVENT_RECEIVED_AT = "_ledger_received_at"

# 18-digit resident identity number: 6-digit region, birth date 18xx/19xx/20xx, 3 digits, check digit.
RESIDENT_ID_PATTERN = (
    r"(?<![0-9A-Za-z])[1-9]\d{5}(?:18|19|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])\d{3}[0-9Xx]"
    r"(?![0-9A-Za-z])"
)
# 11-digit mainland mobile number, optionally +86 and with spaces or hyphens 3-4-4.
MOBILE_PATTERN = r"(?<!\d)(?:\+?86[- ]?)?1[3-9]\d[- ]?\d{4}[- ]?\d{4}(?!\d)"


@dataclass(frozen=True)
class Check:
    """One quality check. ``columns``: the columns whose values a data owner must look at."""

    id: str
    table: str
    level: Level
    severity: Severity
    description_zh: str
    description_en: str
    columns: tuple[str, ...]
    engine: Engine = "gx"
    gx_type: str | None = None
    gx_kwargs: dict[str, Any] = field(default_factory=dict)

    @property
    def blocking(self) -> bool:
        return self.severity == "blocking"

    def meta(self) -> dict[str, Any]:
        """The expectation ``meta`` (GX renders ``notes`` in Data Docs)."""
        return {
            "check_id": self.id,
            "severity": self.severity,
            "level": self.level,
            "description_zh": self.description_zh,
            "description_en": self.description_en,
            "notes": {
                "format": "markdown",
                "content": [
                    f"**{self.id}** ({self.severity}, {self.level}) "
                    f"{self.description_zh} / {self.description_en}"
                ],
            },
        }


# --------------------------------------------------------------------------------------------------
# Vectorised conditions: frame -> boolean ndarray, True where the row FAILS the check.
# --------------------------------------------------------------------------------------------------


def _present(s: pd.Series) -> np.ndarray:
    return s.notna().to_numpy(dtype=bool)


def self_link(frame: pd.DataFrame, column: str) -> np.ndarray:
    link = frame[column]
    return _present(link) & (link == frame["complaint_id"]).fillna(False).to_numpy(dtype=bool)


def _codes(*series: pd.Series) -> list[np.ndarray]:
    """Shared integer codes for several text columns (-1 = missing), via one ``pd.factorize``."""
    joined = pd.concat(
        [
            pd.Series(x.to_numpy(), dtype=x.dtype) if isinstance(x.dtype, pd.CategoricalDtype) else x
            for x in series
        ],
        ignore_index=True,
    )
    codes, _ = pd.factorize(joined.astype("str") if joined.dtype == object else joined)
    out, start = [], 0
    for x in series:
        out.append(codes[start : start + len(x)])
        start += len(x)
    return out


def positions_in(values: pd.Series, pool: pd.Series) -> np.ndarray:
    """For each text value, the position of its first occurrence in ``pool`` (-1: absent or missing).
    Compared in Arrow: no Python objects (``Series.map``/``isin`` over 5M ids built ~0.4 GB of them)."""
    found = pc.index_in(_arrow_text(values), value_set=_arrow_text(pool).combine_chunks(), skip_nulls=True)
    return np.asarray(found.fill_null(-1).to_numpy(zero_copy_only=False), dtype=np.int64)


def is_member(values: pd.Series, pool: pd.Series) -> np.ndarray:
    """``values.isin(pool)`` for text (missing values are not members)."""
    return positions_in(values, pool) >= 0


def dangling_link(frame: pd.DataFrame, column: str) -> np.ndarray:
    link = frame[column]
    return _present(link) & ~is_member(link, frame["complaint_id"])


def both_repeat_and_escalation(frame: pd.DataFrame) -> np.ndarray:
    return _present(frame["repeat_of"]) & _present(frame["escalation_of"])


def circular_links(frame: pd.DataFrame) -> np.ndarray:
    """Rows whose repeat/escalation chain never reaches a first record (a cycle, or leads into one).

    Pointer doubling over positions: after ``ceil(log2(n+1))`` squarings every chain that ends has
    reached the sentinel. Direct self-links are reported by their own checks and treated as ends here.
    """
    n = len(frame)
    if n == 0:
        return np.zeros(0, dtype=bool)
    parent = frame["repeat_of"].where(frame["repeat_of"].notna(), frame["escalation_of"])
    id_codes, parent_codes = _codes(frame["complaint_id"], parent)
    first = np.full(max(id_codes.max(initial=-1), parent_codes.max(initial=-1)) + 2, n, dtype=np.int64)
    rows = np.arange(n)
    known = id_codes >= 0
    first[id_codes[known][::-1]] = rows[known][::-1]  # reversed: the first occurrence wins
    pos = np.where(parent_codes >= 0, first[parent_codes], n)
    pos = np.where(pos == rows, n, pos)  # self-links have their own checks
    p = np.append(pos, n)
    for _ in range(math.ceil(math.log2(n + 1)) + 1):
        p = p[p]
    return p[:n] != n


def extra_category_codes(frame: pd.DataFrame) -> np.ndarray:
    extra = frame["extra_categories"]
    present = extra.dropna()
    if present.empty:
        return np.zeros(len(frame), dtype=bool)
    items = present.astype(str).str.lower().str.split(";").explode().str.strip()
    items = items[items != ""]
    bad = ~items.isin(list(L.CATEGORIES))
    bad_rows = bad[bad].index.unique()
    return frame.index.isin(bad_rows)


def product_line_mismatch(frame: pd.DataFrame) -> np.ndarray:
    expected = frame["product_line"].map(L.PRODUCT_LINE_BUSINESS)
    both = expected.notna() & frame["business_line"].isin(list(L.BUSINESS_LINES))
    return (both & (expected != frame["business_line"])).to_numpy(dtype=bool)


def _text_columns(frame: pd.DataFrame, table: str) -> list[str]:
    declared = {c.name: c.kind for c in L.TABLES[table]}
    cols = [name for name, kind in declared.items() if kind == "text" and name in frame.columns]
    extra = [
        c
        for c in frame.columns
        if c not in declared
        and not str(c).startswith("_")
        and (pd.api.types.is_string_dtype(frame[c].dtype) or frame[c].dtype == object
             or isinstance(frame[c].dtype, pd.CategoricalDtype))
    ]
    return cols + extra


# Cheap prefilters without look-arounds (run by Arrow's RE2 engine); the exact patterns above need
# Python's ``re`` (one call per value), so they only run on the few candidate values.
_PREFILTER = {RESIDENT_ID_PATTERN: r"\d{17}[0-9Xx]", MOBILE_PATTERN: r"1[3-9]\d[- ]?\d{4}[- ]?\d{4}"}


def _arrow_text(s: pd.Series) -> pa.ChunkedArray:
    if isinstance(s.dtype, pd.CategoricalDtype):
        s = s.astype("str")
    arr = getattr(s.array, "_pa_array", None)
    if (
        isinstance(arr, pa.ChunkedArray)
        and pa.types.is_string(arr.type)
        or (isinstance(arr, pa.ChunkedArray) and pa.types.is_large_string(arr.type))
    ):
        return arr
    return pa.chunked_array([pa.array(s.to_numpy(dtype=object), type=pa.string(), from_pandas=True)])


def contains_pattern(frame: pd.DataFrame, pattern: str, table: str = "ledger") -> np.ndarray:
    """Rows where any text column contains ``pattern`` (one of the identifier patterns above). A
    categorical column is searched once per category, without building its per-row text."""
    out = np.zeros(len(frame), dtype=bool)
    for col in _text_columns(frame, table):
        s = frame[col]
        if isinstance(s.dtype, pd.CategoricalDtype):
            found = _contains(pd.Series(s.cat.categories.astype("str")), pattern)
            out |= np.append(found, False)[s.cat.codes.to_numpy()]  # code -1 (missing) → False
        else:
            out |= _contains(s, pattern)
    return out


def _contains(s: pd.Series, pattern: str) -> np.ndarray:
    """``s.str.contains(pattern)`` (missing: False), with Arrow's RE2 prefilter picking the candidates."""
    out = np.zeros(len(s), dtype=bool)
    if not s.notna().any():
        return out
    hit = pc.fill_null(pc.match_substring_regex(_arrow_text(s), _PREFILTER.get(pattern, pattern)), False)
    candidates = np.asarray(hit.to_numpy(), dtype=bool)
    if candidates.any():
        text = s[candidates].astype("str")
        exact = text.str.contains(pattern, regex=True, na=False).to_numpy(dtype=bool)
        out[np.flatnonzero(candidates)[exact]] = True
    return out


CONDITIONS: dict[str, Callable[[pd.DataFrame], np.ndarray]] = {}
# Conditions that take categorical text columns as they are (the identifier scans, contains_pattern).
SCANS_CATEGORIES = frozenset({"L062", "L063"})


def required_columns_missing(frame: pd.DataFrame, table: str) -> list[str]:
    """Required columns of ``table`` absent from ``frame`` (checked before normalisation adds them)."""
    return [c.name for c in L.TABLES[table] if c.required and c.name not in frame.columns]


def parse_failures(raw: pd.DataFrame, normalized: pd.DataFrame, table: str) -> pd.DataFrame:
    """Boolean frame (row × column): a non-blank raw value that could not be parsed (date, number, bool)."""
    # Typed columns (datetime, numeric, bool from SQL or Parquet) cannot hold unparseable text.
    texty = [c for c in raw.columns if raw[c].dtype == object or pd.api.types.is_string_dtype(raw[c].dtype)]
    flags = L.coercion_failures(raw[texty].reset_index(drop=True), normalized, table)
    flags.index = normalized.index
    return flags


def exposure_gaps(
    ledger: pd.DataFrame, exposure: pd.DataFrame, period: Period | None, entities: Iterable[str]
) -> list[str]:
    """``entity/line`` keys in scope with no denominator row (``entity/*`` for an entity without cases).

    Scope: the entities given × the business lines of their ledger rows (received in ``period`` when
    one is given). With a quarter, rows of that quarter count; with a year, a year row or all four
    quarter rows; with no period, any row. A month needs no denominators (nothing is missing).
    """
    if period is not None and period.kind == "month":
        return []
    rows = ledger
    if period is not None:
        start = pd.Timestamp(period.start)
        end = pd.Timestamp(period.end)
        rows = ledger[(ledger["received_at"] >= start) & (ledger["received_at"] < end)]
    exp = exposure[["entity_code", "business_line", "period"]].dropna()
    if period is None:
        have = set(zip(exp["entity_code"], exp["business_line"], strict=True))
    else:
        have = set()
        codes = exp.assign(period=exp["period"].str.upper())
        direct = codes[codes["period"] == period.code]
        have |= set(zip(direct["entity_code"], direct["business_line"], strict=True))
        if period.kind == "year":
            quarters = {q.code for q in period.quarters()}
            q_rows = codes[codes["period"].isin(quarters)].drop_duplicates()
            full = q_rows.groupby(["entity_code", "business_line"])["period"].nunique()
            have |= set(full[full == 4].index)
    have_entities = {e for e, _ in have}
    gaps: list[str] = []
    pairs = rows[["entity_code", "business_line"]].dropna().drop_duplicates()
    by_entity: dict[str, list[str]] = {}
    for e, b in sorted(pairs.itertuples(index=False)):
        by_entity.setdefault(e, []).append(b)
    for entity in sorted(set(entities)):
        in_scope = [b for b in by_entity.get(entity, []) if b in L.BUSINESS_LINES]
        if not in_scope:
            if entity not in have_entities:
                gaps.append(f"{entity}/*")
            continue
        gaps.extend(f"{entity}/{line}" for line in in_scope if (entity, line) not in have)
    return gaps


# --------------------------------------------------------------------------------------------------
# The catalogue
# --------------------------------------------------------------------------------------------------


def _not_null(cid: str, table: str, column: str, label: str) -> Check:
    return Check(
        cid,
        table,
        "row",
        "blocking",
        f"必填项“{label}”({column})不得为空",
        f"required column {column} must not be empty",
        (column,),
        gx_type="expect_column_values_to_not_be_null",
        gx_kwargs={"column": column},
    )


def _in_set(cid: str, table: str, column: str, label: str, codes: Iterable[str]) -> Check:
    return Check(
        cid,
        table,
        "row",
        "blocking",
        f"“{label}”({column})须为规定代码",
        f"{column} must be one of the listed codes",
        (column,),
        gx_type="expect_column_values_to_be_in_set",
        gx_kwargs={"column": column, "value_set": sorted(codes)},
    )


def _order(cid: str, early: str, late: str, zh: str, severity: Severity = "blocking") -> Check:
    return Check(
        cid,
        "ledger",
        "row",
        severity,
        zh,
        f"{early} must not be after {late}",
        ("complaint_id", early, late),
        gx_type="expect_column_pair_values_a_to_be_greater_than_b",
        gx_kwargs={
            "column_A": late,
            "column_B": early,
            "or_equal": True,
            "ignore_row_if": "either_value_is_missing",
        },
    )


def _not_future(cid: str, table: str, column: str, label: str) -> Check:
    return Check(
        cid,
        table,
        "row",
        "blocking",
        f"“{label}”({column})不得晚于数据截止时间(as-of)",
        f"{column} must not be after the run's as-of time",
        (column,),
        gx_type="expect_column_values_to_be_between",
        gx_kwargs={"column": column, "max_value": AS_OF},
    )


def _required_if(
    cid: str,
    column: str,
    condition: str,
    zh: str,
    en: str,
    cols: tuple[str, ...],
    severity: Severity = "blocking",
) -> Check:
    return Check(
        cid,
        "ledger",
        "row",
        severity,
        zh,
        en,
        cols,
        gx_type="expect_column_values_to_not_be_null",
        gx_kwargs={"column": column, "row_condition": condition, "condition_parser": "pandas"},
    )


def _min(
    cid: str,
    table: str,
    column: str,
    minimum: float,
    zh: str,
    en: str,
    strict: bool = False,
    severity: Severity = "blocking",
) -> Check:
    kwargs: dict[str, Any] = {"column": column, "min_value": minimum}
    if strict:
        kwargs["strict_min"] = True
    return Check(
        cid,
        table,
        "row",
        severity,
        zh,
        en,
        (column,),
        gx_type="expect_column_values_to_be_between",
        gx_kwargs=kwargs,
    )


def _custom(
    cid: str,
    table: str,
    level: Level,
    severity: Severity,
    zh: str,
    en: str,
    columns: tuple[str, ...],
    fn: Callable[[pd.DataFrame], np.ndarray],
    gx_columns: tuple[str, ...] | None = None,
) -> Check:
    CONDITIONS[cid] = fn
    gx_columns = gx_columns or columns
    if len(gx_columns) < 2:  # a GX multicolumn domain needs two columns
        gx_columns = ("complaint_id", *gx_columns)
    return Check(
        cid,
        table,
        level,
        severity,
        zh,
        en,
        columns,
        gx_type=CUSTOM_EXPECTATION,
        gx_kwargs={"column_list": list(gx_columns), "check_id": cid, "ignore_row_if": "never"},
    )


def _ledger_checks() -> list[Check]:
    labels = {c.name: c.label for c in L.LEDGER_COLUMNS}
    checks: list[Check] = [
        Check(
            "L000",
            "ledger",
            "row",
            "blocking",
            "取值无法解析(日期、数字或是/否格式错误)",
            "a value cannot be parsed (bad date, number or yes/no)",
            (),
            engine="pandas",
        ),
        Check(
            "L100",
            "ledger",
            "table",
            "blocking",
            "缺少必填列",
            "a required column is missing",
            (),
            engine="pandas",
        ),
    ]
    required = {
        "L001": "complaint_id",
        "L002": "entity_code",
        "L003": "branch_code",
        "L004": "province",
        "L005": "received_at",
        "L006": "channel",
        "L007": "business_line",
        "L008": "category",
        "L009": "severity",
        "L010": "regulator_forwarded",
        "L011": "valid",
    }
    checks += [_not_null(cid, "ledger", col, labels[col]) for cid, col in required.items()]
    checks.append(
        Check(
            "L012",
            "ledger",
            "table",
            "blocking",
            "投诉编号不得重复",
            "complaint_id must be unique",
            ("complaint_id",),
            gx_type="expect_column_values_to_be_unique",
            gx_kwargs={"column": "complaint_id"},
        )
    )
    coded = {
        "L013": "channel",
        "L014": "business_line",
        "L015": "product_line",
        "L016": "category",
        "L017": "severity",
        "L018": "rejection_reason",
        "L019": "complexity",
        "L020": "outcome",
        "L021": "responsible_dept",
        "L022": "satisfaction",
    }
    checks += [_in_set(cid, "ledger", col, labels[col], L.CODE_LISTS[col]) for cid, col in coded.items()]
    ledger_text = (
        "complaint_id",
        "entity_code",
        "branch_code",
        "province",
        "extra_categories",
        "forward_ref",
        "repeat_of",
        "escalation_of",
        "complainant_ref",
        "policy_no",
        "summary",
    )
    checks += [
        _custom(
            "L023",
            "ledger",
            "row",
            "blocking",
            "其他事由(extra_categories)须为规定事由代码，以分号分隔",
            "extra_categories must be ;-separated category codes",
            ("extra_categories",),
            extra_category_codes,
        ),
        _custom(
            "L024",
            "ledger",
            "row",
            "warning",
            "产品类型与业务类型不一致",
            "product_line does not belong to business_line",
            ("business_line", "product_line"),
            product_line_mismatch,
        ),
        _order("L025", "received_at", "acknowledged_at", "确认收到时间不得早于收到投诉时间"),
        _order("L026", "received_at", "decided_at", "处理决定告知时间不得早于收到投诉时间"),
        _order("L027", "decided_at", "closed_at", "结案时间不得早于处理决定告知时间"),
        _order("L028", "decided_at", "review_requested_at", "核查申请时间不得早于处理决定告知时间"),
        _order("L029", "review_requested_at", "review_decided_at", "核查决定时间不得早于核查申请时间"),
        _order("L030", "forwarded_at", "received_at", "监管转送日期不得晚于收到投诉时间"),
        _order("L031", "received_at", "closed_at", "结案时间不得早于收到投诉时间"),
        _order("L032", "received_at", "clock_restarted_at", "重新计时时间不得早于收到投诉时间"),
        _order("L033", "received_at", "revisited_at", "回访时间不得早于收到投诉时间", "warning"),
        _order("L034", "received_at", "review_requested_at", "核查申请时间不得早于收到投诉时间"),
    ]
    times = {
        "L035": "received_at",
        "L036": "forwarded_at",
        "L037": "acknowledged_at",
        "L038": "clock_restarted_at",
        "L039": "decided_at",
        "L040": "closed_at",
        "L041": "review_requested_at",
        "L042": "review_decided_at",
        "L043": "revisited_at",
    }
    checks += [_not_future(cid, "ledger", col, labels[col]) for cid, col in times.items()]
    checks += [
        _required_if(
            "L044",
            "outcome",
            "closed_at.notna()",
            "已结案的投诉须填写结案方式",
            "outcome is required when closed_at is set",
            ("closed_at", "outcome"),
        ),
        _required_if(
            "L045",
            "rejection_reason",
            "accepted == False",
            "不予受理的投诉须填写不予受理原因",
            "rejection_reason is required when accepted is false",
            ("accepted", "rejection_reason"),
        ),
        _required_if(
            "L046",
            "forwarded_at",
            "regulator_forwarded == True",
            "监管转办投诉须填写转送日期",
            "forwarded_at is required when regulator_forwarded",
            ("regulator_forwarded", "forwarded_at"),
        ),
        _required_if(
            "L047",
            "forward_ref",
            "regulator_forwarded == True",
            "监管转办投诉须填写转办编号",
            "forward_ref is required when regulator_forwarded",
            ("regulator_forwarded", "forward_ref"),
        ),
        _required_if(
            "L048",
            "closed_at",
            "outcome.notna()",
            "填写了结案方式的投诉应有结案时间",
            "closed_at should be set when outcome is",
            ("outcome", "closed_at"),
            "warning",
        ),
        _required_if(
            "L049",
            "review_requested_at",
            "review_decided_at.notna()",
            "有核查决定的投诉应有核查申请时间",
            "review_requested_at should be set when review_decided_at is",
            ("review_decided_at", "review_requested_at"),
            "warning",
        ),
        _required_if(
            "L050",
            "decided_at",
            "review_requested_at.notna()",
            "申请核查的投诉应已有处理决定",
            "decided_at should be set when a review was requested",
            ("review_requested_at", "decided_at"),
            "warning",
        ),
        _min("L051", "ledger", "amount_involved", 0, "涉及金额不得为负", "amount_involved must be >= 0"),
        _min("L052", "ledger", "redress_amount", 0, "赔付金额不得为负", "redress_amount must be >= 0"),
        _min("L053", "ledger", "group_size", 1, "投诉人数不得小于1", "group_size must be >= 1"),
        _min(
            "L054",
            "ledger",
            "clock_paused_days",
            0,
            "不计入时限天数不得为负",
            "clock_paused_days must be >= 0",
        ),
        _custom(
            "L055",
            "ledger",
            "row",
            "warning",
            "渠道为监管转办但未标记监管转办",
            "channel is regulator but regulator_forwarded is not true",
            ("channel", "regulator_forwarded"),
            lambda f: (
                (f["channel"] == "regulator") & ~f["regulator_forwarded"].fillna(False).astype(bool)
            ).to_numpy(dtype=bool),
        ),
        _custom(
            "L056",
            "ledger",
            "row",
            "blocking",
            "重复投诉原编号不得指向自身",
            "repeat_of must not point at the record itself",
            ("complaint_id", "repeat_of"),
            lambda f: self_link(f, "repeat_of"),
        ),
        _custom(
            "L057",
            "ledger",
            "row",
            "blocking",
            "升级投诉原编号不得指向自身",
            "escalation_of must not point at the record itself",
            ("complaint_id", "escalation_of"),
            lambda f: self_link(f, "escalation_of"),
        ),
        _custom(
            "L058",
            "ledger",
            "row",
            "blocking",
            "同一记录不得既是重复投诉又是投诉升级",
            "a record cannot be both a repeat and an escalation",
            ("complaint_id", "repeat_of", "escalation_of"),
            both_repeat_and_escalation,
        ),
        _custom(
            "L059",
            "ledger",
            "table",
            "blocking",
            "重复投诉原编号须指向台账中已有的投诉",
            "repeat_of must point at an existing complaint_id",
            ("complaint_id", "repeat_of"),
            lambda f: dangling_link(f, "repeat_of"),
        ),
        _custom(
            "L060",
            "ledger",
            "table",
            "blocking",
            "升级投诉原编号须指向台账中已有的投诉",
            "escalation_of must point at an existing complaint_id",
            ("complaint_id", "escalation_of"),
            lambda f: dangling_link(f, "escalation_of"),
        ),
        _custom(
            "L061",
            "ledger",
            "table",
            "blocking",
            "重复/升级投诉关联不得成环",
            "repeat/escalation links must not be circular",
            ("complaint_id", "repeat_of", "escalation_of"),
            circular_links,
        ),
        _custom(
            "L062",
            "ledger",
            "row",
            "warning",
            "文本中含有18位居民身份证号码(须脱敏)",
            "an 18-digit resident ID number appears in a text column (must be masked)",
            ledger_text,
            lambda f: contains_pattern(f, RESIDENT_ID_PATTERN, "ledger"),
        ),
        _custom(
            "L063",
            "ledger",
            "row",
            "warning",
            "文本中含有11位手机号码(须脱敏)",
            "an 11-digit mobile number appears in a text column (must be masked)",
            ledger_text,
            lambda f: contains_pattern(f, MOBILE_PATTERN, "ledger"),
        ),
    ]
    return checks


def _exposure_checks() -> list[Check]:
    labels = {c.name: c.label for c in L.EXPOSURE_COLUMNS}
    checks: list[Check] = [
        Check(
            "X000",
            "exposure",
            "row",
            "blocking",
            "取值无法解析(数字格式错误)",
            "a value cannot be parsed (bad number)",
            (),
            engine="pandas",
        ),
        Check(
            "X100",
            "exposure",
            "table",
            "blocking",
            "缺少必填列",
            "a required column is missing",
            (),
            engine="pandas",
        ),
    ]
    required = {
        "X001": "entity_code",
        "X002": "period",
        "X003": "business_line",
        "X004": "premium",
        "X005": "policies",
    }
    checks += [_not_null(cid, "exposure", col, labels[col]) for cid, col in required.items()]
    checks += [
        _in_set("X006", "exposure", "business_line", labels["business_line"], L.BUSINESS_LINES),
        Check(
            "X007",
            "exposure",
            "row",
            "blocking",
            "期间须为季度(如2026Q3)或年度(如2026)",
            "period must be a quarter (2026Q3) or a year (2026)",
            ("period",),
            gx_type="expect_column_values_to_match_regex",
            gx_kwargs={"column": "period", "regex": r"^\d{4}(?:[Qq][1-4])?$"},
        ),
        _min("X008", "exposure", "premium", 0, "保费收入不得为负", "premium must be >= 0"),
        _min("X009", "exposure", "policies", 0, "承保件数不得为负", "policies must be >= 0"),
        _min("X010", "exposure", "insured_persons", 0, "承保人次不得为负", "insured_persons must be >= 0"),
        Check(
            "X011",
            "exposure",
            "table",
            "blocking",
            "同一机构、期间、业务类型只能有一行分母数据",
            "one row per entity × period × business line",
            ("entity_code", "period", "business_line"),
            gx_type="expect_compound_columns_to_be_unique",
            gx_kwargs={"column_list": ["entity_code", "period", "business_line"]},
        ),
        Check(
            "X012",
            "exposure",
            "table",
            "blocking",
            "报送范围内每个机构×业务类型须有本期分母数据(保费、件数)",
            "every entity × business line in scope needs exposure rows for the period",
            ("entity_code", "business_line", "period"),
            engine="pandas",
        ),
        _required_if_exposure(
            "X013",
            "insured_persons",
            'business_line == "life"',
            "人身险分母应填写承保人次",
            "insured_persons should be set for life rows",
        ),
        _min(
            "X014",
            "exposure",
            "premium",
            0,
            "保费收入为零，亿元保费投诉量无法计算",
            "premium is zero: the per-premium rate cannot be computed",
            strict=True,
            severity="warning",
        ),
        _min(
            "X015",
            "exposure",
            "policies",
            0,
            "承保件数为零，万张保单投诉量无法计算",
            "policies is zero: the per-policy rate cannot be computed",
            strict=True,
            severity="warning",
        ),
        Check(
            "X016",
            "exposure",
            "row",
            "warning",
            "承保人次仅适用于人身险",
            "insured_persons applies to life rows only",
            ("business_line", "insured_persons"),
            gx_type="expect_column_values_to_be_null",
            gx_kwargs={
                "column": "insured_persons",
                "row_condition": 'business_line == "property"',
                "condition_parser": "pandas",
            },
        ),
    ]
    return checks


def _required_if_exposure(cid: str, column: str, condition: str, zh: str, en: str) -> Check:
    return Check(
        cid,
        "exposure",
        "row",
        "warning",
        zh,
        en,
        ("business_line", column),
        gx_type="expect_column_values_to_not_be_null",
        gx_kwargs={"column": column, "row_condition": condition, "condition_parser": "pandas"},
    )


def _event_checks() -> list[Check]:
    labels = {c.name: c.label for c in L.EVENT_COLUMNS}
    return [
        Check(
            "E000",
            "events",
            "row",
            "blocking",
            "取值无法解析(日期格式错误)",
            "a value cannot be parsed (bad date)",
            (),
            engine="pandas",
        ),
        Check(
            "E100",
            "events",
            "table",
            "blocking",
            "缺少必填列",
            "a required column is missing",
            (),
            engine="pandas",
        ),
        _not_null("E001", "events", "complaint_id", labels["complaint_id"]),
        _not_null("E002", "events", "at", labels["at"]),
        _not_null("E003", "events", "kind", labels["kind"]),
        _in_set("E004", "events", "kind", labels["kind"], L.EVENT_KINDS),
        _not_future("E005", "events", "at", labels["at"]),
        Check(
            "E006",
            "events",
            "row",
            "blocking",
            "事件须对应台账中已有的投诉编号",
            "an event must belong to a complaint_id of the ledger",
            ("complaint_id",),
            gx_type="expect_column_values_to_be_in_set",
            gx_kwargs={"column": EVENT_IN_LEDGER, "value_set": [True]},
        ),
        Check(
            "E007",
            "events",
            "row",
            "warning",
            "事件时间早于投诉收到时间",
            "an event is dated before its complaint was received",
            ("complaint_id", "at"),
            gx_type="expect_column_pair_values_a_to_be_greater_than_b",
            gx_kwargs={
                "column_A": "at",
                "column_B": EVENT_RECEIVED_AT,
                "or_equal": True,
                "ignore_row_if": "either_value_is_missing",
            },
        ),
        Check(
            "E008",
            "events",
            "table",
            "warning",
            "重复的处理事件(同一投诉、时间、类型)",
            "duplicate event (same complaint, time and kind)",
            ("complaint_id", "at", "kind"),
            gx_type="expect_compound_columns_to_be_unique",
            gx_kwargs={"column_list": ["complaint_id", "at", "kind"]},
        ),
    ]


CATALOGUE: tuple[Check, ...] = tuple(_ledger_checks() + _exposure_checks() + _event_checks())
BY_ID: dict[str, Check] = {c.id: c for c in CATALOGUE}
PARSE_CHECK = {"ledger": "L000", "exposure": "X000", "events": "E000"}
COLUMNS_CHECK = {"ledger": "L100", "exposure": "X100", "events": "E100"}
KEY_COLUMNS = {
    "ledger": ("complaint_id",),
    "exposure": ("entity_code", "period", "business_line"),
    "events": ("complaint_id", "at", "kind"),
}


def checks_for(table: str) -> list[Check]:
    return [c for c in CATALOGUE if c.table == table]


def suite_dict(table: str) -> dict[str, Any]:
    """The GX 1.x suite (JSON-ready) for ``table``: every GX-engine check, ``meta`` carrying its id."""
    return {
        "name": table,
        "meta": {"generated_from": "complaints/checks.py", "table": table},
        "expectations": [
            {"type": c.gx_type, "kwargs": c.gx_kwargs, "meta": c.meta()}
            for c in checks_for(table)
            if c.engine == "gx"
        ],
    }
