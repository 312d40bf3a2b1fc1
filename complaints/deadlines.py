"""The filing calendar: when each filing of DOMAIN.md is due, per entity level. Pure.

Rules (defaults in :class:`complaints.settings.FilingRules`, configurable):

* ``quarterly`` (季度投诉处理工作情况报告), period ``YYYYQn``: "within N working days after quarter
  end": counting starts the day after the quarter's last day and the N-th working day is the last
  day allowed; N = ``quarterly_working_days[level]`` (head office 10, branch 7).
* ``annual`` (年度投诉处理工作自查报告), period ``YYYY``: "before ``annual_due_month_day``" of the next
  year (default ``03-01``, before 1 March): the last allowed day is the natural day before it, i.e.
  the last day of February (the 29th in a leap year). No working-day shift.
* ``monthly`` (月度投诉通报: the three publication tables), period ``YYYY-MM``, published by the head
  office "before the N-th working day" of the next month (N = ``monthly_before_working_day``,
  default 5): the last allowed day is the (N-1)-th working day of the next month.
* ``weekly`` (超时限投诉案件周公示, internal), period ``YYYY-Www`` (ISO week): published on the first
  working day after the week; its run window opens that day too.
* rectification (整改情况书面报告): :func:`rectification_due`, the requirement's receipt date plus
  ``rectification_days`` natural days (the 30th day is the last allowed).
* forwarded-case report (转办投诉书面报告): :func:`forwarded_report_due`, receipt date plus the
  days the forwarding office set (or ``forwarded_report_days`` from configuration), natural days.

Dates come from a :class:`~complaints.calendar.WorkCalendar`; a due date that needs a year the
calendar does not know raises :class:`~complaints.calendar.UnknownCalendarYear` from
:func:`due_date`, and becomes the ``error`` of that entry in :func:`filings_for_year`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from complaints.calendar import UnknownCalendarYear, WorkCalendar
from complaints.filings import FILING_KINDS, FILINGS, LEVELS, Filing, Level
from complaints.periods import Period
from complaints.settings import FilingRules


@dataclass(frozen=True)
class FilingDue:
    """One filing of one period for one entity level, with its due date or why it has none."""

    filing: Filing
    period: str  # "2026Q3", "2026" or "2026-07"
    level: Level
    due: dt.date | None
    error: str | None = None
    missing_year: int | None = None  # the calendar year that must be supplied, when ``error``

    def to_dict(self) -> dict[str, Any]:
        """The JSON shape of ``complaints deadlines --json``."""
        return {
            "filing": self.filing,
            "period": self.period,
            "level": self.level,
            "due": self.due.isoformat() if self.due else None,
            "error": self.error,
        }


def _period(filing: Filing, period: Period | str) -> Period:
    if filing not in FILING_KINDS:
        raise ValueError(f"unknown filing {filing!r} (known: {', '.join(FILINGS)})")
    p = Period.parse(period) if isinstance(period, str) else period
    if p.kind != FILING_KINDS[filing].period_kind:
        raise ValueError(f"a {filing} filing reports on a {FILING_KINDS[filing].period_kind}, not {p.code!r}")
    return p


def _check_level(level: str) -> Level:
    if level not in LEVELS:
        raise ValueError(f"unknown entity level {level!r} (known: {', '.join(LEVELS)})")
    return level  # type: ignore[return-value]


def annual_due(year: int, rules: FilingRules) -> dt.date:
    """Last allowed day of the annual self-inspection report for ``year``: the natural day before
    ``annual_due_month_day`` of the next year (default: the last day of February)."""
    text = rules.annual_due_month_day
    try:
        month, day = (int(part) for part in text.split("-"))
        deadline = dt.date(year + 1, month, day)
    except ValueError as exc:
        raise ValueError(
            f"filings.annual_due_month_day {text!r} is not a MM-DD day that exists in {year + 1}"
        ) from exc
    return deadline - dt.timedelta(days=1)


def due_date(filing: Filing, period: Period | str, level: Level, calendar: WorkCalendar,
             rules: FilingRules) -> dt.date:
    """The last allowed day of ``filing`` for ``period`` at entity ``level`` (rules: module docstring).

    Raises :class:`UnknownCalendarYear` when the calendar lacks a year the count needs (e.g. Q4's
    report falls in January of the next year), and ``ValueError`` for a filing/period mismatch.
    """
    p = _period(filing, period)
    lvl = _check_level(level)
    if filing == "quarterly":
        n = rules.quarterly_working_days.get(lvl)
        if n is None or n < 1:
            raise ValueError(f"filings.quarterly_working_days has no positive value for {lvl}")
        return calendar.nth_workday_after(p.last_day, n)
    if filing == "annual":
        return annual_due(p.year, rules)
    if filing == "weekly":  # the first working day after the week
        return calendar.nth_workday_after(p.last_day, 1)
    # monthly: "before the N-th working day of the next month" -> the (N-1)-th working day
    before = rules.monthly_before_working_day
    if before < 2:
        raise ValueError("filings.monthly_before_working_day must be at least 2 (it is 'before the N-th')")
    return calendar.nth_workday_after(p.last_day, before - 1)


def quarter_served_until(period: Period | str, calendar: WorkCalendar, rules: FilingRules,
                         clock_working_days: int = 0) -> dt.date:
    """The quarterly filing of ``period`` (both levels) as the known calendar serves it: its
    head-office due date; raises :class:`UnknownCalendarYear` when the calendar cannot.

    Served means: every level's due date is known, and a working-day clock of up to
    ``clock_working_days`` (the longest in the rule sets) started on any day up to that due date
    (a complaint received on the quarter's last day, a clock restarted before the filing, the
    undecided backlog) ends in a known year.
    """
    p = _period("quarterly", period)
    levels = FILING_KINDS["quarterly"].default_levels
    last = max(due_date("quarterly", p, lvl, calendar, rules) for lvl in levels)
    if clock_working_days > 0:
        calendar.nth_workday_after(last, clock_working_days)
    return due_date("quarterly", p, "head_office", calendar, rules)


def latest_served_quarter(latest: Period | str, calendar: WorkCalendar, rules: FilingRules,
                          clock_working_days: int = 0) -> tuple[Period, dt.date, UnknownCalendarYear | None]:
    """The latest quarter up to ``latest`` that :func:`quarter_served_until` serves: (quarter, its
    head-office due date, the error that ruled out the quarter after it, None if it is ``latest``).

    Never guesses a year: when no quarter from the first known year on is served, the error for
    ``latest`` is raised.
    """
    asked = _period("quarterly", latest)
    first_known = Period("quarter", min(calendar.years), 1)
    blocked: UnknownCalendarYear | None = None
    quarter = asked
    while quarter >= first_known:
        try:
            return quarter, quarter_served_until(quarter, calendar, rules, clock_working_days), blocked
        except UnknownCalendarYear as exc:
            blocked = exc
        quarter = quarter.previous()
    quarter_served_until(asked, calendar, rules, clock_working_days)  # raises for the asked quarter
    raise AssertionError("unreachable")  # pragma: no cover


def periods_of_year(filing: Filing, year: int) -> list[Period]:
    """The reporting periods of ``filing`` that lie in ``year`` (4 quarters, the year, 12 months)."""
    if filing == "quarterly":
        return Period("year", year, 1).quarters()
    if filing == "annual":
        return [Period("year", year, 1)]
    if filing == "monthly":
        return [Period("month", year, m) for m in range(1, 13)]
    if filing == "weekly":  # the ISO weeks of the ISO year
        return [Period("week", year, w) for w in range(1, dt.date(year, 12, 28).isocalendar()[1] + 1)]
    raise ValueError(f"unknown filing {filing!r} (known: {', '.join(FILINGS)})")


def filings_for_year(year: int, level: Level | None, calendar: WorkCalendar,
                     rules: FilingRules) -> list[FilingDue]:
    """Every periodic filing whose reporting period lies in ``year``.

    ``level`` None: quarterly and annual for both levels, monthly for the head office only; a
    level: that level's filings (a branch has no monthly publication). Ordered by filing
    (quarterly, annual, monthly), then period, then level (head office first). A due date that
    needs an unknown calendar year gives ``due=None`` with the error text (naming the year and how
    to supply it) instead of raising.
    """
    out: list[FilingDue] = []
    for filing in FILINGS:
        levels = FILING_KINDS[filing].default_levels
        if level is not None:
            levels = (level,) if _check_level(level) in levels else ()
        for period in periods_of_year(filing, year):
            for lvl in levels:
                try:
                    due = due_date(filing, period, lvl, calendar, rules)
                except UnknownCalendarYear as exc:
                    out.append(FilingDue(filing, period.code, lvl, None, str(exc), exc.year))
                else:
                    out.append(FilingDue(filing, period.code, lvl, due))
    return out


def missing_years(entries: list[FilingDue]) -> list[int]:
    """The calendar years that would have to be supplied for every entry to have a due date."""
    return sorted({e.missing_year for e in entries if e.missing_year is not None})


def rectification_due(received: dt.date, rules: FilingRules) -> dt.date:
    """Last allowed day of a rectification report: ``received`` + ``rectification_days`` natural
    days (received 2026-03-10 → due 2026-04-09, the 30th day)."""
    return received + dt.timedelta(days=rules.rectification_days)


def forwarded_report_due(received: dt.date, rules: FilingRules, days: int | None = None) -> dt.date:
    """Last allowed day of the written report on a regulator-forwarded complaint.

    ``days`` is what the forwarding office required (natural days after receipt); without it,
    ``rules.forwarded_report_days`` applies; with neither, ``ValueError``: the office's
    requirement must be recorded.
    """
    n = days if days is not None else rules.forwarded_report_days
    if n is None:
        raise ValueError(
            "the forwarding office's time limit is needed: pass the days it set or configure "
            "filings.forwarded_report_days"
        )
    if n < 1:
        raise ValueError(f"a forwarded-case report time limit must be at least 1 day, not {n}")
    return received + dt.timedelta(days=n)


def window_opens(filing: Filing, period: Period | str, calendar: WorkCalendar, rules: FilingRules) -> dt.date:
    """The day a scheduled run of ``filing`` for ``period`` may start: the
    ``run_window_open_working_days``-th (monthly: ``monthly_run_window_open_working_days``-th) working
    day after the period's last day (data settled); 0 means the day after the period ends."""
    p = _period(filing, period)
    if filing == "weekly":
        return calendar.nth_workday_after(p.last_day, 1)
    n = (rules.monthly_run_window_open_working_days if filing == "monthly"
         else rules.run_window_open_working_days)
    return calendar.nth_workday_after(p.last_day, n) if n > 0 else p.end


def at_risk_from(due: dt.date, calendar: WorkCalendar, rules: FilingRules) -> dt.date:
    """The first day on which a filing still without a bundle is at risk: the
    ``at_risk_working_days``-th working day before ``due`` (the due day itself not counted);
    0 means the due day."""
    n = rules.at_risk_working_days
    return calendar.nth_workday_before(due, n) if n > 0 else due
