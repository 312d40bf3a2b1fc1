"""Chinese working-day calendar: statutory holidays and make-up working days (调休). Pure.

A working day is Monday-Friday, except statutory holidays, plus declared make-up working days on
weekends. Years come from the ``chinesecalendar`` package and from operator-supplied year
schedules (``config/calendar/YYYY.yaml``), which override the package for their year. A year known
to neither is an error (:class:`UnknownCalendarYear`), never a silent weekday guess.

Operations are vectorised over arrays of dates through a day-indexed lookup table: the cumulative
count of working days turns "n-th working day after" into one ``searchsorted``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

DateArray = npt.NDArray[np.datetime64]


class UnknownCalendarYear(ValueError):
    """A computation needs the holiday schedule of a year nobody supplied."""

    def __init__(self, year: int) -> None:
        self.year = year
        super().__init__(
            f"the working-day calendar for {year} is not known: its holiday schedule (the State "
            f"Council's notice) has not been supplied. Add config/calendar/{year}.yaml with `year`, "
            f"`holidays`, `workdays` and `source`, or pass --calendar FILE."
        )


@dataclass(frozen=True)
class YearSchedule:
    """One year's statutory holidays and make-up working days, and where they come from."""

    year: int
    holidays: frozenset[dt.date]
    workdays: frozenset[dt.date]
    source: str

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any], origin: str = "") -> YearSchedule:
        where = f" in {origin}" if origin else ""
        try:
            year = int(data["year"])
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"calendar year file{where}: `year` must be a year such as 2027") from exc
        if not str(data.get("source") or "").strip():
            raise ValueError(f"calendar year file{where}: `source` (the notice it comes from) is required")

        def dates(key: str) -> frozenset[dt.date]:
            out = set()
            for item in data.get(key) or []:
                try:
                    day = item if isinstance(item, dt.date) else dt.date.fromisoformat(str(item))
                except ValueError as exc:
                    raise ValueError(f"calendar year file{where}: `{key}` has {item!r}, not an ISO date") from exc
                if day.year != year:
                    raise ValueError(f"calendar year file{where}: `{key}` has {day}, outside year {year}")
                out.add(day)
            return frozenset(out)

        holidays, workdays = dates("holidays"), dates("workdays")
        both = holidays & workdays
        if both:
            raise ValueError(f"calendar year file{where}: {sorted(both)[0]} is both a holiday and a workday")
        return cls(year, holidays, workdays, str(data["source"]).strip())

    def to_mapping(self) -> dict[str, Any]:
        return {
            "year": self.year,
            "holidays": sorted(d.isoformat() for d in self.holidays),
            "workdays": sorted(d.isoformat() for d in self.workdays),
            "source": self.source,
        }


def package_schedules() -> dict[int, YearSchedule]:
    """The years the ``chinesecalendar`` package knows."""
    import chinese_calendar

    years: dict[int, tuple[set[dt.date], set[dt.date]]] = {}
    for day in chinese_calendar.holidays:
        years.setdefault(day.year, (set(), set()))[0].add(day)
    for day in chinese_calendar.workdays:
        years.setdefault(day.year, (set(), set()))[1].add(day)
    version = getattr(chinese_calendar, "__version__", "")
    return {
        y: YearSchedule(y, frozenset(h), frozenset(w), f"chinesecalendar {version}".strip())
        for y, (h, w) in years.items()
    }


@dataclass(frozen=True)
class WorkCalendar:
    """Working days over the known years, with vectorised date arithmetic."""

    schedules: Mapping[int, YearSchedule]
    _base: np.datetime64 = field(init=False, repr=False)
    _cum: npt.NDArray[np.int64] = field(init=False, repr=False)
    _unknown_cum: npt.NDArray[np.int64] = field(init=False, repr=False)
    _work: npt.NDArray[np.bool_] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        if not self.schedules:
            raise ValueError("a working-day calendar needs at least one known year")
        first, last = min(self.schedules), max(self.schedules)
        base = np.datetime64(f"{first}-01-01", "D")
        days = np.arange(base, np.datetime64(f"{last + 1}-01-01", "D"))
        weekday = (days.astype("int64") + 3) % 7  # 1970-01-01 was a Thursday (3)
        work = weekday < 5
        years = days.astype("datetime64[Y]").astype(int) + 1970
        known = np.isin(years, list(self.schedules))
        for sched in self.schedules.values():
            for d in sched.holidays:
                work[(np.datetime64(d, "D") - base).astype(int)] = False
            for d in sched.workdays:
                work[(np.datetime64(d, "D") - base).astype(int)] = True
        work &= known
        object.__setattr__(self, "_base", base)
        object.__setattr__(self, "_work", work)
        object.__setattr__(self, "_cum", np.cumsum(work, dtype=np.int64))
        object.__setattr__(self, "_unknown_cum", np.cumsum(~known, dtype=np.int64))

    @property
    def years(self) -> list[int]:
        return sorted(self.schedules)

    def with_years(self, extra: Iterable[YearSchedule]) -> WorkCalendar:
        merged = dict(self.schedules)
        merged.update({s.year: s for s in extra})
        return WorkCalendar(merged)

    # -- helpers -------------------------------------------------------------------------------
    def _index(self, dates: Any) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.bool_]]:
        arr = np.asarray(dates, dtype="datetime64[D]")
        nat = np.isnat(arr)
        idx = (arr - self._base).astype("int64")
        idx[nat] = 0
        return idx, nat

    def _check_known(self, lo: npt.NDArray[np.int64], hi: npt.NDArray[np.int64],
                     mask: npt.NDArray[np.bool_]) -> None:
        """Raise for the first unknown year touched by any day in [lo, hi] (where ``mask``)."""
        size = len(self._work)
        lo_m, hi_m = lo[mask], hi[mask]
        if lo_m.size == 0:
            return
        outside = (lo_m < 0) | (hi_m >= size)
        inside = ~outside
        lo_c, hi_c = np.clip(lo_m, 0, size - 1), np.clip(hi_m, 0, size - 1)
        unknown_inside = np.zeros_like(inside)
        unknown_inside[inside] = (
            self._unknown_cum[hi_c[inside]] - self._unknown_cum[lo_c[inside]]
            + (~self._known_at(lo_c[inside]))
        ) > 0
        bad = outside | unknown_inside
        if bad.any():
            self._raise_first_unknown(int(lo_m[bad].min()), int(hi_m[bad].max()))

    def _known_at(self, idx: npt.NDArray[np.int64]) -> npt.NDArray[np.bool_]:
        prev = np.where(idx > 0, self._unknown_cum[np.maximum(idx - 1, 0)], 0)
        return (self._unknown_cum[idx] - prev) == 0

    def _raise_first_unknown(self, lo: int, hi: int) -> None:
        first_year = int(str(self._base)[:4])
        lo_year = int(str(self._base + np.timedelta64(lo, "D"))[:4])
        hi_year = int(str(self._base + np.timedelta64(hi, "D"))[:4])
        for year in range(min(lo_year, first_year), hi_year + 1):
            if lo_year <= year and year not in self.schedules:
                raise UnknownCalendarYear(year)
        raise UnknownCalendarYear(hi_year)  # pragma: no cover - defensive

    # -- public operations -----------------------------------------------------------------------
    def is_workday(self, dates: Any) -> npt.NDArray[np.bool_]:
        """True for working days; NaT gives False. Unknown years raise."""
        idx, nat = self._index(dates)
        self._check_known(idx, idx, ~nat)
        out = np.zeros(idx.shape, dtype=bool)
        out[~nat] = self._work[idx[~nat]]
        return out

    def add_workdays(self, dates: Any, n: int | npt.ArrayLike) -> DateArray:
        """The ``n``-th working day after each date (``n`` ≥ 1; the date itself does not count).

        NaT stays NaT. Raises :class:`UnknownCalendarYear` if the count crosses an unknown year.
        """
        idx, nat = self._index(dates)
        steps = np.broadcast_to(np.asarray(n, dtype=np.int64), idx.shape)
        if (steps[~nat] < 1).any():
            raise ValueError("n must be at least 1")
        size = len(self._cum)
        start_ok = (idx >= 0) & (idx < size)
        safe = np.clip(idx, 0, size - 1)
        target = np.where(start_ok, self._cum[safe], 0) + steps
        found = np.searchsorted(self._cum, target, side="left")
        # the table ends before the n-th working day: the year after the table is unknown
        hi = np.where(found >= size, size, found)
        self._check_known(idx + 1, hi, ~nat)
        out = (self._base + found.astype("timedelta64[D]")).astype("datetime64[D]")
        out[nat] = np.datetime64("NaT")
        return out

    def workdays_between(self, start: Any, end: Any) -> npt.NDArray[np.int64]:
        """Working days in the half-open range (start, end]; negative if end < start. NaT -> 0."""
        s_idx, s_nat = self._index(start)
        e_idx, e_nat = self._index(end)
        s_idx, e_idx = np.broadcast_arrays(s_idx, e_idx)
        nat = np.broadcast_to(s_nat | e_nat, s_idx.shape)
        lo, hi = np.minimum(s_idx, e_idx), np.maximum(s_idx, e_idx)
        self._check_known(lo, hi, ~nat)
        size = len(self._cum)
        counts = self._cum[np.clip(e_idx, 0, size - 1)] - self._cum[np.clip(s_idx, 0, size - 1)]
        return np.where(nat, 0, counts)

    def nth_workday_after(self, day: dt.date, n: int) -> dt.date:
        """Scalar convenience for :meth:`add_workdays`."""
        return self.add_workdays(np.array([day], dtype="datetime64[D]"), n)[0].astype(dt.date)

    def to_mapping(self) -> dict[str, Any]:
        """The effective calendar (for the evidence bundle)."""
        return {"years": [self.schedules[y].to_mapping() for y in self.years]}


def build_calendar(overrides: Iterable[YearSchedule] = ()) -> WorkCalendar:
    """The package's years, overridden year by year by ``overrides``."""
    return WorkCalendar(package_schedules()).with_years(overrides)
