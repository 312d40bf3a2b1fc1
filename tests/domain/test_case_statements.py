"""The forwarded-case report's statements, one case state at a time (complaints.case_statements)."""

from __future__ import annotations

import datetime as dt

import pytest

from complaints.case_statements import FORBIDDEN, CaseFacts, case_state, case_statements

D = dt.date
TODAY = D(2026, 11, 20)
BASE = dict(today=TODAY, received=D(2026, 7, 1), acknowledged=D(2026, 7, 2), due=D(2026, 7, 16))

CASES = {
    # not accepted (in litigation), closed as invalid: the example
    "rejected": CaseFacts(**BASE, accepted=False, rejection_reason="in_litigation", closed=D(2026, 7, 20),
                          outcome="invalid"),
    "withdrawn": CaseFacts(**BASE, accepted=True, closed=D(2026, 7, 8), outcome="withdrawn"),
    "closed": CaseFacts(**BASE, accepted=True, decided=D(2026, 7, 10), closed=D(2026, 7, 12),
                        outcome="upheld_by_law", satisfaction="satisfied", revisited=D(2026, 7, 15)),
    "closed_no_decision": CaseFacts(**BASE, accepted=True, closed=D(2026, 7, 20),
                                    outcome="customer_accepted"),
    "decided_open": CaseFacts(**BASE, accepted=True, decided=D(2026, 7, 10)),
    "pending": CaseFacts(**{**BASE, "due": D(2026, 11, 25)}, accepted=True),
    "overdue": CaseFacts(**BASE, accepted=True),
    "pending_no_due": CaseFacts(**{**BASE, "due": None}, accepted=None),
}


@pytest.mark.parametrize("state", list(CASES))
def test_each_state_says_only_what_its_fields_allow(state: str) -> None:
    facts = CASES[state]
    assert case_state(facts) == state
    said = case_statements(facts)
    text = "".join([said.acceptance, said.process, said.decision, said.verdict, said.decided_cell,
                    said.complainant])
    assert [w for w in FORBIDDEN[state] if w in text] == []  # type: ignore[index]


def test_rejected_case_is_reported_as_not_accepted_with_its_reason() -> None:
    said = case_statements(CASES["rejected"])
    assert "不予受理，原因：已进入诉讼仲裁" in said.acceptance
    assert "2026年7月20日将不予受理的决定及理由告知投诉人" in said.acceptance
    assert said.verdict.startswith("不适用") and "不予受理" in said.decision
    assert "诉讼或仲裁" in said.complainant and "已于2026年7月20日按无效投诉办结" in said.complainant


def test_withdrawn_case_says_so_and_when() -> None:
    said = case_statements(CASES["withdrawn"])
    assert "投诉人于2026年7月8日撤回投诉" in said.decision
    assert said.complainant == "投诉人已于2026年7月8日撤回投诉。"
    assert "撤回时未超出处理时限" in said.verdict and "投诉人撤回投诉，处理终止" in said.process


def test_callback_that_contradicts_the_acceptance_is_explained() -> None:
    said = case_statements(CASES["closed"])  # 依法维持 (not accepted) but 回访满意
    assert "投诉人不接受处理结果" in said.complainant and "回访结果：满意" in said.complainant
    assert "两项记录不一致" in said.complainant and "2026年7月15日回访" in said.complainant
    agreeing = case_statements(CaseFacts(**{**CASES["closed"].__dict__, "outcome": "customer_accepted"}))
    assert "不一致" not in agreeing.complainant and "投诉人接受处理结果" in agreeing.complainant
    disagree = case_statements(CaseFacts(**{**CASES["closed"].__dict__, "outcome": "customer_accepted",
                                            "satisfaction": "dissatisfied"}))
    assert "台账记录投诉人接受处理结果，但" in disagree.complainant


def test_timing_verdicts_count_days() -> None:
    assert case_statements(CASES["overdue"]).verdict == "尚未作出处理决定，已超出应办结日期127日"
    assert case_statements(CASES["pending"]).verdict == "尚未作出处理决定，距应办结日期尚余5日"
    late = CaseFacts(**BASE, accepted=True, decided=D(2026, 7, 19), closed=D(2026, 7, 19),
                     outcome="customer_accepted")
    assert case_statements(late).verdict == "否，超出3日"
    assert "以结案日期计" in case_statements(CASES["closed_no_decision"]).verdict
