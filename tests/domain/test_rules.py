"""Rule sets as data and vectorised due dates (complaints.rules, tasks.rulebooks)."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from complaints.calendar import UnknownCalendarYear, build_calendar
from complaints.errors import ConfigError
from complaints.ledger import normalize
from complaints.rules import (
    ACKNOWLEDGEMENT,
    CLAIMS_DECISION,
    PROGRESS_LOGGED,
    RulebookError,
    RuleSet,
    decision_due_dates,
    governing_index,
    internal_due_dates,
)
from tasks.rulebooks import load_rulebooks

CAL = build_calendar()
RB = load_rulebooks()


def ledger(**cols: list[object]) -> pd.DataFrame:
    n = len(next(iter(cols.values())))
    base: dict[str, list[object]] = {"complaint_id": [f"X{i}" for i in range(n)]}
    return normalize(pd.DataFrame({**base, **cols}))


def test_rulebooks_load_with_dates_and_citations() -> None:
    ids = {r.id: r for r in RB.rule_sets}
    assert set(ids) == {"cbirc-2020-3", "circ-2013-8", "company-internal"}
    assert ids["cbirc-2020-3"].effective_from == dt.date(2020, 3, 1)
    assert ids["circ-2013-8"].effective_to == dt.date(2020, 2, 29)
    assert all(r.citation for r in RB.rule_sets)
    assert ids["circ-2013-8"].clocks["decision"].limits["simple"].unit == "working"
    assert ids["company-internal"].clocks[PROGRESS_LOGGED].by_time


def test_governing_rule_by_received_date() -> None:
    chain = RB.of_kind("regulation")
    days = np.array(["2012-01-01", "2020-02-29", "2020-03-01", "NaT"], dtype="datetime64[D]")
    assert [chain[i].id if i >= 0 else None for i in governing_index(chain, days)] == [
        "circ-2013-8",
        "circ-2013-8",
        "cbirc-2020-3",
        None,
    ]


def test_decision_due_2020_rule_natural_days_pause_and_restart() -> None:
    df = ledger(
        received_at=["2026-01-10 10:00", "2026-01-10", "2026-01-15", "2026-01-20"],
        complexity=["complex", None, "approved_extension", "simple"],
        clock_paused_days=[None, 3, None, None],
        clock_restarted_at=[None, None, None, "2026-02-10 23:00"],
    )
    due = decision_due_dates(df, RB, CAL)
    assert [str(d) for d in due.due] == ["2026-02-09", "2026-01-28", "2026-03-16", "2026-02-25"]
    assert list(due.rule_ids()) == ["cbirc-2020-3"] * 4


def test_decision_due_2013_rule_working_days() -> None:
    # 2019-10-01 holiday week; Sat 2019-10-12 is a make-up working day
    df = ledger(
        received_at=["2019-10-08", "2019-10-01", "2019-11-01", "2019-11-15"],
        complexity=["simple", None, "complex", "approved_extension"],
        clock_paused_days=[0, 0, 0, 2],
    )
    due = decision_due_dates(df, RB, CAL)
    assert [str(d) for d in due.due] == ["2019-10-21", "2019-10-18", "2019-12-01", "2020-01-16"]
    assert set(due.rule_ids()) == {"circ-2013-8"}


def test_switch_uses_received_date_not_restart() -> None:
    df = ledger(received_at=["2020-02-29 23:59", "2020-03-01 00:00"], clock_restarted_at=["2020-03-05", None])
    due = decision_due_dates(df, RB, CAL)
    assert list(due.rule_ids()) == ["circ-2013-8", "cbirc-2020-3"]
    # 2013 rule from the restart date Thu 2020-03-05: 10th working day after = 2020-03-19
    assert [str(d) for d in due.due] == ["2020-03-19", "2020-03-16"]


def test_internal_clocks() -> None:
    df = ledger(
        received_at=["2026-09-30 16:00", "2026-09-19 10:00", "2026-07-03 10:00"],
        category=["claims", "claims", "sales"],
    )
    ack = internal_due_dates(df, RB, ACKNOWLEDGEMENT, CAL)
    assert [str(d) for d in ack.due] == ["2026-10-08", "2026-09-20", "2026-07-06"]
    claims = internal_due_dates(df, RB, CLAIMS_DECISION, CAL)
    assert [str(d) for d in claims.due[:2]] == ["2026-10-10", "2026-09-22"]
    assert np.isnat(claims.due[2]) and claims.rule_index[2] == -1  # not a claims case
    prog = internal_due_dates(df, RB, PROGRESS_LOGGED, CAL)
    assert prog.due[0] == np.datetime64("2026-10-01T16:00:00")


def test_rows_mask_limits_calendar_needs() -> None:
    df = ledger(received_at=["2026-12-31 10:00", "2026-06-01 10:00"])
    with pytest.raises(UnknownCalendarYear) as err:
        internal_due_dates(df, RB, ACKNOWLEDGEMENT, CAL)
    assert err.value.year == 2027
    due = internal_due_dates(df, RB, ACKNOWLEDGEMENT, CAL, rows=np.array([False, True]))
    assert np.isnat(due.due[0]) and str(due.due[1]) == "2026-06-02"


def test_unknown_complexity_is_an_error() -> None:
    df = ledger(received_at=["2026-01-10"], complexity=["weird"])
    with pytest.raises(RulebookError, match="weird"):
        decision_due_dates(df, RB, CAL)


def test_invalid_rulebook_mapping_names_the_key() -> None:
    with pytest.raises(RulebookError, match="clocks.decision.limits.simple"):
        RuleSet.from_mapping(
            {
                "id": "x",
                "version": "1",
                "kind": "regulation",
                "name": "x",
                "citation": "c",
                "effective_from": "2020-01-01",
                "clocks": {
                    "decision": {
                        "start": "received_at",
                        "end": "decided_at",
                        "complexity_column": "complexity",
                        "limits": {"simple": {"amount": 5, "unit": "weeks"}},
                    }
                },
            },
            origin="bad.yaml",
        )


def test_loader_reports_file(tmp_path) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "a.yaml").write_text("id: a\nkind: nonsense\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="a.yaml"):
        load_rulebooks(tmp_path)
