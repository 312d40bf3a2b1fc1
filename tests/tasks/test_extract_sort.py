"""The extract's Arrow-based row order equals pandas' stable sort (nulls last), ties kept in read order."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa

from tasks.sources.sql import _in_order, _sorted


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


def test_rows_already_in_order_stay_as_they_are() -> None:
    rng = np.random.default_rng(11)
    n = 20_000
    frame = pd.DataFrame({
        "complaint_id": pd.Series(rng.choice(["TS1", "TS2", "张", None], n), dtype="str"),
        "at": pd.Series(pd.to_datetime(rng.integers(0, 3, n), unit="D")).where(rng.random(n) > 0.2),
        "kind": pd.Series(rng.choice(["ack", None], n), dtype="str"),
        "row": np.arange(n),
    })
    by = ["complaint_id", "at", "kind"]
    ordered = frame.sort_values(by, kind="stable", na_position="last").reset_index(drop=True)
    assert _in_order(pa.table({c: pa.Array.from_pandas(ordered[c]) for c in by}))  # no sort at all
    assert _sorted(ordered.copy(), by)["row"].tolist() == ordered["row"].tolist()
    swapped = ordered.copy()
    swapped.iloc[[0, -1]] = swapped.iloc[[-1, 0]].to_numpy()  # one pair out of order: sorted again
    assert not _in_order(pa.table({c: pa.Array.from_pandas(swapped[c]) for c in by}))
    assert _sorted(swapped.copy(), by)["row"].tolist() == swapped.sort_values(
        by, kind="stable", na_position="last")["row"].tolist()
