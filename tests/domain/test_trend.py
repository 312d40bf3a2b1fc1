import pandas as pd

from complaints.figures import quarter_trend
from complaints.ledger import normalize
from complaints.periods import Period


def test_quarter_trend_counts_cases_not_repeats_within_scope() -> None:
    ledger = normalize(pd.DataFrame({
        "complaint_id": ["a", "b", "c", "d", "e"],
        "entity_code": ["GD", "GD", "GD", "JS", "GD"],
        "received_at": ["2026-03-31T23:59:59", "2026-04-01T00:00:00", "2026-04-02", "2026-04-03",
                        "2026-04-05"],
        "repeat_of": [None, None, "b", None, None],
        "valid": ["true", "false", "true", "true", "true"],
    }))
    quarters = [Period.parse("2026Q1"), Period.parse("2026Q2")]
    assert quarter_trend(ledger, quarters, entity="GD", head_office="HO") == [
        {"period": "2026Q1", "cases": 1, "valid_cases": 1},
        {"period": "2026Q2", "cases": 2, "valid_cases": 1},
    ]
    assert quarter_trend(ledger, quarters, entity="HO", head_office="HO")[1] == {
        "period": "2026Q2", "cases": 3, "valid_cases": 2}
