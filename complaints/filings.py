"""The filings the project makes: one registry, read by the deadlines, the flows, the renderer and the CLI.

Adding a filing kind is one :class:`FilingKind` entry here plus its flow, its renderer and its template.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Literal, get_args

from complaints.periods import Period

Filing = Literal["quarterly", "annual", "monthly", "weekly"]
Level = Literal["head_office", "branch"]

LEVEL_LABELS_ZH: dict[Level, str] = {"head_office": "总公司", "branch": "分公司"}


@dataclass(frozen=True)
class FilingKind:
    name: Filing
    period_kind: Literal["quarter", "year", "month", "week"]  # what one filing reports on
    period_param: str  # the flow's parameter naming the period ("period", "year", "month", "week")
    title_zh: str  # the document's title
    short_zh: str  # for narrow tables
    flow_name: str  # the Prefect flow (deployments are ``<flow_name>/<name>-<ENTITY>``)
    template: str | None  # the Word template in templates/ (the monthly tables are an XLSX)
    default_levels: tuple[Level, ...]  # levels that make it when no level is asked for
    example: str  # a period code, for help texts

    @property
    def published_by_bundle(self) -> bool:
        """An internal publication: its committed bundle is the publication (no submission to record)."""
        return self.name == "weekly"


FILING_KINDS: dict[Filing, FilingKind] = {k.name: k for k in (
    FilingKind("quarterly", "quarter", "period", "季度投诉处理工作情况报告", "季度报告", "quarterly-filing",
               "quarterly_report.docx", ("head_office", "branch"), "2026Q3"),
    FilingKind("annual", "year", "year", "年度投诉处理工作自查报告", "年度自查", "annual-self-inspection",
               "annual_self_inspection.docx", ("head_office", "branch"), "2026"),
    FilingKind("monthly", "month", "month", "投诉处理情况月度通报", "月度通报", "monthly-publication",
               None, ("head_office",), "2026-10"),
    # internal: published (e-mailed) by the provincial customer-service centre, the bundle is the record
    FilingKind("weekly", "week", "week", "超时限投诉案件周公示", "周公示", "weekly-overdue-publication",
               None, ("head_office",), "2026-W40"),
)}
assert tuple(FILING_KINDS) == get_args(Filing)

FILINGS: tuple[Filing, ...] = get_args(Filing)
LEVELS: tuple[Level, ...] = get_args(Level)


OnRequest = Literal["forwarded", "rectification"]


@dataclass(frozen=True)
class OnRequestKind:
    """A filing made on request, for one case or one requirement instead of a period (FILINGS.md §3, §4).

    Its bundles are ``<name>/<entity>/<key>/<time>-<run>`` where ``key`` is the case's or the
    requirement's key (:mod:`complaints.on_request`); due dates come from :mod:`complaints.on_request`.
    Not in :data:`FILINGS` (the periodic filings the calendar and the watcher iterate over)."""

    name: OnRequest
    subject: Literal["case", "requirement"]  # what one filing reports on
    title_zh: str
    short_zh: str
    template: str
    due_rule_zh: str  # for help texts


ON_REQUEST_KINDS: dict[OnRequest, OnRequestKind] = {k.name: k for k in (
    OnRequestKind("forwarded", "case", "关于转办投诉处理情况的报告", "转办投诉报告",
                  "forwarded_case_report.docx",
                  "转办机构要求的期限（配置或转办记录）；未规定时为该投诉的处理时限"),
    OnRequestKind("rectification", "requirement", "整改情况报告", "整改报告", "rectification_report.docx",
                  "收到整改要求之日起30日内"),
)}
assert tuple(ON_REQUEST_KINDS) == get_args(OnRequest)
ON_REQUEST: tuple[OnRequest, ...] = get_args(OnRequest)


def any_filing_kind(name: str) -> FilingKind | OnRequestKind:
    """The registry entry of a periodic or an on-request filing; a ValueError naming them all otherwise."""
    if name in ON_REQUEST_KINDS:
        return ON_REQUEST_KINDS[name]  # type: ignore[index]
    try:
        return filing_kind(name)
    except ValueError:
        known = ", ".join([*FILING_KINDS, *ON_REQUEST_KINDS])
        raise ValueError(f"no filing {name!r} (one of {known})") from None


def filing_kind(name: str) -> FilingKind:
    """The registry entry of ``name``; a ValueError naming the known filings otherwise."""
    try:
        return FILING_KINDS[name]  # type: ignore[index]
    except KeyError:
        raise ValueError(f"no filing {name!r} (one of {', '.join(FILING_KINDS)})") from None


# -- previews: a period not yet ended ----------------------------------------------------------------

def period_not_ended(period: Period, as_of: dt.date) -> bool:
    """Whether ``period`` has not ended at ``as_of``: its last day is on or after the as-of date (the
    figures of that day are not complete, so a run then makes a preview, never a draft)."""
    return period.last_day >= as_of


def preview_mark(as_of: dt.date) -> str:
    """The mark every page of a preview carries: 【预览稿，数据截至2026年11月29日】."""
    return f"【预览稿，数据截至{as_of.year}年{as_of.month}月{as_of.day}日】"


def preview_refusal(filing: str, period: Period, as_of: dt.date) -> str:
    """The one line that refuses a draft of a period not yet ended, naming ``--preview``."""
    return (f"{period.code} has not ended (its last day {period.last_day.isoformat()} is on or after the "
            f"as-of date {as_of.isoformat()}): a {filing} draft is made only for an ended period; "
            "re-run with --preview for a preview marked 【预览稿】 on every page (never submitted, kept "
            "apart from drafts)")
