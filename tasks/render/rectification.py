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
    attachments: [整改措施台账]              # optional: the 附件 line
    id: GD-2026-35                         # optional: the bundle key (default: receipt day + digest)

The effect is never shown from a period before the requirement: figures of a quarter that ended before
receipt are the baseline (整改前), figures of a period starting on or after receipt are 整改后; each
metric is shown before/after with both periods named (:func:`effect_rows`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml

from complaints.errors import UserError
from complaints.figures.catalogue import label
from complaints.findings import dig, format_value, is_number
from complaints.periods import Period
from complaints.rectification import MOVED_ZH, STATUS_ZH, target_text
from complaints.settings import RectificationItem

from .common import DASH, base_context, date_zh, period_label, render_template, safe_filename
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
    except OSError as exc:
        raise RequirementError(f"{p}: cannot read the requirement ({exc.strerror or exc})") from exc
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


def figures_period(figures: Mapping[str, Any] | None) -> Period | None:
    if not figures or not figures.get("period"):
        return None
    try:
        return Period.parse(str(figures["period"]))
    except ValueError:
        return None


def split_figures(
    received: dt.date, figures: Mapping[str, Any] | None, baseline: Mapping[str, Any] | None
) -> tuple[Mapping[str, Any] | None, Mapping[str, Any] | None, list[str]]:
    """(before, after, notes): figures of a period starting on or after ``received`` show the effect;
    figures of a period that started before it (ended before, or the quarter it arrived in) are the
    baseline, never the effect. ``baseline`` wins over ``figures`` for the before side."""
    notes: list[str] = []
    before = after = None
    for given, role in ((baseline, "baseline"), (figures, "figures")):
        if given is None:
            continue
        period = figures_period(given)
        if period is None:
            notes.append(f"{role}: the figures name no period; not shown")
        elif period.start >= received:
            if after is not None:
                notes.append(f"{role}: {period.code} is also after the requirement; not shown")
            else:
                after = given
        elif before is not None:
            notes.append(f"{role}: {period.code} is also before the requirement; the baseline is kept")
        else:
            before = given
    return before, after, notes


def _period_name(figures: Mapping[str, Any] | None) -> str:
    period = figures_period(figures)
    return period_label(period.code) if period else ""


def _change(before: Any, after: Any, unit: str) -> str:
    if not (is_number(before) and is_number(after)):
        return DASH
    diff = float(after) - float(before)
    if unit in ("ratio", "pct"):
        points = diff * 100 if unit == "ratio" else diff
        if abs(points) < 0.005:
            return "持平"
        return f"{'上升' if points > 0 else '下降'}{abs(points):.2f}个百分点"
    if abs(diff) < 0.005:
        return "持平"
    return f"{'增加' if diff > 0 else '减少'}{format_value(abs(diff), unit)}"  # type: ignore[arg-type]


def effect_rows(
    keys: list[str], before: Mapping[str, Any] | None, after: Mapping[str, Any] | None
) -> list[dict[str, str]]:
    rows = []
    for key in keys:
        name, unit = label(key)
        b = dig(before, key) if before else None
        a = dig(after, key) if after else None
        rows.append({
            "name": name,
            "before": format_value(b, unit) if before else "无数据",
            "after": format_value(a, unit) if after else "待统计",
            "change": _change(b, a, unit),
        })
    return rows


def _item_effect(keys: list[str], before: Any, after: Any, before_name: str, after_name: str) -> str:
    parts = []
    for key in keys:
        name, unit = label(key)
        b = format_value(dig(before, key), unit) if before else DASH
        a = format_value(dig(after, key), unit) if after else DASH
        if after is not None and before is not None and a == b:
            parts.append(f"{name}整改前（{before_name}）与整改后（{after_name}）均为{a}")
        elif after is not None and before is not None:
            parts.append(f"{name}由整改前（{before_name}）的{b}变为整改后（{after_name}）的{a}")
        elif after is not None:
            parts.append(f"{name}整改后（{after_name}）为{a}")
        elif before is not None:
            parts.append(f"{name}整改前（{before_name}）为{b}")
    if not parts:
        return ""
    text = "；".join(parts) + "。"
    if after is None:
        return f"整改前基线：{text}整改后数据待整改后首个完整统计期间结束后报告。"
    return f"整改成效：{text}"


def render_rectification_report(
    requirement: Mapping[str, Any],
    figures: Mapping[str, Any] | None,
    ctx: RenderContext,
    out: Path,
    *,
    baseline: Mapping[str, Any] | None = None,
    linked_items: Sequence[Mapping[str, Any]] = (),
) -> RenderResult:
    """Render 《关于……整改情况的报告》; ``out`` is a .docx path or a directory.

    ``figures`` / ``baseline``: figures JSON of the periods before and after the requirement (either may
    be given as either; :func:`split_figures` decides by their periods). Items without measures get a
    visible 「待补充」 text and are listed in ``incomplete``. ``linked_items``: the configured rectification
    items linked to this requirement, measured (:func:`rectification_rows`): each shown before (its baseline
    quarter) and after (the latest quarter since it was opened), never the later figure alone.
    """
    check_requirement(requirement)
    received = _received(requirement, "requirement")
    due = received + dt.timedelta(days=ctx.rectification_days)
    before, after, notes = split_figures(received, figures, baseline)
    before_name, after_name = _period_name(before), _period_name(after)
    incomplete: list[str] = list(notes)
    items, keys = [], []
    for i, item in enumerate(requirement["items"], 1):
        measures = _measures(item.get("measures"))
        if not measures:
            incomplete.append(f"整改事项{i}（{item['issue']}）：未填写整改措施")
            measures = ["【待补充】整改措施尚未填写。"]
        item_keys = list(item.get("figures") or [])
        keys += [k for k in item_keys if k not in keys]
        if item_keys and before is None and after is None:
            incomplete.append(f"整改事项{i}：未提供统计数据，成效指标无法列示")
        effect = _item_effect(item_keys, before, after, before_name, after_name)
        items.append(
            {
                "no": str(i),
                "no_zh": _zh_number(i),
                "issue": str(item["issue"]),
                "measures": measures,
                "measures_text": "；".join(m.rstrip("。；;.") for m in measures) + "。",
                "status": str(item.get("status") or "整改中"),
                "figures": [effect] if effect else [],
                "figures_text": effect,
            }
        )
    done = sum(1 for it in items if it["status"] in ("已完成", "完成", "已整改"))
    attachments = [str(a) for a in requirement.get("attachments") or []]
    values = base_context(ctx, period_label(ctx.period))
    shown = before is not None or after is not None
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
        figure_rows=effect_rows(keys, before, after) if shown else [],
        before_label=f"整改前（{before_name}）" if before is not None else "整改前",
        after_label=f"整改后（{after_name}）" if after is not None else "整改后",
        figures_caption=_caption(before_name if before is not None else None,
                                 after_name if after is not None else None) if shown else "",
        item_rows=(item_rows := rectification_rows(linked_items, ctx.entity_names)),
        item_notes=[r["note"] for r in item_rows],
        items_heading=f"{'四' if shown else '三'}、溯源整改事项成效",
        attachments=attachments,
        attachments_text="；".join(f"{n}．{a}" for n, a in enumerate(attachments, 1)) if len(attachments) > 1
        else "".join(attachments),
    )
    name = safe_filename(str(requirement["reference"]))
    out = Path(out)
    target = out if out.suffix.lower() == ".docx" else out / f"整改情况报告_{name}.docx"
    path = render_template(
        RECTIFICATION_TEMPLATE, values, {}, ctx, target, f"关于{values['subject']}整改情况的报告"
    )
    return RenderResult(path, incomplete)


def _item_value(value: Any, metric: str) -> str:
    if not is_number(value):
        return DASH
    return f"{format_value(value, 'count')}件" if metric == "cases" else format_value(value, "ratio")


def _item_change(change: Any, metric: str) -> str:
    if not is_number(change):
        return ""
    if abs(float(change)) < 1e-12:
        return ""
    word = "减少" if change < 0 else "增加"
    if metric == "cases":
        return f"{word}{format_value(abs(change), 'count')}件"
    return f"{'下降' if change < 0 else '上升'}{abs(float(change)) * 100:.2f}个百分点"


def rectification_rows(measured: Any, names: Mapping[str, str] | None = None) -> list[dict[str, str]]:
    """Rows of the rectification-item table (annual 改进措施, rectification report): each configured item
    ``{**item, "measured": complaints.rectification.measure(...)}``: title, owner, due, status, the
    baseline quarter's value, the latest quarter's and whether the metric moved (lower is better); ``note``
    says in words what is measured, over which quarters, and by how much it changed."""
    rows = []
    for n, entry in enumerate(measured or (), 1):
        item = RectificationItem(**{k: v for k, v in entry.items() if k != "measured"})
        m = entry.get("measured") or {}
        base, latest = m.get("baseline") or {}, m.get("latest") or {}
        metric_name = f"{target_text(item, names)}的投诉" + ("件数" if item.metric == "cases" else "占比")
        base_value = _item_value(base.get("value"), item.metric)
        base_name = period_label(base.get("period", ""))
        note = f"{n}．{item.title}：衡量指标为{metric_name}，基线为{base_name}的{base_value}"
        if latest:
            latest_value = _item_value(latest.get("value"), item.metric)
            change = _item_change(latest.get("change"), item.metric) or "持平"
            note += f"，最新为{period_label(latest['period'])}的{latest_value}，{change}。"
        else:
            latest_value = "待统计"
            note += "；启动后尚无已结束的季度，整改后数据待统计。"
        rows.append({
            "id": item.id,
            "item": item.title,
            "metric": metric_name,
            "owner": item.owner,
            "due": item.due.isoformat(),
            "status": STATUS_ZH[item.status],
            "baseline": base_value,
            "latest": latest_value,
            "moved": MOVED_ZH.get(str(m.get("moved")), "待统计") if latest else "待统计",
            "note": note,
        })
    return rows


def _caption(before: str | None, after: str | None) -> str:
    if before and after:
        return f"下表对比整改前（{before}）与整改后（{after}）的相关指标："
    if before:
        return (f"下表列示整改前（{before}）的相关指标作为基线；整改后首个完整统计期间尚未结束，"
                "整改后数据待统计后报告：")
    return f"下表列示整改后（{after}）的相关指标："
