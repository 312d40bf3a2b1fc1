"""Focused tests of complaints.figures and the ``complaints figures`` command."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pandas as pd
import pytest

from complaints.calendar import UnknownCalendarYear, build_calendar
from complaints.figures import compute_figures, flatten
from complaints.ledger import normalize
from tasks.rulebooks import load_rulebooks

CASES = Path(__file__).resolve().parents[1] / "cases"
CAL = build_calendar()
RB = load_rulebooks()


def small_ledger() -> pd.DataFrame:
    return normalize(
        pd.DataFrame(
            {
                "complaint_id": ["A", "B", "C"],
                "entity_code": ["HO", "GD", "GD"],
                "branch_code": ["HO", "GD", "GD"],
                "province": ["北京", "广东", "广东"],
                "received_at": ["2026-07-01 10:00", "2026-07-02 10:00", "2026-07-03"],
                "channel": ["phone"] * 3,
                "business_line": ["life"] * 3,
                "category": ["claims", "sales", "sales"],
                "severity": ["general"] * 3,
                "regulator_forwarded": ["false"] * 3,
                "valid": ["true"] * 3,
            }
        )
    )


def exposure(rows: list[tuple[str, str, str, float, int]]) -> pd.DataFrame:
    return normalize(
        pd.DataFrame(rows, columns=["entity_code", "period", "business_line", "premium", "policies"]),
        "exposure",
    )


def compute(ledger: pd.DataFrame, **kw: object):  # type: ignore[no-untyped-def]
    args = {"period": "2026Q3", "as_of": dt.datetime(2026, 10, 20), "calendar": CAL, "rulebooks": RB, **kw}
    return compute_figures(ledger, **args)  # type: ignore[arg-type]


def test_branch_scope_and_head_office_scope() -> None:
    df = small_ledger()
    assert compute(df, entity="GD", head_office="HO").figures["counts"]["cases"] == 2
    assert compute(df, entity="HO", head_office="HO").figures["counts"]["cases"] == 3
    assert compute(df).figures["counts"]["cases"] == 3


def test_lineage_frame_and_ids() -> None:
    result = compute(small_ledger())
    assert list(result.lineage.columns) == ["figure", "complaint_id"]
    assert result.ids("by_category.sales") == ["B", "C"]
    assert result.ids("counts.cases") == ["A", "B", "C"]
    assert set(result.lineage["figure"].astype(str)) >= {"counts.cases", "timeliness.late"}


def test_duplicate_exposure_rows_make_the_rate_unknown() -> None:
    exp = exposure(
        [
            ("HO", "2026Q3", "life", 1e8, 100),
            ("GD", "2026Q3", "life", 1e8, 100),
            ("GD", "2026Q3", "life", 1e8, 100),
        ]
    )
    result = compute(small_ledger(), exposure=exp)
    assert result.figures["rates"]["per_100m_premium"] is None
    assert "duplicate exposure rows for entity GD" in result.figures["notes"]["rates.per_100m_premium"]


def test_rate_with_all_exposure() -> None:
    exp = exposure([("HO", "2026Q3", "life", 1e8, 10000), ("GD", "2026Q3", "life", 2e8, 20000)])
    result = compute(small_ledger(), exposure=exp)
    assert result.figures["rates"]["per_100m_premium"] == pytest.approx(1.0)
    assert result.figures["rates"]["complaint_rate_pct"] == pytest.approx(0.01)
    assert "rates.per_100m_premium" not in result.figures["notes"]


def test_unknown_calendar_year_propagates() -> None:
    df = small_ledger()
    df.loc[0, "received_at"] = pd.Timestamp("2026-12-31 10:00")
    with pytest.raises(UnknownCalendarYear) as err:
        compute(df, period="2026Q4", as_of=dt.datetime(2027, 1, 10))
    assert err.value.year == 2027


def test_aware_as_of_is_converted_and_recorded() -> None:
    as_of = dt.datetime(2026, 10, 19, 20, 0, tzinfo=dt.UTC)
    assert compute(small_ledger(), as_of=as_of).figures["as_of"] == "2026-10-20T04:00:00+08:00"


def test_month_period_rejected() -> None:
    with pytest.raises(ValueError, match="quarter or a year"):
        compute(small_ledger(), period="2026-07")


def test_flatten() -> None:
    flat = dict(
        flatten(
            {
                "counts": {"cases": 2},
                "by_category": {},
                "qoq": None,
                "notes": {"rates.per_100m_premium": "why"},
            }
        )
    )
    assert flat == {"counts.cases": 2, "by_category": {}, "qoq": None, "notes.rates.per_100m_premium": "why"}


def test_figures_are_json_ready() -> None:
    text = json.dumps(compute(small_ledger()).figures)
    assert '"counts"' in text


def test_old_decided_cases_need_no_calendar_year_of_their_own() -> None:
    """A case decided in 2003 (before the calendar's first year) has no bearing on 2026Q3: its due date
    is not computed, so it cannot stop the run; an old case still undecided is the backlog and needs one."""
    old = small_ledger().iloc[:1].copy()
    old["complaint_id"] = "OLD"
    old["received_at"] = pd.Timestamp("2003-12-30 10:00")
    old["decided_at"] = pd.Timestamp("2004-01-05 10:00")
    old["category"] = "sales"
    ledger = pd.concat([small_ledger(), old], ignore_index=True)
    figures = compute(ledger).figures
    assert figures["counts"]["cases"] == 3 and figures["timeliness"]["overdue_open"] == 3
    undecided = ledger.copy()
    undecided.loc[undecided["complaint_id"] == "OLD", "decided_at"] = pd.NaT
    with pytest.raises(UnknownCalendarYear) as info:  # 2013 rule: working days from 2003-12-30
        compute(undecided)
    assert info.value.year == 2003
