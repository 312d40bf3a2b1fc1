"""The extract's Arrow-based row order equals pandas' stable sort (nulls last), ties kept in read order."""

from __future__ import annotations

import numpy as np
import pandas as pd

from tasks.sources.sql import _sorted


def test_arrow_sort_matches_pandas_stable_sort_with_nulls_and_ties() -> None:
    rng = np.random.default_rng(7)
    n = 50_000
    frame = pd.DataFrame({
        "complaint_id": pd.Series(rng.choice(["TS1", "TS2", "ts3", "张", "TS10", None], n), dtype="str"),
        "at": pd.Series(pd.to_datetime(rng.integers(0, 5, n), unit="D")).where(rng.random(n) > 0.1),
        "kind": pd.Series(rng.choice(["ack", "decide", None], n), dtype="str"),
        "row": np.arange(n),
    })
    by = ["complaint_id", "at", "kind"]
    expected = frame.sort_values(by, kind="stable", na_position="last")["row"].tolist()
    assert _sorted(frame.copy(), by)["row"].tolist() == expected
    assert _sorted(frame.copy(), ["complaint_id"])["row"].tolist() == frame.sort_values(
        "complaint_id", kind="stable", na_position="last")["row"].tolist()
