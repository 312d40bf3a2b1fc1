"""The ledger's number parsing: the Arrow fast path gives exactly what ``pd.to_numeric`` gives."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from complaints.ledger import normalize


def _reference(values: pd.Series) -> np.ndarray:
    f = pd.to_numeric(values, errors="coerce").to_numpy(dtype="float64", na_value=np.nan)
    return np.where(np.isfinite(f), f, np.nan)


def _same(a: np.ndarray, b: np.ndarray) -> bool:
    """Equal values, NaN where NaN, and the same sign of zero (a document prints -0.00 otherwise)."""
    both_nan = np.isnan(a) & np.isnan(b)
    return bool(((a == b) & (np.signbit(a) == np.signbit(b)) | both_nan).all())


@pytest.mark.parametrize("extra", [[], [" 12.5"], ["abc"], [""], ["1,000"]], ids=["numbers", "space", "word",
                                                                                   "blank", "comma"])
def test_amounts_parse_as_pandas_parses_them(extra: list[str]) -> None:
    """Money as a database sends it (exact decimals), long mantissas, exponents, signed zeros, infinities
    and overflows, with or without a value only pandas takes (which sends the column to pandas)."""
    rng = np.random.default_rng(17)
    texts = [f"{rng.integers(0, 10 ** int(rng.integers(1, 13)))}.{rng.integers(0, 100):02d}"
             for _ in range(3000)]
    texts += [f"{rng.random() * 10.0 ** int(rng.integers(-5, 20)):.{rng.integers(0, 25)}f}"
              for _ in range(3000)]
    texts += [repr(float(x)) for x in rng.standard_normal(1000) * 10.0 ** rng.integers(-300, 300, 1000)]
    texts += ["-0", "-0.0", "0", "+5", ".5", "5.", "1e5", "1E-5", "00012.30", "1e400", "-1e400", "inf", "nan",
              "-0.00", "12345678901234567890", *extra]
    values = pd.Series(texts + [None], dtype="str")
    got = normalize(pd.DataFrame({"amount_involved": values}), "ledger")["amount_involved"].to_numpy()
    assert _same(got, _reference(values))
    integers = pd.Series(["-0", "7", None], dtype="str")  # pandas: integers, so "-0" is 0, not -0.0
    parsed = normalize(pd.DataFrame({"amount_involved": integers}), "ledger")["amount_involved"]
    assert _same(parsed.to_numpy(), _reference(integers))


def test_times_with_an_offset_are_found_as_python_finds_them() -> None:
    """Which times carry a UTC offset (converted to Beijing time) and which are local: Arrow's RE2 gives
    Python's ``re`` answer, full-width and other Unicode digits included."""
    import re

    from complaints.ledger import _ends_with_offset, to_local_naive

    texts = ["2026-07-01T10:00:00+08:00", "2026-07-01T10:00:00+0800", "2026-07-01T10:00:00Z",
             "2026-07-01 10:00", "2026-07-01T10:00:00-05", "2026-07-01T10:00:00＋08:00",
             "2026-07-01T10:00:00+０８:００", "2026-07-01T10:00:00+٠٨:٠٠", "2026-07-01T10:00:00z", "x+08:00",
             "+0800", "2026-07-01T10:00:00 +08:00", "2026-07-01T10:00:00−08:00", "2026-07-01T10:00:00+8:00",
             "2026-07-01", None]
    python = [t is not None and re.search(r"(?:Z|[+-]\d{2}:?\d{2})$", t) is not None for t in texts]
    assert _ends_with_offset(pd.Series(texts, dtype="string")).tolist() == python
    assert sum(python) == 8 and python[6] and python[7]  # both answers occur; other digits count
    parsed = to_local_naive(pd.Series(["2026-07-01T02:00:00Z", "2026-07-01 10:00", None], dtype="str"))
    assert parsed.tolist()[:2] == [pd.Timestamp("2026-07-01 10:00")] * 2 and pd.isna(parsed.iloc[2])
