"""The weekly overdue publication (周公示, FIGURES.md "Internal publications"). Pure.

For ISO week W (Monday–Sunday, Asia/Shanghai local dates), at the end of W:

* the population is the *cases* in scope (repeats left out, as in timeliness) that are eligible
  (``accepted`` not false, ``outcome`` not ``withdrawn``, ``severity`` not ``venting``) and were
  received on or before W's last day;
* a case is **overdue** when its decision due date (the legal clock of FIGURES.md "Timeliness of
  decisions") is on or before W's last day and it was still undecided at the end of W, or it was
  decided during W after its due date; ``days_past_due`` is W's last day (undecided) or the decision
  day (decided during W) minus the due date, natural days; ``decided`` says which;
* per unit (``branch``: ``branch_code``; ``department``: ``responsible_dept``, missing →
  ``unassigned``): ``open`` = cases undecided at the end of W, ``open_overdue`` = of those, due on or
  before W's last day, ``share`` = open_overdue ÷ open, ``escalated`` = share **more than** the
  threshold (default 0.5: a unit at exactly 50 % is not escalated). Only units with open cases are
  listed.
* published on the first working day after W (``publication_due``).

A case decided after W (the ledger read later) counts as undecided at the end of W: the publication
is the same whenever it is computed.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from complaints.calendar import WorkCalendar
from complaints.periods import Period
from complaints.rules import Rulebooks, decision_due_dates
from complaints.times import SHANGHAI, to_local

#: the responsible-department key of cases without one
UNASSIGNED = "unassigned"
DEFAULT_THRESHOLD = 0.5


@dataclass(frozen=True)
class WeeklyResult:
    """``figures``: the JSON object (``week``, ``overdue``, ``units`` …). ``overdue``: the overdue cases'
    ledger rows (normalised ledger columns plus ``due``, ``days_past_due``, ``decided_in_week``), in
    the order of the list."""

    figures: dict[str, Any]
    overdue: pd.DataFrame

    @property
    def escalated(self) -> list[tuple[str, str]]:
        """(``branch``/``department``, unit code) of every escalated unit."""
        return [(kind, code) for kind in ("branch", "department")
                for code, unit in self.figures["units"][kind].items() if unit["escalated"]]


def _week(week: Period | str) -> Period:
    p = Period.parse(week) if isinstance(week, str) else week
    if p.kind != "week":
        raise ValueError(f"{p.code!r} is not an ISO week (2026-W40)")
    return p


def publication_due(week: Period | str, calendar: WorkCalendar) -> dt.date:
    """The first working day after the week (raises UnknownCalendarYear for a year not in ``calendar``)."""
    return calendar.nth_workday_after(_week(week).last_day, 1)


def _units(keys: pd.Series, open_: np.ndarray, overdue_open: np.ndarray,
           threshold: float) -> dict[str, dict[str, Any]]:
    frame = pd.DataFrame({"unit": keys.to_numpy(dtype=object), "open": open_.astype(int),
                          "open_overdue": overdue_open.astype(int)})
    table = frame[open_].groupby("unit", sort=True)[["open", "open_overdue"]].sum()
    out: dict[str, dict[str, Any]] = {}
    for code, row in table.iterrows():
        n, late = int(row["open"]), int(row["open_overdue"])
        share = late / n
        out[str(code)] = {"open": n, "open_overdue": late, "share": share, "escalated": share > threshold}
    return out


def weekly_overdue(
    ledger: pd.DataFrame,
    *,
    week: Period | str,
    as_of: dt.datetime,
    calendar: WorkCalendar,
    rulebooks: Rulebooks,
    entity: str | None = None,
    head_office: str | None = None,
    threshold: float = DEFAULT_THRESHOLD,
    rows: Mapping[str, int] | None = None,
) -> WeeklyResult:
    """The weekly overdue list and unit table of ``week`` (rules: module docstring).

    ``ledger``: the accepted, normalised ledger (tz-naive local times), any span reaching back far
    enough for the open cases; ``entity`` (not the head office) restricts the scope to that entity."""
    w = _week(week)
    if not 0 <= threshold < 1:
        raise ValueError(f"the escalation threshold must be a share from 0 to below 1, not {threshold}")
    n = len(ledger)
    scope = np.ones(n, dtype=bool)
    if entity is not None and entity != head_office:
        scope = (ledger["entity_code"] == entity).to_numpy(dtype=bool)
    last = np.datetime64(w.last_day, "D")
    first = np.datetime64(w.start, "D")
    received_day = ledger["received_at"].to_numpy(dtype="datetime64[us]").astype("datetime64[D]")
    decided_day = ledger["decided_at"].to_numpy(dtype="datetime64[us]").astype("datetime64[D]")
    eligible = (
        ledger["accepted"].astype("boolean").fillna(True).to_numpy(dtype=bool)
        & (ledger["outcome"] != "withdrawn").to_numpy(dtype=bool)
        & (ledger["severity"] != "venting").to_numpy(dtype=bool)
    )
    population = scope & eligible & ledger["repeat_of"].isna().to_numpy(dtype=bool) & (received_day <= last)
    due = decision_due_dates(ledger, rulebooks, calendar, rows=population).due
    has_due = ~np.isnat(due)
    decided_by_end = ~np.isnat(decided_day) & (decided_day <= last)
    open_ = population & ~decided_by_end
    overdue_open = open_ & has_due & (due <= last)
    decided_late = (population & decided_by_end & (decided_day >= first) & has_due
                    & (decided_day > due))
    overdue = overdue_open | decided_late
    past = np.where(decided_late, decided_day, last) - due
    days_past = past.astype("timedelta64[D]").astype("int64")

    rows_out = ledger[overdue].copy()
    rows_out["due"] = due[overdue].astype("datetime64[D]").astype(object)
    rows_out["days_past_due"] = days_past[overdue]
    rows_out["decided_in_week"] = decided_late[overdue]
    rows_out = rows_out.sort_values(["days_past_due", "complaint_id"], ascending=[False, True],
                                    kind="stable").reset_index(drop=True)
    listed = [
        {"complaint_id": str(r.complaint_id), "branch": str(r.branch_code),
         "department": None if pd.isna(r.responsible_dept) else str(r.responsible_dept),
         "due": pd.Timestamp(r.due).date().isoformat(), "days_past_due": int(r.days_past_due),
         "decided": bool(r.decided_in_week)}
        for r in rows_out.itertuples(index=False)
    ]
    dept = ledger["responsible_dept"].astype(object).where(ledger["responsible_dept"].notna(), UNASSIGNED)
    n_rows = dict(rows) if rows is not None else {"read": n, "accepted": n, "quarantined": 0}
    try:
        published: str | None = publication_due(w, calendar).isoformat()
        due_error = None
    except ValueError as exc:  # UnknownCalendarYear: said, never guessed
        published, due_error = None, str(exc)
    figures: dict[str, Any] = {
        "week": w.code,
        "first_day": w.start.isoformat(),
        "last_day": w.last_day.isoformat(),
        "entity": entity,
        "as_of": to_local(as_of).replace(tzinfo=SHANGHAI).isoformat(),
        "publication_due": published,
        "publication_due_error": due_error,
        "threshold": threshold,
        "rows": n_rows,
        "counts": {"open": int(open_.sum()), "open_overdue": int(overdue_open.sum()),
                   "decided_late_in_week": int(decided_late.sum()), "overdue": int(overdue.sum())},
        "overdue": listed,
        "units": {
            "branch": _units(ledger["branch_code"].astype(object), open_, overdue_open, threshold),
            "department": _units(dept, open_, overdue_open, threshold),
        },
    }
    return WeeklyResult(figures=figures, overdue=rows_out)
