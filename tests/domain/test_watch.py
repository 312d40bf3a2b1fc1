"""The deadline watcher's decisions, table-driven over (today, calendar, archive state).

Filed means submitted (FILINGS.md): the main table's archive entries are drafts each submitted when it
was committed; ``DRAFT_CASES`` has drafts never submitted (open, at risk or late, never filed).

Hand-checked dates (2026 State Council notice, package calendar):
* 2026Q3 ends Wed 30 Sep; 1-7 Oct are the National Day holiday; Sat 10 Oct is a make-up working day.
  Working days after quarter end: Oct 8 (1), 9 (2), Sat 10 (3), 12 (4), 13, 14, 15 (7), 16, 19, 20 (10).
  → run window opens Sat 10 Oct (3rd working day); branch due Thu 15 Oct (7th), at risk from Mon 12 Oct
    (3 working days before: 14, 13, 12); head office due Tue 20 Oct (10th), at risk from Thu 15 Oct.
* monthly 2026-09: "before the 5th working day" of October → due Mon 12 Oct (4th), at risk from Thu 8 Oct.
* annual 2025: due Sat 28 Feb 2026 (natural day before 1 March; it happens to be a make-up working day);
  window opens Tue 6 Jan 2026 (Jan 1-3 off, Sun 4 Jan worked: 4, 5, 6); at risk from Wed 25 Feb
  (Spring Festival 15-23 Feb off: 27, 26, 25).
* 2026Q4 needs the 2027 schedule (not in the package): due unknown, never guessed.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest

from complaints.calendar import WorkCalendar, build_calendar
from complaints.settings import Entity, FilingRules
from complaints.times import SHANGHAI
from complaints.watch import (
    STATES,
    Decision,
    RunOutcome,
    WatchReport,
    commit_date,
    decide,
    decide_one,
    index_bundles,
    index_submissions,
    to_start,
    watched,
)
from tasks.archive.stores import parse_bundle_id
from tasks.calendar_files import read_year_file

D = dt.date
RULES = FilingRules()

FIXTURE_2027 = """\
year: 2027
source: test fixture, not the State Council notice
holidays: [2027-01-01, 2027-01-02, 2027-01-03]
workdays: [2027-01-09]
"""


@pytest.fixture(scope="module")
def cal() -> WorkCalendar:
    return build_calendar()


@pytest.fixture(scope="module")
def cal_2027(tmp_path_factory: pytest.TempPathFactory) -> WorkCalendar:
    path = Path(tmp_path_factory.mktemp("cal")) / "2027.yaml"
    path.write_text(FIXTURE_2027, encoding="utf-8")
    return build_calendar([read_year_file(path)])


def bundle(filing: str, entity: str, period: str, utc: str) -> str:
    """A bundle id committed at the UTC time ``utc`` (YYYYMMDDTHHMMSSZ)."""
    return f"{filing}/{entity}/{period}/{utc}-ab12cd34"


def filed(*ids: str) -> list[tuple[str, dt.date]]:
    return [(i, commit_date(parse_bundle_id(i).created)) for i in ids]


def submitted(*ids: str) -> list[tuple[str, dt.datetime, str | None]]:
    """Each draft submitted at the moment it was committed (Asia/Shanghai, naive), no reference."""
    return [(f"submission-{i}", parse_bundle_id(i).created.astimezone(SHANGHAI).replace(tzinfo=None), None)
            for i in ids]


Q3_HO = ("quarterly", "2026Q3", "HO", "head_office")
Q3_GD = ("quarterly", "2026Q3", "GD", "branch")
M09 = ("monthly", "2026-09", "HO", "head_office")
A25 = ("annual", "2025", "HO", "head_office")
Q4_HO = ("quarterly", "2026Q4", "HO", "head_office")

ON_TIME = bundle("quarterly", "HO", "2026Q3", "20261020T155959Z")  # 23:59:59 Shanghai on the due day
JUST_LATE = bundle("quarterly", "HO", "2026Q3", "20261020T160000Z")  # 00:00 Shanghai the day after
EARLY_BR = bundle("quarterly", "GD", "2026Q3", "20261012T020000Z")

# (filing key, today, bundles, expected state, expected action, expected due)
CASES: list[tuple[tuple[str, str, str, str], dt.date, list[str], str, str | None, dt.date | None]] = [
    # head office, quarter 3 around National Day
    (Q3_HO, D(2026, 9, 30), [], "not_open", None, D(2026, 10, 20)),  # quarter not ended
    (Q3_HO, D(2026, 10, 5), [], "not_open", None, D(2026, 10, 20)),  # holiday
    (Q3_HO, D(2026, 10, 8), [], "not_open", None, D(2026, 10, 20)),  # 1st working day
    (Q3_HO, D(2026, 10, 9), [], "not_open", None, D(2026, 10, 20)),  # 2nd working day
    (Q3_HO, D(2026, 10, 10), [], "open", "start", D(2026, 10, 20)),  # make-up Saturday = 3rd
    (Q3_HO, D(2026, 10, 11), [], "open", "start", D(2026, 10, 20)),  # Sunday
    (Q3_HO, D(2026, 10, 14), [], "open", "start", D(2026, 10, 20)),
    (Q3_HO, D(2026, 10, 15), [], "at_risk", "start", D(2026, 10, 20)),
    (Q3_HO, D(2026, 10, 20), [], "at_risk", "start", D(2026, 10, 20)),  # the due day itself
    (Q3_HO, D(2026, 10, 21), [], "late", "start", D(2026, 10, 20)),
    (Q3_HO, D(2026, 10, 21), [ON_TIME], "filed", None, D(2026, 10, 20)),
    (Q3_HO, D(2026, 10, 21), [JUST_LATE], "filed_late", None, D(2026, 10, 20)),  # UTC → Shanghai day
    (Q3_HO, D(2026, 12, 1), [ON_TIME, JUST_LATE], "filed", None, D(2026, 10, 20)),  # first submission decides
    # branch: 7 working days
    (Q3_GD, D(2026, 10, 10), [], "open", "start", D(2026, 10, 15)),
    (Q3_GD, D(2026, 10, 11), [], "open", "start", D(2026, 10, 15)),
    (Q3_GD, D(2026, 10, 12), [], "at_risk", "start", D(2026, 10, 15)),
    (Q3_GD, D(2026, 10, 15), [], "at_risk", "start", D(2026, 10, 15)),
    (Q3_GD, D(2026, 10, 16), [], "late", "start", D(2026, 10, 15)),
    (Q3_GD, D(2026, 10, 16), [EARLY_BR], "filed", None, D(2026, 10, 15)),
    (Q3_GD, D(2026, 10, 5), [EARLY_BR], "filed", None, D(2026, 10, 15)),  # archive wins over today
    # monthly tables: window opens on the 1st working day after the month (8 Oct, after the holiday),
    # due on the 4th (Sat 10 Oct is a make-up working day), at risk from the 1st
    (M09, D(2026, 10, 7), [], "not_open", None, D(2026, 10, 12)),
    (M09, D(2026, 10, 8), [], "at_risk", "start", D(2026, 10, 12)),
    (M09, D(2026, 10, 10), [], "at_risk", "start", D(2026, 10, 12)),
    (M09, D(2026, 10, 13), [], "late", "start", D(2026, 10, 12)),
    (M09, D(2026, 10, 13), [bundle("monthly", "HO", "2026-09", "20261012T020000Z")], "filed", None,
     D(2026, 10, 12)),
    # annual: natural-day due date, Spring Festival before it
    (A25, D(2026, 1, 5), [], "not_open", None, D(2026, 2, 28)),
    (A25, D(2026, 1, 6), [], "open", "start", D(2026, 2, 28)),
    (A25, D(2026, 2, 24), [], "open", "start", D(2026, 2, 28)),
    (A25, D(2026, 2, 25), [], "at_risk", "start", D(2026, 2, 28)),
    (A25, D(2026, 3, 1), [], "late", "start", D(2026, 2, 28)),
    # unknown 2027: no due date, never a guess
    (Q4_HO, D(2026, 12, 31), [], "not_open", None, None),  # period not ended: no calendar needed
    (Q4_HO, D(2027, 1, 6), [], "unknown", None, None),
    (Q4_HO, D(2027, 1, 20), [bundle("quarterly", "HO", "2026Q4", "20270110T010000Z")], "unknown", None, None),
]


@pytest.mark.parametrize(("key", "today", "bundles", "state", "action", "due"), CASES)
def test_decision_table(cal: WorkCalendar, key: tuple[str, str, str, str], today: dt.date, bundles: list[str],
                        state: str, action: str | None, due: dt.date | None) -> None:
    filing, period, entity, level = key
    d = decide_one(today, filing, period, entity, level, cal, RULES, filed(*bundles),  # type: ignore[arg-type]
                   submitted(*bundles))
    assert (d.state, d.action, d.due) == (state, action, due)
    assert d.bundle == (bundles[-1] if bundles else None)
    assert d.submission == (f"submission-{bundles[0]}" if bundles else None)
    if due is None:
        assert d.error and "2027" in d.error and d.missing_year == 2027


# drafts never submitted: a draft alone never files; the watcher does not start another unless asked
DRAFT_CASES = [
    (Q3_HO, D(2026, 10, 14), [EARLY_BR.replace("GD", "HO")], "open"),
    (Q3_HO, D(2026, 10, 15), [ON_TIME], "at_risk"),
    (Q3_HO, D(2026, 10, 21), [ON_TIME], "late"),
    (Q3_HO, D(2027, 6, 1), [ON_TIME, JUST_LATE], "late"),  # however long ago
    (Q3_GD, D(2026, 10, 16), [EARLY_BR], "late"),
]


@pytest.mark.parametrize(("key", "today", "drafts", "state"), DRAFT_CASES)
def test_drafts_alone_never_file(cal: WorkCalendar, key: tuple[str, str, str, str], today: dt.date,
                                 drafts: list[str], state: str) -> None:
    d = decide_one(today, *key, cal, RULES, filed(*drafts))  # type: ignore[arg-type]
    assert (d.state, d.action, d.bundle, d.bundles) == (state, None, drafts[-1], len(drafts))
    assert (d.submission, d.submitted_at) == (None, None)
    assert d.to_dict()["drafts"] == len(drafts) and d.to_dict()["submission"] is None
    again = decide_one(today, *key, cal, RULES, filed(*drafts), redraft=True)  # type: ignore[arg-type]
    assert (again.state, again.action) == (state, "start")


def test_submission_time_decides_filed_or_late_not_the_draft(cal: WorkCalendar) -> None:
    draft = filed(ON_TIME)  # drafted on the due day
    on_due_day = [("s1", dt.datetime(2026, 10, 20, 23, 59), "监管-2026-001")]
    next_day = [("s2", dt.datetime(2026, 10, 21, 0, 0), None)]
    d = decide_one(D(2026, 11, 1), *Q3_HO, cal, RULES, draft, on_due_day)  # type: ignore[arg-type]
    assert (d.state, d.submission, d.reference, d.bundle) == ("filed", "s1", "监管-2026-001", ON_TIME)
    assert d.to_dict()["submitted_at"] == "2026-10-20T23:59:00+08:00"
    d = decide_one(D(2026, 11, 1), *Q3_HO, cal, RULES, draft, next_day)  # type: ignore[arg-type]
    assert (d.state, d.action) == ("filed_late", None)

    class Sub:
        def __init__(self, sid: str, at: dt.datetime) -> None:
            self.submission_id, self.filing, self.entity, self.period = sid, "quarterly", "HO", "2026Q3"
            self.submitted_at, self.reference = at, None

    idx = index_submissions([Sub("b", dt.datetime(2026, 10, 22)), Sub("a", dt.datetime(2026, 10, 19))])
    assert [x[0] for x in idx[("quarterly", "2026Q3", "HO")]] == ["a", "b"]  # earliest submitted first


def test_window_and_risk_days_around_national_day(cal: WorkCalendar) -> None:
    ho = decide_one(D(2026, 10, 13), *Q3_HO, cal, RULES)  # type: ignore[arg-type]
    gd = decide_one(D(2026, 10, 13), *Q3_GD, cal, RULES)  # type: ignore[arg-type]
    assert (ho.window_opens, ho.at_risk_from, ho.due) == (D(2026, 10, 10), D(2026, 10, 15), D(2026, 10, 20))
    assert (gd.window_opens, gd.at_risk_from, gd.due) == (D(2026, 10, 10), D(2026, 10, 12), D(2026, 10, 15))
    assert (ho.state, gd.state) == ("open", "at_risk")


# with an operator-supplied 2027 file (Jan 1-3 off, Sat 9 Jan worked): Q4 2026 head office
# working days 4, 5, 6 (window), 7, 8, Sat 9, 11 (at risk), 12, 13, 14 (due)
CASES_2027 = [
    (D(2027, 1, 5), "not_open", None),
    (D(2027, 1, 6), "open", "start"),
    (D(2027, 1, 10), "open", "start"),
    (D(2027, 1, 11), "at_risk", "start"),
    (D(2027, 1, 14), "at_risk", "start"),
    (D(2027, 1, 15), "late", "start"),
]


@pytest.mark.parametrize(("today", "state", "action"), CASES_2027)
def test_supplied_year_makes_q4_decidable(cal_2027: WorkCalendar, today: dt.date, state: str,
                                          action: str | None) -> None:
    d = decide_one(today, *Q4_HO, cal_2027, RULES)  # type: ignore[arg-type]
    assert (d.window_opens, d.at_risk_from, d.due) == (D(2027, 1, 6), D(2027, 1, 11), D(2027, 1, 14))
    assert (d.state, d.action, d.error) == (state, action, None)


def test_annual_due_known_but_window_needs_unknown_year(cal: WorkCalendar) -> None:
    # annual 2026 is due 2027-02-28 (natural days), but the window and at-risk day need 2027
    early = decide_one(D(2027, 1, 10), "annual", "2026", "HO", "head_office", cal, RULES)
    assert (early.due, early.state, early.action) == (D(2027, 2, 28), "unknown", None)
    assert early.missing_year == 2027
    late = decide_one(D(2027, 3, 1), "annual", "2026", "HO", "head_office", cal, RULES)
    assert (late.state, late.action) == ("late", None)  # late is certain; when to start is not


ENTITIES = [Entity(code="HO", name="总公司", level="head_office"),
            Entity(code="GD", name="广东分公司", level="branch"),
            Entity(code="JS", name="江苏分公司", level="branch")]


def test_decide_covers_every_filing_and_entity(cal: WorkCalendar) -> None:
    archive = index_bundles([parse_bundle_id(EARLY_BR)])
    out = decide(D(2026, 10, 13), ENTITIES, cal, RULES, archive, years=[2026],
                 submitted={("quarterly", "2026Q3", "GD"): submitted(EARLY_BR)})
    # quarterly 4 x 3 entities, annual 3, monthly 12 and weekly 53 (ISO 2026) for the head office only
    assert len(out) == 12 + 3 + 12 + 53
    assert {d.entity for d in out if d.filing in ("monthly", "weekly")} == {"HO"}
    assert {(d.entity, d.level) for d in out} == {("HO", "head_office"), ("GD", "branch"), ("JS", "branch")}
    by = {(d.filing, d.period, d.entity): d for d in out}
    assert by[("quarterly", "2026Q3", "GD")].state == "filed"
    assert by[("quarterly", "2026Q3", "GD")].bundle == EARLY_BR
    assert by[("quarterly", "2026Q3", "JS")].state == "at_risk"
    assert by[("quarterly", "2026Q3", "HO")].state == "open"
    assert {d.state for d in out} <= set(STATES)
    assert [d.to_dict().keys() for d in out][0] == {"filing", "period", "entity", "level", "due", "state",
                                                     "bundle", "drafts", "submission", "submitted_at",
                                                     "reference", "reason"}
    default_years = decide(D(2026, 10, 13), ENTITIES, cal, RULES, archive)
    assert {d.period[:4] for d in default_years} == {"2025", "2026"}
    drafted_only = {(d.filing, d.period, d.entity): d for d in default_years}[("quarterly", "2026Q3", "GD")]
    assert (drafted_only.state, drafted_only.bundle, drafted_only.action) == ("at_risk", EARLY_BR, None)


def test_index_bundles_orders_by_commit_time_and_converts_to_shanghai() -> None:
    later, earlier = JUST_LATE, ON_TIME
    idx = index_bundles([parse_bundle_id(later), parse_bundle_id(earlier)])
    assert idx[("quarterly", "2026Q3", "HO")] == [(earlier, D(2026, 10, 20)), (later, D(2026, 10, 21))]
    assert commit_date(dt.datetime(2026, 12, 31, 16, 0)) == D(2027, 1, 1)  # naive = UTC


def test_watcher_reports_every_late_unsubmitted_filing_but_starts_only_recent_ones(cal: WorkCalendar) -> None:
    q2 = bundle("quarterly", "HO", "2026Q2", "20260710T020000Z")
    all_ = decide(D(2026, 10, 13), ENTITIES[:1], cal, RULES, index_bundles([parse_bundle_id(q2)]),
                  submitted={("quarterly", "2026Q1", "HO"): submitted(q2.replace("Q2", "Q1"))})
    keep = watched(all_, D(2026, 10, 13), lookback_days=31)
    kept = {(d.filing, d.period) for d in keep}
    assert ("quarterly", "2026Q3") in kept and ("monthly", "2026-09") in kept
    # late and never submitted, however old: still reported (with its draft, or without one)
    assert ("quarterly", "2026Q2") in kept and ("annual", "2025") in kept and ("monthly", "2025-01") in kept
    assert ("quarterly", "2026Q1") not in kept  # submitted (late) long ago: nothing to report
    assert ("quarterly", "2026Q4") in kept  # due unknown: still watched
    starts = [d.key for d in to_start(keep, D(2026, 10, 13), lookback_days=31)]
    # and the weekly publications due since 09-12 (W37 due 09-14 … W41 due 10-12)
    assert sorted(starts) == [("monthly", "2026-09", "HO"), ("quarterly", "2026Q3", "HO"),
                              *(("weekly", f"2026-W{w}", "HO") for w in range(37, 42))]
    # schedules.watch_from (go-live): filings due before it are left out, the rest as before
    since = {(d.filing, d.period) for d in watched(all_, D(2026, 10, 13), 31, since=D(2026, 7, 1))}
    assert ("quarterly", "2026Q2") in since and ("annual", "2025") not in since
    assert ("monthly", "2026-05") not in since and ("quarterly", "2026Q3") in since


def _report(**kwargs: Any) -> WatchReport:
    decisions = (
        decide_one(D(2026, 10, 13), *Q3_HO, build_calendar(), RULES),  # type: ignore[arg-type]
        decide_one(D(2026, 10, 13), *Q3_GD, build_calendar(), RULES),  # type: ignore[arg-type]
        decide_one(D(2026, 10, 13), *M09, build_calendar(), RULES),  # type: ignore[arg-type]
    )
    return WatchReport(D(2026, 10, 13), decisions, **kwargs)


def test_report_problems_and_texts() -> None:
    report = _report()
    assert [d.state for d in report.decisions] == ["open", "at_risk", "late"]
    # the monthly tables are filed like the others: past due without a bundle is late, a problem
    assert not report.ok and report.problems == ["late: monthly 2026-09 HO (due 2026-10-12, no draft)"]
    assert report.needs_notice
    assert report.message() == "2026-10-13: 1 late, 1 at risk, 1 due"
    text = report.text()
    assert "quarterly 2026Q3 GD due 2026-10-15 (at risk from 2026-10-12)" in text
    assert "LATE" in text and "monthly 2026-09 HO due 2026-10-12" in text
    payload = report.payload()
    assert [r["entity"] for r in payload["at_risk"]] == ["GD"]
    assert [r["period"] for r in payload["late"]] == ["2026-09"]
    assert "| quarterly | 2026Q3 | GD | 2026-10-15 | at_risk" in report.markdown()

    late_q = decide_one(D(2026, 10, 16), *Q3_GD, build_calendar(), RULES)  # type: ignore[arg-type]
    late_report = WatchReport(D(2026, 10, 16), (late_q,))
    assert not late_report.ok
    assert late_report.problems == ["late: quarterly 2026Q3 GD (due 2026-10-15, no draft)"]
    drafted = decide_one(D(2026, 10, 16), *Q3_GD, build_calendar(), RULES, filed(EARLY_BR))  # type: ignore[arg-type]
    assert WatchReport(D(2026, 10, 16), (drafted,)).problems == [
        "late: quarterly 2026Q3 GD (due 2026-10-15, 1 draft(s) not submitted)"]
    assert late_report.message() == "2026-10-16: 1 late" and late_report.subject().startswith("投诉报送")

    failed = RunOutcome("quarterly", "2026Q3", "HO", "deployment", False, "FAILED", "boom", "abc")
    report2 = _report(runs=(failed,), delivery_errors=("webhook: HTTP 500",))
    assert "run failed: quarterly 2026Q3 HO (FAILED: boom)" in report2.problems
    assert "notification failed: webhook: HTTP 500" in report2.problems
    assert report2.payload()["failed_runs"][0]["message"] == "boom"
    assert "1 started (1 failed)" in report2.message()


def test_nothing_due_is_ok_and_silent(cal: WorkCalendar) -> None:
    d = decide_one(D(2026, 10, 21), *Q3_HO, cal, RULES, filed(ON_TIME),  # type: ignore[arg-type]
                   submitted(ON_TIME))
    report = WatchReport(D(2026, 10, 21), (d,))
    assert report.ok and not report.needs_notice and report.message() == "2026-10-21: nothing due"
    assert isinstance(report.decisions[0], Decision)


def test_on_request_filings_are_reported_until_submitted() -> None:
    """A forwarded-case report past its due date with a draft is a problem every day until it is
    submitted; one at risk is reported; a filed one is neither."""
    from complaints.on_request import OnRequestItem, item_states

    today = D(2026, 10, 16)
    sep1, sep30 = D(2026, 9, 1), D(2026, 9, 30)
    items = [OnRequestItem("forwarded", "GD", "C1", "转办投诉报告", sep1, sep30, "广东监管局", None),
             OnRequestItem("rectification", "HO", "R1", "整改报告", D(2026, 9, 20), D(2026, 10, 20), "",
                           None),
             OnRequestItem("forwarded", "HO", "C2", "转办投诉报告", sep1, sep30, "", None)]
    drafts = {("forwarded", "GD", "C1"): ["forwarded/GD/C1/20261001T010000Z-aa"]}
    rows = item_states(items, drafts, {("forwarded", "HO", "C2"): D(2026, 9, 29)}, today,
                       lambda due: due - dt.timedelta(days=5))
    report = WatchReport(today, (), on_request=tuple(rows))
    assert report.problems == ["late: forwarded C1 GD (due 2026-09-30 — 1 draft(s), not submitted)"]
    assert not report.ok and report.needs_notice
    assert report.message() == "2026-10-16: 1 late, 1 at risk"
    text = report.text()
    assert "ON REQUEST AT RISK (按需报告临近截止):\n- rectification R1 HO due 2026-10-20" in text
    assert "C2" not in text  # submitted on time: filed
    assert [r["period"] for r in report.payload()["on_request"]] == ["C1", "R1"]


# -- the weekly overdue publication (internal: its bundle is the publication) --------------------------------
@pytest.mark.parametrize(("today", "bundles", "state", "action"), [
    (D(2026, 10, 7), (), "not_open", None),  # W40 ended 10-04, but 10-05..10-07 are holidays
    (D(2026, 10, 8), (), "at_risk", "start"),  # the first working day after the week: due, start it
    (D(2026, 10, 9), (), "late", "start"),
    (D(2026, 10, 9), ("20261008T010000Z",), "filed", None),  # committed 10-08 09:00 Shanghai: on time
    (D(2026, 10, 12), ("20261009T010000Z",), "filed_late", None),
])
def test_weekly_publication_is_filed_by_its_bundle(cal: WorkCalendar, today: dt.date,
                                                   bundles: tuple[str, ...], state: str,
                                                   action: str | None) -> None:
    drafts = filed(*(bundle("weekly", "HO", "2026-W40", b) for b in bundles))
    d = decide_one(today, "weekly", "2026-W40", "HO", "head_office", cal, RULES, drafts)
    assert (d.due, d.window_opens, d.state, d.action) == (D(2026, 10, 8), D(2026, 10, 8), state, action)
    if bundles:
        assert d.submission == drafts[0][0]


def test_overdue_rectification_items_are_a_notice_not_a_failure() -> None:
    """Issue 19: an item past its due date and not done is in the watcher's report (text, payload,
    message) and makes it notify, but an internal task never fails the run; a done one is not listed."""
    from complaints.rectification import overdue_items
    from complaints.settings import RectificationItem

    def item(id_: str, due: dt.date, status: str) -> RectificationItem:
        return RectificationItem(id=id_, title="理赔时效整改", finding="季度分析", category="claims",
                                 owner="理赔部", opened=D(2026, 4, 1), due=due, status=status)  # type: ignore[arg-type]

    items = [item("RC1", D(2026, 9, 30), "in_progress"), item("RC2", D(2026, 9, 1), "done"),
             item("RC3", D(2026, 10, 13), "planned")]
    today = D(2026, 10, 13)
    overdue = overdue_items(items, today)
    assert [(r["id"], r["days_overdue"]) for r in overdue] == [("RC1", 13)]  # RC3 is due today: not yet
    report = WatchReport(today, (), rectification_overdue=tuple(overdue))
    assert report.ok and report.problems == [] and report.needs_notice
    assert report.message() == "2026-10-13: 1 rectification item(s) overdue"
    assert ("RECTIFICATION OVERDUE (整改事项已逾期):\n- RC1 理赔时效整改 — 理赔部, due 2026-09-30 "
            "(13 day(s) overdue)") in report.text()
    assert [r["id"] for r in report.payload()["rectification_overdue"]] == ["RC1"]
    assert not WatchReport(today, ()).needs_notice
