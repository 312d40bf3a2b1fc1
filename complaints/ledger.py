"""The canonical complaint ledger (LEDGER.md): columns, codes, Chinese labels, dtype normalisation.

Pure: no I/O. Every source is mapped onto these columns; everything downstream reads only them.

In memory, times are timezone-naive ``datetime64[us]`` values of Asia/Shanghai local time; ISO
strings with an explicit offset are converted to Asia/Shanghai first.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Literal

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from complaints.times import TZ

Kind = Literal["text", "datetime", "code", "bool", "int", "decimal"]


@dataclass(frozen=True)
class Column:
    name: str
    kind: Kind
    required: bool
    label: str  # Chinese label (accepted as an XLSX header)
    codes: str | None = None  # name of the code list, for kind == "code"


CHANNELS = {
    "phone": "电话", "online": "网络", "email": "电子邮件", "letter": "信函", "fax": "传真",
    "sms": "短信", "visit": "来访", "regulator": "监管转办", "association": "行业协会转办",
    "media": "媒体", "other": "其他",
}
CATEGORIES = {
    "sales": "销售", "underwriting": "承保", "policy_service": "保全", "claims": "理赔",
    "surrender": "退保", "renewal": "续保", "payment": "收付费", "counter_service": "柜面服务",
    "call_center": "电话中心", "product_terms": "产品条款", "privacy": "信息安全", "other": "其他",
}
BUSINESS_LINES = {"property": "财产险", "life": "人身险"}
PRODUCT_LINES = {
    "motor": "机动车辆保险", "guarantee": "保证保险", "property_other": "财产险其他",
    "life_ordinary": "普通人寿保险", "health": "健康/疾病保险", "accident": "意外伤害保险",
    "annuity": "年金保险", "life_other": "人身险其他",
}
PRODUCT_LINE_BUSINESS = {
    "motor": "property", "guarantee": "property", "property_other": "property",
    "life_ordinary": "life", "health": "life", "accident": "life", "annuity": "life", "life_other": "life",
}
SEVERITIES = {"venting": "倾诉件", "general": "一般投诉件", "major": "重大投诉件", "difficult": "疑难投诉件",
              "report": "举报件"}
REJECTION_REASONS = {
    "not_consumer": "非消费者投诉", "duplicate_no_new_facts": "重复投诉且无新事实",
    "already_decided": "已处理完毕", "not_our_matter": "非本机构事项", "in_litigation": "已进入诉讼仲裁",
    "other": "其他",
}
COMPLEXITIES = {"simple": "一般", "complex": "复杂", "approved_extension": "特别复杂(经批准延期)"}
OUTCOMES = {
    "customer_accepted": "客户接受", "upheld_by_law": "依法维持", "invalid": "无效投诉",
    "withdrawn": "撤回", "litigation": "诉讼/仲裁",
}
DEPARTMENTS = {
    "sales": "销售", "underwriting": "核保", "policy_service": "保全", "claims": "理赔", "finance": "财务",
    "call_center": "客服中心", "counter": "柜面", "product": "产品", "it": "信息技术", "other": "其他",
}
SATISFACTION = {"satisfied": "满意", "basically_satisfied": "基本满意", "dissatisfied": "不满意",
                "not_reached": "未联系上"}
# Root causes (溯源, FIGURES.md "Root causes and rectification"; adapted from JR/T 0169-2018 投诉原因).
ROOT_CAUSES = {
    "service_quality": "服务态度及服务质量", "systems": "服务设施、设备及系统",
    "rules_process": "管理制度、业务规则与流程", "marketing": "营销方式和手段", "disclosure": "信息披露",
    "product_return": "产品收益", "choice": "自主选择权", "contract_terms": "合同条款",
    "fund_safety": "资金安全", "privacy": "个人信息安全", "pricing_fees": "定价收费", "other": "其他",
}
EVENT_KINDS = {"logged": "系统记录", "contacted": "联系客户", "progress_notice": "进度告知",
               "escalated": "升级", "note": "备注"}

CODE_LISTS: dict[str, dict[str, str]] = {
    "channel": CHANNELS, "category": CATEGORIES, "business_line": BUSINESS_LINES,
    "product_line": PRODUCT_LINES, "severity": SEVERITIES, "rejection_reason": REJECTION_REASONS,
    "complexity": COMPLEXITIES, "outcome": OUTCOMES, "responsible_dept": DEPARTMENTS,
    "satisfaction": SATISFACTION, "event_kind": EVENT_KINDS, "root_cause": ROOT_CAUSES,
}

LEDGER_COLUMNS: tuple[Column, ...] = (
    Column("complaint_id", "text", True, "投诉编号"),
    Column("entity_code", "text", True, "机构代码"),
    Column("branch_code", "text", True, "处理机构"),
    Column("province", "text", True, "省份"),
    Column("received_at", "datetime", True, "收到投诉时间"),
    Column("channel", "code", True, "投诉渠道", "channel"),
    Column("business_line", "code", True, "业务类型", "business_line"),
    Column("product_line", "code", False, "产品类型", "product_line"),
    Column("category", "code", True, "投诉事由", "category"),
    Column("extra_categories", "text", False, "其他事由"),
    Column("severity", "code", True, "投诉级别", "severity"),
    Column("amount_involved", "decimal", False, "涉及金额"),
    Column("group_size", "int", False, "投诉人数"),
    Column("media_exposed", "bool", False, "媒体曝光"),
    Column("regulator_forwarded", "bool", True, "监管转办"),
    Column("forwarded_at", "datetime", False, "转送日期"),
    Column("forward_ref", "text", False, "转办编号"),
    Column("acknowledged_at", "datetime", False, "确认收到时间"),
    Column("accepted", "bool", False, "是否受理"),
    Column("rejection_reason", "code", False, "不予受理原因", "rejection_reason"),
    Column("complexity", "code", False, "复杂程度", "complexity"),
    Column("clock_paused_days", "int", False, "不计入时限天数"),
    Column("clock_restarted_at", "datetime", False, "重新计时时间"),
    Column("decided_at", "datetime", False, "处理决定告知时间"),
    Column("closed_at", "datetime", False, "结案时间"),
    Column("outcome", "code", False, "结案方式", "outcome"),
    Column("valid", "bool", True, "有效投诉"),
    Column("upheld", "bool", False, "投诉属实"),
    Column("redress_amount", "decimal", False, "赔付金额"),
    Column("responsible_dept", "code", False, "责任部门", "responsible_dept"),
    Column("repeat_of", "text", False, "重复投诉原编号"),
    Column("escalation_of", "text", False, "升级投诉原编号"),
    Column("review_requested_at", "datetime", False, "核查申请时间"),
    Column("review_decided_at", "datetime", False, "核查决定时间"),
    Column("satisfaction", "code", False, "回访满意度", "satisfaction"),
    Column("revisited_at", "datetime", False, "回访时间"),
    Column("complainant_ref", "text", False, "投诉人标识"),
    Column("policy_no", "text", False, "保单号"),
    Column("summary", "text", False, "投诉摘要"),
    Column("delay_requested", "bool", False, "客户申请延期处理"),
    Column("root_cause", "text", False, "投诉原因"),  # ;-separated ROOT_CAUSES codes
)

EXPOSURE_COLUMNS: tuple[Column, ...] = (
    Column("entity_code", "text", True, "机构代码"),
    Column("period", "text", True, "期间"),
    Column("business_line", "code", True, "业务类型", "business_line"),
    Column("premium", "decimal", True, "保费收入"),
    Column("policies", "int", True, "承保件数"),
    Column("insured_persons", "int", False, "承保人次"),
)

EVENT_COLUMNS: tuple[Column, ...] = (
    Column("complaint_id", "text", True, "投诉编号"),
    Column("at", "datetime", True, "时间"),
    Column("kind", "code", True, "事件类型", "event_kind"),
)

PENALTY_COLUMNS: tuple[Column, ...] = (  # optional side table (投诉罚单, LEDGER.md)
    Column("complaint_id", "text", True, "投诉编号"),
    Column("unit", "text", True, "被处罚机构或部门"),
    Column("person_ref", "text", False, "被处罚人标识"),
    Column("amount", "decimal", True, "罚款金额"),
    Column("issued_at", "datetime", True, "罚单日期"),
    Column("reason", "text", True, "处罚原因"),
)

TABLES: dict[str, tuple[Column, ...]] = {
    "ledger": LEDGER_COLUMNS, "exposure": EXPOSURE_COLUMNS, "events": EVENT_COLUMNS,
    "penalties": PENALTY_COLUMNS,
}

# Text columns that may carry personal data and are masked in every output.
PERSONAL_TEXT_COLUMNS = ("summary", "policy_no", "complainant_ref")


def column_names(table: str = "ledger") -> list[str]:
    return [c.name for c in TABLES[table]]


def label_to_name(table: str = "ledger") -> dict[str, str]:
    """Chinese header label -> column name (XLSX files may use the labels)."""
    return {c.label: c.name for c in TABLES[table]}


_TRUE = {"true", "1", "yes", "y", "t", "是", "对", "√"}
_FALSE = {"false", "0", "no", "n", "f", "否", "错", "×"}


def to_local_naive(values: pd.Series) -> pd.Series:
    """Parse datetimes: explicit offsets are converted to Asia/Shanghai, naive values are taken as local.

    Returns tz-naive ``datetime64[us]`` local times; unparseable values become NaT (callers that
    must not lose rows compare null counts before and after, see :func:`coercion_failures`).
    """
    if isinstance(values.dtype, pd.DatetimeTZDtype):
        return values.dt.tz_convert(TZ).dt.tz_localize(None).astype("datetime64[us]")
    if pd.api.types.is_datetime64_any_dtype(values.dtype):
        return values.astype("datetime64[us]")
    text = values.astype("string").str.strip()
    text = text.mask(text == "")
    has_offset = _ends_with_offset(text)
    out = pd.Series(pd.NaT, index=values.index, dtype="datetime64[us]")
    naive = text[~has_offset & text.notna()]
    if len(naive):
        out.loc[naive.index] = pd.to_datetime(naive, errors="coerce", format="ISO8601").astype(
            "datetime64[us]")
    aware = text[has_offset]
    if len(aware):
        parsed = pd.to_datetime(aware, errors="coerce", utc=True, format="ISO8601")
        out.loc[aware.index] = parsed.dt.tz_convert(TZ).dt.tz_localize(None).astype("datetime64[us]")
    return out


_OFFSET = re.compile(r"(?:Z|[+-]\d{2}:?\d{2})$")
# the same in RE2 (Arrow): Python's \d is any Unicode decimal digit; the text is stripped, so ``$`` (which in
# Python also matches before a final newline) meets the end of the text either way
_OFFSET_RE2 = r"(?:Z|[+-]\p{Nd}{2}:?\p{Nd}{2})$"


def _ends_with_offset(text: pd.Series) -> pd.Series:
    """Which (stripped) texts end with a UTC offset: in Arrow where the text is Arrow's (1M times: 0.01 s
    instead of 0.2 s through Python's ``re``)."""
    arr = _arrow_text(text)
    if arr is not None:
        found = pc.fill_null(pc.match_substring_regex(arr, _OFFSET_RE2), False)
        return pd.Series(np.asarray(found.to_numpy(zero_copy_only=False), dtype=bool), index=text.index)
    return text.str.contains(_OFFSET, regex=True, na=False).astype(bool)


# A ledger time before this is a typing error (1900: an Excel date 0; 1026 for 2026), not a complaint:
# it does not parse, so it is quarantined (L000/X000/E000) instead of vanishing from a period's window.
EARLIEST_TIME = pd.Timestamp("1990-01-01")


def _plausible(values: pd.Series) -> pd.Series:
    early = (values < EARLIEST_TIME).to_numpy()
    return values.mask(early) if early.any() else values


def _to_bool(values: pd.Series) -> pd.Series:
    if pd.api.types.is_bool_dtype(values.dtype):
        return values.astype("boolean")
    if pd.api.types.is_object_dtype(values.dtype) and (
        pd.api.types.infer_dtype(values, skipna=True) == "boolean"
    ):
        return values.astype("boolean")  # Python bools and missing (translated Y/N): no text round trip
    text = values.astype("string").str.strip().str.lower()
    out = pd.Series(pd.NA, index=values.index, dtype="boolean")
    out[text.isin(_TRUE).fillna(False).astype(bool)] = True
    out[text.isin(_FALSE).fillna(False).astype(bool)] = False
    return out


_STR = pd.StringDtype("pyarrow", na_value=np.nan)


def _arrow_text(values: pd.Series) -> pa.ChunkedArray | None:
    """The values as an Arrow string array when they are text already (``str`` dtype, or objects that
    are only strings and missing values); ``None`` otherwise (numbers, bools, mixed objects)."""
    dtype = values.dtype
    if isinstance(dtype, pd.StringDtype) and dtype.storage == "pyarrow":
        arr = values.array._pa_array  # type: ignore[attr-defined]
        return arr if isinstance(arr, pa.ChunkedArray) else pa.chunked_array([arr])
    if pd.api.types.is_object_dtype(dtype):
        try:
            return pa.chunked_array(
                [pa.array(values.to_numpy(), type=pa.large_string(), from_pandas=True)])
        except (pa.ArrowInvalid, pa.ArrowTypeError):
            return None
    return None


def _str_series(arr: pa.ChunkedArray, index: pd.Index) -> pd.Series:
    if not pa.types.is_large_string(arr.type):
        arr = arr.cast(pa.large_string())
    return pd.Series(pd.arrays.ArrowStringArray(arr, dtype=_STR), index=index)


def _is_clean(arr: pa.ChunkedArray, lower: bool) -> bool:
    """True when :func:`_clean_text` would return the values unchanged (then no copy is kept). A code
    column (``lower``) holds a handful of distinct values: each is checked once (a third of the time)."""
    if lower:
        arr = pc.unique(arr)
    if pc.any(pc.equal(arr, "")).as_py() or pc.any(pc.not_equal(pc.utf8_trim_whitespace(arr), arr)).as_py():
        return False
    return not (lower and pc.any(pc.not_equal(pc.utf8_lower(arr), arr)).as_py())


def _clean_text(arr: pa.ChunkedArray, lower: bool = False) -> pa.ChunkedArray:
    """Strip whitespace (the same Arrow kernel as ``Series.str.strip``), blanks to missing, lower-case."""
    out = pc.utf8_trim_whitespace(arr)
    out = pc.if_else(pc.equal(out, ""), pa.scalar(None, out.type), out)
    return pc.utf8_lower(out) if lower else out


def _to_text(values: pd.Series, lower: bool = False) -> pd.Series:
    arr = _arrow_text(values)
    if arr is not None:  # vectorised in Arrow: ~10x faster than astype("string").str.strip() at 1M rows
        if values.dtype == _STR and _is_clean(arr, lower):
            return values  # already canonical (e.g. an extract normalised before): share, don't copy
        return _str_series(_clean_text(arr, lower), values.index)
    if pd.api.types.is_float_dtype(values.dtype):
        # ids read from spreadsheets as numbers: 1001.0 -> "1001"
        as_int = values.dropna()
        if (as_int == as_int.round()).all():
            values = values.astype("Int64")
    text = values.astype("string").str.strip()
    text = text.mask(text == "")
    return (text.str.lower() if lower else text).astype("str")


def normalize(frame: pd.DataFrame, table: str = "ledger") -> pd.DataFrame:
    """Return a copy with every column of ``table`` present and of its canonical dtype.

    Missing optional columns are added empty. Extra columns are kept at the end. Values that do
    not parse become missing; use :func:`coercion_failures` to find them.
    """
    columns = TABLES[table]
    out = {}
    n = len(frame)
    for col in columns:
        if col.name in frame.columns:
            s = frame[col.name]
        else:
            s = pd.Series([None] * n, index=frame.index, dtype="object")
        out[col.name] = _coerce(s, col)
    result = pd.DataFrame(out, index=frame.index, copy=False)  # CoW: shares unchanged columns
    extra = [c for c in frame.columns if c not in result.columns]
    for c in extra:
        result[c] = frame[c]
    return result.reset_index(drop=True)


def _coerce(s: pd.Series, col: Column) -> pd.Series:
    if col.kind == "datetime":
        return _plausible(to_local_naive(s))
    if col.kind == "bool":
        return _to_bool(s)
    if col.kind == "int":
        return _to_int(s)
    if col.kind == "decimal":
        return _to_decimal(s)
    if col.kind == "code":
        return _to_text(s, lower=True)
    return _to_text(s)


_INT_MIN, _INT_MAX = -(2**63), 2**63 - 1


def _exact_int(value: object) -> int | None:
    """``value`` as an int when it is exactly a whole number within int64 ("20", "20.0", 20.0);
    ``None`` for anything else (19.6 is not 20, 1e20 does not fit, inf/NaN/booleans are not counts)."""
    if value is None or isinstance(value, bool | np.bool_):
        return None
    if isinstance(value, int | np.integer):
        v = int(value)
    else:
        try:
            d = Decimal(str(value).strip())
        except (InvalidOperation, ValueError):
            return None
        if not d.is_finite() or d != d.to_integral_value():
            return None
        v = int(d)
    return v if _INT_MIN <= v <= _INT_MAX else None


def _to_int(s: pd.Series) -> pd.Series:
    """Whole numbers exactly; anything else (a fraction, an overflow, inf) becomes missing, which
    :func:`coercion_failures` reports, instead of being rounded or wrapped."""
    dtype = s.dtype
    if pd.api.types.is_bool_dtype(dtype):
        return pd.Series(pd.NA, index=s.index, dtype="Int64")
    if pd.api.types.is_integer_dtype(dtype):
        if pd.api.types.is_unsigned_integer_dtype(dtype):
            big = s.to_numpy(dtype="float64", na_value=np.nan) > _INT_MAX
            if big.any():
                s = s.astype(object).where(~big, None)
        return s.astype("Int64")
    if pd.api.types.is_float_dtype(dtype):
        f = s.to_numpy(dtype="float64", na_value=np.nan)
        with np.errstate(invalid="ignore"):
            ok = np.isfinite(f) & (f == np.floor(f)) & (np.abs(f) < 2.0**63)
        f = np.where(ok, f, np.nan)
        return pd.Series(pd.array(f, dtype="Float64"), index=s.index).astype("Int64")
    codes, uniques = pd.factorize(s, use_na_sentinel=True)
    parsed = pd.array([_exact_int(u) for u in np.asarray(uniques, dtype=object)], dtype="Int64")
    return pd.Series(parsed.take(codes, allow_fill=True), index=s.index)


def _to_decimal(s: pd.Series) -> pd.Series:
    """Finite numbers; inf, NaN and overflowing text (``1e400``) become missing (reported, not kept)."""
    if pd.api.types.is_bool_dtype(s.dtype):
        return pd.Series(np.nan, index=s.index, dtype="float64")
    if pd.api.types.is_float_dtype(s.dtype) or pd.api.types.is_integer_dtype(s.dtype):
        f = s.to_numpy(dtype="float64", na_value=np.nan)
    else:
        f = _parse_numbers(s)
    if not np.isfinite(f[~np.isnan(f)]).all():
        f = np.where(np.isfinite(f), f, np.nan)
    return pd.Series(f, index=s.index, dtype="float64")


def _parse_numbers(s: pd.Series) -> np.ndarray:
    """``pd.to_numeric(s, errors="coerce")`` as float64. Text that is all numbers (a database's exact
    decimals) is parsed by Arrow, correctly rounded as pandas and Python are, in a tenth of the time; any
    value Arrow does not take (blanks, spaces, words) sends the column to pandas."""
    arr = _arrow_text(s) if s.dtype == _STR else None
    if arr is not None:
        try:
            f = np.array(pc.cast(arr, pa.float64()).to_numpy(zero_copy_only=False), dtype="float64")
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            f = None
        # a negative zero's sign depends in pandas on the whole column ("-0" is the integer 0 in a column
        # of integers): such a column, rare, goes to pandas
        if f is not None and not ((f == 0) & np.signbit(f)).any():
            return f
    return np.asarray(pd.to_numeric(s, errors="coerce").to_numpy(dtype="float64", na_value=np.nan))


def coercion_failures(raw: pd.DataFrame, normalized: pd.DataFrame, table: str = "ledger") -> pd.DataFrame:
    """Boolean frame: True where ``raw`` had a non-blank value that ``normalize`` could not parse."""
    flags = {}
    for col in TABLES[table]:
        if col.name not in raw.columns or col.kind in ("text", "code"):
            continue
        flags[col.name] = _present(raw[col.name]) & normalized[col.name].isna().to_numpy()
    return pd.DataFrame(flags)


def _present(values: pd.Series) -> np.ndarray:
    """Non-missing and not blank text. Typed columns (datetimes, numbers, bools) cannot be blank."""
    dtype = values.dtype
    if not pd.api.types.is_object_dtype(dtype) and not pd.api.types.is_string_dtype(dtype):
        return values.notna().to_numpy(dtype=bool)
    arr = _arrow_text(values)
    if arr is not None:
        return pc.fill_null(pc.not_equal(pc.utf8_trim_whitespace(arr), ""), False).to_numpy(
            zero_copy_only=False)
    present = values.notna() & (values.astype("string").str.strip() != "")
    return present.fillna(False).to_numpy(dtype=bool)


def _code_lists(values: pd.Series, distinct: bool) -> pd.Series:
    """Each ``;``-separated text as a list of stripped lower-case codes, split once per distinct text (a
    quarter's 200,000 cases hold a few hundred distinct lists). Rows with the same text share one list
    object: callers read the lists, never change them."""
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    table = np.empty(len(uniques) + 1, dtype=object)
    for i, text in enumerate(np.asarray(uniques, dtype=object)):
        items = [i.strip() for i in str(text).lower().split(";") if i.strip()]
        table[i] = list(dict.fromkeys(items)) if distinct else items
    table[-1] = []  # missing (code -1)
    return pd.Series(table[codes], index=values.index, dtype=object)


def extra_category_lists(extra: pd.Series) -> pd.Series:
    """Split ``extra_categories`` ("claims;sales") into lists of stripped lower-case codes."""
    return _code_lists(extra, distinct=False)


def root_cause_lists(causes: pd.Series) -> pd.Series:
    """Split ``root_cause`` ("systems;disclosure") into lists of distinct stripped lower-case codes."""
    return _code_lists(causes, distinct=True)


def empty(table: str = "ledger") -> pd.DataFrame:
    return normalize(pd.DataFrame({c.name: pd.Series([], dtype="object") for c in TABLES[table]}), table)


def local_dates(values: pd.Series) -> np.ndarray:
    """Local calendar dates (``datetime64[D]``) of tz-naive local datetimes; NaT stays NaT."""
    return values.to_numpy(dtype="datetime64[us]").astype("datetime64[D]")
