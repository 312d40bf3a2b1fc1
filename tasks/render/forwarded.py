"""Written report on one regulator-forwarded complaint (FILINGS.md §3; 2013 rule art. 35)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from complaints.calendar import WorkCalendar
from complaints.case_statements import CaseFacts, CaseStatements, case_statements
from complaints.errors import UserError
from complaints.findings import format_value
from complaints.ledger import (
    BUSINESS_LINES,
    CATEGORIES,
    CHANNELS,
    EVENT_KINDS,
    PRODUCT_LINES,
    SEVERITIES,
    normalize,
)
from complaints.masking import mask_policy_no, mask_text, may_unmask
from complaints.on_request import forwarding_office
from complaints.rules import DECISION, Rulebooks, decision_due_dates
from complaints.settings import ForwardingOffice
from tasks.calendar_files import load_calendar
from tasks.rulebooks import load_rulebooks

from .common import DASH, base_context, date_zh, period_label, render_template, safe_filename
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


class AddresseeError(UserError):
    """No forwarding office is known for a forwarded case; the message names the reference."""


def case_facts(case: pd.Series, today: dt.date, due: dt.date | None) -> CaseFacts:
    """The fields of ``case`` the report's statements depend on (:mod:`complaints.case_statements`)."""
    redress = _get(case, "redress_amount")
    return CaseFacts(
        today=today,
        accepted=_flag(case, "accepted"),
        rejection_reason=_get(case, "rejection_reason"),
        acknowledged=_date(_get(case, "acknowledged_at")),
        decided=_date(_get(case, "decided_at")),
        closed=_date(_get(case, "closed_at")),
        outcome=_get(case, "outcome"),
        upheld=_flag(case, "upheld"),
        redress=float(redress) if redress is not None else None,
        satisfaction=_get(case, "satisfaction"),
        revisited=_date(_get(case, "revisited_at")),
        review_requested=_date(_get(case, "review_requested_at")),
        review_decided=_date(_get(case, "review_decided_at")),
        due=due,
        received=_date(_get(case, "received_at")),
    )


def _timing(
    case: pd.Series, ctx: RenderContext, calendar: WorkCalendar, rulebooks: Rulebooks
) -> tuple[dict[str, str], CaseStatements]:
    due, rule, limit, start = due_date(case, calendar, rulebooks)
    facts = case_facts(case, ctx.generated_at.date(), due)
    said = case_statements(facts)
    decided = facts.decided
    handled = said.state in ("closed", "decided_open")
    timing = {
        "rule": rule,
        "start": date_zh(start) if start else DASH,
        "limit": limit,
        "due": date_zh(due) if due else DASH,
        "decided": said.decided_cell,
        "taken": f"{(decided - start).days}日（自然日）" if handled and decided and start else DASH,
        "verdict": said.verdict,
    }
    return timing, said


def branch_name(case: pd.Series, ctx: RenderContext) -> str:
    """The name of the handling branch (names, not codes); :class:`UserError` naming a code without one."""
    code = str(_get(case, "branch_code") or "")
    if not code:
        return DASH
    if code in ctx.entity_names:
        return ctx.entity_names[code]
    raise UserError(
        f"case {_get(case, 'complaint_id')}: branch code {code!r} has no name; the report prints names, not "
        "codes: add it to the configuration's entities (code, name) or the source's branch table"
    )


def resolve_addressee(case: pd.Series, offices: Sequence[ForwardingOffice]) -> str:
    """The office that forwarded ``case`` (:func:`complaints.on_request.forwarding_office`)."""
    ref = _get(case, "forward_ref")
    office = forwarding_office(str(ref) if ref else None, offices, _get(case, "province"))
    if office is None:
        raise AddresseeError(
            f"case {_get(case, 'complaint_id')}: no forwarding office known for forward reference "
            f"{ref!r}; configure filings.forwarding_offices (name, ref_prefixes) or pass --addressee"
        )
    return office.name


def render_forwarded_report(
    case: pd.Series,
    events: pd.DataFrame | None,
    ctx: RenderContext,
    out: Path,
    *,
    calendar: WorkCalendar | None = None,
    rulebooks: Rulebooks | None = None,
    addressee: str | None = None,
    offices: Sequence[ForwardingOffice] = (),
) -> Path:
    """Render 《关于转办投诉（编号…）处理情况的报告》 for one ledger row.

    The time limit comes from the configured rulebooks and working-day calendar (loaded when not given).
    Every statement about the case comes from :func:`complaints.case_statements.case_statements`. The
    report is addressed to ``addressee`` or else to the office that forwarded the case (``offices``, then
    the forward reference); :class:`AddresseeError` when neither says.

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
        "branch": branch_name(case, ctx),
        "complainant": text("complainant_ref"),
        "policy_no": text("policy_no", policy=True),
        "product": product,
        "category": CATEGORIES.get(str(_get(case, "category")), DASH),
        "severity": SEVERITIES.get(str(_get(case, "severity")), DASH),
        "channel": CHANNELS.get(str(_get(case, "channel")), DASH),
        "amount": format_value(float(amount), "money") if amount is not None else DASH,
        "summary": text("summary"),
    }
    values["addressee"] = addressee or resolve_addressee(case, offices)
    if calendar is None:
        calendar = load_calendar()
    if rulebooks is None:
        rulebooks = load_rulebooks()
    values["t"], said = _timing(case, ctx, calendar, rulebooks)
    values.update(
        acceptance_text=said.acceptance,
        process_text=said.process,
        decision_text=said.decision,
        complainant_text=said.complainant,
    )
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
