"""Filings made on request (FILINGS.md §3, §4): the forwarded-case report and the rectification report. Pure.

Both are filings like the periodic ones (drafted, archived as signed bundles, submitted, tracked), but a
case or a requirement takes the place of the period:

* :func:`case_key` / :func:`requirement_key`: the bundle id's period part for a case or a requirement;
* :func:`forwarding_office`: whom a forwarded-case report is addressed to (configuration first, then the
  province abbreviation that opens the forward reference, e.g. 「粤金消保转〔2026〕…」 → 广东监管局);
* :func:`forwarded_items` / :func:`rectification_item`: the due items, with their due dates;
* :func:`item_states`: each item's state against the drafts archived for it, for ``status`` and the watcher.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from complaints.filings import ON_REQUEST, OnRequest
from complaints.settings import FilingRules, ForwardingOffice

__all__ = ["ON_REQUEST", "OnRequest", "OnRequestItem", "case_key", "forwarded_items", "forwarding_office",
           "item_states", "merge_items", "rectification_item", "requirement_key"]
_KEY = re.compile(r"^[A-Za-z0-9_\-]{1,64}$")

#: provinces (as the ledger spells them) by the abbreviation a local office's references open with
PROVINCE_BY_ABBR: dict[str, str] = {
    "京": "北京", "津": "天津", "冀": "河北", "晋": "山西", "蒙": "内蒙古", "辽": "辽宁", "吉": "吉林",
    "黑": "黑龙江", "沪": "上海", "苏": "江苏", "浙": "浙江", "皖": "安徽", "闽": "福建", "赣": "江西",
    "鲁": "山东", "豫": "河南", "鄂": "湖北", "湘": "湖南", "粤": "广东", "桂": "广西", "琼": "海南",
    "渝": "重庆", "川": "四川", "贵": "贵州", "黔": "贵州", "云": "云南", "滇": "云南", "藏": "西藏",
    "陕": "陕西", "甘": "甘肃", "青": "青海", "宁": "宁夏", "新": "新疆",
}


def _digest(text: str, n: int = 10) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:n]


def case_key(complaint_id: str) -> str:
    """The bundle key of a forwarded case: its complaint id when it fits a bundle id, else a digest."""
    return complaint_id if _KEY.match(complaint_id) else f"C{_digest(complaint_id)}"


def requirement_key(requirement: Mapping[str, Any], received: dt.date) -> str:
    """The bundle key of a rectification requirement: its ``id`` when given, else the receipt day and a
    digest of the reference (「粤金消保函〔2026〕35号」 is not an id)."""
    given = str(requirement.get("id") or "")
    if given:
        if not _KEY.match(given):
            raise ValueError(f"requirement id {given!r} must be 1-64 letters, digits, '_' or '-'")
        return given
    return f"R{received:%Y%m%d}-{_digest(str(requirement.get('reference', '')), 8)}"


def forwarding_office(forward_ref: str | None, offices: Sequence[ForwardingOffice],
                      province: str | None = None) -> ForwardingOffice | None:
    """The office that forwarded the case: a configured office whose reference prefix opens
    ``forward_ref`` (the longest prefix wins), else one configured for the case's ``province``, else the
    provincial office named by the reference's first character; None when nothing says."""
    ref = (forward_ref or "").strip()
    by_prefix = [(len(p), o) for o in offices for p in o.ref_prefixes if p and ref.startswith(p)]
    if by_prefix:
        return max(by_prefix, key=lambda t: t[0])[1]
    if province:
        for office in offices:
            if province in office.provinces:
                return office
    abbr_province = PROVINCE_BY_ABBR.get(ref[:1]) if ref else None
    if abbr_province:
        return ForwardingOffice(name=f"国家金融监督管理总局{abbr_province}监管局", ref_prefixes=[ref[:1]])
    return None


@dataclass(frozen=True)
class OnRequestItem:
    """One on-request filing: what it is about, for which entity, and when it is due (or why not known)."""

    filing: OnRequest
    entity: str
    key: str  # the bundle id's period part
    title: str  # 转办编号 / the requirement's reference, for people
    received: dt.date | None
    due: dt.date | None
    addressee: str = ""
    error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"filing": self.filing, "entity": self.entity, "period": self.key, "title": self.title,
                "received": self.received.isoformat() if self.received else None,
                "due": self.due.isoformat() if self.due else None, "addressee": self.addressee,
                "error": self.error}


def _day(value: Any) -> dt.date | None:
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value)[:10])
    except ValueError:
        return None


def forwarded_report_due_for(received: dt.date | None, office: ForwardingOffice | None, rules: FilingRules,
                             decision_due: dt.date | None = None,
                             given: dt.date | None = None) -> tuple[dt.date | None, str | None]:
    """(due date, why none): the date the forward record gives; else receipt + the office's
    ``report_days`` (configuration) or ``filings.forwarded_report_days``; else the decision's own due date
    (the office asks for the result of the handling); else none, with the reason."""
    if given is not None:
        return given, None
    days = office.report_days if office and office.report_days else rules.forwarded_report_days
    if days and received:
        return received + dt.timedelta(days=days), None
    if decision_due is not None:
        return decision_due, None
    return None, ("no report time limit: configure filings.forwarding_offices[].report_days or "
                  "filings.forwarded_report_days, or record the due date on the forward record")


def forwarded_items(cases: Iterable[Mapping[str, Any]], rules: FilingRules) -> list[OnRequestItem]:
    """The due items of forwarded cases. Each case is a mapping with ``complaint_id``, ``entity_code``,
    ``forward_ref``, ``province``, ``received_at`` and optionally ``report_due`` (the forward record's
    date) and ``decision_due`` (the complaint's own due date); rows not regulator-forwarded are skipped."""
    items = []
    for case in cases:
        if case.get("regulator_forwarded") is False:
            continue
        ref = str(case.get("forward_ref") or "") or None
        office = forwarding_office(ref, rules.forwarding_offices, case.get("province"))
        received = _day(case.get("received_at"))
        due, error = forwarded_report_due_for(received, office, rules, _day(case.get("decision_due")),
                                              _day(case.get("report_due")))
        items.append(OnRequestItem("forwarded", str(case.get("entity_code") or ""),
                                   case_key(str(case["complaint_id"])), ref or str(case["complaint_id"]),
                                   received, due, office.name if office else "", error))
    return items


def rectification_item(requirement: Mapping[str, Any], entity: str, rules: FilingRules) -> OnRequestItem:
    """The due item of a rectification requirement: receipt + ``rectification_days`` natural days."""
    received = _day(requirement.get("received"))
    if received is None:
        return OnRequestItem("rectification", entity, f"R-{_digest(str(requirement.get('reference')), 8)}",
                             str(requirement.get("reference") or ""), None, None,
                             str(requirement.get("issuer") or ""), "the requirement has no receipt date")
    return OnRequestItem("rectification", entity, requirement_key(requirement, received),
                         str(requirement.get("reference") or ""), received,
                         received + dt.timedelta(days=rules.rectification_days),
                         str(requirement.get("issuer") or ""))


ItemState = Literal["open", "at_risk", "late", "filed", "filed_late", "unknown"]
Key = tuple[str, str, str]  # (filing, entity, key)


def merge_items(*groups: Iterable[OnRequestItem]) -> list[OnRequestItem]:
    """One item per (filing, entity, key), the first seen winning (pass the most authoritative first),
    sorted by due date (unknown last)."""
    seen: dict[Key, OnRequestItem] = {}
    for group in groups:
        for item in group:
            seen.setdefault((item.filing, item.entity, item.key), item)
    return sorted(seen.values(), key=lambda i: (i.due is None, i.due or dt.date.max, i.filing, i.key))


def item_states(items: Iterable[OnRequestItem], drafts: Mapping[Key, Sequence[str]],
                submitted: Mapping[Key, dt.date], today: dt.date,
                at_risk_from: Callable[[dt.date], dt.date]) -> list[dict[str, Any]]:
    """Each item with its state as of ``today``, as ``complaints status`` says it for the periodic filings:
    ``filed`` / ``filed_late`` only by a recorded submission (``submitted``: the day it went); a draft
    alone leaves it ``open``, ``at_risk`` (from ``at_risk_from(due)``) or ``late``; ``unknown`` with the
    reason when there is no due date. ``drafts`` maps (filing, entity, key) to draft bundle ids, oldest
    first; ``drafts`` (their number) and ``bundle`` (the latest) are reported."""
    out = []
    for item in items:
        key = (item.filing, item.entity, item.key)
        ids = list(drafts.get(key, ()))
        went = submitted.get(key)
        state: ItemState
        if item.due is None:
            state = "unknown"
        elif went is not None:
            state = "filed" if went <= item.due else "filed_late"
        elif today > item.due:
            state = "late"
        elif today >= at_risk_from(item.due):
            state = "at_risk"
        else:
            state = "open"
        out.append({**item.to_dict(), "level": None, "state": state, "drafts": len(ids),
                    "bundle": ids[-1] if ids else None,
                    "submitted_at": went.isoformat() if went else None})
    return out
