"""The fines summary as a due item of ``complaints status`` (where a source has a penalties table)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

from complaints.errors import ComplaintsError
from complaints.penalties import fines_due, fines_state
from complaints.periods import Period
from tasks.config_files import Loaded
from tasks.sources.registry import load_sources


def penalties_configured(loaded: Loaded) -> bool:
    """Whether a configured source maps the optional penalties table (a source mapping that cannot be
    read says nothing here: ``complaints sources check`` reports it, status does not fail on it)."""
    try:
        sources = load_sources(loaded)
    except (ComplaintsError, OSError, ValueError):
        return False
    return any(getattr(s.mapping, "penalties", None) is not None for s in sources)


def fines_rows(year: int, today: dt.date, head_office: str,
               drafts: Mapping[tuple[str, str, str], Sequence[tuple[str, dt.date]]]) -> list[dict[str, Any]]:
    """One row per month of ``year`` (the status JSON's keys): due the 1st of the next month, filed by the
    month's first committed monthly publication (its 投诉罚单汇总表 sheet)."""
    rows = []
    for m in range(1, 13):
        month = Period("month", year, m)
        monthly = list(drafts.get(("monthly", month.code, head_office), ()))
        first = monthly[0] if monthly else None
        rows.append({
            "filing": "fines", "period": month.code, "entity": head_office, "level": "head_office",
            "due": fines_due(month).isoformat(),
            "state": fines_state(month, today, first[1] if first else None),
            "bundle": monthly[-1][0] if monthly else None, "drafts": len(monthly),
            "submission": first[0] if first else None, "submitted_at": None, "reference": None,
            "reason": "投诉罚单汇总表 in the monthly publication of the month",
        })
    return rows
