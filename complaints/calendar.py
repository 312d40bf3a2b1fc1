"""Chinese working-day calendar: statutory holidays and make-up working days (调休). Pure.

A working day is Monday-Friday, except statutory holidays, plus declared make-up working days on
weekends. Years come from the ``chinesecalendar`` package and from operator-supplied year
schedules (``config/calendar/YYYY.yaml``), which override the package for their year. A year known
to neither is an error (:class:`UnknownCalendarYear`), never a silent weekday guess.

A year's schedule is the State Council notice for that year. The notice sometimes also declares
days at the end of December of the previous year (the 2019 notice: 2018-12-29 worked, 2018-12-30
and 31 off), so a year schedule may contain dates in December of the previous year, and those
override the previous year's own schedule for those days. Until the next year's notice is known,
December days of the last known year follow that year's own schedule (residual risk: the later
notice may still move a day at the very end of December; every such change so far touched only
29-31 December).

Operations are vectorised over arrays of dates through a day-indexed lookup table: the cumulative
count of working days turns "n-th working day after" into one array gather. Results keep the
shape of the input (a scalar date gives a 0-d array).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from complaints.errors import UnknownCalendarYear

DateArray = npt.NDArray[np.datetime64]
_NAT = np.datetime64("NaT", "D")


def _belongs_to(day: dt.date, year: int) -> bool:
    """Whether a notice for ``year`` may declare ``day``: its own year or December before it."""
    return day.year == year or (day.year == year - 1 and day.month == 12)


@dataclass(frozen=True)
class YearSchedule:
    """One year's statutory holidays and make-up working days, and where they come from.

    ``holidays`` are days off (weekend days inside a holiday span may be listed too);
    ``workdays`` are make-up working days, always on a Saturday or Sunday. Both may include
    days of December of the previous year when the notice declares them.
    """

    year: int
    holidays: frozenset[dt.date]
    workdays: frozenset[dt.date]
    source: str

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any], origin: str = "") -> YearSchedule:
        """Validate an operator's year file (already parsed); errors name ``origin`` and the key."""
        where = f" in {origin}" if origin else ""
        try:
            year = int(data["year"])
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"calendar year file{where}: `year` must be a year such as 2027") from exc
        if not 1900 < year < 2200:
            raise ValueError(f"calendar year file{where}: `year` {year} is not a plausible year")
        if not str(data.get("source") or "").strip():
            raise ValueError(f"calendar year file{where}: `source` (the notice it comes from) is required")
        unknown_keys = sorted(set(data) - {"year", "holidays", "workdays", "source"})
        if unknown_keys:
            raise ValueError(
                f"calendar year file{where}: unknown key `{unknown_keys[0]}` "
                "(allowed: year, holidays, workdays, source)"
            )

        def dates(key: str) -> frozenset[dt.date]:
            items = data.get(key) or []
            if not isinstance(items, list):
                raise ValueError(f"calendar year file{where}: `{key}` must be a list of ISO dates")
            out = set()
            for item in items:
                try:
                    day = item if isinstance(item, dt.date) else dt.date.fromisoformat(str(item))
                except ValueError as exc:
                    raise ValueError(
                        f"calendar year file{where}: `{key}` has {item!r}, not an ISO date"
                    ) from exc
                if isinstance(day, dt.datetime):
                    day = day.date()
                if not _belongs_to(day, year):
                    raise ValueError(
                        f"calendar year file{where}: `{key}` has {day}, outside year {year} "
                        f"(only December {year - 1} may also appear)"
                    )
                out.add(day)
            return frozenset(out)

        holidays, workdays = dates("holidays"), dates("workdays")
        both = holidays & workdays
        if both:
            raise ValueError(f"calendar year file{where}: {sorted(both)[0]} is both a holiday and a workday")
        weekdays = sorted(d for d in workdays if d.weekday() < 5)
        if weekdays:
            raise ValueError(
                f"calendar year file{where}: `workdays` has {weekdays[0]}, a {weekdays[0]:%A}; "
                "make-up working days are Saturdays or Sundays"
            )
        return cls(year, holidays, workdays, str(data["source"]).strip())

    def to_mapping(self) -> dict[str, Any]:
        return {
            "year": self.year,
            "holidays": sorted(d.isoformat() for d in self.holidays),
            "workdays": sorted(d.isoformat() for d in self.workdays),
            "source": self.source,
        }


def package_schedules() -> dict[int, YearSchedule]:
    """The years the ``chinesecalendar`` package knows.

    December entries (always New Year arrangements) are filed under the next year, whose notice
    declared them, so that an operator file for a year replaces exactly what its notice said.
    """
    import chinese_calendar

    def notice_year(day: dt.date) -> int:
        return day.year + 1 if day.month == 12 else day.year

    years: dict[int, tuple[set[dt.date], set[dt.date]]] = {}
    for day in chinese_calendar.holidays:
        years.setdefault(notice_year(day), (set(), set()))[0].add(day)
    for day in chinese_calendar.workdays:
        years.setdefault(notice_year(day), (set(), set()))[1].add(day)
    version = getattr(chinese_calendar, "__version__", "")
    return {
        y: YearSchedule(y, frozenset(h), frozenset(w), f"chinesecalendar {version}".strip())
        for y, (h, w) in years.items()
    }


@dataclass(frozen=True)
class WorkCalendar:
    """Working days over the known years, with vectorised date arithmetic.

    All operations accept anything ``numpy.asarray(..., dtype="datetime64[D]")`` accepts (a date,
    a list of dates, a ``datetime64`` array, a pandas Series of datetimes; times are truncated to
    the date) and return arrays of the same shape. NaT gives NaT (or False / 0). Any operation that
    is given a date, or needs a day, of a year not in :attr:`schedules` raises
    :class:`UnknownCalendarYear` for the earliest such year.
    """

    schedules: Mapping[int, YearSchedule]
    _base: np.datetime64 = field(init=False, repr=False)
    _base_int: int = field(init=False, repr=False)
    _work: npt.NDArray[np.bool_] = field(init=False, repr=False)
    _cum: npt.NDArray[np.int64] = field(init=False, repr=False)  # working days in [0, i]
    _workday_idx: npt.NDArray[np.int64] = field(init=False, repr=False)  # k-th working day's index
    _unknown_cum: npt.NDArray[np.int64] = field(init=False, repr=False)  # unknown days in [0, i]
    _has_gaps: bool = field(init=False, repr=False)

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
        size = len(days)
        # in year order, so a later notice's December entries override the earlier year's
        for year in sorted(self.schedules):
            sched = self.schedules[year]
            for value, group in ((False, sched.holidays), (True, sched.workdays)):
                idx = np.array([(np.datetime64(d, "D") - base).astype(int) for d in group], dtype=np.int64)
                idx = idx[(idx >= 0) & (idx < size)]
                work[idx] = value
        work &= known
        object.__setattr__(self, "_base", base)
        object.__setattr__(self, "_base_int", int(base.astype("int64")))
        object.__setattr__(self, "_work", work)
        object.__setattr__(self, "_cum", np.cumsum(work, dtype=np.int64))
        object.__setattr__(self, "_workday_idx", np.flatnonzero(work).astype(np.int64))
        object.__setattr__(self, "_unknown_cum", np.cumsum(~known, dtype=np.int64))
        object.__setattr__(self, "_has_gaps", bool((~known).any()))

    @property
    def years(self) -> list[int]:
        return sorted(self.schedules)

    def with_years(self, extra: Iterable[YearSchedule]) -> WorkCalendar:
        """A calendar where each schedule in ``extra`` replaces the one for its year."""
        merged = dict(self.schedules)
        merged.update({s.year: s for s in extra})
        return WorkCalendar(merged)

    # -- helpers -------------------------------------------------------------------------------
    def _index(self, dates: Any) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.bool_], tuple[int, ...]]:
        """Day indices into the table (1-d), NaT mask, and the input's shape."""
        arr = np.asarray(dates, dtype="datetime64[D]")
        shape = arr.shape
        flat = arr.reshape(-1)
        nat = np.isnat(flat)
        idx = flat.view(np.int64) - self._base_int
        if nat.any():
            idx = np.where(nat, 0, idx)
        return idx, nat, shape

    def _check_known(self, lo: npt.NDArray[np.int64], hi: npt.NDArray[np.int64],
                     mask: npt.NDArray[np.bool_] | None) -> None:
        """Raise for the first unknown year touched by any day in [lo, hi] (where ``mask``)."""
        if mask is not None and not mask.all():
            lo, hi = lo[mask], hi[mask]
        if lo.size == 0:
            return
        size = len(self._work)
        lo_min, hi_max = int(lo.min()), int(hi.max())
        if lo_min >= 0 and hi_max < size and not self._has_gaps:
            return  # the common case: everything inside a gap-free table
        outside = (lo < 0) | (hi >= size) | (lo >= size)
        inside = ~outside
        bad = outside
        if self._has_gaps and inside.any():
            lo_c, hi_c = lo[inside], hi[inside]
            before = np.where(lo_c > 0, self._unknown_cum[np.maximum(lo_c - 1, 0)], 0)
            bad = outside.copy()
            bad[inside] = (self._unknown_cum[hi_c] - before) > 0
        if bad.any():
            self._raise_first_unknown(int(lo[bad].min()), int(hi[bad].max()))

    def _year_of(self, index: int) -> int:
        return int(str(self._base + np.timedelta64(index, "D"))[:4])

    def _raise_first_unknown(self, lo: int, hi: int) -> None:
        lo_year, hi_year = self._year_of(min(lo, hi)), self._year_of(max(lo, hi))
        for year in range(lo_year, hi_year + 1):
            if year not in self.schedules:
                raise UnknownCalendarYear(year)
        raise UnknownCalendarYear(hi_year)  # pragma: no cover - defensive

    def _dates(self, found: npt.NDArray[np.int64], nat: npt.NDArray[np.bool_],
               shape: tuple[int, ...]) -> DateArray:
        out = (found + self._base_int).astype("datetime64[D]")
        if nat.any():
            out[nat] = _NAT
        return out.reshape(shape)

    @staticmethod
    def _steps(n: int | npt.ArrayLike, shape: tuple[int, ...],
               nat: npt.NDArray[np.bool_]) -> npt.NDArray[np.int64]:
        """``n`` broadcast to the dates' shape, flattened; each must be ≥ 1 (ignored at NaT)."""
        steps = np.broadcast_to(np.asarray(n, dtype=np.int64), shape).reshape(-1)
        if steps.size and int(np.where(nat, 1, steps).min()) < 1:
            raise ValueError("n must be at least 1")
        return steps

    # -- public operations -----------------------------------------------------------------------
    def is_workday(self, dates: Any) -> npt.NDArray[np.bool_]:
        """True for working days; NaT gives False. Unknown years raise."""
        idx, nat, shape = self._index(dates)
        self._check_known(idx, idx, ~nat)
        out = self._work[np.clip(idx, 0, len(self._work) - 1)] & ~nat
        return out.reshape(shape)

    def add_workdays(self, dates: Any, n: int | npt.ArrayLike) -> DateArray:
        """The ``n``-th working day after each date (``n`` ≥ 1; the date itself does not count).

        ``n`` is a scalar or an array broadcast against the dates. NaT stays NaT. Raises
        :class:`UnknownCalendarYear` if the count needs a day of an unknown year.
        """
        idx, nat, shape = self._index(dates)
        steps = self._steps(n, shape, nat)
        size, nwork = len(self._cum), len(self._workday_idx)
        # rank (1-based) of the wanted working day among all working days of the table
        before = np.where(idx < 0, 0, self._cum[np.clip(idx, 0, size - 1)])
        rank = np.where(idx >= size, nwork + 1, before + steps)
        # past the table: point at the first unknown day the count needs (the table's end or the
        # start date's own unknown year), so the error names that year
        found = np.where(rank > nwork, np.maximum(size, idx),
                         self._workday_idx[np.clip(rank - 1, 0, max(nwork - 1, 0))])
        self._check_known(idx, found, ~nat)
        return self._dates(found, nat, shape)

    def subtract_workdays(self, dates: Any, n: int | npt.ArrayLike) -> DateArray:
        """The ``n``-th working day before each date (``n`` ≥ 1; the date itself does not count).

        The mirror of :meth:`add_workdays`, e.g. "3 working days before the due date".
        """
        idx, nat, shape = self._index(dates)
        steps = self._steps(n, shape, nat)
        size = len(self._cum)
        # working days strictly before each date
        prior = np.where(idx <= 0, 0, self._cum[np.clip(idx - 1, 0, size - 1)])
        rank = np.where(idx < 0, 0, prior - steps + 1)
        found = np.where(rank < 1, -1, self._workday_idx[np.maximum(rank - 1, 0)])
        # a date past the table: name its own year
        found = np.where(idx >= size, idx, found)
        self._check_known(found, idx, ~nat)
        return self._dates(found, nat, shape)

    def workdays_between(self, start: Any, end: Any) -> npt.NDArray[np.int64]:
        """Working days in the half-open range (start, end]; negative if end < start. NaT -> 0."""
        s_arr, e_arr = np.broadcast_arrays(np.asarray(start, dtype="datetime64[D]"),
                                           np.asarray(end, dtype="datetime64[D]"))
        s_idx, s_nat, shape = self._index(s_arr)
        e_idx, e_nat, _ = self._index(e_arr)
        nat = s_nat | e_nat
        lo, hi = np.minimum(s_idx, e_idx), np.maximum(s_idx, e_idx)
        self._check_known(lo, hi, ~nat)
        size = len(self._cum)
        counts = self._cum[np.clip(e_idx, 0, size - 1)] - self._cum[np.clip(s_idx, 0, size - 1)]
        if nat.any():
            counts = np.where(nat, 0, counts)
        return counts.reshape(shape)

    def nth_workday_after(self, day: dt.date, n: int) -> dt.date:
        """Scalar convenience for :meth:`add_workdays`."""
        out: dt.date = self.add_workdays(np.array([day], dtype="datetime64[D]"), n)[0].astype(dt.date)
        return out

    def nth_workday_before(self, day: dt.date, n: int) -> dt.date:
        """Scalar convenience for :meth:`subtract_workdays`."""
        out: dt.date = self.subtract_workdays(np.array([day], dtype="datetime64[D]"), n)[0].astype(dt.date)
        return out

    def to_mapping(self) -> dict[str, Any]:
        """The effective calendar (for the evidence bundle)."""
        return {"years": [self.schedules[y].to_mapping() for y in self.years]}


def build_calendar(overrides: Iterable[YearSchedule] = ()) -> WorkCalendar:
    """The package's years, overridden year by year by ``overrides``."""
    return WorkCalendar(package_schedules()).with_years(overrides)
