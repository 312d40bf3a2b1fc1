"""The quarterly report and the annual self-inspection report (FILINGS.md §1, §2) from a figures dict."""

from __future__ import annotations

import re
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from complaints.benchmarks import comparison, quarter_views
from complaints.figures.catalogue import CHANGE_METRICS, QUARTERS_ZH, label, lower_is_better, short_label
from complaints.findings import dig, findings, format_value, is_number
from complaints.ledger import BUSINESS_LINES, CATEGORIES, DEPARTMENTS, OUTCOMES, local_dates
from complaints.masking import mask_text, may_unmask
from complaints.periods import Period
from tasks.charts import category_bar_chart, trend_chart

from .common import (
    DASH,
    UNSPECIFIED,
    Fmt,
    base_context,
    breakdown_rows,
    change_text,
    code_label,
    date_zh,
    datetime_text,
    numbered,
    period_label,
    render_template,
    rule_versions,
    share,
    signed_pct,
)
from .context import FiguresError, RenderContext, RenderResult
from .rectification import rectification_rows

QUARTERLY_TEMPLATE = "quarterly_report.docx"
ANNUAL_TEMPLATE = "annual_self_inspection.docx"

# Top-level sections FIGURES.md always emits; a missing one is an error, never a silent blank.
REQUIRED_SECTIONS = (
    "period",
    "as_of",
    "counts",
    "by_category",
    "by_channel",
    "by_business_line",
    "by_product_line",
    "by_branch",
    "by_province",
    "by_severity",
    "issues_by_category",
    "rates",
    "rates_by_business_line",
    "timeliness",
    "forwarded_timeliness",
    "acknowledgement",
    "claims_3wd",
    "progress_logged_24h",
    "satisfaction",
    "outcomes",
    "reviews",
    "yoy",
)
REQUIRED_QUARTERLY = (*REQUIRED_SECTIONS, "qoq")
REQUIRED_ANNUAL = (*REQUIRED_SECTIONS, "by_quarter", "by_department")
REQUIRED_COUNTS = ("cases", "contacts", "valid_cases")

COMPLIANCE = (  # (figure key, name in the document, key of the "within" count)
    ("timeliness", "法定时限内作出处理决定", "on_time"),
    ("forwarded_timeliness", "监管转办投诉按时办结", "on_time"),
    ("acknowledgement", "1个工作日内确认收到投诉", "within"),
    ("claims_3wd", "理赔投诉3个工作日内处理", "within"),
    ("progress_logged_24h", "24小时内记录处理进度", "within"),
)


def check_figures(figures: Mapping[str, Any], required: Sequence[str], period_kind: str) -> Period:
    """Raise :class:`FiguresError` naming every missing required section; return the figures' period."""
    missing = [k for k in required if k not in figures]
    counts = figures.get("counts")
    if isinstance(counts, Mapping):
        missing += [f"counts.{k}" for k in REQUIRED_COUNTS if k not in counts]
    if missing:
        raise FiguresError(f"figures lack required sections: {', '.join(missing)}")
    try:
        period = Period.parse(str(figures["period"]))
    except ValueError as exc:
        raise FiguresError(f"figures period: {exc}") from exc
    if period.kind != period_kind:
        raise FiguresError(
            f"figures are for {period.code} ({period.kind}); this report needs a {period_kind}"
        )
    return period


def _check_ctx(ctx: RenderContext, period: Period) -> None:
    if ctx.period and Period.parse(ctx.period) != period:
        raise FiguresError(f"render context is for {ctx.period} but the figures are for {period.code}")


def _overview(fmt: Fmt, figures: Mapping[str, Any], annual: bool) -> dict[str, Any]:
    f = fmt
    n = {
        k: f.value(f"counts.{k}")
        for k in (
            "cases",
            "contacts",
            "valid_cases",
            "issues",
            "repeat_contacts",
            "escalated_cases",
            "regulator_forwarded_cases",
            "major_cases",
        )
    }
    chg = {
        "cases_qoq": change_text(dig(figures, "qoq.cases.change_pct")),
        "cases_yoy": change_text(dig(figures, "yoy.cases.change_pct")),
        "valid_qoq": change_text(dig(figures, "qoq.valid_cases.change_pct")),
        "valid_yoy": change_text(dig(figures, "yoy.valid_cases.change_pct")),
        "rate_yoy": change_text(dig(_as_map(figures.get("yoy")), "rates.per_100m_premium.change_pct")),
    }
    rows = []
    for key, current_key in CHANGE_METRICS.items():
        name, unit = label(current_key)
        row = {"name": name, "current": f.value(current_key)}
        for kind in ("qoq", "yoy"):
            block = _as_map(figures.get(kind))
            change = _as_map(dig(block, key))
            row[f"{kind}_prev"] = format_value(change.get("previous"), unit)
            row[f"{kind}_pct"] = signed_pct(change.get("change_pct"))
        rows.append(row)
    return {"n": n, "chg": chg, "change_rows": rows}


def _as_map(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _volume(fmt: Fmt, figures: Mapping[str, Any]) -> dict[str, Any]:
    vol = {k: fmt.value(f"rates.{k}") for k in ("per_100m_premium", "per_10k_policies", "complaint_rate_pct")}
    rows = [
        {
            "name": "全部业务",
            "cases": fmt.value("counts.cases"),
            **vol,
            # 万人次投诉量 is a life-only rate: the all-business row does not carry life's figure
            "per_10k_insured": "不适用",
        }
    ]
    by_line = _as_map(figures.get("rates_by_business_line"))
    for line in [*[c for c in BUSINESS_LINES if c in by_line], *sorted(set(by_line) - set(BUSINESS_LINES))]:
        prefix = f"rates_by_business_line.{line}"
        rows.append(
            {
                "name": BUSINESS_LINES.get(line, line),
                "cases": format_value(dig(figures, f"by_business_line.{line}") or 0, "count"),
                **{
                    k: fmt.value(f"{prefix}.{k}")
                    for k in ("per_100m_premium", "per_10k_policies", "complaint_rate_pct")
                },
                "per_10k_insured": fmt.value(f"{prefix}.per_10k_insured") if line == "life" else "不适用",
            }
        )
    return {"vol": vol, "volume_rows": rows}


def _distribution(figures: Mapping[str, Any], ctx: RenderContext) -> dict[str, Any]:
    total = dig(figures, "counts.cases")
    cats = breakdown_rows(figures.get("by_category"), total, "category")
    issues = _as_map(figures.get("issues_by_category"))
    for row in cats:
        row["issues"] = format_value(issues.get(row["code"], 0), "count")
    top = cats[:5]
    top5 = "、".join(f"{r['name']}（{r['cases']}件，占{r['share']}）" for r in top)
    top5_text = f"投诉量居前{len(top)}位的事由依次为：{top5}。" if top else "本期无投诉。"
    tables = {
        "channel": breakdown_rows(figures.get("by_channel"), total, "channel"),
        "product": breakdown_rows(figures.get("by_product_line"), total, "product_line"),
        "province": breakdown_rows(figures.get("by_province"), total, "province"),
        "severity": breakdown_rows(figures.get("by_severity"), total, "severity"),
    }
    out: dict[str, Any] = {
        "category_rows": cats,
        "top5_text": top5_text,
        "category_total": _total_row(cats, total),
        "issues_total": format_value(sum(_count(v) for v in issues.values()), "count"),
    }
    for name, rows in tables.items():
        out[f"{name}_rows"] = rows
        out[f"{name}_total"] = _total_row(rows, total)
    branch_rows, branch_total = _branch_rows(figures.get("by_branch"), total, ctx)
    out.update(branch_rows=branch_rows, branch_total=branch_total)
    out["category_share_total"] = out["category_total"]["share"]
    out.update(_root_cause_table(figures.get("by_root_cause"), total))
    return out


def _root_cause_table(mapping: Any, total: Any) -> dict[str, Any]:
    """The root-cause (溯源) table: names, cases having each cause, share of the period's cases, sorted by
    count; 合计 is the sum over causes (a case with several causes counts under each). No table when no
    case in the period records a cause (an older ledger, a source without the column)."""
    causes = _as_map(mapping)
    if not any(_count(n) for code, n in causes.items() if code != "unspecified"):
        return {"root_cause_rows": [], "root_cause_total": {"cases": DASH, "share": DASH}}
    rows = breakdown_rows(causes, total, "root_cause")
    for row in rows:
        if row["code"] == "unspecified":
            row["name"] = "未填写原因"
    # 未填写原因 last, whatever its count: it is not a cause
    rows.sort(key=lambda r: r["code"] == "unspecified")
    return {"root_cause_rows": rows, "root_cause_total": _total_row(rows, total)}


def _count(v: Any) -> float:
    return float(v) if is_number(v) else 0.0


def _total_row(rows: list[dict[str, str]], total: Any) -> dict[str, str]:
    """合计 of a distribution table: the sum of its rows (and its share of the period's cases)."""
    n = sum(_count(float(r["cases"].replace(",", ""))) for r in rows if r.get("level", 0) == 0)
    return {"cases": format_value(n, "count"), "share": share(n, total) if rows else DASH}


def _branch_rows(
    mapping: Any, total: Any, ctx: RenderContext
) -> tuple[list[dict[str, Any]], dict[str, str]]:
    """One row per reporting entity with the total of its province (the entity and its offices), then
    「其中」 rows for the entity itself and each office when it has offices; names, never codes."""
    if not isinstance(mapping, Mapping):
        return [], _total_row([], total)
    parents = ctx.office_parents
    entities = set(ctx.entity_names) - set(parents)

    def top(code: str) -> str:
        seen = set()
        while code in parents and code not in entities and code not in seen:
            seen.add(code)
            code = parents[code]
        return code

    groups: dict[str, dict[str, float]] = {}
    for code, n in mapping.items():
        if is_number(n) and n:
            groups.setdefault(top(str(code)), {})[str(code)] = float(n)
    ordered = sorted(groups.items(), key=lambda g: (-sum(g[1].values()), g[0]))
    rows: list[dict[str, Any]] = []
    for head, members in ordered:
        group_n = sum(members.values())
        has_offices = any(code != head for code in members)
        name = code_label(head, None, ctx.entity_names)
        rows.append(
            {
                "name": f"{name}（含下辖机构）" if has_offices else name,
                "cases": format_value(group_n, "count"),
                "share": share(group_n, total),
                "level": 0,
            }
        )
        if has_offices:
            for code, n in sorted(members.items(), key=lambda m: (m[0] != head, -m[1], m[0])):
                label_ = "本级" if code == head else code_label(code, None, ctx.entity_names)
                rows.append(
                    {
                        "name": f"　　其中：{label_}",
                        "cases": format_value(n, "count"),
                        "share": share(n, total),
                        "level": 1,
                    }
                )
    return rows, _total_row(rows, total)


def _trend(figures: Mapping[str, Any], ctx: RenderContext, period: Period) -> list[dict[str, Any]]:
    entries: dict[str, dict[str, Any]] = {}
    for item in ctx.trend:
        entries[str(item["period"])] = dict(item)
    if period.kind == "quarter":
        entries.setdefault(
            period.code,
            {
                "period": period.code,
                "cases": dig(figures, "counts.cases"),
                "valid_cases": dig(figures, "counts.valid_cases"),
            },
        )
    else:
        for q, p in zip(("Q1", "Q2", "Q3", "Q4"), period.quarters(), strict=True):
            block = _as_map(dig(figures, f"by_quarter.{q}"))
            if block:
                entries.setdefault(
                    p.code,
                    {"period": p.code, "cases": block.get("cases"), "valid_cases": block.get("valid_cases")},
                )
    ordered = sorted(entries.values(), key=lambda e: Period.parse(str(e["period"])))
    ordered = [
        e
        for e in ordered
        if Period.parse(str(e["period"])) <= (period if period.kind == "quarter" else period.quarters()[-1])
    ]
    ordered = ordered[-8:]
    # quarters before the data begins are no data, not quarters without complaints
    while ordered and not _count(ordered[0].get("cases")):
        ordered = ordered[1:]
    return ordered


def _trend_rows(trend: list[dict[str, Any]]) -> list[dict[str, str]]:
    return [
        {
            "label": Period.parse(str(t["period"])).label_zh,
            "cases": format_value(t.get("cases"), "count"),
            "valid_cases": format_value(t.get("valid_cases"), "count"),
        }
        for t in trend
    ]


def _handling(fmt: Fmt, ctx: RenderContext) -> dict[str, Any]:
    f = fmt
    tl = {
        k: f.value(f"timeliness.{k}")
        for k in ("on_time", "late", "pending", "overdue_open", "rate", "median_days", "mean_days")
    }
    ftl = {k: f.value(f"forwarded_timeliness.{k}") for k in ("on_time", "late", "pending", "rate")}
    rows = []
    for key, name, within in COMPLIANCE:
        target = ctx.targets.get(f"{key}.rate")
        rows.append(
            {
                "name": name,
                "within": f.value(f"{key}.{within}"),
                "late": f.value(f"{key}.late"),
                "pending": f.value(f"{key}.pending"),
                "rate": f.value(f"{key}.rate"),
                "target": format_value(target, "ratio") if target is not None else DASH,
            }
        )
    out = {k: f.value(f"outcomes.{k}") for k in ("decided", "upheld", "upheld_rate", "redress_total")}
    rev = {k: f.value(f"reviews.{k}") for k in ("requested", "decided_on_time")}
    sat = {k: f.value(f"satisfaction.{k}") for k in ("revisited", "satisfied", "not_reached", "rate")}
    # FIGURES.md: revisited counts cases with a result (满意/基本满意/不满意); not_reached are not among them
    sat_text = (
        f"本期对{sat['revisited']}件投诉完成回访，其中满意及基本满意{sat['satisfied']}件，"
        f"客户满意度为{sat['rate']}；另有{sat['not_reached']}件回访未联系上投诉人，未计入上述回访件数。"
    )
    return {
        "tl": tl,
        "ftl": ftl,
        "compliance_rows": rows,
        "out": out,
        "rev": rev,
        "sat": sat,
        "sat_text": sat_text,
        "open_texts": _open_texts(fmt, ctx),
        "forwarded_texts": _forwarded_texts(fmt, ctx),
    }


def _frame_col(frame: pd.DataFrame, name: str, default: Any = None) -> pd.Series:
    if name in frame.columns:
        return frame[name]
    return pd.Series([default] * len(frame), index=frame.index, dtype=object)


def _flag(frame: pd.DataFrame, name: str) -> pd.Series:
    return _frame_col(frame, name, False).fillna(False).astype(bool)


OPEN_REASONS = (  # (reason, test on the open cases' fields), first match wins
    ("已进入诉讼或仲裁程序", lambda f: _frame_col(f, "rejection_reason").eq("in_litigation")),
    ("经批准延长处理期限", lambda f: _frame_col(f, "complexity").eq("approved_extension")),
    (
        "待投诉人补充材料、处理时限中止计算",
        lambda f: pd.to_numeric(_frame_col(f, "clock_paused_days"), errors="coerce").fillna(0).gt(0)
        & pd.to_datetime(_frame_col(f, "clock_restarted_at")).isna(),
    ),
    ("案情复杂、仍在调查核实", lambda f: _frame_col(f, "complexity").eq("complex")),
    ("尚未确认收到（未完成登记确认）", lambda f: pd.to_datetime(_frame_col(f, "acknowledged_at")).isna()),
)


def _open_texts(fmt: Fmt, ctx: RenderContext) -> list[str]:
    """Why the cases without a decision are still open, by their status in the ledger."""
    frame = ctx.open_cases
    overdue = fmt.get("timeliness.overdue_open")
    if frame is None:
        return []
    if frame.empty:
        return ["截至统计时点，本期及以前各期受理的投诉均已作出处理决定。"]
    left = pd.Series(True, index=frame.index)
    parts = []
    for reason, test in OPEN_REASONS:
        hit = left & test(frame).fillna(False).astype(bool)
        if hit.any():
            parts.append(f"{reason}{int(hit.sum())}件")
        left &= ~hit
    if left.any():
        parts.append(f"已登记受理、正在处理中{int(left.sum())}件")
    text = (
        f"截至统计时点，本期及以前各期受理但尚未作出处理决定的投诉共{len(frame)}件，"
        f"其中{'，'.join(parts)}。"
    )
    if is_number(overdue) and overdue:
        text += f"上述投诉中已超过处理时限的{format_value(overdue, 'count')}件。"
    return [text]


def _forwarded_texts(fmt: Fmt, ctx: RenderContext) -> list[str]:
    """How the regulator-forwarded cases of the period were handled."""
    n = fmt.get("counts.regulator_forwarded_cases")
    if not is_number(n):
        return []
    if not n:
        return ["本期未收到监管部门转办的投诉。"]
    on_time, late, pending = (fmt.get(f"forwarded_timeliness.{k}") for k in ("on_time", "late", "pending"))
    text = f"本期收到监管部门转办投诉{format_value(n, 'count')}件。"
    if all(is_number(v) for v in (on_time, late, pending)):
        text += (
            f"其中应按规定时限考核的{format_value(on_time + late + pending, 'count')}件中，"
            f"按时办结{format_value(on_time, 'count')}件，超时办结{format_value(late, 'count')}件，"
            f"尚在处理时限内{format_value(pending, 'count')}件，"
            f"办理及时率为{fmt.value('forwarded_timeliness.rate')}。"
        )
    major = ctx.major_cases
    if major is not None and not major.empty and ctx.major_criteria.get("regulator_forwarded"):
        fwd = major[_flag(major, "regulator_forwarded")]
        rejected = ~_frame_col(fwd, "accepted", True).fillna(True).astype(bool)
        decided = pd.to_datetime(_frame_col(fwd, "decided_at")).notna() & ~rejected
        closed = pd.to_datetime(_frame_col(fwd, "closed_at")).notna()
        parts = [  # a partition of the period's forwarded cases: the parts add up to the count above
            ("不予受理", rejected),
            ("已作出处理决定", decided),
            ("未作出处理决定即结案（如投诉人撤诉）", ~rejected & ~decided & closed),
            ("尚在处理中", ~rejected & ~decided & ~closed),
        ]
        if len(fwd) == n:
            listed = "，".join(f"{name}{int(mask.sum())}件" for name, mask in parts if mask.any())
            text += f"按处理状态分，{listed}。"
    return [text]


PRIORITY = (  # the major-case list puts first what the regulator looks at (FILINGS.md)
    ("regulator_forwarded", "监管转办"),
    ("media_exposed", "媒体曝光"),
    ("group", "群体投诉"),
    ("undecided", "尚未办结"),
)


def _major_flags(frame: pd.DataFrame, ctx: RenderContext) -> pd.DataFrame:
    threshold = ctx.major_criteria.get("group_size_threshold") or 20
    size = pd.to_numeric(_frame_col(frame, "group_size"), errors="coerce").fillna(1)
    decided = pd.to_datetime(_frame_col(frame, "decided_at")).notna()
    closed = pd.to_datetime(_frame_col(frame, "closed_at")).notna()
    return pd.DataFrame(
        {
            "regulator_forwarded": _flag(frame, "regulator_forwarded"),
            "media_exposed": _flag(frame, "media_exposed"),
            "group": size >= threshold,
            "undecided": ~decided & ~closed,
        },
        index=frame.index,
    )


def major_rank(tags: str) -> int:
    """The list's group of a row from its 「重点情形」 cell: 0 forwarded … 3 undecided, 4 the rest."""
    for i, (_, name) in enumerate(PRIORITY):
        if name in tags:
            return i
    return len(PRIORITY)


def _major_selection(ctx: RenderContext) -> tuple[pd.DataFrame, pd.DataFrame]:
    """All major cases in the list's order, and their flags: by the first priority each one meets
    (forwarded, media, group, undecided), then by amount (largest first), then received, id."""
    frame = ctx.major_cases
    if frame is None or frame.empty:
        empty = pd.DataFrame()
        return empty, empty
    flags = _major_flags(frame, ctx)
    rank = _ranks(flags)
    order = pd.DataFrame(
        {
            "rank": rank,
            "amount": -pd.to_numeric(_frame_col(frame, "amount_involved"), errors="coerce").fillna(0),
            "received": pd.to_datetime(_frame_col(frame, "received_at")),
            "id": _frame_col(frame, "complaint_id").astype(str),
        },
        index=frame.index,
    ).sort_values(["rank", "amount", "received", "id"], kind="stable")
    return frame.loc[order.index], flags.loc[order.index]


def _ranks(flags: pd.DataFrame) -> pd.Series:
    rank = pd.Series(len(PRIORITY), index=flags.index)
    for i, (key, _) in reversed(list(enumerate(PRIORITY))):
        rank = rank.mask(flags[key], i)
    return rank


def _pick(frame: pd.DataFrame, flags: pd.DataFrame, limit: int) -> pd.Index:
    """Which cases the list shows: the groups (forwarded, media, group, undecided, the rest) take turns,
    each giving its next largest case, so no group is crowded out by another; in the list's order."""
    rank = _ranks(flags)
    queues = [list(frame.index[rank.to_numpy() == g]) for g in range(len(PRIORITY) + 1)]
    chosen: set[Any] = set()
    while len(chosen) < limit and any(queues):
        for queue in queues:
            if queue and len(chosen) < limit:
                chosen.add(queue.pop(0))
    return pd.Index([i for i in frame.index if i in chosen])


def _major_rows(ctx: RenderContext) -> list[dict[str, str]]:
    frame, flags = _major_selection(ctx)
    if frame.empty:
        return []
    frame = frame.loc[_pick(frame, flags, max(ctx.major_cases_listed, 0))]
    flags = flags.loc[frame.index]
    n = len(frame)

    def col(name: str) -> pd.Series:
        return (
            frame[name] if name in frame.columns else pd.Series([None] * n, index=frame.index, dtype=object)
        )

    summary = col("summary").astype("str")
    if not may_unmask(ctx.role, ctx.unmask_roles):
        summary = mask_text(summary)
    received = pd.Series(
        local_dates(pd.to_datetime(col("received_at")).astype("datetime64[us]")), index=frame.index
    ).map(lambda d: f"{d.month}月{d.day}日" if pd.notna(d) else DASH)
    amount = pd.to_numeric(col("amount_involved"), errors="coerce").map(lambda v: format_value(v, "money"))
    decided = pd.to_datetime(col("decided_at")).notna()
    closed = pd.to_datetime(col("closed_at")).notna()
    outcome = col("outcome").map(lambda c: OUTCOMES.get(str(c), "") if isinstance(c, str) else "")
    status = pd.Series("处理中", index=frame.index).mask(decided, "已作出处理决定")
    status = status.mask(closed, "已结案" + outcome.map(lambda o: f"（{o}）" if o else ""))
    rejected = ~_frame_col(frame, "accepted", True).fillna(True).astype(bool)
    status = status.mask(rejected, "不予受理")
    tags = flags.apply(lambda r: "、".join(name for key, name in PRIORITY if r[key]) or DASH, axis=1)
    rows = pd.DataFrame(
        {
            "id": col("complaint_id").astype(str),
            "received": received,
            "branch": col("branch_code").map(lambda c: code_label(str(c), None, ctx.entity_names)),
            "category": col("category").map(lambda c: CATEGORIES.get(str(c), str(c))),
            "amount": amount,
            "tags": tags,
            "status": status,
            "summary": summary.fillna(DASH),
        }
    )
    rows["summary"] = "【" + rows["category"] + "】" + rows["summary"]
    return rows.to_dict("records")  # type: ignore[return-value]


def _criteria_text(criteria: Mapping[str, Any]) -> str:
    parts = []
    if criteria.get("severity_major"):
        parts.append("受理时定级为重大")
    amount = criteria.get("amount_threshold")
    if is_number(amount):
        parts.append(f"涉及金额{format_value(amount / 10000, 'number').rstrip('0').rstrip('.')}万元及以上")
    if criteria.get("media_exposed"):
        parts.append("经媒体曝光")
    group = criteria.get("group_size_threshold")
    if is_number(group):
        parts.append(f"投诉人数{int(group)}人及以上的群体投诉")
    if criteria.get("regulator_forwarded"):
        parts.append("监管部门转办")
    return "、".join(parts)


def _major_texts(
    figures: Mapping[str, Any], ctx: RenderContext, rows: list[dict[str, str]]
) -> dict[str, Any]:
    """The section's sentences: what 重大投诉 means here (and how it differs from the severity table's
    重大投诉件), how the list is ordered and how many it leaves out, and the group complaints."""
    count = dig(figures, "counts.major_cases")
    severity_major = dig(figures, "by_severity.major")
    criteria = _criteria_text(ctx.major_criteria)
    texts = []
    if criteria and is_number(count) and count:
        text = (
            f"本报告所称重大投诉，是指符合{criteria}任一情形的投诉，"
            f"本期共{format_value(count, 'count')}件。"
        )
        if is_number(severity_major):
            text += (
                f"第三部分“按投诉级别”表中的“重大投诉件”{format_value(severity_major, 'count')}件"
                "仅指受理时定级为重大的投诉，是上述重大投诉的一部分，二者口径不同。"
            )
        texts.append(text)
    intro = ""
    if rows:
        left_out = (int(count) - len(rows)) if is_number(count) else 0
        frame, flags = _major_selection(ctx)
        rank = _ranks(flags)
        shown = pd.Series([major_rank(r["tags"]) for r in rows]).value_counts()
        groups = [name for _, name in PRIORITY] + ["其他"]
        parts = [
            f"{groups[g]}{int((rank == g).sum())}件（列示{int(shown.get(g, 0))}件）"
            for g in range(len(groups))
            if (rank == g).any()
        ]
        intro = (
            f"下表列示其中{len(rows)}件：按监管转办、媒体曝光、群体投诉、尚未办结、其他的顺序分类列示"
            "（同时符合多种情形的，归入排序在前的一类），各类轮流按涉及金额从高到低选取，"
            f"类内按涉及金额从高到低排列。各类件数为{'、'.join(parts)}"
            + (f"；其余{left_out}件未列示，清单可应监管部门要求另行报送" if left_out > 0 else "")
            + "。投诉人个人信息已脱敏："
        )
    return {"major_texts": texts, "major_intro": intro, "group_texts": _group_texts(ctx)}


def _group_texts(ctx: RenderContext) -> list[str]:
    threshold = ctx.major_criteria.get("group_size_threshold")
    frame = ctx.major_cases
    if not is_number(threshold) or frame is None:
        return []
    size = pd.to_numeric(_frame_col(frame, "group_size"), errors="coerce").fillna(1)
    group = frame[size >= threshold]
    if group.empty:
        return [f"本期未发生投诉人数{int(threshold)}人及以上的群体投诉。"]
    decided = pd.to_datetime(_frame_col(group, "decided_at")).notna() | pd.to_datetime(
        _frame_col(group, "closed_at")
    ).notna()
    cats = (
        group["category"].map(lambda c: CATEGORIES.get(str(c), str(c))).value_counts()
        if "category" in group
        else None
    )
    by_cat = "、".join(f"{c}{n}件" for c, n in cats.items()) if cats is not None else ""
    return [
        f"本期发生投诉人数{int(threshold)}人及以上的群体投诉{len(group)}件，涉及投诉人{int(size[group.index].sum())}人"
        + (f"，按事由分为{by_cat}" if by_cat else "")
        + f"；已作出处理决定{int(decided.sum())}件，尚在处理中{int((~decided).sum())}件。"
    ]


def _narrative(ctx: RenderContext, findings_count: int, annual: bool) -> tuple[dict[str, Any], list[str]]:
    nar = ctx.narrative
    file = ctx.narrative_file or f"narratives/{ctx.period}.yaml"
    incomplete = []
    problems = list(nar.problems) if nar else []
    measures = list(nar.measures) if nar else []
    if not problems:
        incomplete.append(f"存在的问题：未提供人工撰写的分析（{file} 的 problems）")
    if not measures:
        incomplete.append(f"改进措施：未提供（{file} 的 measures）")
    # the configured rectification items (measured, in their own table) also answer it
    if annual and not (nar and nar.last_year_measures) and not ctx.rectification:
        incomplete.append(f"上年度改进措施落实情况：未提供（{file} 的 last_year_measures）")
    typical = list(nar.typical_cases) if nar else []
    suggestions = list(nar.suggestions) if nar else []
    if not annual:
        if not typical:
            incomplete.append(f"典型案例：未提供（{file} 的 typical_cases）")
        if not suggestions:
            incomplete.append(f"意见和建议：未提供（{file} 的 suggestions）")
    return {
        "problems": numbered(problems, findings_count + 1),
        "measures": numbered(measures),
        "typical_cases": numbered(typical),
        "suggestions": numbered(suggestions),
    }, incomplete


_CHECK_ID = re.compile(r"^[A-Z]{1,4}\d{2,4}\s+")
_COLUMN_NAME = re.compile(r"\s*[(（][A-Za-z_][A-Za-z0-9_.]*[)）]")


def _check_zh(check: str) -> str:
    """A failed check as the annex prints it: its Chinese description, without the rule id or the
    ledger's column names (「L002 必填项“机构代码”(entity_code)不得为空」 → 「必填项“机构代码”不得为空」)."""
    text = _COLUMN_NAME.sub("", _CHECK_ID.sub("", check)).strip()
    return text if text and not re.search(r"[A-Za-z]{3,}", text) else "数据校验规则（详见质量校验结果）"


def _quality(ctx: RenderContext) -> tuple[dict[str, Any], list[str]]:
    q = ctx.quality
    if q is None:
        return {"has_quality": False, "quality": {}}, ["数据质量说明：未提供质量校验结果"]
    failed = [{"check": _check_zh(str(c)), "count": format_value(n, "count")} for c, n in q.failed_checks]
    # the templates print one statement of accepted risk; an acknowledged empty period is one
    statements = [q.accept_risk or ""]
    if q.accept_empty:
        statements.append(f"本期数据源未提供任何投诉记录（0件），经确认报送：{q.accept_empty}")
    return {
        "has_quality": True,
        "quality": {
            "read": format_value(q.rows_read, "count"),
            "accepted": format_value(q.rows_accepted, "count"),
            "quarantined": format_value(q.rows_quarantined, "count"),
            "checks_run": format_value(q.checks_run, "count"),
            "checks_failed": format_value(len(failed), "count"),
            "failed_rows": failed,
            "accept_risk": "；".join(s for s in statements if s),
        },
    }, []


# -- 与行业对比（按监管口径测算）: the regulator-basis rates against the bulletin's segment medians ------
LINE_NAMES = {"property": "财产保险", "life": "人身保险"}
NO_BENCHMARK = "本期无可比的监管通报参考数据，暂不作行业对比。"


def _benchmark(figures: Mapping[str, Any]) -> dict[str, Any]:
    """The section's rows (one per business line × rate with a median) and one sentence per line.

    Everything printed is Chinese: the figures' own ``bulletin`` text and notes are English and stay
    in the figures; the sentence is rebuilt here from the medians' periods.
    """
    view = comparison(figures)
    if not view["covered"]:
        return {"bench_covered": False, "bench_rows": [], "bench_texts": [NO_BENCHMARK]}
    period = str(figures.get("period") or "")
    rows: list[dict[str, str]] = []
    texts: list[str] = []
    for line in filter(_has_business, view["lines"]):
        name = LINE_NAMES[line["line"]]
        forwarded = line["forwarded"]
        head = (
            f"{name}：本期监管转送投诉{format_value(forwarded, 'count')}件" if is_number(forwarded) else name
        )
        rated = [r for r in line["rates"] if is_number(r["median"])]
        if not rated:
            texts.append(f"{head}；无可比的监管通报中位数，本条线暂不作行业对比。")
        for r in rated:
            above = r["above_median"]
            rows.append(
                {
                    "line": name,
                    "rate": r["label"],
                    "value": format_value(r["value"], "number"),
                    "median": format_value(r["median"], "number"),
                    "median_period": period_label(str(r["median_period"])) if r["median_period"] else DASH,
                    "ratio": format_value(r["ratio"], "number"),
                    "above": DASH if above is None else ("是" if above else "否"),
                }
            )
        if rated:
            texts.append(_benchmark_text(head, rated, period))
        breakdown = _bulletin_breakdown(line)
        if breakdown:
            texts.append(breakdown)
    if not rows and not texts:  # only a line the company does not write had a median
        return {"bench_covered": False, "bench_rows": [], "bench_texts": [NO_BENCHMARK]}
    return {"bench_covered": True, "bench_rows": rows, "bench_texts": texts}


def _has_business(line: Mapping[str, Any]) -> bool:
    """A line the company writes: something was forwarded or a rate has a business volume. A life insurer
    has no property line (and is not ranked in that segment): nothing about it is printed."""
    return bool(line["forwarded"]) or any(is_number(r["value"]) for r in line["rates"])


YEAR_BY_QUARTER = "监管通报未公布全年的行业中位数，本年度不作全年对比，按季度对比如下。"
NO_QUARTER_BENCHMARK = "本年度各季度均无可比的监管通报参考数据，暂不按季度对比。"


def _benchmark_by_quarter(figures: Mapping[str, Any]) -> dict[str, Any]:
    """The annual report's comparison quarter by quarter (bulletins are quarterly): one row per quarter ×
    line × rate with a median, and per line one sentence naming the quarters above the median, those
    below and those without a bulletin; a quarter compared with an earlier bulletin says which."""
    rows: list[dict[str, str]] = []
    above: dict[str, list[str]] = {}
    below: dict[str, list[str]] = {}
    missing: dict[str, list[str]] = {}
    earlier: dict[tuple[str, str], list[str]] = {}  # (line, bulletins used) -> quarters
    for code, view in quarter_views(figures):
        quarter = QUARTERS_ZH[code[-2:]]
        for line in filter(_has_business, comparison(view)["lines"]):
            name = LINE_NAMES[line["line"]]
            rated = [r for r in line["rates"] if is_number(r["median"])]
            if not rated:
                missing.setdefault(name, []).append(quarter)
                continue
            for r in rated:
                flag = r["above_median"]
                rows.append(
                    {
                        "quarter": quarter,
                        "line": name,
                        "rate": r["label"],
                        "value": format_value(r["value"], "number"),
                        "median": format_value(r["median"], "number"),
                        "ratio": format_value(r["ratio"], "number"),
                        "above": DASH if flag is None else ("是" if flag else "否"),
                    }
                )
            hits = [r["label"] for r in rated if r["above_median"]]
            if hits:
                above.setdefault(name, []).append(f"{quarter}（{'、'.join(hits)}）")
            elif any(r["above_median"] is not None for r in rated):
                below.setdefault(name, []).append(quarter)
            else:
                missing.setdefault(name, []).append(quarter)
            used = sorted({str(r["median_period"]) for r in rated} - {code})
            if used:
                source = "、".join(period_label(p) for p in used)
                earlier.setdefault((name, source), []).append(quarter)
    if not rows:
        return {"bench_q_rows": [], "bench_q_texts": [NO_QUARTER_BENCHMARK] if quarter_views(figures) else []}
    texts = []
    for name in LINE_NAMES.values():
        parts = []
        if name in above:
            parts.append(f"{'、'.join(above[name])}高于行业中位数")
        if name in below:
            parts.append(f"{'、'.join(below[name])}各项指标均未高于行业中位数")
        if name in missing:
            parts.append(f"{'、'.join(missing[name])}无可比的行业中位数或无法按监管口径测算")
        if name in above or name in below:
            texts.append(f"{name}按季度对比：{'；'.join(parts)}。")
    if earlier:
        said = [f"{'各季度' if len(quarters) == 4 else '、'.join(quarters)}{name}的行业中位数取自最近一期即"
                f"{source}的监管通报"
                for (name, source), quarters in earlier.items()]
        texts.append(f"注：当季监管通报尚未公布，{'；'.join(said)}。")
    return {"bench_q_rows": rows, "bench_q_texts": texts}


def _benchmark_text(head: str, rated: list[dict[str, Any]], period: str) -> str:
    periods = sorted({str(r["median_period"]) for r in rated})
    source = "、".join(period_label(p) for p in periods)
    if periods == [period]:
        used = f"行业中位数取自{source}监管通报"
    else:
        used = f"本期监管通报尚无相应数据，行业中位数取自最近一期即{source}的监管通报"
    known = [r for r in rated if r["above_median"] is not None]
    above = [r["label"] for r in known if r["above_median"]]
    if not known:
        verdict = "本公司各项指标均无法按监管口径测算，暂不作比较"
    elif above:
        verdict = f"按监管口径测算的{len(known)}项指标中，{'、'.join(above)}高于行业中位数"
    else:
        verdict = f"按监管口径测算的{len(known)}项指标均未高于行业中位数"
    unknown = [r["label"] for r in rated if r["above_median"] is None]
    if unknown and known:
        verdict += f"（{'、'.join(unknown)}因缺少业务量数据无法测算）"
    binding = next((r for r in rated if r["binding"]), None)
    tail = ""
    if binding is not None and is_number(binding["ratio"]):
        times = format_value(binding["ratio"], "number")
        tail = f"；排名最不利的指标为{binding['label']}，为中位数的{times}倍"
    return f"{head}，{used}；{verdict}{tail}。"


def _bulletin_breakdown(line: Mapping[str, Any]) -> str:
    parts = []
    for title, items in (("事由", line["issues"]), ("险种", line["products"])):
        if items:
            listed = "、".join(
                f"{x['term']}{format_value(x['count'], 'count')}件（占{format_value(x['share'], 'ratio')}）"
                for x in items
            )
            parts.append(f"按通报{title}分，{listed}")
    return f"{LINE_NAMES[line['line']]}监管转送投诉{'；'.join(parts)}。" if parts else ""


def _charts(
    values: dict[str, Any], trend: list[dict[str, Any]], tmp: Path, period_label: str
) -> dict[str, Path | None]:
    cats = [(r["name"], int(r["cases"])) for r in values["category_rows"]]
    images: dict[str, Path | None] = {"category_chart": None, "trend_chart": None}
    if cats:
        images["category_chart"] = category_bar_chart(cats, tmp / "category_chart.png", None)
    if len(trend) >= 2:
        points = [
            {
                "period": t["period"],
                "label": _short(str(t["period"])),
                "cases": _int(t.get("cases")),
                "valid_cases": _int(t.get("valid_cases")),
            }
            for t in trend
        ]
        images["trend_chart"] = trend_chart(points, tmp / "trend_chart.png", None)
    return images


def _short(code: str) -> str:
    p = Period.parse(code)
    # Chinese on the chart too (it is read as part of the document): 「2025年\n一季度」
    return f"{p.year}年\n{'一二三四'[p.index - 1]}季度" if p.kind == "quarter" else p.label_zh


def _int(v: Any) -> int | None:
    return int(v) if is_number(v) else None


def _common(
    figures: Mapping[str, Any], ctx: RenderContext, period: Period, annual: bool
) -> tuple[dict[str, Any], Fmt, list[str], list[dict[str, Any]]]:
    fmt = Fmt(figures)
    values = base_context(ctx, period.label_zh)
    values.update(
        as_of_text=datetime_text(figures.get("as_of")),
        rule_versions=rule_versions(figures),
        period_end_text=date_zh(period.last_day),
    )
    values.update(_overview(fmt, figures, annual))
    values["notes_overview"] = fmt.take_notes()
    values.update(_volume(fmt, figures))
    values["notes_volume"] = fmt.take_notes()
    values.update(_distribution(figures, ctx))
    trend = _trend(figures, ctx, period)
    values.update(trend_rows=_trend_rows(trend), trend_count=len(trend))
    values.update(_handling(fmt, ctx))
    found = findings(figures, ctx.targets, ctx.worsening_threshold_pct)
    values["findings"] = numbered([f.text for f in found])
    narrative, incomplete = _narrative(ctx, len(found), annual)
    values.update(narrative)
    quality, missing_quality = _quality(ctx)
    values.update(quality)
    incomplete += missing_quality
    return values, fmt, incomplete, trend


def render_quarterly(figures: Mapping[str, Any], ctx: RenderContext, out: Path) -> RenderResult:
    """Render 《…季度保险消费投诉处理工作情况报告》 to ``out`` (a .docx path)."""
    period = check_figures(figures, REQUIRED_QUARTERLY, "quarter")
    _check_ctx(ctx, period)
    values, fmt, incomplete, trend = _common(figures, ctx, period, annual=False)
    values["notes_handling"] = fmt.take_notes()
    values.update(_benchmark(figures))
    values["major_rows"] = _major_rows(ctx)
    values.update(_major_texts(figures, ctx, values["major_rows"]))
    values["all_notes"] = fmt.all_notes()
    with tempfile.TemporaryDirectory(prefix="charts-") as tmp:
        images = _charts(values, trend, Path(tmp), period.label_zh)
        path = render_template(
            QUARTERLY_TEMPLATE,
            values,
            images,
            ctx,
            Path(out),
            f"{ctx.institution}{period.label_zh}保险消费投诉处理工作情况报告",
            keep_closing=True,
        )
    return RenderResult(path, incomplete)


def _quarter_rows(
    fmt: Fmt, figures: Mapping[str, Any], ctx: RenderContext, period: Period
) -> list[dict[str, str]]:
    earlier = {str(t["period"]): t for t in ctx.trend}
    # a previous year without any case in the data is no data (「同比无可比数据」), not a year of zeros
    if not any(_count(earlier.get(f"{period.year - 1}Q{i}", {}).get("cases")) for i in range(1, 5)):
        earlier = {}
    rows = []
    for i, q in enumerate(("Q1", "Q2", "Q3", "Q4"), start=1):
        block = _as_map(dig(figures, f"by_quarter.{q}"))
        prev = earlier.get(f"{period.year - 1}Q{i}", {})
        rows.append(
            {
                "label": QUARTERS_ZH[q],
                "cases": fmt.number(block.get("cases"), "count", f"by_quarter.{q}.cases"),
                "prev_cases": format_value(prev.get("cases"), "count"),
                "valid_cases": fmt.number(block.get("valid_cases"), "count", f"by_quarter.{q}.valid_cases"),
                "prev_valid": format_value(prev.get("valid_cases"), "count"),
                "timeliness": fmt.number(
                    dig(block, "timeliness.rate"), "ratio", f"by_quarter.{q}.timeliness.rate"
                ),
                "satisfaction": fmt.number(
                    dig(block, "satisfaction.rate"), "ratio", f"by_quarter.{q}.satisfaction.rate"
                ),
            }
        )
    return rows


def _execution_rows(fmt: Fmt, ctx: RenderContext) -> list[dict[str, str]]:
    rows = []
    for key, name, within_key in (COMPLIANCE[2], COMPLIANCE[0], COMPLIANCE[3], COMPLIANCE[4], COMPLIANCE[1]):
        within, late, pending = (fmt.get(f"{key}.{k}") for k in (within_key, "late", "pending"))
        rate = fmt.get(f"{key}.rate")
        target = ctx.targets.get(f"{key}.rate")
        detail = (
            f"{format_value(within, 'count')}/{format_value(within + late, 'count')}"
            if is_number(within) and is_number(late)
            else DASH
        )
        rows.append(
            {
                "name": name,
                "detail": detail,
                "pending": format_value(pending, "count"),
                "rate": fmt.value(f"{key}.rate"),
                "target": format_value(target, "ratio") if target is not None else DASH,
                "status": _verdict(rate, target, higher_better=True),
            }
        )
    requested, on_time = fmt.get("reviews.requested"), fmt.get("reviews.decided_on_time")
    review_rate = on_time / requested if is_number(requested) and requested and is_number(on_time) else None
    rows.append(
        {
            "name": "核查申请30日内作出核查决定",
            "detail": (
                f"{format_value(on_time, 'count')}/{format_value(requested, 'count')}"
                if is_number(requested) and is_number(on_time)
                else DASH
            ),
            "pending": DASH,
            "rate": format_value(review_rate, "ratio"),
            "target": format_value(1.0, "ratio"),
            "status": "无核查申请" if requested == 0 else _verdict(review_rate, 1.0, higher_better=True),
        }
    )
    return rows


def _verdict(value: Any, target: float | None, *, higher_better: bool) -> str:
    if not is_number(value):
        return "无法评估"
    if target is None:
        return "未设目标"
    ok = value >= target if higher_better else value <= target
    return "达标" if ok else "未达标"


def _dept_rows(fmt: Fmt, figures: Mapping[str, Any], ctx: RenderContext) -> list[dict[str, str]]:
    depts = _as_map(figures.get("by_department"))
    t_tl, t_sat = (
        ctx.department_targets.get("timeliness.rate"),
        ctx.department_targets.get("satisfaction.rate"),
    )
    rows = []
    order = list(DEPARTMENTS)
    n_tl, n_sat = short_label("timeliness.rate"), short_label("satisfaction.rate")

    def sort_key(d: str) -> tuple[float, int, str]:
        cases: Any = _as_map(depts[d]).get("cases")
        return (-float(cases) if is_number(cases) else 0.0, order.index(d) if d in order else len(order), d)

    for dept in sorted(depts, key=sort_key):
        block = _as_map(depts[dept])
        tl, sat = dig(block, "timeliness.rate"), dig(block, "satisfaction.rate")
        flags = _as_map(block.get("flags"))
        bonus = block.get("bonus", flags.get("bonus"))
        verdicts = _as_map(
            block.get("targets")
        )  # figures.py: {"timeliness.rate": "beats"|"meets"|"misses"|None}
        if verdicts:
            missed = [short_label(k) for k, v in verdicts.items() if v == "misses"]
        else:
            missed = [
                name
                for value, target, name in ((tl, t_tl, n_tl), (sat, t_sat, n_sat))
                if is_number(value) and target is not None and value < target
            ]
        unknown = [name for value, name in ((tl, n_tl), (sat, n_sat)) if not is_number(value)]
        if dept in UNSPECIFIED:
            result = "未指定责任部门，不纳入考核"
        elif bonus == "up" or (bonus is None and not missed and not unknown and (t_tl or t_sat)):
            result = "达标，建议上浮"
        elif bonus == "down" or (bonus is None and missed):
            result = f"{'、'.join(missed) or '指标'}未达标，建议下浮"
        elif unknown:
            result = f"{'、'.join(unknown)}无数据，不予调整"
        else:
            result = "持平"
        rows.append(
            {
                "name": code_label(dept, "responsible_dept"),
                "cases": fmt.number(block.get("cases"), "count", f"by_department.{dept}.cases"),
                "timeliness": fmt.number(tl, "ratio", f"by_department.{dept}.timeliness.rate"),
                "satisfaction": fmt.number(sat, "ratio", f"by_department.{dept}.satisfaction.rate"),
                "result": result,
            }
        )
    return rows


def _last_year_rows(figures: Mapping[str, Any], ctx: RenderContext) -> list[dict[str, str]]:
    rows = []
    for item in ctx.narrative.last_year_measures if ctx.narrative else ():
        key = item.get("figure")
        if not key:
            rows.append(
                {"measure": item["measure"], "figure": DASH, "before": DASH, "after": DASH, "moved": DASH}
            )
            continue
        name, unit = label(key)
        after = dig(figures, key)
        before = dig(ctx.previous_figures, key) if ctx.previous_figures else None
        if before is None:
            short = key.removeprefix("counts.")
            before = dig(_as_map(dig(_as_map(figures.get("yoy")), short)), "previous")
        moved = DASH
        if is_number(before) and is_number(after):
            better = after < before if lower_is_better(key) else after > before
            moved = "持平" if after == before else ("改善" if better else "未改善")
        rows.append(
            {
                "measure": item["measure"],
                "figure": name,
                "before": format_value(before, unit),
                "after": format_value(after, unit),
                "moved": moved,
            }
        )
    return rows


def render_annual(figures: Mapping[str, Any], ctx: RenderContext, out: Path) -> RenderResult:
    """Render 《…年度保险消费投诉处理工作自查报告》 to ``out`` (a .docx path)."""
    period = check_figures(figures, REQUIRED_ANNUAL, "year")
    _check_ctx(ctx, period)
    values, fmt, incomplete, trend = _common(figures, ctx, period, annual=True)
    values["quarter_rows"] = _quarter_rows(fmt, figures, ctx, period)
    yoy = _as_map(figures.get("yoy"))
    values["prev_year"] = {
        k: format_value(dig(yoy, f"{k}.previous") or None, "count") for k in ("cases", "valid_cases")
    }
    values["notes_overview"] = values["notes_overview"] + fmt.take_notes()
    values["execution_rows"] = _execution_rows(fmt, ctx)
    values["rules_rows"] = [
        {
            "no": str(i),
            "name": r.get("name", ""),
            "effective_from": r.get("effective_from", ""),
            "source": {"regulation": "监管规定", "internal": "公司制度"}.get(
                r.get("source", ""), r.get("source", "")
            ),
        }
        for i, r in enumerate(ctx.rules_in_force, 1)
    ]
    if not values["rules_rows"]:
        incomplete.append("制度建设情况：配置中未列明现行制度（rules_in_force）")
    values["notes_handling"] = fmt.take_notes()
    values["dept_rows"] = _dept_rows(fmt, figures, ctx)
    values["notes_dept"] = fmt.take_notes()
    values["dept_targets"] = {
        "timeliness": format_value(ctx.department_targets.get("timeliness.rate"), "ratio"),
        "satisfaction": format_value(ctx.department_targets.get("satisfaction.rate"), "ratio"),
    }
    values["last_year_rows"] = _last_year_rows(figures, ctx)
    values["rectification_rows"] = rectification_rows(ctx.rectification, ctx.entity_names)
    values["rectification_notes"] = [r["note"] for r in values["rectification_rows"]]
    values.update(_benchmark(figures))
    values.update(_benchmark_by_quarter(figures))
    if not values["bench_covered"] and values["bench_q_rows"]:
        values["bench_texts"] = [YEAR_BY_QUARTER]
    values["all_notes"] = fmt.all_notes()
    with tempfile.TemporaryDirectory(prefix="charts-") as tmp:
        images = _charts(values, trend, Path(tmp), period.label_zh)
        path = render_template(
            ANNUAL_TEMPLATE,
            values,
            images,
            ctx,
            Path(out),
            f"{ctx.institution}{period.label_zh}保险消费投诉处理工作自查报告",
            keep_closing=True,
        )
    return RenderResult(path, incomplete)
