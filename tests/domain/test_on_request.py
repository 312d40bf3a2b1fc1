"""On-request filings as tracked filings: keys, the forwarding office, due dates and states (pure)."""

from __future__ import annotations

import datetime as dt

from complaints.filings import FILINGS, ON_REQUEST_KINDS, any_filing_kind
from complaints.on_request import (
    case_key,
    forwarded_items,
    forwarding_office,
    item_states,
    merge_items,
    rectification_item,
    requirement_key,
)
from complaints.settings import FilingRules, ForwardingOffice

D = dt.date
SHENZHEN = ForwardingOffice(name="国家金融监督管理总局深圳监管局", ref_prefixes=["深金"], report_days=10)
GD = ForwardingOffice(name="国家金融监督管理总局广东监管局", ref_prefixes=["粤金"], provinces=["广东"])


def test_registered_apart_from_the_periodic_filings() -> None:
    assert set(ON_REQUEST_KINDS) == {"forwarded", "rectification"}
    assert not set(ON_REQUEST_KINDS) & set(FILINGS)  # the calendar's periodic filings are unchanged
    assert any_filing_kind("rectification").title_zh == "整改情况报告"
    assert any_filing_kind("quarterly").name == "quarterly"


def test_keys_fit_a_bundle_id() -> None:
    assert case_key("C2026070311") == "C2026070311"
    key = case_key("粤金复转〔2026〕0712号")
    assert key.startswith("C") and len(key) == 11 and key == case_key("粤金复转〔2026〕0712号")
    req = {"reference": "粤金消保函〔2026〕35号"}
    assert requirement_key(req, D(2026, 9, 15)).startswith("R20260915-")
    assert requirement_key({**req, "id": "GD-35"}, D(2026, 9, 15)) == "GD-35"


def test_forwarding_office_configuration_then_reference_then_nothing() -> None:
    offices = [GD, SHENZHEN]
    assert forwarding_office("深金转〔2026〕1号", offices) == SHENZHEN  # a configured prefix
    assert forwarding_office("X-1", offices, province="广东") == GD  # the case's province
    derived = forwarding_office("苏金复转〔2026〕0455号", offices)
    assert derived is not None and derived.name == "国家金融监督管理总局江苏监管局"
    assert forwarding_office("ZJ-1", offices) is None and forwarding_office(None, []) is None


def test_due_dates() -> None:
    rules = FilingRules(forwarding_offices=[GD, SHENZHEN])
    cases = [
        {"complaint_id": "A1", "entity_code": "GD", "forward_ref": "深金转〔2026〕1号",
         "received_at": "2026-07-01T10:00", "decision_due": D(2026, 7, 16)},  # office: 10 days
        {"complaint_id": "A2", "entity_code": "GD", "forward_ref": "粤金转〔2026〕2号",
         "received_at": "2026-07-01", "decision_due": D(2026, 7, 16)},  # no limit: the decision's due date
        {"complaint_id": "A3", "entity_code": "HO", "forward_ref": "粤金转〔2026〕3号",
         "received_at": "2026-07-01", "report_due": "2026-07-05"},  # the forward record's date wins
        {"complaint_id": "A4", "entity_code": "HO", "forward_ref": "粤金转〔2026〕4号", "received_at": None},
        {"complaint_id": "A5", "regulator_forwarded": False},
    ]
    items = {i.key: i for i in forwarded_items(cases, rules)}
    assert set(items) == {"A1", "A2", "A3", "A4"}
    assert items["A1"].due == D(2026, 7, 11) and items["A1"].addressee == SHENZHEN.name
    assert items["A2"].due == D(2026, 7, 16) and items["A3"].due == D(2026, 7, 5)
    assert items["A4"].due is None and "report time limit" in (items["A4"].error or "")
    rect = rectification_item({"reference": "函〔2026〕1号", "received": "2026-09-15"}, "HO", rules)
    assert rect.due == D(2026, 10, 15)  # the 30th day


def test_states_filed_only_by_a_submission() -> None:
    rules = FilingRules()
    item = rectification_item({"reference": "r", "received": D(2026, 9, 15)}, "HO", rules)
    key = ("rectification", "HO", item.key)

    def risk(due: D) -> D:
        return due - dt.timedelta(days=3)

    def state(today: D, drafts: list[str] | None = None, went: D | None = None) -> str:
        rows = item_states([item], {key: drafts or []}, {key: went} if went else {}, today, risk)
        return rows[0]["state"]

    assert state(D(2026, 10, 1)) == "open" and state(D(2026, 10, 12)) == "at_risk"
    assert state(D(2026, 10, 16)) == "late"
    assert state(D(2026, 10, 16), ["rectification/HO/x/1"]) == "late"  # a draft is not a filing
    assert state(D(2026, 10, 20), ["d"], went=D(2026, 10, 14)) == "filed"
    assert state(D(2026, 10, 20), ["d"], went=D(2026, 10, 16)) == "filed_late"
    row = item_states([item], {key: ["a", "b"]}, {}, D(2026, 10, 1), risk)[0]
    assert row["drafts"] == 2 and row["bundle"] == "b" and row["period"] == item.key
    unknown = rectification_item({"reference": "r"}, "HO", rules)
    assert item_states([unknown], {}, {}, D(2026, 10, 1), risk)[0]["state"] == "unknown"
    assert merge_items([item], [item]) == [item]
