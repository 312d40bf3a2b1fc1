"""Reporting periods: quarters ``2026Q3``, years ``2026``, months ``2026-07`` and ISO weeks ``2026-W40``
(Monday to Sunday; the weekly overdue publication) (pure)."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Literal

from complaints.errors import UserError

#: the years a period code may name: the working-day calendars, the windows a filing reaches back over
#: (a year and eight quarters earlier) and pandas' timestamps all stay well inside them
FIRST_YEAR, LAST_YEAR = 1900, 2199

_PATTERNS = {
    "quarter": re.compile(r"^(\d{4})Q([1-4])$"),
    "year": re.compile(r"^(\d{4})$"),
    "month": re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$"),
    "week": re.compile(r"^(\d{4})-W(0[1-9]|[1-4]\d|5[0-3])$"),
}


def _iso_weeks(year: int) -> int:
    """52 or 53: the ISO week of 28 December is the year's last."""
    return dt.date(year, 12, 28).isocalendar()[1]


@dataclass(frozen=True, order=True)
class Period:
    """A half-open interval of local dates ``[start, end)``, identified by its code."""

    kind: Literal["quarter", "year", "month", "week"]
    year: int  # for a week: the ISO year
    index: int  # quarter 1-4, month 1-12, ISO week 1-53, 1 for a year

    @classmethod
    def parse(cls, code: str) -> Period:
        """``2026Q3``, ``2026`` or ``2026-07``; anything else, or a year outside
        :data:`FIRST_YEAR`..:data:`LAST_YEAR`, is a :class:`~complaints.errors.UserError`."""
        code = code.strip().upper()
        for kind, pattern in _PATTERNS.items():
            m = pattern.match(code)
            if m:
                year = int(m.group(1))
                if not FIRST_YEAR <= year <= LAST_YEAR:
                    raise UserError(f"period {code!r}: the year must lie between {FIRST_YEAR} and "
                                    f"{LAST_YEAR}")
                index = int(m.group(2)) if m.lastindex and m.lastindex > 1 else 1
                if kind == "week" and index > _iso_weeks(year):
                    raise UserError(f"period {code!r}: {year} has {_iso_weeks(year)} ISO weeks")
                return cls(kind, year, index)  # type: ignore[arg-type]
        raise UserError(f"period {code!r} is not a quarter (2026Q3), a year (2026), a month (2026-07) "
                        f"or an ISO week (2026-W40)")

    @property
    def code(self) -> str:
        if self.kind == "quarter":
            return f"{self.year}Q{self.index}"
        if self.kind == "month":
            return f"{self.year}-{self.index:02d}"
        if self.kind == "week":
            return f"{self.year}-W{self.index:02d}"
        return str(self.year)

    def __str__(self) -> str:
        return self.code

    @property
    def start(self) -> dt.date:
        if self.kind == "quarter":
            return dt.date(self.year, 3 * self.index - 2, 1)
        if self.kind == "month":
            return dt.date(self.year, self.index, 1)
        if self.kind == "week":
            return dt.date.fromisocalendar(self.year, self.index, 1)
        return dt.date(self.year, 1, 1)

    @property
    def end(self) -> dt.date:
        """The day after the last day (exclusive bound)."""
        return self.shift(1).start

    @property
    def last_day(self) -> dt.date:
        return self.end - dt.timedelta(days=1)

    def shift(self, n: int) -> Period:
        """The period ``n`` steps later (negative: earlier) of the same kind."""
        if self.kind == "year":
            return Period("year", self.year + n, 1)
        if self.kind == "week":
            year, week, _ = (self.start + dt.timedelta(weeks=n)).isocalendar()
            return Period("week", year, week)
        per_year = 4 if self.kind == "quarter" else 12
        k = self.year * per_year + (self.index - 1) + n
        return Period(self.kind, k // per_year, k % per_year + 1)

    def previous(self) -> Period:
        return self.shift(-1)

    def year_earlier(self) -> Period:
        return Period(self.kind, self.year - 1, self.index)

    def quarters(self) -> list[Period]:
        if self.kind == "year":
            return [Period("quarter", self.year, q) for q in range(1, 5)]
        if self.kind == "quarter":
            return [self]
        raise ValueError(f"a {self.kind} has no quarters")

    @property
    def label_zh(self) -> str:
        if self.kind == "quarter":
            return f"{self.year}年第{'一二三四'[self.index - 1]}季度"
        if self.kind == "month":
            return f"{self.year}年{self.index}月"
        if self.kind == "week":
            return f"{self.year}年第{self.index}周"
        return f"{self.year}年度"


def last_full_quarter(today: dt.date) -> Period:
    """The last quarter that ended before ``today``."""
    current = Period("quarter", today.year, (today.month - 1) // 3 + 1)
    return current.previous()
