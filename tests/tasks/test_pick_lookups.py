"""The ledger's lookups (e.g. each ticket's latest call-back) picked in Arrow are the rows pandas picks:
sort by key and ``order_by`` (stable, missing last), keep the last/first per key, align to the tickets
(a missing key matches the missing keys; no row gives missing values, with reindex's dtypes)."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from tasks.sources.sql import _align_pandas, _pick_lookups


def _case(rng: np.random.Generator, n_tickets: int, n_rows: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    names = ["GD1", "GD2", "gd3", "工单4", "GD10", None]
    tickets = pd.DataFrame({"gd_no": pd.Series(rng.choice(names + ["GD99"], n_tickets), dtype="str")})
    calls = pd.DataFrame({
        "gd_no": pd.Series(rng.choice(names, n_rows), dtype="str"),
        "hfsj": pd.Series(pd.to_datetime(rng.integers(0, 4, n_rows), unit="D")).where(
            rng.random(n_rows) > 0.2),
        "hfjg": pd.Series([f"r{i}" for i in range(n_rows)], dtype="str"),  # tells tied rows apart
        "n": np.arange(n_rows),  # an int column: becomes float where a ticket has no row, as in reindex
    })
    return tickets, calls


@pytest.mark.parametrize("pick", ["last", "first"])
def test_arrow_pick_equals_pandas_pick(pick: str) -> None:
    rng = np.random.default_rng(5)
    lm = SimpleNamespace(key="gd_no", lookups={"callback": SimpleNamespace(key="gd_no", order_by="hfsj",
                                                                            pick=pick)})
    for trial in range(200):
        tickets, calls = _case(rng, int(rng.integers(1, 30)), int(rng.integers(0, 30)) if trial % 10 else 0)
        tickets.index = tickets.index + 100  # aligned to the tickets' own labels
        got = _pick_lookups(tickets, {"callback": calls}, lm)["callback"]
        expected = _pick_lookups(tickets, {"callback": calls}, lm, align=_align_pandas)["callback"]
        pd.testing.assert_frame_equal(got, expected)


def test_a_type_arrow_cannot_sort_goes_the_pandas_way(monkeypatch: pytest.MonkeyPatch) -> None:
    import tasks.sources.sql as sql

    lm = SimpleNamespace(key="gd_no", lookups={"callback": SimpleNamespace(key="gd_no", order_by="hfsj",
                                                                            pick="last")})
    tickets = pd.DataFrame({"gd_no": pd.Series(["A", "B", "C"], dtype="str")})
    calls = pd.DataFrame({"gd_no": pd.Series(["A", "A", "B"], dtype="str"),
                          "hfsj": pd.Series([2, "x", 1], dtype=object),  # mixed: Arrow refuses it
                          "hfjg": pd.Series(["a2", "ax", "b1"], dtype="str")})
    expected = _pick_lookups(tickets, {"callback": calls}, lm, align=_align_pandas)["callback"]
    used = []
    monkeypatch.setattr(sql, "_align_pandas", lambda *a, **k: used.append(1) or _align_pandas(*a, **k))
    pd.testing.assert_frame_equal(sql._pick_lookups(tickets, {"callback": calls}, lm)["callback"], expected)
    assert used == [1]
