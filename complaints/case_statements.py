"""What a forwarded-case report may say about a case: every statement chosen from the case's fields. Pure.

FILINGS.md, "What an officer can submit as is": a complaint that was not accepted is reported as 不予受理
with its reason, never as "not yet decided"; a closed case is never "still being handled"; a withdrawn
case says so; the complainant's acceptance and the call-back result never contradict each other without
saying so.

The choice is two tables: :data:`STATE_RULES` (first matching predicate gives the case's state) and
:data:`STATEMENTS` (per state, the sentence of each section of the report). The satisfaction/acceptance
cross-check is the third table, :data:`CALLBACK_NOTES`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from complaints.ledger import OUTCOMES, REJECTION_REASONS, SATISFACTION

CaseState = Literal[
    "rejected", "withdrawn", "closed", "closed_no_decision", "decided_open", "pending", "overdue",
    "pending_no_due",
]


@dataclass(frozen=True)
class CaseFacts:
    """The fields of one ledger row the statements depend on (dates, not times) and the report's day."""

    today: dt.date
    accepted: bool | None = None
    rejection_reason: str | None = None
    acknowledged: dt.date | None = None
    decided: dt.date | None = None
    closed: dt.date | None = None
    outcome: str | None = None
    upheld: bool | None = None
    redress: float | None = None
    satisfaction: str | None = None
    revisited: dt.date | None = None
    review_requested: dt.date | None = None
    review_decided: dt.date | None = None
    due: dt.date | None = None  # the decision's due date (None: not determinable)
    received: dt.date | None = None


@dataclass(frozen=True)
class CaseStatements:
    state: CaseState
    acceptance: str  # 二、受理情况
    process: str  # 三、处理过程
    decision: str  # 五、处理结果
    verdict: str  # 四、处理时限 / 是否在时限内
    decided_cell: str  # 四、处理时限 / 作出处理决定日期
    complainant: str  # 六、投诉人对处理结果的意见


def zh_date(d: dt.date) -> str:
    return f"{d.year}年{d.month}月{d.day}日"


def _money(v: float) -> str:
    return f"{v:,.2f}"


# -- 1. the state: the first rule that holds --------------------------------------------------------
STATE_RULES: tuple[tuple[CaseState, Callable[[CaseFacts], bool]], ...] = (
    ("rejected", lambda f: f.accepted is False),
    ("withdrawn", lambda f: f.outcome == "withdrawn"),
    ("closed", lambda f: f.closed is not None and f.decided is not None),
    ("closed_no_decision", lambda f: f.closed is not None),
    ("decided_open", lambda f: f.decided is not None),
    ("pending_no_due", lambda f: f.due is None),
    ("overdue", lambda f: f.due is not None and f.due < f.today),
    ("pending", lambda f: True),
)


def case_state(f: CaseFacts) -> CaseState:
    return next(state for state, holds in STATE_RULES if holds(f))


# -- 2. the sentences of each state ------------------------------------------------------------------
def _reason(f: CaseFacts) -> str:
    return REJECTION_REASONS.get(str(f.rejection_reason), "台账未记录不予受理原因") if f.rejection_reason \
        else "台账未记录不予受理原因"


def _accepted(f: CaseFacts) -> str:
    text = ("经审核，该投诉符合受理条件，我公司予以受理。" if f.accepted
            else "台账未记录受理审核结论；我公司已按受理投诉进行处理。")
    if f.acknowledged:
        text += f"我公司于{zh_date(f.acknowledged)}向投诉人确认收到投诉。"
    return text


def _rejected(f: CaseFacts) -> str:
    text = f"经审核，该投诉不予受理，原因：{_reason(f)}。"
    told = f.decided or f.closed
    if told:
        text += f"我公司已于{zh_date(told)}将不予受理的决定及理由告知投诉人。"
    return text


def _findings(f: CaseFacts) -> str:
    text = ""
    if f.upheld is True:
        text += "经调查核实，投诉反映的问题属实。"
    elif f.upheld is False:
        text += "经调查核实，投诉反映的问题不属实。"
    if f.redress:
        text += f"我公司向投诉人支付赔付（补偿）款{_money(f.redress)}元。"
    if f.outcome and f.outcome in OUTCOMES:
        text += f"结案方式：{OUTCOMES[f.outcome]}。"
    return text


def _withdrawn_on(f: CaseFacts) -> dt.date | None:
    """The day the withdrawal was received (the case ends that day, art. 15): the closing date."""
    return f.closed or f.decided


def _decided_before_withdrawal(f: CaseFacts) -> dt.date | None:
    return f.decided if f.decided and f.closed and f.decided < f.closed else None


def _days(a: dt.date, b: dt.date) -> int:
    return (b - a).days


def _verdict_decided(f: CaseFacts, on: dt.date) -> str:
    if f.due is None:
        return "无法确定（缺少工作日历或起算日期）"
    return "是" if on <= f.due else f"否，超出{_days(f.due, on)}日"


def _answer_after_decision(f: CaseFacts) -> str:
    closed = f"，已于{zh_date(f.closed)}结案" if f.closed else ""
    return {
        "customer_accepted": f"投诉人接受处理结果{closed}。",
        "upheld_by_law": "投诉人不接受处理结果；经核查，我公司处理符合法律法规及合同约定，"
                         f"依法维持处理决定{closed}。",
        "litigation": f"投诉人不接受处理结果，已通过诉讼或仲裁途径解决{closed}。",
        "invalid": f"经核实为无效投诉，已向投诉人说明{closed}。",
    }.get(str(f.outcome), "投诉人尚未明确表示是否接受处理结果。" if not f.closed
          else f"该投诉已于{zh_date(f.closed)}结案，台账未记录投诉人是否接受处理结果。")


def _statements(f: CaseFacts, state: CaseState) -> tuple[str, str, str, str, str]:
    """(acceptance, decision, verdict, decided cell, complainant) for ``state``."""
    if state == "rejected":
        told = f.decided or f.closed
        litigation = (f.rejection_reason == "in_litigation" or f.outcome == "litigation")
        answer = ("该事项已进入诉讼或仲裁程序，依法通过诉讼或仲裁途径解决。" if litigation
                  else "不予受理的决定及理由已告知投诉人。" if told else "不予受理的决定尚待告知投诉人。")
        if f.closed:
            how = "按无效投诉" if f.outcome == "invalid" else ""
            answer += f"该投诉已于{zh_date(f.closed)}{how}办结。"
        return (
            _rejected(f),
            f"该投诉不予受理，未进入处理程序，不作出处理决定。不予受理原因：{_reason(f)}。",
            "不适用（该投诉不予受理）" + (f"，已于{zh_date(told)}告知投诉人" if told else ""),
            "不适用（不予受理）",
            answer,
        )
    if state == "withdrawn":
        end = _withdrawn_on(f)
        before = _decided_before_withdrawal(f)
        verdict = "投诉人撤回投诉，处理终止"
        if end and f.due:
            verdict += ("，撤回时未超出处理时限" if end <= f.due
                        else f"，撤回时已超出应办结日期{_days(f.due, end)}日")
        when = f"于{zh_date(end)}" if end else ""
        return (
            _accepted(f),
            f"投诉人{when}撤回投诉，该投诉于撤回之日办结。" + (
                f"撤回前，我公司已于{zh_date(before)}作出处理决定并告知投诉人。" if before else ""),
            verdict,
            zh_date(before) if before else "未作出（投诉人撤回）",
            f"投诉人已{when}撤回投诉。",
        )
    if state in ("closed", "decided_open"):
        assert f.decided is not None
        decision = f"我公司于{zh_date(f.decided)}作出处理决定并告知投诉人。" + _findings(f)
        answer = _answer_after_decision(f)
        if state == "decided_open" and not f.outcome:
            answer = "处理决定已告知投诉人，投诉人尚未明确表示是否接受处理结果，该投诉尚未结案。"
        return _accepted(f), decision, _verdict_decided(f, f.decided), zh_date(f.decided), answer
    if state == "closed_no_decision":
        assert f.closed is not None
        return (
            _accepted(f),
            f"该投诉已于{zh_date(f.closed)}结案，台账未记录处理决定告知日期。" + _findings(f),
            _verdict_decided(f, f.closed) + "（以结案日期计）",
            "台账未记录",
            _answer_after_decision(f),
        )
    # not decided, not closed
    if state == "overdue":
        assert f.due is not None
        verdict = f"尚未作出处理决定，已超出应办结日期{_days(f.due, f.today)}日"
    elif state == "pending":
        assert f.due is not None
        verdict = f"尚未作出处理决定，距应办结日期尚余{_days(f.today, f.due)}日"
    else:
        verdict = "尚未作出处理决定；应办结日期无法确定（缺少工作日历或起算日期）"
    return (
        _accepted(f),
        f"截至{zh_date(f.today)}，该投诉尚在处理中，尚未作出处理决定。我公司将尽快作出处理决定，并及时报告处理结果。",
        verdict,
        "尚未作出",
        "尚未作出处理决定，投诉人意见待处理决定作出后报告。",
    )


# -- 3. the call-back against the complainant's acceptance --------------------------------------------
#: (the complainant accepted the outcome?, the call-back was positive?) -> a sentence that says the two
#: records disagree; agreeing records need no sentence.
CALLBACK_NOTES: dict[tuple[bool, bool], str] = {
    (False, True): "需要说明的是，台账记录投诉人不接受处理结果，但{when}回访时投诉人表示{sat}，"
                   "两项记录不一致，现据实报告。",
    (True, False): "需要说明的是，台账记录投诉人接受处理结果，但{when}回访时投诉人表示{sat}，"
                   "两项记录不一致，现据实报告。",
}
ACCEPTS_OUTCOME: dict[str, bool] = {"customer_accepted": True, "upheld_by_law": False, "litigation": False}
POSITIVE_CALLBACK: dict[str, bool] = {"satisfied": True, "basically_satisfied": True, "dissatisfied": False}


def callback_text(f: CaseFacts) -> str:
    """「回访结果：…。」 and, when it disagrees with the recorded acceptance, a sentence saying so."""
    if not f.satisfaction:
        return ""
    sat = SATISFACTION.get(f.satisfaction, f.satisfaction)
    text = f"回访结果：{sat}。"
    accepts, positive = ACCEPTS_OUTCOME.get(str(f.outcome)), POSITIVE_CALLBACK.get(f.satisfaction)
    if f.review_requested is not None and accepts is True:
        accepts = False  # asked for a review: did not accept the first decision
    if accepts is not None and positive is not None and (accepts, positive) in CALLBACK_NOTES:
        when = zh_date(f.revisited) if f.revisited else ""
        text += CALLBACK_NOTES[(accepts, positive)].format(when=when, sat=f"“{sat}”")
    return text


def _review(f: CaseFacts) -> str:
    if not f.review_requested:
        return ""
    text = f"投诉人于{zh_date(f.review_requested)}申请核查，"
    if f.review_decided:
        return text + f"我公司于{zh_date(f.review_decided)}作出核查决定。"
    return text + "核查尚在进行中。"


def process_text(f: CaseFacts, state: CaseState) -> str:
    steps = [f"{zh_date(f.received)}收到转办投诉"] if f.received else ["收到转办投诉（日期台账未记录）"]
    if f.acknowledged:
        steps.append(f"{zh_date(f.acknowledged)}向投诉人确认收到投诉")
    if state == "rejected":
        told = f.decided or f.closed
        if told:
            steps.append(f"{zh_date(told)}将不予受理的决定及理由告知投诉人")
    elif state == "withdrawn":
        before, end = _decided_before_withdrawal(f), _withdrawn_on(f)
        if before:
            steps.append(f"{zh_date(before)}作出处理决定并告知投诉人")
        if end:
            steps.append(f"{zh_date(end)}投诉人撤回投诉，处理终止")
        return "；".join(steps) + "。"
    elif f.decided:
        steps.append(f"{zh_date(f.decided)}作出处理决定并告知投诉人")
    if f.closed:
        steps.append(f"{zh_date(f.closed)}结案")
    return "；".join(steps) + "。"


def case_statements(f: CaseFacts) -> CaseStatements:
    """Every statement of the forwarded-case report for the case ``f``."""
    state = case_state(f)
    acceptance, decision, verdict, decided_cell, answer = _statements(f, state)
    if state not in ("rejected", "withdrawn"):
        answer += _review(f)
    if state not in ("pending", "overdue", "pending_no_due", "rejected"):
        answer += callback_text(f)
    return CaseStatements(state, acceptance, process_text(f, state), decision, verdict, decided_cell, answer)


#: what no report may say in a state (the rendered-document tests check the PDFs against it)
FORBIDDEN: dict[CaseState, tuple[str, ...]] = {
    "rejected": ("尚未作出处理决定", "尚在处理中", "符合受理条件", "已超出应办结日期"),
    "withdrawn": ("尚未作出处理决定", "尚在处理中", "已超出应办结日期"),
    "closed": ("尚未作出处理决定", "尚在处理中", "不予受理"),
    "closed_no_decision": ("尚在处理中", "不予受理"),
    "decided_open": ("尚未作出处理决定", "不予受理"),
    "pending": ("已超出应办结日期", "不予受理", "结案方式"),
    "overdue": ("距应办结日期尚余", "不予受理", "结案方式"),
    "pending_no_due": ("不予受理", "结案方式"),
}
