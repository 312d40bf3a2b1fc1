"""The monthly publication tables' figures (complaints.figures.monthly_figures) on a hand-computed month.

October 2026 (Asia/Shanghai). Records:

=====  ==========================  ======  ========  =====  ===========  =========  ========  =======
id     received (as given)         branch  province  valid  forwarded    severity   closed    redress
=====  ==========================  ======  ========  =====  ===========  =========  ========  =======
A      2026-10-01 00:00 (local)    HO      北京      yes    no           general    yes       100.00
B      2026-10-08 10:00            GD      广东      yes    yes          major      no        —
C      2026-10-09 (repeat of B)    GD      广东      yes    no           general    no        50.00
D      2026-10-31T15:59:59Z        GD      广东      no     no           difficult  yes       —
E      2026-10-31T16:00:00Z        GD      广东      yes    no           general    no        —
F      2026-09-30 23:59 (local)    HO      北京      yes    no           general    no        —
=====  ==========================  ======  ========  =====  ===========  =========  ========  =======

D is 23:59:59 on 31 October in Shanghai (in the month); E is 00:00 on 1 November (out); F is September.
October's records: A, B, C, D → contacts (次) 4; cases (件, repeats excluded) A, B, D = 3; valid A, B = 2;
forwarded B = 1; major/difficult B, D = 2; decided A, D = 2; closed A, D = 2; open B = 1; redress of
cases 100.00 (C's 50.00 belongs to a repeat, not a case). By branch: HO 1 case, GD 2 cases (3 contacts).
"""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from complaints.figures import monthly_figures
from complaints.ledger import normalize
from complaints.periods import Period

OCT = Period.parse("2026-10")
NAMES = {"HO": "总公司", "GD": "广东分公司"}


def month_ledger() -> pd.DataFrame:
    return normalize(pd.DataFrame({
        "complaint_id": ["A", "B", "C", "D", "E", "F"],
        "entity_code": ["HO", "GD", "GD", "GD", "GD", "HO"],
        "branch_code": ["HO", "GD", "GD", "GD", "GD", "HO"],
        "province": ["北京", "广东", "广东", "广东", "广东", "北京"],
        "received_at": ["2026-10-01 00:00", "2026-10-08 10:00", "2026-10-09", "2026-10-31T15:59:59Z",
                        "2026-10-31T16:00:00Z", "2026-09-30 23:59"],
        "channel": ["phone"] * 6,
        "business_line": ["life"] * 6,
        "category": ["claims", "sales", "sales", "claims", "sales", "claims"],
        "severity": ["general", "major", "general", "difficult", "general", "general"],
        "regulator_forwarded": ["false", "true", "false", "false", "false", "false"],
        "valid": ["true", "true", "true", "false", "true", "true"],
        "repeat_of": [None, None, "B", None, None, None],
        "decided_at": ["2026-10-05", None, None, "2026-11-03", None, None],
        "closed_at": ["2026-10-06", None, None, "2026-11-04", None, None],
        "redress_amount": ["100.00", None, "50.00", None, None, None],
    }))


@pytest.fixture(scope="module")
def result():  # type: ignore[no-untyped-def]
    return monthly_figures(month_ledger(), month=OCT, as_of=dt.datetime(2026, 11, 20, 9), entity="HO",
                           names=NAMES)


def test_counts_follow_the_hand_computation(result) -> None:  # type: ignore[no-untyped-def]
    assert result.figures["counts"] == {
        "cases": 3, "contacts": 4, "valid_cases": 2, "regulator_forwarded_cases": 1, "major_cases": 2,
        "decided_cases": 2, "closed_cases": 2, "open_cases": 1}
    assert result.figures["redress_total"] == 100.0
    assert result.figures["period"] == "2026-10" and result.figures["as_of"] == "2026-11-20T09:00:00+08:00"


def test_lineage_names_the_complaints_behind_each_count(result) -> None:  # type: ignore[no-untyped-def]
    assert result.ids("counts.cases") == ["A", "B", "D"]
    assert result.ids("counts.contacts") == ["A", "B", "C", "D"]
    assert result.ids("counts.open_cases") == ["B"]
    assert result.ids("counts.major_cases") == ["B", "D"]
    assert result.ids("redress_total") == ["A"]


def test_tables_by_branch_and_by_province(result) -> None:  # type: ignore[no-untyped-def]
    summary = {row["机构"]: row for row in result.figures["tables"]["summary"]}
    assert list(summary) == ["广东分公司", "总公司", "合计"]  # branch codes sorted (GD, HO), then the total
    assert (summary["广东分公司"]["投诉件数"], summary["广东分公司"]["投诉次数"]) == (2, 3)
    assert (summary["总公司"]["投诉件数"], summary["总公司"]["赔付金额(元)"]) == (1, 100.0)
    assert summary["合计"]["投诉件数"] == 3 and summary["合计"]["未结案件数"] == 1
    region = {row["省份（地区）"]: row for row in result.figures["tables"]["region_category"]}
    assert region["广东"]["理赔"] == 1 and region["广东"]["销售"] == 1 and region["北京"]["理赔"] == 1
    assert region["合计"]["合计"] == 3


def test_a_month_is_required() -> None:
    with pytest.raises(ValueError, match="not a month"):
        monthly_figures(month_ledger(), month=Period.parse("2026Q4"), as_of=dt.datetime(2026, 11, 20),
                        entity="HO", names=NAMES)
