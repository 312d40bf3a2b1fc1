"""Data-driven findings for 存在的问题 (pure): figures that missed their target or worsened too much.

A finding is one Chinese sentence. Two kinds:

- **target**: ``Settings.targets`` maps a dotted figure key to a target value. A figure whose catalogue
  entry (:mod:`complaints.figures.catalogue`) is lower-is-better (``rates.*``, counts, days, backlog,
  upheld rate) misses when above it; the others (``timeliness.rate``, ``satisfaction.rate`` …) when below.
- **qoq / yoy**: a lower-is-better figure in ``qoq``/``yoy`` (cases, valid cases, 亿元保费投诉量) whose
  ``change_pct`` exceeds ``Rendering.worsening_threshold_pct``.

A figure that is ``null`` cannot be assessed and yields no finding (the figures' notes say why).
Numbers in sentences are rounded to 2 decimals (ratios are printed as percentages).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from complaints.figures.catalogue import CHANGE_METRICS, Unit, label, lower_is_better

_UNIT_SUFFIX = {"number": "", "count": "件", "days": "天", "money": "元"}


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
        for key, current_key in CHANGE_METRICS.items():
            change = dig(block, key)
            if not isinstance(change, Mapping):
                continue
            pct: Any = change.get("change_pct")
            previous = change.get("previous")
            if not is_number(pct) or pct <= threshold_pct:
                continue
            name, unit = label(current_key)
            current = dig(figures, current_key)
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
