"""The frame Great Expectations sees (:func:`for_gx`) and back (:func:`_from_gx`, for custom conditions)."""

from __future__ import annotations

import pandas as pd

_NS_MIN = pd.Timestamp.min.as_unit("us")
_NS_MAX = pd.Timestamp.max.as_unit("us")


def for_gx(frame: pd.DataFrame) -> pd.DataFrame:
    """The frame GX sees: datetimes as ``datetime64[ns]``, nullable ints as float64, text whose values
    repeat as category (near-unique ids stay text, see :func:`_repetitive`).

    Measured at 1M rows (bench/validate_bench.py), two GX-on-pandas-3 costs dominate otherwise:

    - GX 1.24's ``column_values.between`` takes its vectorised path only for ``datetime64[ns]`` and
      plain int/float columns; pandas 3 datetimes are ``datetime64[us]`` and our ints ``Int64``, which
      sends it to a per-element Python ``map`` (~1.5 s per column per million rows). Times outside
      the ns range (typos such as year 2962) are clipped: still after/before every real bound, so
      every order and as-of check keeps its answer.
    - For every metric of a null-filtered, ``row_condition`` or ``ignore_row_if`` domain GX filters
      the *whole* frame again; a take on pandas 3 Arrow-backed ``str`` columns costs ~4 ms per column
      per million rows, thousands of times per suite. Categorical columns take their int codes (4x
      faster). Values and missingness are unchanged; custom conditions get ``str`` back
      (:func:`_from_gx`). (The domains are narrowed to their own columns, :mod:`tasks.quality.narrow`.)
    """
    out = frame.copy(deep=False)
    for col in frame.columns:
        dtype = frame[col].dtype
        if pd.api.types.is_datetime64_any_dtype(dtype) and not isinstance(dtype, pd.DatetimeTZDtype):
            out[col] = frame[col].clip(_NS_MIN, _NS_MAX).astype("datetime64[ns]")
        elif isinstance(dtype, pd.Int64Dtype):
            out[col] = frame[col].astype("float64")
        elif (pd.api.types.is_string_dtype(dtype) and not isinstance(dtype, pd.CategoricalDtype)
              and _repetitive(frame[col])):
            # categories in order of appearance: astype("category") sorts them, ~1 s per suite for
            # the near-unique ids (complaint, complainant, policy); nothing GX does depends on the order
            codes, uniques = pd.factorize(frame[col], sort=False)
            out[col] = pd.Series(pd.Categorical.from_codes(codes, categories=uniques), index=frame.index)
            # pandas keeps the hash table it built to check the categories unique, over a Python
            # object per category (≈60 MB per million distinct ids); GX never looks values up in it.
            getattr(out[col].cat.categories, "_cache", {}).clear()
    return out


def _repetitive(s: pd.Series, sample: int = 10_000) -> bool:
    """Whether the column's values repeat enough for a categorical to pay: at most half distinct among its
    first ``sample`` values. Near-unique ids (complaint, complainant, policy) stay text: encoding them
    costs ~0.4 s per million rows each and saves nothing (the checks reading them filter no rows)."""
    head = s.iloc[:sample]
    return head.nunique(dropna=True) <= head.notna().sum() // 2


def _from_gx(frame: pd.DataFrame) -> pd.DataFrame:
    """Undo :func:`for_gx`'s categorical text columns (missing values stay missing)."""
    cats = [c for c in frame.columns if isinstance(frame[c].dtype, pd.CategoricalDtype)]
    if not cats:
        return frame
    out = frame.copy(deep=False)
    for col in cats:
        s = frame[col]
        values = s.cat.categories.array.take(s.cat.codes.to_numpy(), allow_fill=True)
        out[col] = pd.Series(values, index=s.index).astype("str")
    return out
