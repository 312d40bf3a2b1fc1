"""Times kept as text beside values as read (a column with unparsed values): the ISO text is
strftime's, whichever way it is made."""

from __future__ import annotations

import numpy as np
import pandas as pd

from tasks.sources.mapping import _iso_text


def test_iso_text_is_strftime_for_four_digit_years_missing_values_and_other_years() -> None:
    fmt = "%Y-%m-%dT%H:%M:%S.%f"
    times = pd.Series(pd.to_datetime(["2026-07-01 09:30:05.123456", None, "1999-12-31 23:59:59"],
                                     format="ISO8601").astype("datetime64[us]"))
    got = _iso_text(times)
    assert got.iloc[[0, 2]].tolist() == times.iloc[[0, 2]].dt.strftime(fmt).tolist()
    assert got.iloc[0] == "2026-07-01T09:30:05.123456"
    far = pd.Series(np.array(["2026-07-01", "12026-01-01"], dtype="datetime64[us]"))
    assert _iso_text(far).tolist() == far.dt.strftime(fmt).tolist()  # not numpy's "+12026-…"
    aware = times.dt.tz_localize("Asia/Shanghai")
    assert _iso_text(aware).iloc[[0, 2]].tolist() == aware.iloc[[0, 2]].dt.strftime(fmt).tolist()
