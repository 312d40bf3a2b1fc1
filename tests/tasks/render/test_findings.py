"""complaints.findings: target misses in the right direction, QoQ/YoY worsening, nulls skipped."""

from __future__ import annotations

from complaints.findings import dig, findings, format_value, label, lower_is_better

from .conftest import load_figures


def test_dig_accepts_nested_and_flat_keys() -> None:
    assert (
        dig({"qoq": {"rates.per_100m_premium": {"previous": 1}}}, "qoq.rates.per_100m_premium.previous") == 1
    )
    assert (
        dig({"qoq": {"rates": {"per_100m_premium": {"previous": 2}}}}, "qoq.rates.per_100m_premium.previous")
        == 2
    )
    assert dig({"a": {"b": None}}, "a.b.c") is None
    assert dig(None, "a") is None


def test_directions() -> None:
    assert lower_is_better("rates.complaint_rate_pct") and lower_is_better("timeliness.overdue_open")
    assert lower_is_better("rates_by_business_line.life.per_10k_insured")
    assert not lower_is_better("timeliness.rate") and not lower_is_better("satisfaction.rate")


def test_sample_figures_findings() -> None:
    figures = load_figures("figures_2026Q3.json")
    targets = {
        "timeliness.rate": 0.95,
        "forwarded_timeliness.rate": 1.0,
        "acknowledgement.rate": 0.98,
        "claims_3wd.rate": 0.90,
        "satisfaction.rate": 0.90,
        "rates.complaint_rate_pct": 0.05,
        "rates_by_business_line.property.per_100m_premium": 1.0,
    }  # null value: not assessable
    found = findings(figures, targets, 10.0)
    assert [(f.key, f.kind) for f in found] == [
        ("acknowledgement.rate", "target"),
        ("claims_3wd.rate", "target"),
        ("forwarded_timeliness.rate", "target"),
        ("cases", "qoq"),
        ("valid_cases", "qoq"),
    ]
    assert found[1].text == "理赔投诉3个工作日内处理的比例为78.91%，低于90.00%的目标值，未达到考核要求。"
    assert found[3].text == "投诉件数环比上升11.96%（上季度368件，本期412件），超过10.00%的预警阈值。"


def test_lower_is_better_target_and_threshold() -> None:
    figures = {
        "rates": {"complaint_rate_pct": 0.08, "per_100m_premium": 2.0},
        "yoy": {"rates": {"per_100m_premium": {"previous": 1.0, "change_pct": 100.0}}},
    }
    found = findings(figures, {"rates.complaint_rate_pct": 0.05}, 150.0)
    assert [f.text for f in found] == ["投诉率为0.08%，高于0.05%的目标值，需加以控制。"]
    found = findings(figures, {}, 50.0)
    assert found[0].kind == "yoy" and "同比上升100.00%" in found[0].text and "本期2.00" in found[0].text


def test_format_value_rounds_only_for_display() -> None:
    assert format_value(0.9750692520775623, "ratio") == "97.51%"
    assert format_value(1286530.5, "money") == "1,286,530.50"
    assert format_value(412, "count") == "412" and format_value(None, "count") == "—"
    assert format_value(float("nan"), "number") == "—"
    assert label("by_quarter.Q4.satisfaction.rate") == ("第四季度客户满意度", "ratio")
