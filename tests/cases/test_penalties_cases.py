"""Golden case of the fines summary: ``penalties_month/expected_penalties.json`` HAND-COMPUTED (README)."""

from __future__ import annotations

import json
from pathlib import Path

from complaints.ledger import normalize
from complaints.penalties import penalties_summary
from complaints.periods import Period
from tasks.sources import read_table

CASE = Path(__file__).resolve().parent / "penalties_month"


def test_penalties_month() -> None:
    penalties = normalize(read_table(CASE / "penalties.csv", "penalties"), "penalties")
    expected = json.loads((CASE / "expected_penalties.json").read_text(encoding="utf-8"))
    assert penalties_summary(penalties, Period.parse("2026-09")) == expected
    empty = penalties_summary(penalties, Period.parse("2026-07"))
    assert (empty["count"], empty["amount"], empty["by_reason"], empty["due"]) == (0, 0.0, {}, "2026-08-01")


def test_fines_state() -> None:
    import datetime as dt

    from complaints.penalties import fines_state

    sep, day = Period.parse("2026-09"), dt.date
    assert fines_state(sep, day(2026, 9, 30), None) == "not_open"
    assert fines_state(sep, day(2026, 10, 1), None) == "at_risk"  # the 1st, a holiday: still the due day
    assert fines_state(sep, day(2026, 10, 2), None) == "late"
    assert fines_state(sep, day(2026, 10, 9), day(2026, 10, 1)) == "filed"
    assert fines_state(sep, day(2026, 10, 9), day(2026, 10, 8)) == "filed_late"
