"""Rectification report (FILINGS.md §4; 2013 rule art. 36): due 30 days after the requirement is received.

The requirement is a YAML file the officer writes::

    reference: 粤金消保函〔2026〕35号        # required
    received: 2026-09-15                   # required, date the requirement arrived
    issuer: 国家金融监督管理总局广东监管局     # optional (default: the context's addressee)
    subject: 理赔投诉处理时效问题             # optional: 《关于{subject}整改情况的报告》
    items:                                 # required, at least one
      - issue: 理赔类投诉未在3个工作日内处理的比例偏高
        measures: [措施一, 措施二]            # text or list
        figures: [claims_3wd.rate]          # dotted figure keys that show the effect (optional)
        status: 已完成                        # optional
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from complaints.errors import UserError
from complaints.figures.catalogue import label
from complaints.findings import dig, format_value

from .common import DASH, base_context, date_zh, datetime_text, period_label, render_template, safe_filename
from .context import RenderContext, RenderResult

RECTIFICATION_TEMPLATE = "rectification_report.docx"
_NUMERALS = "一二三四五六七八九十"


class RequirementError(UserError):
    """The rectification requirement is missing a key or has the wrong shape; the message names it."""


def _zh_number(n: int) -> str:
    if n <= 10:
        return _NUMERALS[n - 1]
    tens, ones = divmod(n, 10)
    return f"{_NUMERALS[tens - 1] if tens > 1 else ''}十{_NUMERALS[ones - 1] if ones else ''}"


def load_requirement(path: str | Path) -> dict[str, Any]:
    """Read and check a requirement YAML file (see the module docstring)."""
    p = Path(path)
    try:
        data = yaml.safe_load(p.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise RequirementError(f"{p}: file not found") from exc
    except (yaml.YAMLError, UnicodeDecodeError, ValueError) as exc:
        raise RequirementError(f"{p}: not valid UTF-8 YAML: {exc}") from exc
    if not isinstance(data, dict):
        raise RequirementError(f"{p}: expected a mapping with reference, received and items")
    check_requirement(data, str(p))
    return data


def _received(requirement: Mapping[str, Any], where: str) -> dt.date:
    value = requirement.get("received")
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError as exc:
        raise RequirementError(f"{where}: 'received' must be a date like 2026-09-15, got {value!r}") from exc


def check_requirement(requirement: Mapping[str, Any], where: str = "requirement") -> None:
    missing = [k for k in ("reference", "received", "items") if not requirement.get(k)]
    if missing:
        raise RequirementError(f"{where}: missing {', '.join(missing)}")
    _received(requirement, where)
    items = requirement["items"]
    if not isinstance(items, list):
        raise RequirementError(f"{where}: 'items' must be a list")
    for i, item in enumerate(items, 1):
        if not isinstance(item, Mapping) or not item.get("issue"):
            raise RequirementError(f"{where}: items[{i}] needs an 'issue'")
        figures = item.get("figures", [])
        if not isinstance(figures, list) or not all(isinstance(f, str) for f in figures):
            raise RequirementError(f"{where}: items[{i}].figures must be a list of figure keys")


def _measures(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [line.strip() for line in value.split("\n") if line.strip()]
    return [str(v).strip() for v in value if str(v).strip()]


def render_rectification_report(
    requirement: Mapping[str, Any], figures: Mapping[str, Any] | None, ctx: RenderContext, out: Path
) -> RenderResult:
    """Render 《关于……整改情况的报告》; ``out`` is a .docx path or a directory.

    Items without measures get a visible 「待补充」 text and are listed in ``incomplete``.
    """
    check_requirement(requirement)
    received = _received(requirement, "requirement")
    due = received + dt.timedelta(days=ctx.rectification_days)
    incomplete: list[str] = []
    items, keys = [], []
    for i, item in enumerate(requirement["items"], 1):
        measures = _measures(item.get("measures"))
        if not measures:
            incomplete.append(f"整改事项{i}（{item['issue']}）：未填写整改措施")
            measures = ["【待补充】整改措施尚未填写。"]
        item_keys = list(item.get("figures") or [])
        keys += [k for k in item_keys if k not in keys]
        shown = [f"{label(k)[0]}{_value(figures, k)}" for k in item_keys]
        if item_keys and figures is None:
            incomplete.append(f"整改事项{i}：未提供统计数据，成效指标无法列示")
        items.append(
            {
                "no": str(i),
                "no_zh": _zh_number(i),
                "issue": str(item["issue"]),
                "measures": measures,
                "measures_text": "；".join(m.rstrip("。；;.") for m in measures) + "。",
                "status": str(item.get("status") or "整改中"),
                "figures": shown,
                "figures_text": "；".join(shown) + "。" if shown else "",
            }
        )
    done = sum(1 for it in items if it["status"] in ("已完成", "完成", "已整改"))
    values = base_context(ctx, period_label(ctx.period))
    values.update(
        reference=str(requirement["reference"]),
        issuer=str(requirement.get("issuer") or ctx.addressee),
        addressee=str(requirement.get("issuer") or ctx.addressee),
        subject=str(requirement.get("subject") or f"《{requirement['reference']}》"),
        received_text=date_zh(received),
        due_text=date_zh(due),
        days=str(ctx.rectification_days),
        items=items,
        done_count=str(done),
        open_count=str(len(items) - done),
        figure_rows=[{"name": label(k)[0], "value": format_value(dig(figures, k), label(k)[1])} for k in keys]
        if figures
        else [],
        figures_caption=(
            f"以下数据取自{period_label(str(figures.get('period', '')))}投诉统计结果"
            f"（统计截至{datetime_text(figures.get('as_of'))}）："
        )
        if figures
        else "",
    )
    name = safe_filename(str(requirement["reference"]))
    out = Path(out)
    target = out if out.suffix.lower() == ".docx" else out / f"整改情况报告_{name}.docx"
    path = render_template(
        RECTIFICATION_TEMPLATE, values, {}, ctx, target, f"关于{values['subject']}整改情况的报告"
    )
    return RenderResult(path, incomplete)


def _value(figures: Mapping[str, Any] | None, key: str) -> str:
    if figures is None:
        return DASH
    unit = label(key)[1]
    text = format_value(dig(figures, key), unit)
    return f"为{text}" if text != DASH else f"：{DASH}（无数据）"
