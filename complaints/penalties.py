"""The monthly fines summary (投诉罚单, FIGURES.md "Internal publications"). Pure.

Where the source has a penalties table (complaint id, unit, person reference, amount, issued date,
reason), the penalties issued in month M (Asia/Shanghai local dates) are summarised — count and amount —
by branch, by department and by reason. A penalty's ``unit`` is the branch or the department penalised
(LEDGER.md): a responsible-department code (``claims``, ``sales`` …) counts under ``department``, any
other unit (an entity or branch code) under ``branch``. Due on the 1st of M+1, a natural day
(:func:`fines_due`): the summary of M is made on the 1st of the next month.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pandas as pd

from complaints.ledger import DEPARTMENTS
from complaints.periods import Period


def fines_due(month: Period) -> dt.date:
    """The 1st of the month after ``month`` (a natural day: a holiday is not skipped)."""
    return month.end


def _groups(frame: pd.DataFrame, key: str) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for value, rows in frame.groupby(key, sort=True):
        out[str(value)] = {"count": len(rows), "amount": round(float(rows["amount"].sum()), 2)}
    return out


def penalties_summary(penalties: pd.DataFrame, month: Period) -> dict[str, Any]:
    """``penalties`` (normalised penalties table, tz-naive local times) → the summary of ``month``.

    Rows without an issued date, an amount or a unit cannot be placed: they are counted in
    ``unplaced`` (the source's unparsed values are reported by the extract)."""
    if month.kind != "month":
        raise ValueError(f"{month.code!r} is not a month (YYYY-MM)")
    issued = penalties["issued_at"]
    inside = (issued >= pd.Timestamp(month.start)) & (issued < pd.Timestamp(month.end))
    rows = penalties[inside.to_numpy(dtype=bool, na_value=False)]
    placed = rows["amount"].notna() & rows["unit"].notna() & (rows["unit"].astype(str).str.strip() != "")
    unplaced = int((~placed).sum()) + int(issued.isna().sum())
    rows = rows[placed.to_numpy()].assign(
        unit=lambda f: f["unit"].astype(str).str.strip(),
        reason=lambda f: f["reason"].fillna("未填写").astype(str).str.strip())
    is_dept = rows["unit"].isin(list(DEPARTMENTS)).to_numpy()
    return {
        "month": month.code,
        "due": fines_due(month).isoformat(),
        "count": len(rows),
        "amount": round(float(rows["amount"].sum()), 2),
        "complaints": int(rows["complaint_id"].nunique()),
        "by_branch": _groups(rows[~is_dept], "unit"),
        "by_department": _groups(rows[is_dept], "unit"),
        "by_reason": _groups(rows, "reason"),
        "unplaced": unplaced,
    }


def fines_state(month: Period, today: dt.date, committed: dt.date | None) -> str:
    """The fines summary of ``month`` on ``today`` (the watcher's state names): it is published in the
    month's monthly publication, so its first committed monthly bundle (``committed``: its commit day)
    files it — ``filed`` on or before the 1st, ``filed_late`` after; without one: ``not_open`` until the
    month has ended, ``at_risk`` on the 1st itself, ``late`` after it."""
    due = fines_due(month)
    if committed is not None:
        return "filed" if committed <= due else "filed_late"
    if today < month.end:
        return "not_open"
    return "at_risk" if today == due else "late"
