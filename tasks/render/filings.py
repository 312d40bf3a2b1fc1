"""The quarterly report and the annual self-inspection report (FILINGS.md §1, §2) from a figures dict."""

from __future__ import annotations

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
    signed_pct,
)
from .context import FiguresError, RenderContext, RenderResult

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
            "per_10k_insured": fmt.value("rates_by_business_line.life.per_10k_insured")
            if "life" in _as_map(figures.get("rates_by_business_line"))
            else "不适用",
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
    return {
        "category_rows": cats,
        "top5_text": top5_text,
        "category_share_total": "100.00%" if cats else DASH,
        "channel_rows": breakdown_rows(figures.get("by_channel"), total, "channel"),
        "product_rows": breakdown_rows(figures.get("by_product_line"), total, "product_line"),
        "branch_rows": breakdown_rows(figures.get("by_branch"), total, None, ctx.entity_names),
        "province_rows": breakdown_rows(figures.get("by_province"), total, None),
        "severity_rows": breakdown_rows(figures.get("by_severity"), total, "severity"),
    }


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
    return ordered[-8:]


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
    return {"tl": tl, "ftl": ftl, "compliance_rows": rows, "out": out, "rev": rev, "sat": sat}


def _major_rows(ctx: RenderContext) -> list[dict[str, str]]:
    frame = ctx.major_cases
    if frame is None or frame.empty:
        return []
    frame = frame.sort_values(["received_at", "complaint_id"]) if "received_at" in frame else frame
    n = len(frame)

    def col(name: str) -> pd.Series:
        return (
            frame[name] if name in frame.columns else pd.Series([None] * n, index=frame.index, dtype=object)
        )

    summary = col("summary").astype("str")
    if not may_unmask(ctx.role, ctx.unmask_roles):
        summary = mask_text(summary)
    received = (
        pd.Series(local_dates(pd.to_datetime(col("received_at")).astype("datetime64[us]")), index=frame.index)
        .astype(str)
        .replace("NaT", DASH)
    )
    amount = pd.to_numeric(col("amount_involved"), errors="coerce").map(lambda v: format_value(v, "money"))
    decided = pd.to_datetime(col("decided_at")).notna()
    closed = pd.to_datetime(col("closed_at")).notna()
    outcome = col("outcome").map(lambda c: OUTCOMES.get(str(c), "") if isinstance(c, str) else "")
    status = pd.Series("处理中", index=frame.index).mask(decided, "已作出处理决定")
    status = status.mask(closed, "已结案" + outcome.map(lambda o: f"（{o}）" if o else ""))
    rows = pd.DataFrame(
        {
            "id": col("complaint_id").astype(str),
            "received": received,
            "branch": col("branch_code").map(lambda c: code_label(str(c), None, ctx.entity_names)),
            "category": col("category").map(lambda c: CATEGORIES.get(str(c), str(c))),
            "amount": amount,
            "status": status,
            "summary": summary.fillna(DASH),
        }
    )
    return rows.to_dict("records")  # type: ignore[return-value]


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
    if annual and not (nar and nar.last_year_measures):
        incomplete.append(f"上年度改进措施落实情况：未提供（{file} 的 last_year_measures）")
    return {"problems": numbered(problems, findings_count + 1), "measures": numbered(measures)}, incomplete


def _quality(ctx: RenderContext) -> tuple[dict[str, Any], list[str]]:
    q = ctx.quality
    if q is None:
        return {"has_quality": False, "quality": {}}, ["数据质量说明：未提供质量校验结果"]
    failed = [{"check": str(c), "count": format_value(n, "count")} for c, n in q.failed_checks]
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
    earlier: list[str] = []
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
                earlier.append(f"{quarter}{name}的行业中位数取自最近一期即{source}的监管通报")
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
        texts.append(f"注：当季监管通报尚未公布的，{'；'.join(earlier)}。")
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
    return f"{p.year}年Q{p.index}" if p.kind == "quarter" else p.label_zh


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
    major_count = dig(figures, "counts.major_cases")
    values["major_listed_text"] = (
        f"（下表按涉及金额从高到低列示其中{len(values['major_rows'])}件，全部案件清单见本期证据包）"
        if is_number(major_count) and major_count != len(values["major_rows"])
        else ""
    )
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
        )
    return RenderResult(path, incomplete)


def _quarter_rows(
    fmt: Fmt, figures: Mapping[str, Any], ctx: RenderContext, period: Period
) -> list[dict[str, str]]:
    earlier = {str(t["period"]): t for t in ctx.trend}
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
        k: format_value(dig(yoy, f"{k}.previous"), "count") for k in ("cases", "valid_cases")
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
        )
    return RenderResult(path, incomplete)
