"""Written report on one regulator-forwarded complaint (FILINGS.md §3; 2013 rule art. 35)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pandas as pd

from complaints.calendar import WorkCalendar
from complaints.findings import format_value
from complaints.ledger import (
    BUSINESS_LINES,
    CATEGORIES,
    CHANNELS,
    EVENT_KINDS,
    OUTCOMES,
    PRODUCT_LINES,
    SATISFACTION,
    SEVERITIES,
    normalize,
)
from complaints.masking import mask_policy_no, mask_text, may_unmask
from complaints.rules import DECISION, Rulebooks, decision_due_dates
from tasks.calendar_files import load_calendar
from tasks.rulebooks import load_rulebooks

from .common import DASH, base_context, code_label, date_zh, period_label, render_template, safe_filename
from .context import RenderContext

FORWARDED_TEMPLATE = "forwarded_case_report.docx"
COMPLEXITY_TEXT = {"complex": "（情况复杂）", "approved_extension": "（情况特别复杂，经批准延长）"}


def _get(case: pd.Series, name: str) -> Any:
    value = case.get(name)
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return None
    return value


def _flag(case: pd.Series, name: str) -> bool | None:
    value = _get(case, name)
    return None if value is None else bool(value)


def _date(value: Any) -> dt.date | None:
    if value is None:
        return None
    ts = pd.Timestamp(value)
    return None if pd.isna(ts) else ts.date()


def _date_text(value: Any) -> str:
    d = _date(value)
    return date_zh(d) if d else DASH


def due_date(
    case: pd.Series, calendar: WorkCalendar, rulebooks: Rulebooks
) -> tuple[dt.date | None, str, str, dt.date | None]:
    """(due date, rule name, limit text, clock start) under the rule set governing the case.

    The same rulebooks and code as the figures (``complaints.rules.decision_due_dates``); a ``due_date``
    column set by the forwarding office, when present, wins.
    """
    frame = normalize(pd.DataFrame([case]))
    due = decision_due_dates(frame, rulebooks, calendar)
    start = _date(_get(case, "clock_restarted_at")) or _date(_get(case, "received_at"))
    given = _date(_get(case, "due_date"))
    index = int(due.rule_index[0])
    if index < 0:
        return given, DASH, DASH, start
    rule = due.rule_sets[index]
    clock = rule.clocks[DECISION]
    complexity = str(_get(case, "complexity") or clock.default_complexity or "simple")
    limit = clock.limits.get(complexity) or next(iter(clock.limits.values()))
    paused = int(_get(case, "clock_paused_days") or 0)
    unit = "个工作日" if limit.unit == "working" else "日"
    text = f"{limit.amount}{unit}{COMPLEXITY_TEXT.get(complexity, '')}"
    if paused:
        text += f"，另扣除不计入处理期限的{paused}日"
    computed = _date(due.due[0])
    return given or computed, f"《{rule.name}》（{rule.document}）{clock.citation}", text, start


def _timing(
    case: pd.Series, ctx: RenderContext, calendar: WorkCalendar, rulebooks: Rulebooks
) -> dict[str, str]:
    due, rule, limit, start = due_date(case, calendar, rulebooks)
    decided = _date(_get(case, "decided_at"))
    today = ctx.generated_at.date()
    taken = f"{(decided - start).days}日（自然日）" if decided and start else DASH
    if due is None:
        verdict = "无法确定（缺少工作日历或起算日期）"
    elif decided:
        verdict = "是" if decided <= due else f"否，超出{(decided - due).days}日"
    elif due >= today:
        verdict = f"尚未作出处理决定，距应办结日期尚余{(due - today).days}日"
    else:
        verdict = f"尚未作出处理决定，已超出应办结日期{(today - due).days}日"
    return {
        "rule": rule,
        "start": date_zh(start) if start else DASH,
        "limit": limit,
        "due": date_zh(due) if due else DASH,
        "decided": date_zh(decided) if decided else "尚未作出",
        "taken": taken,
        "verdict": verdict,
    }


def _texts(case: pd.Series) -> dict[str, str]:
    accepted = _flag(case, "accepted")
    ack, decided, closed = (_get(case, k) for k in ("acknowledged_at", "decided_at", "closed_at"))
    if accepted is False:
        reason = code_label(str(_get(case, "rejection_reason") or "other"), "rejection_reason")
        acceptance = f"经审核，该投诉不予受理，原因：{reason}。"
        if decided:
            acceptance += f"我公司已于{_date_text(decided)}将不予受理的决定及理由告知投诉人。"
    else:
        acceptance = (
            "经审核，该投诉符合受理条件，我公司予以受理。"
            if accepted
            else "台账未记录是否受理；我公司已按受理投诉进行处理。"
        )
        if ack:
            acceptance += f"我公司于{_date_text(ack)}向投诉人确认收到投诉。"
    steps = [f"{_date_text(_get(case, 'received_at'))}收到转办投诉"]
    if ack:
        steps.append(f"{_date_text(ack)}向投诉人确认收到投诉")
    if decided:
        steps.append(f"{_date_text(decided)}作出处理决定并告知投诉人")
    if closed:
        steps.append(f"{_date_text(closed)}结案")
    process = "；".join(steps) + "。"

    outcome = _get(case, "outcome")
    upheld, redress = _flag(case, "upheld"), _get(case, "redress_amount")
    if not decided:
        decision = "截至本报告日，该投诉尚在处理中。我公司将在处理时限内作出处理决定，并及时报告处理结果。"
    else:
        decision = f"我公司于{_date_text(decided)}作出处理决定并告知投诉人。"
        if upheld is True:
            decision += "经调查核实，投诉反映的问题属实。"
        elif upheld is False:
            decision += "经调查核实，投诉反映的问题不属实。"
        if redress:
            decision += f"我公司向投诉人支付赔付（补偿）款{format_value(float(redress), 'money')}元。"
        if outcome:
            decision += f"结案方式：{OUTCOMES.get(str(outcome), str(outcome))}。"
    sat = _get(case, "satisfaction")
    sat_text = f"回访结果：{SATISFACTION.get(str(sat), str(sat))}。" if sat else ""
    review_req, review_dec = _get(case, "review_requested_at"), _get(case, "review_decided_at")
    if not decided:
        answer = "尚未作出处理决定，投诉人意见待处理决定作出后报告。"
    elif outcome == "customer_accepted":
        answer = f"投诉人接受处理结果{('，已于' + _date_text(closed) + '结案') if closed else ''}。"
    elif outcome == "upheld_by_law":
        answer = "投诉人不接受处理结果；经核查，我公司处理符合法律法规及合同约定，依法维持处理决定。"
    elif outcome == "withdrawn":
        answer = "投诉人已撤回投诉。"
    elif outcome == "litigation":
        answer = "投诉人不接受处理结果，已通过诉讼或仲裁途径解决。"
    elif outcome == "invalid":
        answer = "经核实为无效投诉，已向投诉人说明。"
    else:
        answer = "投诉人尚未明确表示是否接受处理结果。"
    if review_req:
        answer += f"投诉人于{_date_text(review_req)}申请核查，"
        answer += f"我公司于{_date_text(review_dec)}作出核查决定。" if review_dec else "核查尚在进行中。"
    return {
        "acceptance_text": acceptance,
        "process_text": process,
        "decision_text": decision,
        "complainant_text": answer + sat_text,
    }


def render_forwarded_report(
    case: pd.Series,
    events: pd.DataFrame | None,
    ctx: RenderContext,
    out: Path,
    *,
    calendar: WorkCalendar | None = None,
    rulebooks: Rulebooks | None = None,
) -> Path:
    """Render 《关于转办投诉（编号…）处理情况的报告》 for one ledger row.

    The time limit comes from the configured rulebooks and working-day calendar (loaded when not given).

    ``out`` is a .docx path or a directory (file named after the forward reference). ``events`` (the
    events table, any complaints) adds the handling steps. Personal data are masked unless ``ctx.role``
    is in ``ctx.unmask_roles``.
    """
    unmask = may_unmask(ctx.role, ctx.unmask_roles)
    one = pd.DataFrame([case])

    def text(col: str, policy: bool = False) -> str:
        value = one[col] if col in one.columns else pd.Series([None])
        if not unmask:
            value = mask_policy_no(value) if policy else mask_text(value)
        v = value.iloc[0]
        return DASH if v is None or (not isinstance(v, str) and pd.isna(v)) else str(v)

    ref = str(_get(case, "forward_ref") or _get(case, "complaint_id") or "")
    product = BUSINESS_LINES.get(str(_get(case, "business_line")), DASH)
    if _get(case, "product_line"):
        product += f"／{PRODUCT_LINES.get(str(_get(case, 'product_line')), str(_get(case, 'product_line')))}"
    amount = _get(case, "amount_involved")
    values = base_context(ctx, period_label(ctx.period))
    values["c"] = {
        "forward_ref": ref or DASH,
        "complaint_id": str(_get(case, "complaint_id") or DASH),
        "forwarded_date": _date_text(_get(case, "forwarded_at")),
        "received_date": _date_text(_get(case, "received_at")),
        "branch": code_label(str(_get(case, "branch_code") or ""), None, ctx.entity_names) or DASH,
        "complainant": text("complainant_ref"),
        "policy_no": text("policy_no", policy=True),
        "product": product,
        "category": CATEGORIES.get(str(_get(case, "category")), DASH),
        "severity": SEVERITIES.get(str(_get(case, "severity")), DASH),
        "channel": CHANNELS.get(str(_get(case, "channel")), DASH),
        "amount": format_value(float(amount), "money") if amount is not None else DASH,
        "summary": text("summary"),
    }
    values.update(_texts(case))
    if calendar is None:

        calendar = load_calendar()
    if rulebooks is None:

        rulebooks = load_rulebooks()
    values["t"] = _timing(case, ctx, calendar, rulebooks)
    rows: list[dict[str, str]] = []
    if events is not None and not events.empty and _get(case, "complaint_id"):
        mine = events[events["complaint_id"].astype(str) == str(case["complaint_id"])]
        mine = mine.assign(_at=pd.to_datetime(mine["at"])).sort_values(["_at", "kind"], kind="stable")
        rows = [
            {"time": f"{at:%Y-%m-%d %H:%M}", "event": EVENT_KINDS.get(str(kind), str(kind))}
            for at, kind in zip(mine["_at"], mine["kind"], strict=True)
        ]
    values["event_rows"] = rows
    out = Path(out)
    target = out if out.suffix.lower() == ".docx" else out / f"转办投诉处理情况报告_{safe_filename(ref)}.docx"
    return render_template(
        FORWARDED_TEMPLATE, values, {}, ctx, target, f"关于转办投诉（编号{ref}）处理情况的报告"
    )
