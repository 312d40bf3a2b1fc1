"""Benchmark the vectorised working-day calendar: dates per second for ``add_workdays`` and
``workdays_between`` (and ``is_workday``) over 1e6 and 1e7 random dates.

Usage: ``.venv/bin/python bench/calendar_bench.py [--sizes 1000000 10000000] [--repeat 3]``

The issue's target is at least 1,000,000 dates per second for each operation. Dates are uniform
over 2004-01-01 .. 2026-10-31 (so the counts stay inside the years the package knows); ``n`` is a
random 1..10 per date (as for quarterly deadlines); spans for ``workdays_between`` are 0..60 days;
one line times ``datetime64[us]`` input (ledger timestamps), which includes the conversion.
The best of ``--repeat`` runs is reported (the calendar table is built once, outside the timing).
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from functools import partial
from typing import Any

import numpy as np

from complaints.calendar import build_calendar

TARGET = 1_000_000


def best_rate(fn: Callable[[], Any], size: int, repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return size / best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000_000, 10_000_000])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--seed", type=int, default=20260930)
    args = parser.parse_args()

    t0 = time.perf_counter()
    calendar = build_calendar()
    built = time.perf_counter() - t0
    print(f"calendar years {calendar.years[0]}-{calendar.years[-1]}, built in {built:.3f} s")
    rng = np.random.default_rng(args.seed)
    lo = int(np.datetime64("2004-01-01", "D").astype(np.int64))
    hi = int(np.datetime64("2026-10-31", "D").astype(np.int64))
    print(f"{'operation':<34}{'dates':>12}{'dates/s':>16}  target")
    for size in args.sizes:
        starts = rng.integers(lo, hi, size).astype("datetime64[D]")
        steps = rng.integers(1, 11, size)
        ends = starts + rng.integers(0, 61, size).astype("timedelta64[D]")
        # ledger times arrive as datetime64[us]; conversion to days is part of the cost
        micros = rng.integers(0, 86_400_000_000, size).astype("timedelta64[us]")
        stamps = starts.astype("datetime64[us]") + micros
        cases: list[tuple[str, Callable[[], Any]]] = [
            ("add_workdays(dates, 10)", partial(calendar.add_workdays, starts, 10)),
            ("add_workdays(dates, n[])", partial(calendar.add_workdays, starts, steps)),
            ("workdays_between(start, end)", partial(calendar.workdays_between, starts, ends)),
            ("is_workday(dates)", partial(calendar.is_workday, starts)),
            ("add_workdays(datetime64[us], 10)", partial(calendar.add_workdays, stamps, 10)),
        ]
        for name, fn in cases:
            rate = best_rate(fn, size, args.repeat)
            verdict = "ok" if rate >= TARGET else "BELOW 1e6/s"
            print(f"{name:<34}{size:>12,}{rate:>16,.0f}  {verdict}")


if __name__ == "__main__":
    main()
