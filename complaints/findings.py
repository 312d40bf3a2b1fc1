"""Data-driven findings for 存在的问题 (pure): figures that missed their target or worsened too much.

A finding is one Chinese sentence. Two kinds:

- **target**: ``Settings.targets`` maps a dotted figure key to a target value. Rates where higher is
  better (``timeliness.rate``, ``satisfaction.rate`` …) miss when below it; complaint-rate-like figures
  (``rates.*``, counts, days, backlog, upheld rate) miss when above it.
- **qoq / yoy**: a lower-is-better figure in ``qoq``/``yoy`` (cases, valid cases, 亿元保费投诉量) whose
  ``change_pct`` exceeds ``Rendering.worsening_threshold_pct``.

A figure that is ``null`` cannot be assessed and yields no finding (the figures' notes say why).
Numbers in sentences are rounded to 2 decimals (ratios are printed as percentages).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

Unit = Literal["ratio", "pct", "count", "number", "days", "money"]

# dotted key -> (Chinese name, unit). Ratios (0..1) print as percentages; "pct" values are already %.
LABELS: dict[str, tuple[str, Unit]] = {
    "counts.contacts": ("投诉次数", "count"),
    "counts.cases": ("投诉件数", "count"),
    "counts.repeat_contacts": ("重复投诉次数", "count"),
    "counts.valid_cases": ("有效投诉件数", "count"),
    "counts.escalated_cases": ("投诉升级件数", "count"),
    "counts.regulator_forwarded_cases": ("监管转办投诉件数", "count"),
    "counts.major_cases": ("重大投诉件数", "count"),
    "counts.issues": ("投诉事项数", "count"),
    "cases": ("投诉件数", "count"),
    "valid_cases": ("有效投诉件数", "count"),
    "rates.per_100m_premium": ("亿元保费投诉量", "number"),
    "rates.per_10k_policies": ("万张保单投诉量", "number"),
    "rates.complaint_rate_pct": ("投诉率", "pct"),
    "timeliness.rate": ("投诉处理及时率", "ratio"),
    "timeliness.median_days": ("投诉处理时长中位数", "days"),
    "timeliness.mean_days": ("平均投诉处理时长", "days"),
    "timeliness.overdue_open": ("逾期未办结投诉件数", "count"),
    "forwarded_timeliness.rate": ("监管转办件办理及时率", "ratio"),
    "acknowledgement.rate": ("1个工作日内确认收到投诉的比例", "ratio"),
    "claims_3wd.rate": ("理赔投诉3个工作日内处理的比例", "ratio"),
    "progress_logged_24h.rate": ("24小时内记录处理进度的比例", "ratio"),
    "satisfaction.rate": ("客户满意度", "ratio"),
    "outcomes.upheld_rate": ("投诉属实率", "ratio"),
    "outcomes.redress_total": ("赔付（补偿）金额", "money"),
    "reviews.requested": ("核查申请件数", "count"),
    "qoq": ("环比（上季度）数据", "number"),
    "yoy": ("同比（上年同期）数据", "number"),
}
_LINE_RATES = {
    "per_100m_premium": ("亿元保费投诉量", "number"),
    "per_10k_policies": ("万张保单投诉量", "number"),
    "complaint_rate_pct": ("投诉率", "pct"),
    "per_10k_insured": ("万人次投诉量", "number"),
}
_LINES = {"property": "财产险", "life": "人身险"}
_GROUPS = {
    "timeliness": "投诉处理时效",
    "forwarded_timeliness": "监管转办件时效",
    "acknowledgement": "1个工作日内确认收到投诉",
    "claims_3wd": "理赔投诉3个工作日内处理",
    "progress_logged_24h": "24小时内记录处理进度",
    "satisfaction": "回访",
    "outcomes": "处理结果",
    "reviews": "核查",
    "counts": "",
    "rates": "",
}
_PARTS: dict[str, tuple[str, Unit]] = {
    "on_time": ("按时件数", "count"),
    "late": ("超时件数", "count"),
    "pending": ("处理中件数", "count"),
    "within": ("达标件数", "count"),
    "rate": ("比例", "ratio"),
    "revisited": ("人次", "count"),
    "satisfied": ("满意人次", "count"),
    "not_reached": ("未联系上人次", "count"),
    "decided": ("件数", "count"),
    "upheld": ("属实件数", "count"),
    "requested": ("申请件数", "count"),
    "decided_on_time": ("按时决定件数", "count"),
}
_QUARTERS = {"Q1": "第一季度", "Q2": "第二季度", "Q3": "第三季度", "Q4": "第四季度"}
_DEPARTMENTS = {
    "sales": "销售",
    "underwriting": "核保",
    "policy_service": "保全",
    "claims": "理赔",
    "finance": "财务",
    "call_center": "客服中心",
    "counter": "柜面",
    "product": "产品",
    "it": "信息技术",
    "other": "其他",
}
_UNIT_SUFFIX = {"number": "", "count": "件", "days": "天", "money": "元"}
_CHANGE_KEYS = ("cases", "valid_cases", "rates.per_100m_premium")
_LOWER_IS_BETTER_SUFFIXES = (
    "_days",
    "overdue_open",
    "upheld_rate",
    "complaint_rate_pct",
    "per_100m_premium",
    "per_10k_policies",
    "per_10k_insured",
)


@dataclass(frozen=True)
class Finding:
    key: str
    kind: Literal["target", "qoq", "yoy"]
    value: float
    reference: float  # the target, or the earlier period's value
    text: str


def dig(data: Mapping[str, Any] | None, key: str) -> Any:
    """``data`` at dotted ``key``; nested objects and flat dotted keys (``{"rates.x": …}``) both work."""
    if data is None:
        return None
    if key in data:
        return data[key]
    head, _, rest = key.partition(".")
    while rest:
        if head in data and isinstance(data[head], Mapping):
            return dig(data[head], rest)
        nxt, _, rest = rest.partition(".")
        head = f"{head}.{nxt}"
        if head in data and not rest:
            return data[head]
    return None


def label(key: str) -> tuple[str, Unit]:
    """Chinese name and unit of a dotted figure key (the key itself when unknown)."""
    if key in LABELS:
        return LABELS[key]
    parts = key.split(".")
    if len(parts) == 3 and parts[0] == "rates_by_business_line" and parts[2] in _LINE_RATES:
        name, unit = _LINE_RATES[parts[2]]
        return f"{_LINES.get(parts[1], parts[1])}{name}", unit  # type: ignore[return-value]
    if len(parts) >= 3 and parts[0] in ("by_quarter", "by_department"):
        inner = ".".join(parts[2:])
        name, unit = LABELS.get(inner, LABELS.get(f"counts.{inner}", (inner, "number")))
        if parts[0] == "by_quarter" and parts[1] in _QUARTERS:
            return f"{_QUARTERS[parts[1]]}{name}", unit
        return f"{_DEPARTMENTS.get(parts[1], parts[1])}部门{name}", unit
    if len(parts) == 2 and parts[0] in _GROUPS and parts[1] in _PARTS:
        name, unit = _PARTS[parts[1]]
        return f"{_GROUPS[parts[0]]}{name}", unit
    if key.endswith(".rate"):
        return key, "ratio"
    return key, "number"


def lower_is_better(key: str) -> bool:
    """Complaint-rate-like figures (volumes, rates per exposure, days, backlog) are better when lower."""
    return (
        key.startswith(("rates.", "rates_by_business_line.", "counts."))
        or key in ("cases", "valid_cases")
        or key.endswith(_LOWER_IS_BETTER_SUFFIXES)
    )


def is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and value == value  # not NaN


def format_value(value: Any, unit: Unit, *, missing: str = "—") -> str:
    """Document formatting: ratios as percentages and other non-counts with 2 decimals; counts whole."""
    if not is_number(value):
        return missing
    if unit == "ratio":
        return f"{value * 100:.2f}%"
    if unit == "pct":
        return f"{value:.2f}%"
    if unit == "count":
        return f"{int(round(value))}" if float(value).is_integer() else f"{value:.2f}"
    if unit == "money":
        return f"{value:,.2f}"
    return f"{value:.2f}"


def format_with_unit(value: Any, unit: Unit) -> str:
    text = format_value(value, unit)
    return text + _UNIT_SUFFIX.get(unit, "") if is_number(value) else text


def _num(value: Any) -> float:
    return float(value) if is_number(value) else float("nan")


def _target_findings(figures: Mapping[str, Any], targets: Mapping[str, float]) -> list[Finding]:
    out = []
    for key in sorted(targets):
        value, target = dig(figures, key), targets[key]
        if not is_number(value):
            continue
        name, unit = label(key)
        low = lower_is_better(key)
        if (low and value > target) or (not low and value < target):
            side = "高于" if low else "低于"
            shown, goal = format_with_unit(value, unit), format_with_unit(target, unit)
            text = f"{name}为{shown}，{side}{goal}的目标值，{'需加以控制' if low else '未达到考核要求'}。"
            out.append(Finding(key, "target", float(value), float(target), text))
    return out


def _change_findings(figures: Mapping[str, Any], threshold_pct: float) -> list[Finding]:
    out = []
    for kind, word, before in (("qoq", "环比", "上季度"), ("yoy", "同比", "上年同期")):
        block = figures.get(kind)
        if not isinstance(block, Mapping):
            continue
        for key in _CHANGE_KEYS:
            change = dig(block, key)
            if not isinstance(change, Mapping):
                continue
            pct: Any = change.get("change_pct")
            previous = change.get("previous")
            if not is_number(pct) or pct <= threshold_pct:
                continue
            name, unit = label(key)
            current = dig(figures, key) if key.startswith("rates.") else dig(figures, f"counts.{key}")
            text = (
                f"{name}{word}上升{pct:.2f}%（{before}{format_with_unit(previous, unit)}，"
                f"本期{format_with_unit(current, unit)}），超过{threshold_pct:.2f}%的预警阈值。"
            )
            out.append(Finding(key, kind, _num(current), _num(previous), text))  # type: ignore[arg-type]
    return out


def findings(
    figures: Mapping[str, Any],
    targets: Mapping[str, float],
    worsening_threshold_pct: float,
) -> list[Finding]:
    """Every target missed (sorted by key), then every QoQ/YoY worsening beyond the threshold."""
    return _target_findings(figures, targets) + _change_findings(figures, worsening_threshold_pct)
