"""The deadline watcher's decisions: which filing is due, at risk, late or filed, and what to start. Pure.

For a day ``today`` (Asia/Shanghai), every periodic filing of the watched years for every configured
entity gets one :class:`Decision`:

* quarterly (季度报告) and annual (年度自查) for every entity, due by the entity level's rules;
* monthly (月度通报) for the head office only (the head office publishes the three tables);
* weekly (超时限投诉案件周公示) for the head office only: an internal publication, so its first
  committed bundle *is* the publication (filed / filed_late by the bundle's commit day); its run window
  opens on its due day (the first working day after the week) and it is at risk only on that day.

States (first match wins; a *draft* is a committed evidence bundle of a run of that filing/period/entity,
a *submission* the recorded submission of one — FILINGS.md "Filed means submitted"):

============  =========================================================================================
``filed``       the first submission was submitted (``submitted_at``) on or before the due date
``filed_late``  the first submission was submitted after the due date
``late``        no submission, and today is after the due date (drafts or not)
``at_risk``     no submission, and today ≥ :func:`~complaints.deadlines.at_risk_from` (due)
``not_open``    no submission, and the run window has not opened (today < window, or the period has
                not ended: then no calendar is needed to know it)
``open``        no submission, the run window is open, not yet at risk
``unknown``     the calendar lacks a year needed to decide (never a guess): ``due`` may be None and
                ``error`` names the year to supply
============  =========================================================================================

A draft alone never files: it leaves the filing ``open``, ``at_risk`` or ``late``. ``action`` is
``"start"`` when the run window has opened, nothing is submitted and no draft exists yet (or
``redraft`` is asked) — states open, at_risk, late, and unknown when only the due date, not the
window, is missing — else None. The watcher applies its own horizon to starting (:func:`to_start`), so
a fresh archive does not start every filing of last year, but reports every late unsubmitted filing
however old (:func:`watched`).

Bundle commit days come from the bundle id's UTC timestamp, converted to the Asia/Shanghai date.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal, Protocol

from complaints.calendar import UnknownCalendarYear, WorkCalendar
from complaints.deadlines import (
    at_risk_from,
    due_date,
    periods_of_year,
    window_opens,
)
from complaints.filings import FILING_KINDS, FILINGS, Filing, Level
from complaints.periods import Period
from complaints.settings import Entity, FilingRules
from complaints.times import SHANGHAI

State = Literal["not_open", "open", "at_risk", "filed", "late", "filed_late", "unknown"]
Action = Literal["start"]
STATES: tuple[State, ...] = ("not_open", "open", "at_risk", "filed", "late", "filed_late", "unknown")

#: key of the archive index: (filing, period, entity code)
Key = tuple[str, str, str]
#: (bundle id, Asia/Shanghai commit date), oldest first
Filed = Sequence[tuple[str, dt.date]]
#: (submission id, submitted at (tz-naive Asia/Shanghai), reference or None), earliest submitted first
Submitted = Sequence[tuple[str, dt.datetime, str | None]]


class BundleRef(Protocol):
    """What :func:`index_bundles` needs of a parsed bundle id (``tasks.archive.stores.BundleId`` fits)."""

    @property
    def filing(self) -> str: ...
    @property
    def entity(self) -> str: ...
    @property
    def period(self) -> str: ...
    @property
    def created(self) -> dt.datetime: ...


@dataclass(frozen=True)
class Decision:
    """One filing of one period for one entity on ``today``: its deadline, state and what to do."""

    filing: Filing
    period: str
    entity: str
    level: Level
    due: dt.date | None
    state: State
    bundle: str | None = None  # the latest draft (committed bundle), if any
    committed: dt.date | None = None  # Asia/Shanghai day the first draft was committed
    bundles: int = 0  # drafts
    submission: str | None = None  # the submission that counts (the first submitted)
    submitted_at: dt.datetime | None = None  # its time, tz-naive Asia/Shanghai
    reference: str | None = None  # the regulator's reference or receipt number, if recorded
    submissions: int = 0
    window_opens: dt.date | None = None
    at_risk_from: dt.date | None = None
    action: Action | None = None
    error: str | None = None
    missing_year: int | None = None

    @property
    def key(self) -> Key:
        return (self.filing, self.period, self.entity)

    @property
    def submitted_day(self) -> dt.date | None:
        return self.submitted_at.date() if self.submitted_at else None

    def to_dict(self) -> dict[str, Any]:
        """The JSON shape of ``complaints status --json`` (exactly these keys): ``bundle`` is the latest
        draft, ``drafts`` their number, ``submission``/``submitted_at``/``reference`` the submission that
        counts (null when none), ``reason`` why the state is uncertain (a missing calendar year)."""
        return {
            "filing": self.filing,
            "period": self.period,
            "entity": self.entity,
            "level": self.level,
            "due": self.due.isoformat() if self.due else None,
            "state": self.state,
            "bundle": self.bundle,
            "drafts": self.bundles,
            "submission": self.submission,
            "submitted_at": self.submitted_at.replace(tzinfo=SHANGHAI).isoformat() if self.submitted_at
            else None,
            "reference": self.reference,
            "reason": self.error,
        }

    def to_row(self) -> dict[str, Any]:
        """Every field as JSON-friendly values (artifacts, notifications)."""
        def iso(d: dt.date | None) -> str | None:
            return d.isoformat() if d else None

        return {
            **self.to_dict(),
            "window_opens": iso(self.window_opens),
            "at_risk_from": iso(self.at_risk_from),
            "committed": iso(self.committed),
            "bundles": self.bundles,
            "submissions": self.submissions,
            "action": self.action,
            "error": self.error,
        }


def commit_date(created_utc: dt.datetime) -> dt.date:
    """The Asia/Shanghai day of a bundle's UTC creation time (a naive time is read as UTC)."""
    if created_utc.tzinfo is None:
        created_utc = created_utc.replace(tzinfo=dt.UTC)
    return created_utc.astimezone(SHANGHAI).date()


def index_bundles(bundles: Iterable[BundleRef]) -> dict[Key, list[tuple[str, dt.date]]]:
    """The archive as :func:`decide` reads it: (filing, period, entity) → [(bundle id, commit day)],
    oldest first. ``str(bundle)`` must give the bundle id (true of ``tasks.archive.stores.BundleId``)."""
    out: dict[Key, list[tuple[dt.datetime, str]]] = defaultdict(list)
    for b in bundles:
        out[(b.filing, b.period, b.entity)].append((b.created, str(b)))
    return {k: [(bid, commit_date(created)) for created, bid in sorted(v)] for k, v in out.items()}


class SubmissionLike(Protocol):
    """What :func:`index_submissions` needs of a submission (``tasks.submission.SubmissionRef`` fits)."""

    @property
    def submission_id(self) -> str: ...
    @property
    def filing(self) -> str: ...
    @property
    def entity(self) -> str: ...
    @property
    def period(self) -> str: ...
    @property
    def submitted_at(self) -> dt.datetime: ...
    @property
    def reference(self) -> str | None: ...


def index_submissions(submissions: Iterable[SubmissionLike]) -> dict[Key, list[tuple[str, dt.datetime,
                                                                                   str | None]]]:
    """The recorded submissions as :func:`decide` reads them: (filing, period, entity) → [(submission id,
    submitted at, reference)], earliest submitted first."""
    out: dict[Key, list[tuple[str, dt.datetime, str | None]]] = defaultdict(list)
    for s in submissions:
        out[(s.filing, s.period, s.entity)].append((s.submission_id, s.submitted_at, s.reference))
    return {k: sorted(v, key=lambda x: (x[1], x[0])) for k, v in out.items()}


def _try(fn: Any, *args: Any) -> tuple[dt.date | None, UnknownCalendarYear | None]:
    try:
        return fn(*args), None
    except UnknownCalendarYear as exc:
        return None, exc


def decide_one(today: dt.date, filing: Filing, period: str, entity: str, level: Level,
               calendar: WorkCalendar, rules: FilingRules, filed: Filed = (), submitted: Submitted = (),
               redraft: bool = False) -> Decision:
    """The decision for one filing (rules: module docstring). ``filed``: its drafts, oldest first;
    ``submitted``: its submissions, earliest first; ``redraft``: start a run even if a draft exists."""
    period_obj = Period.parse(period)
    due, due_err = _try(due_date, filing, period_obj, level, calendar, rules)
    window, window_err = _try(window_opens, filing, period_obj, calendar, rules)
    risk, risk_err = (None, None) if due is None else _try(at_risk_from, due, calendar, rules)
    published_by_bundle = FILING_KINDS[filing].published_by_bundle
    if published_by_bundle:  # the weekly publication: its window opens on its due day, no earlier risk
        risk = due
        if filed and not submitted:  # its first committed bundle is the publication
            submitted = ((filed[0][0], dt.datetime.combine(filed[0][1], dt.time()), None),)
    err = due_err or window_err or risk_err
    base: dict[str, Any] = {
        "filing": filing, "period": period, "entity": entity, "level": level, "due": due,
        "window_opens": window, "at_risk_from": risk,
        "error": str(err) if err else None, "missing_year": err.year if err else None,
        "bundle": filed[-1][0] if filed else None, "committed": filed[0][1] if filed else None,
        "bundles": len(filed), "submissions": len(submitted),
    }
    if submitted:
        first_id, first_at, reference = submitted[0]
        if due is None:
            state: State = "unknown"
        else:
            state = "filed" if first_at.date() <= due else "filed_late"
        return Decision(**base, state=state, submission=first_id, submitted_at=first_at, reference=reference)

    window_open = window is not None and today >= window
    action: Action | None = "start" if window_open and (redraft or not filed) else None
    if due is not None and today > due:
        state = "late"
    elif risk is not None and today >= risk:
        state = "at_risk"
    elif today < period_obj.end or (window is not None and today < window):
        state = "not_open"  # the window never opens before the period has ended
    elif window_open and risk is not None:
        state = "open"
    else:
        state = "unknown"
    return Decision(**base, state=state, action=action)


def filings_of(entities: Sequence[Entity], years: Iterable[int]) -> list[tuple[Filing, str, Entity]]:
    """(filing, period, entity) of every periodic filing whose period lies in ``years``: quarterly and
    annual for every entity, monthly for the head office; ordered by year, filing, period, entity."""
    out: list[tuple[Filing, str, Entity]] = []
    for year in sorted(set(years)):
        for filing in FILINGS:
            for period in periods_of_year(filing, year):
                levels = FILING_KINDS[filing].default_levels
                out.extend((filing, period.code, e) for e in entities if e.level in levels)
    return out


def decide(today: dt.date, entities: Sequence[Entity], calendar: WorkCalendar, rules: FilingRules,
           filed: Mapping[Key, Filed], years: Iterable[int] | None = None,
           submitted: Mapping[Key, Submitted] | None = None, redraft: bool = False) -> list[Decision]:
    """Every periodic filing of ``years`` (default: last year and this year) for every entity, with
    its state on ``today`` and the action the watcher should take (rules: module docstring).

    ``filed`` maps (filing, period, entity code) to the drafts, oldest first (see :func:`index_bundles`);
    ``submitted`` to the recorded submissions (:func:`index_submissions`). A year missing from the
    calendar never raises: the affected decisions
    carry ``error`` and, where it matters, state ``unknown``.
    """
    wanted = (today.year - 1, today.year) if years is None else years
    return [
        decide_one(today, filing, period, e.code, e.level, calendar, rules,
                   filed.get((filing, period, e.code), ()),
                   (submitted or {}).get((filing, period, e.code), ()), redraft)
        for filing, period, e in filings_of(entities, wanted)
    ]


def watched(decisions: Iterable[Decision], today: dt.date, lookback_days: int,
            since: dt.date | None = None) -> list[Decision]:
    """The decisions the daily watcher reports on: every late unsubmitted filing however long ago it
    fell due, and the rest due no more than ``lookback_days`` ago (or due unknown). ``since`` (the
    go-live day, ``schedules.watch_from``): filings due before it are left out."""
    horizon = today - dt.timedelta(days=lookback_days)
    return [d for d in decisions if (d.due is None or d.due >= horizon or d.state == "late")
            and (since is None or d.due is None or d.due >= since)]


def to_start(decisions: Iterable[Decision], today: dt.date, lookback_days: int) -> list[Decision]:
    """The runs the watcher starts: action ``start`` and due no more than ``lookback_days`` ago (or due
    unknown), so a fresh archive does not start a whole missing year; older late ones are reported."""
    horizon = today - dt.timedelta(days=lookback_days)
    return [d for d in decisions if d.action == "start" and (d.due is None or d.due >= horizon)]


def years_to_watch(today: dt.date) -> tuple[int, int]:
    """Last year and this year: Q4 and the annual report of last year are due in this year."""
    return (today.year - 1, today.year)


# ------------------------------------------------------------------------------------- the report


@dataclass(frozen=True)
class RunOutcome:
    """What became of one filing run the watcher started."""

    filing: str
    period: str
    entity: str
    launched_as: str  # "deployment" or "subflow"
    ok: bool
    state: str  # Prefect state name (COMPLETED, FAILED, CRASHED, …) or NOT_STARTED / TIMED_OUT
    message: str = ""
    flow_run_id: str | None = None
    bundle: str | None = None

    def to_row(self) -> dict[str, Any]:
        return {"filing": self.filing, "period": self.period, "entity": self.entity,
                "launched_as": self.launched_as, "ok": self.ok, "state": self.state,
                "message": self.message, "flow_run_id": self.flow_run_id, "bundle": self.bundle}


_STATE_ZH: dict[str, str] = {
    "not_open": "未到运行窗口", "open": "待报送", "at_risk": "临近截止", "filed": "已报送",
    "late": "已逾期", "filed_late": "逾期报送", "unknown": "日历缺失",
}


def _name(d: Decision | RunOutcome) -> str:
    return f"{d.filing} {d.period} {d.entity}"


def _drafted(d: Decision) -> str:
    return f", {d.bundles} draft(s) not submitted" if d.bundles else ", no draft"


def _item_name(r: Mapping[str, Any]) -> str:
    return f"{r['filing']} {r['period']} {r['entity']}"


def _item_drafted(r: Mapping[str, Any]) -> str:
    return f" — {r['drafts']} draft(s), not submitted" if r.get("drafts") else ""


@dataclass(frozen=True)
class WatchReport:
    """The watcher's findings for ``today``: the decisions (after any runs it started) and the runs.

    ``problems`` (late filings, failed runs, undecidable deadlines, failed notifications) make the
    watcher's Prefect run end Failed; the rest is information."""

    today: dt.date
    decisions: tuple[Decision, ...]
    runs: tuple[RunOutcome, ...] = ()
    delivery_errors: tuple[str, ...] = ()
    #: the on-request filings (forwarded-case and rectification reports) as
    #: ``complaints.on_request.item_states`` gives them: filing, period (the case or requirement key),
    #: entity, title, due, state, drafts, bundle
    on_request: tuple[Mapping[str, Any], ...] = ()
    #: overdue rectification items (``complaints.rectification.overdue_items``: id, title, owner, due,
    #: status, days_overdue): an internal task, so a notice, never a problem that fails the run
    rectification_overdue: tuple[Mapping[str, Any], ...] = ()

    def on_request_in(self, *states: str) -> list[Mapping[str, Any]]:
        return [r for r in self.on_request if r["state"] in states]

    def in_state(self, *states: State) -> list[Decision]:
        """Decisions in ``states``."""
        return [d for d in self.decisions if d.state in states]

    @property
    def failed_runs(self) -> list[RunOutcome]:
        return [r for r in self.runs if not r.ok]

    @property
    def missing_years(self) -> list[int]:
        return sorted({d.missing_year for d in self.decisions if d.missing_year is not None})

    @property
    def problems(self) -> list[str]:
        out = [f"late: {_name(d)} (due {d.due}{_drafted(d)})" for d in self.in_state("late")]
        out += [f"run failed: {_name(r)} ({r.state}: {r.message})" for r in self.failed_runs]
        out += [f"deadline unknown: {_name(d)}: {d.error}" for d in self.in_state("unknown")]
        out += [f"notification failed: {e}" for e in self.delivery_errors]
        late = self.on_request_in("late")
        out += [f"late: {_item_name(r)} (due {r['due']}{_item_drafted(r)})" for r in late]
        out += [f"deadline unknown: {_item_name(r)}" for r in self.on_request_in("unknown")]
        return out

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def needs_notice(self) -> bool:
        """Anything an officer should hear about: due, at risk, late, unknown, or a run started."""
        return bool(self.in_state("open", "at_risk", "late", "unknown") or self.runs
                    or self.on_request_in("open", "at_risk", "late", "unknown")
                    or self.rectification_overdue)

    def message(self) -> str:
        """One line for the Prefect state message and the e-mail subject."""
        labels: list[tuple[str, State]] = [("late", "late"), ("at risk", "at_risk"), ("due", "open"),
                                           ("deadline unknown", "unknown")]
        parts = [f"{c} {n}" for n, c in ((n, len(self.in_state(s)) + len(self.on_request_in(s)))
                                         for n, s in labels) if c]
        if self.runs:
            parts.append(f"{len(self.runs)} started ({len(self.failed_runs)} failed)")
        if self.delivery_errors:
            parts.append(f"{len(self.delivery_errors)} notification(s) failed")
        if self.rectification_overdue:
            parts.append(f"{len(self.rectification_overdue)} rectification item(s) overdue")
        return f"{self.today}: " + (", ".join(parts) if parts else "nothing due")

    def subject(self) -> str:
        flag = "[逾期/失败] " if not self.ok else ("[临近截止] " if self.in_state("at_risk") else "")
        return f"投诉报送 deadline watch {flag}{self.message()}"

    def rows(self) -> list[dict[str, Any]]:
        """The watched filings as table rows (Prefect table artifact)."""
        return [d.to_row() for d in self.decisions]

    def _lines(self, bullet: str = "- ") -> list[str]:
        out: list[str] = []
        sections: list[tuple[str, list[Decision]]] = [
            ("LATE (已逾期)", self.in_state("late")),
            ("AT RISK (临近截止)", self.in_state("at_risk")),
            ("DUE (待报送)", self.in_state("open")),
            ("DEADLINE UNKNOWN (日历缺失)", self.in_state("unknown")),
        ]
        for title, items in sections:
            if items:
                out.append(f"{title}:")
                out += [f"{bullet}{_name(d)} due {d.due or '?'}"
                        + (f" (at risk from {d.at_risk_from})" if d.state == "at_risk" else "")
                        + (f" — {d.bundles} draft(s), not submitted" if d.bundles else "")
                        + (f" — {d.error}" if d.state == "unknown" else "") for d in items]
        on_request_sections = (("ON REQUEST LATE (按需报告已逾期)", "late"),
                               ("ON REQUEST AT RISK (按需报告临近截止)", "at_risk"),
                               ("ON REQUEST DUE (按需报告待报送)", "open"))
        for title, state in on_request_sections:
            items_ = self.on_request_in(state)
            if items_:
                out.append(f"{title}:")
                out += [f"{bullet}{_item_name(r)} due {r['due']}{_item_drafted(r)}" for r in items_]
        if self.rectification_overdue:
            out.append("RECTIFICATION OVERDUE (整改事项已逾期):")
            out += [f"{bullet}{r['id']} {r['title']} — {r['owner']}, due {r['due']} "
                    f"({r['days_overdue']} day(s) overdue)" for r in self.rectification_overdue]
        if self.runs:
            out.append("RUNS STARTED (已启动):")
            out += [f"{bullet}{_name(r)} via {r.launched_as}: {r.state}"
                    + (f", bundle {r.bundle}" if r.bundle else "")
                    + (f" — {r.message}" if r.message and not r.ok else "") for r in self.runs]
        filed_today = [d for d in self.in_state("filed", "filed_late") if d.submitted_day == self.today]
        if filed_today:
            out.append("SUBMITTED TODAY (今日报送):")
            out += [f"{bullet}{_name(d)} {_STATE_ZH[d.state]} submission {d.submission}"
                    + (f" (reference {d.reference})" if d.reference else "") for d in filed_today]
        if self.missing_years:
            out.append(f"NOTE: calendar year(s) {', '.join(map(str, self.missing_years))} not supplied; "
                       "add config/calendar/<year>.yaml from the State Council notice")
        if self.delivery_errors:
            out.append("NOTIFICATION ERRORS:")
            out += [f"{bullet}{e}" for e in self.delivery_errors]
        return out

    def text(self) -> str:
        """Plain-text body (e-mail)."""
        return "\n".join([self.message(), "", *self._lines()]) + "\n"

    def markdown(self) -> str:
        """Markdown summary (Prefect markdown artifact)."""
        verdict = "PROBLEMS" if not self.ok else "OK"
        head = f"# Deadline watch {self.today}\n\n**{verdict}** — {self.message()}\n"
        body = "\n".join(f"\n**{line}**" if not line.startswith("- ") else line for line in self._lines())
        table = ["", "| filing | period | entity | due | state | bundle |", "|---|---|---|---|---|---|"]
        table += [f"| {d.filing} | {d.period} | {d.entity} | {d.due or '—'} | "
                  f"{d.state} ({_STATE_ZH[d.state]}) | {d.bundle or '—'} |"
                  for d in self.decisions if d.state != "not_open"]
        return head + body + "\n" + "\n".join(table) + "\n"

    def payload(self) -> dict[str, Any]:
        """JSON for webhooks."""
        def rows(*states: State) -> list[dict[str, Any]]:
            return [d.to_dict() for d in self.in_state(*states)]

        return {
            "today": self.today.isoformat(),
            "ok": self.ok,
            "summary": self.message(),
            "late": rows("late"),
            "at_risk": rows("at_risk"),
            "due": rows("open"),
            "unknown": rows("unknown"),
            "runs": [r.to_row() for r in self.runs],
            "failed_runs": [r.to_row() for r in self.failed_runs],
            "problems": self.problems,
            "on_request": [dict(r) for r in self.on_request if r["state"] not in ("filed", "filed_late")],
            "rectification_overdue": [dict(r) for r in self.rectification_overdue],
        }
