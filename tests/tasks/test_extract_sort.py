"""The extract's Arrow-based row order equals pandas' stable sort (nulls last), ties kept in read order."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

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


def test_the_sort_is_the_stable_sort_and_rows_in_order_are_recognised() -> None:
    """``sort_indexer`` gives a stable sort's positions (nulls last), and None (nothing to move) exactly
    when that sort would not move a row: over sorted frames, frames with one pair swapped, and ties and
    nulls on every key."""
    import pyarrow as pa

    from tasks.row_order import sort_indexer

    rng = np.random.default_rng(11)
    by = ["complaint_id", "at", "kind"]
    for trial in range(300):
        n = int(rng.integers(0, 12))
        frame = pd.DataFrame({
            "complaint_id": pd.Series(rng.choice(["TS1", "TS2", "张", None], n), dtype="str"),
            "at": pd.Series(pd.to_datetime(rng.integers(0, 3, n), unit="D")).where(rng.random(n) > 0.2),
            "kind": pd.Series(rng.choice(["a", "b", None], n), dtype="str"),
        })
        if trial % 2:
            frame = frame.sort_values(by, kind="stable", na_position="last").reset_index(drop=True)
            if trial % 3 == 0 and n > 1:  # one adjacent pair swapped
                i = int(rng.integers(0, n - 1))
                frame = frame.iloc[[*range(i), i + 1, i, *range(i + 2, n)]].reset_index(drop=True)
        keys = pa.table({c: pa.Array.from_pandas(frame[c]) for c in by})
        order = frame.assign(row=np.arange(n)).sort_values(by, kind="stable", na_position="last")["row"]
        indexer = sort_indexer(keys)
        assert (indexer is None) == (order.tolist() == list(range(n))), frame
        assert (list(range(n)) if indexer is None else indexer.tolist()) == order.tolist(), frame


def test_rows_in_order_but_for_the_last_key_are_sorted_within_their_ties_as_a_full_sort_would(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Events read sorted by complaint and time but not by kind: only the tied rows are sorted, and every
    column (the kind, and a column outside the keys that differs within a tie) ends as a full stable sort
    leaves it; a frame out of order on the first keys takes the full sort."""
    import pyarrow.compute as pc

    import tasks.row_order as row_order

    sorted_rows: list[int] = []
    real = pc.sort_indices
    monkeypatch.setattr(row_order.pc, "sort_indices",
                        lambda t, **kw: (sorted_rows.append(len(t)), real(t, **kw))[1])
    rng = np.random.default_rng(5)
    n = 20_000
    frame = pd.DataFrame({
        "complaint_id": pd.Series(rng.choice([f"TS{i:04d}" for i in range(5000)], n), dtype="str"),
        "at": pd.to_datetime(rng.integers(0, 40, n), unit="D"),
        "kind": pd.Series(rng.choice(["logged", "contacted", "note", None], n), dtype="str"),
        "note": pd.Series(rng.choice(["a", "b", "c"], n), dtype="str"),
    })
    frame = frame.sort_values(["complaint_id", "at"], kind="stable").reset_index(drop=True)
    frame["row"] = np.arange(n)
    by = ["complaint_id", "at", "kind"]
    for f, full in ((frame, False), (frame.iloc[::-1].reset_index(drop=True), True)):
        sorted_rows.clear()
        expected = f.sort_values(by, kind="stable", na_position="last").reset_index(drop=True)
        assert not expected["row"].equals(f["row"])  # rows do move
        pd.testing.assert_frame_equal(_sorted(f.copy(), by), expected)
        assert (sorted_rows == [n]) if full else (0 < sorted_rows[0] < n // 10), sorted_rows
