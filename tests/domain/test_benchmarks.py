"""The bulletin reference data (complaints.benchmarks): validation names the entry, and the median is
the same period's, else the latest earlier one that publishes it (a dash = absent), a year only from
yearly rows."""

from __future__ import annotations

import datetime as dt

import pytest

from complaints.benchmarks import ReferenceData, choose_median, compare
from complaints.errors import ConfigError
from complaints.periods import Period

ROWS = [
    {
        "period": "2022Q2",
        "segment": "property",
        "per_100m_premium": 3.58,
        "per_10k_policies": 0.36,
        "source": "xuehua.us",
    },
    {
        "period": "2022Q3",
        "segment": "property",
        "per_100m_premium": 4.37,
        "per_10k_policies": None,
        "source": "lanjinger",
    },
    {"period": "2022Q2", "segment": "life", "per_100m_premium": 1.78, "source": "xuehua.us"},
]


def ref(rows: list[dict] | None = None, crosswalk: list[dict] | None = None) -> ReferenceData:
    return ReferenceData.from_mapping({"bulletins": rows or ROWS, "crosswalk": crosswalk or []}, "b.yaml")


def test_same_quarter_else_latest_earlier_per_rate() -> None:
    r = ref()
    same = choose_median(r, "property", Period.parse("2022Q3"), "per_100m_premium")
    assert same is not None and (same.value, same.row.period) == (4.37, "2022Q3")
    dash = choose_median(r, "property", Period.parse("2022Q3"), "per_10k_policies")
    assert dash is not None and (dash.value, dash.row.period) == (0.36, "2022Q2")
    later = choose_median(r, "life", Period.parse("2026Q2"), "per_100m_premium")
    assert later is not None and later.row.period == "2022Q2"
    assert choose_median(r, "property", Period.parse("2022Q1"), "per_100m_premium") is None
    assert choose_median(r, "life", Period.parse("2022Q2"), "per_10k_insured") is None
    assert choose_median(r, "life", Period.parse("2022"), "per_100m_premium") is None  # no yearly row
    assert choose_median(None, "life", Period.parse("2022Q2"), "per_100m_premium") is None


def test_compare() -> None:
    m = choose_median(ref(), "property", Period.parse("2022Q3"), "per_100m_premium")
    assert m is not None
    block = compare(8.74, m)
    assert block["ratio"] == pytest.approx(2.0) and block["deviation_pct"] == pytest.approx(100.0)
    assert block["above_median"] is True and block["median_period"] == "2022Q3"
    empty = compare(None, m)
    assert empty["ratio"] is None and empty["deviation_pct"] is None and empty["above_median"] is None


@pytest.mark.parametrize(
    ("change", "words"),
    [
        ({"source": None}, ["bulletins[1]", "2022Q3 property", "source"]),
        ({"source": "  "}, ["bulletins[1]", "2022Q3 property", "source"]),
        ({"per_100m_premium": -1.0}, ["bulletins[1]", "2022Q3 property", "negative"]),
        ({"period": "2022-07"}, ["bulletins[1]", "quarter or a year"]),
        ({"segment": "life", "period": "2022Q2"}, ["two entries", "2022Q2 life"]),
    ],
)
def test_invalid_entries_are_named(change: dict, words: list[str]) -> None:
    rows = [dict(r) for r in ROWS]
    rows[1].update(change)
    rows[1] = {k: v for k, v in rows[1].items() if v is not None}
    with pytest.raises(ConfigError) as info:
        ref(rows)
    assert all(w in str(info.value) for w in words), str(info.value)


def test_crosswalk_versions_by_date() -> None:
    r = ref(
        crosswalk=[
            {"version": "b", "effective_from": "2026-07-01", "issue": {}},
            {"version": "a", "effective_from": "2020-04-01", "issue": {"sales": "sales_dispute"}},
        ]
    )
    assert r.crosswalk_on(dt.date(2020, 3, 31)) is None
    v = r.crosswalk_on(dt.date(2026, 6, 30))
    assert v is not None and v.version == "a" and v.issue_of("sales") == "sales_dispute"
    v = r.crosswalk_on(dt.date(2026, 7, 1))
    assert v is not None and v.version == "b" and v.issue_of("sales") == "other"
    assert (
        v.product_of(None, "life") == "life_other" and v.product_of("motor", "property") == "property_other"
    )
    with pytest.raises(ConfigError, match=r"crosswalk\[0\] \(x\).*not a bulletin issue"):
        ref(crosswalk=[{"version": "x", "effective_from": "2020-01-01", "issue": {"sales": "mis-selling"}}])
