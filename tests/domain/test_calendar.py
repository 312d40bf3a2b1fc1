"""The working-day calendar: hand-checked 2026 holidays and make-up days, New Year boundaries,
unknown years refused with the right year, year files overriding the package."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path

import chinese_calendar
import numpy as np
import pandas as pd
import pytest

from complaints.calendar import (
    UnknownCalendarYear,
    WorkCalendar,
    YearSchedule,
    build_calendar,
    package_schedules,
)
from complaints.errors import ConfigError
from tasks.calendar_files import load_calendar, read_year_file

D = dt.date


@pytest.fixture(scope="module")
def cal() -> WorkCalendar:
    return build_calendar()


def write_year(path: Path, year: int, holidays: list[str], workdays: list[str], source: str = "test") -> Path:
    lines = [f"year: {year}", f"source: {source}", "holidays:"] + [f"  - {d}" for d in holidays]
    lines += ["workdays:"] + [f"  - {d}" for d in workdays]
    if not workdays:
        lines[-1] = "workdays: []"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


# -- 2026 (State Council notice for 2026, as in chinesecalendar 1.11), checked by hand ----------------
IS_WORKDAY = [
    (D(2026, 1, 1), False),  # 元旦 (Thu)
    (D(2026, 1, 2), False),
    (D(2026, 1, 3), False),  # Saturday inside the New Year span
    (D(2026, 1, 4), True),  # Sunday make-up working day
    (D(2026, 2, 14), True),  # Saturday make-up before 春节
    (D(2026, 2, 16), False),
    (D(2026, 2, 23), False),  # Monday, last day of 春节
    (D(2026, 2, 24), True),
    (D(2026, 2, 28), True),  # Saturday make-up after 春节
    (D(2026, 4, 6), False),  # 清明 (Mon)
    (D(2026, 5, 5), False),  # 劳动节 (Tue)
    (D(2026, 5, 9), True),  # Saturday make-up
    (D(2026, 6, 19), False),  # 端午 (Fri)
    (D(2026, 9, 20), True),  # Sunday make-up before 国庆
    (D(2026, 9, 25), False),  # 中秋 (Fri)
    (D(2026, 10, 1), False),
    (D(2026, 10, 7), False),  # Wednesday, last day of 国庆
    (D(2026, 10, 8), True),
    (D(2026, 10, 10), True),  # Saturday make-up after 国庆
    (D(2026, 10, 11), False),  # ordinary Sunday
    (D(2026, 3, 7), False),  # ordinary Saturday
    (D(2026, 3, 9), True),  # ordinary Monday
    (D(2018, 12, 29), True),  # Saturday made a working day by the 2019 notice
    (D(2018, 12, 31), False),  # Monday, holiday by the 2019 notice
    (D(2004, 1, 1), False),
    (D(2004, 1, 2), True),
]


@pytest.mark.parametrize(("day", "expected"), IS_WORKDAY, ids=[str(d) for d, _ in IS_WORKDAY])
def test_is_workday(cal: WorkCalendar, day: dt.date, expected: bool) -> None:
    assert bool(cal.is_workday(day)) is expected


def test_is_workday_vectorised_equals_table(cal: WorkCalendar) -> None:
    days = np.array([d for d, _ in IS_WORKDAY], dtype="datetime64[D]")
    assert cal.is_workday(days).tolist() == [e for _, e in IS_WORKDAY]


def test_every_package_day_agrees_with_chinesecalendar(cal: WorkCalendar) -> None:
    days = pd.date_range("2004-01-01", "2026-12-31", freq="D")
    expected = [chinese_calendar.is_workday(d.date()) for d in days]
    assert cal.is_workday(days.to_numpy()).tolist() == expected


ADD = [
    (D(2026, 9, 30), 1, D(2026, 10, 8)),
    (D(2026, 9, 30), 3, D(2026, 10, 10)),  # the Saturday make-up day counts
    (D(2026, 9, 30), 7, D(2026, 10, 15)),  # Q3 2026 branch report
    (D(2026, 9, 30), 10, D(2026, 10, 20)),  # Q3 2026 head-office report
    (D(2026, 10, 8), 1, D(2026, 10, 9)),  # the start day itself does not count
    (D(2026, 9, 19), 1, D(2026, 9, 20)),  # Sunday make-up day
    (D(2026, 2, 13), 1, D(2026, 2, 14)),
    (D(2026, 2, 14), 1, D(2026, 2, 24)),  # over 春节
    (D(2025, 12, 31), 1, D(2026, 1, 4)),  # New Year 2026: 1-3 Jan off, Sunday 4 Jan worked
    (D(2025, 12, 31), 4, D(2026, 1, 7)),
    (D(2024, 12, 31), 1, D(2025, 1, 2)),  # New Year 2025: only 1 Jan off
    (D(2018, 12, 28), 1, D(2018, 12, 29)),  # Saturday 29 Dec 2018 worked
    (D(2018, 12, 29), 1, D(2019, 1, 2)),  # 30 Dec - 1 Jan off
]


@pytest.mark.parametrize(("start", "n", "expected"), ADD, ids=[f"{s}+{n}" for s, n, _ in ADD])
def test_nth_workday_after(cal: WorkCalendar, start: dt.date, n: int, expected: dt.date) -> None:
    assert cal.nth_workday_after(start, n) == expected


def test_add_workdays_vectorised_with_array_n(cal: WorkCalendar) -> None:
    starts = np.array([s for s, _, _ in ADD], dtype="datetime64[D]")
    steps = np.array([n for _, n, _ in ADD])
    expected = np.array([e for _, _, e in ADD], dtype="datetime64[D]")
    assert (cal.add_workdays(starts, steps) == expected).all()


def test_add_workdays_matches_a_day_by_day_count(cal: WorkCalendar) -> None:
    rng = np.random.default_rng(7)
    lo, hi = np.datetime64("2004-01-01").astype(int), np.datetime64("2026-11-30").astype(int)
    starts = rng.integers(lo, hi, 300).astype("datetime64[D]")
    steps = rng.integers(1, 15, 300)
    got = cal.add_workdays(starts, steps)
    for start, n, g in zip(starts.astype(dt.date), steps, got.astype(dt.date), strict=True):
        day, left = start, int(n)
        while left:
            day += dt.timedelta(days=1)
            left -= chinese_calendar.is_workday(day)
        assert g == day, (start, n)


def test_subtract_is_the_inverse_on_working_days(cal: WorkCalendar) -> None:
    days = pd.date_range("2025-01-01", "2026-11-30", freq="D").to_numpy().astype("datetime64[D]")
    work = days[cal.is_workday(days)]
    for n in (1, 3, 10):
        assert (cal.subtract_workdays(cal.add_workdays(work, n), n) == work).all()
    assert cal.nth_workday_before(D(2026, 10, 20), 10) == D(2026, 9, 30)
    assert cal.nth_workday_before(D(2026, 1, 4), 1) == D(2025, 12, 31)
    assert cal.nth_workday_before(D(2026, 10, 12), 1) == D(2026, 10, 10)


BETWEEN = [
    (D(2026, 9, 30), D(2026, 10, 20), 10),
    (D(2026, 9, 30), D(2026, 10, 15), 7),
    (D(2026, 9, 30), D(2026, 10, 7), 0),  # all holidays
    (D(2026, 10, 8), D(2026, 10, 8), 0),
    (D(2026, 10, 20), D(2026, 9, 30), -10),
    (D(2025, 12, 31), D(2026, 1, 4), 1),
    (D(2026, 1, 1), D(2026, 12, 31), 248),
]


@pytest.mark.parametrize(("start", "end", "expected"), BETWEEN, ids=[f"{s}..{e}" for s, e, _ in BETWEEN])
def test_workdays_between(cal: WorkCalendar, start: dt.date, end: dt.date, expected: int) -> None:
    assert int(cal.workdays_between(start, end)) == expected


def test_year_2026_has_248_working_days_by_count() -> None:
    days = [D(2026, 1, 1) + dt.timedelta(days=i) for i in range(365)]
    assert sum(chinese_calendar.is_workday(d) for d in days) == 248


def test_shapes_nat_and_pandas_inputs(cal: WorkCalendar) -> None:
    assert cal.add_workdays(D(2026, 9, 30), 10).shape == ()
    grid = np.array([["2026-09-30", "2026-10-08"], ["NaT", "2026-10-09"]], dtype="datetime64[D]")
    out = cal.add_workdays(grid, 1)
    assert out.shape == (2, 2)
    assert out[0, 0] == np.datetime64("2026-10-08") and np.isnat(out[1, 0])
    assert cal.is_workday(grid).tolist() == [[True, True], [False, True]]
    assert cal.workdays_between(grid, np.datetime64("2026-10-20")).tolist() == [[10, 9], [0, 8]]
    times = pd.Series(pd.to_datetime(["2026-10-10 23:59:59", None])).astype("datetime64[us]")
    assert cal.is_workday(times).tolist() == [True, False]
    assert cal.add_workdays(times, 1)[0] == np.datetime64("2026-10-12")


def test_n_below_one_is_refused(cal: WorkCalendar) -> None:
    with pytest.raises(ValueError, match="at least 1"):
        cal.add_workdays(D(2026, 1, 5), 0)
    with pytest.raises(ValueError, match="at least 1"):
        cal.subtract_workdays([D(2026, 1, 5)], [-1])


# -- unknown years -------------------------------------------------------------------------------
UNKNOWN = [
    ("is_workday before 2004", lambda c: c.is_workday(D(2003, 12, 31)), 2003),
    ("add from mid-2003", lambda c: c.add_workdays(D(2003, 6, 1), 1), 2003),
    ("add from 31 Dec 2003", lambda c: c.add_workdays(D(2003, 12, 31), 1), 2003),  # input date refused
    ("between across 2003/2004", lambda c: c.workdays_between(D(2003, 5, 1), D(2004, 5, 1)), 2003),
    ("subtract into 2003", lambda c: c.subtract_workdays(D(2004, 1, 2), 1), 2003),
    ("is_workday in 2027", lambda c: c.is_workday(D(2027, 1, 4)), 2027),
    ("add from 31 Dec 2026", lambda c: c.add_workdays(D(2026, 12, 31), 1), 2027),
    ("add 10 from 20 Dec 2026", lambda c: c.add_workdays(D(2026, 12, 20), 10), 2027),
    ("between into 2027", lambda c: c.workdays_between(D(2026, 12, 1), D(2027, 1, 10)), 2027),
    ("far future date", lambda c: c.add_workdays(D(2030, 6, 1), 1), 2030),
    ("subtract from a far future date", lambda c: c.subtract_workdays(D(2030, 6, 1), 1), 2030),
    ("between far future dates", lambda c: c.workdays_between(D(2030, 6, 1), D(2030, 6, 9)), 2030),
    ("one bad date among good", lambda c: c.add_workdays(
        np.array(["2026-01-05", "2030-01-01", "NaT"], dtype="datetime64[D]"), 1), 2030),
    ("1990", lambda c: c.is_workday([D(2026, 1, 5), D(1990, 1, 1)]), 1990),
]


@pytest.mark.parametrize(("op", "year"), [(op, y) for _, op, y in UNKNOWN], ids=[u[0] for u in UNKNOWN])
def test_unknown_year_is_refused_naming_it(cal: WorkCalendar, op: Callable[[WorkCalendar], object],
                                           year: int) -> None:
    with pytest.raises(UnknownCalendarYear) as info:
        op(cal)
    assert info.value.year == year
    assert str(year) in str(info.value)
    assert f"config/calendar/{year}.yaml" in str(info.value) and "--calendar" in str(info.value)


def test_last_known_day_still_works(cal: WorkCalendar) -> None:
    assert bool(cal.is_workday(D(2026, 12, 31))) is True
    assert cal.nth_workday_after(D(2026, 12, 29), 2) == D(2026, 12, 31)
    with pytest.raises(UnknownCalendarYear, match="2027"):
        cal.nth_workday_before(D(2027, 1, 1), 1)  # an input date in an unknown year is refused


def test_a_gap_year_is_refused(tmp_path: Path) -> None:
    cal = load_calendar(tmp_path, [write_year(tmp_path / "x.yaml", 2028, ["2028-01-03"], [])])
    assert cal.years[-1] == 2028
    assert bool(cal.is_workday(D(2028, 1, 4))) is True
    assert bool(cal.is_workday(D(2028, 1, 3))) is False
    for op in (lambda: cal.is_workday(D(2027, 6, 1)), lambda: cal.add_workdays(D(2026, 12, 31), 1),
               lambda: cal.workdays_between(D(2026, 6, 1), D(2028, 6, 1))):
        with pytest.raises(UnknownCalendarYear) as info:
            op()
        assert info.value.year == 2027


# -- year files ----------------------------------------------------------------------------------
def test_year_file_overrides_the_package_for_2026(tmp_path: Path) -> None:
    # a (fictional) correction: 8 October 2026 becomes a holiday, 10 October an ordinary Saturday
    holidays = [f"2026-10-0{d}" for d in range(1, 9)]
    write_year(tmp_path / "2026.yaml", 2026, holidays, ["2026-09-20"], source="test correction")
    cal = load_calendar(tmp_path)
    assert cal.schedules[2026].source == "test correction"
    assert bool(cal.is_workday(D(2026, 10, 8))) is False
    assert bool(cal.is_workday(D(2026, 10, 10))) is False
    assert bool(cal.is_workday(D(2026, 5, 9))) is False  # the whole year is replaced, not patched
    assert cal.nth_workday_after(D(2026, 9, 30), 1) == D(2026, 10, 9)
    assert build_calendar().nth_workday_after(D(2026, 9, 30), 1) == D(2026, 10, 8)


def test_extra_file_overrides_directory_file(tmp_path: Path) -> None:
    (tmp_path / "cal").mkdir()
    write_year(tmp_path / "cal" / "2027.yaml", 2027, ["2027-01-01"], [], source="directory")
    extra = write_year(tmp_path / "draft.yaml", 2027, ["2027-01-01", "2027-01-04"], [], source="extra")
    assert load_calendar(tmp_path / "cal").nth_workday_after(D(2026, 12, 31), 1) == D(2027, 1, 4)
    cal = load_calendar(tmp_path / "cal", [extra])
    assert cal.schedules[2027].source == "extra"
    assert cal.nth_workday_after(D(2026, 12, 31), 1) == D(2027, 1, 5)


def test_next_year_notice_may_move_december_days(tmp_path: Path) -> None:
    path = write_year(tmp_path / "2027.yaml", 2027, ["2026-12-31", "2027-01-01"], ["2026-12-26"])
    cal = load_calendar(tmp_path)
    assert bool(cal.is_workday(D(2026, 12, 31))) is False
    assert bool(cal.is_workday(D(2026, 12, 26))) is True  # a Saturday
    assert read_year_file(path).holidays == {D(2026, 12, 31), D(2027, 1, 1)}
    # the package files New Year days of December under the next year's notice
    assert D(2018, 12, 29) in package_schedules()[2019].workdays
    assert D(2018, 12, 31) in package_schedules()[2019].holidays


def test_schedule_round_trips_through_mapping() -> None:
    sched = package_schedules()[2019]
    assert YearSchedule.from_mapping(sched.to_mapping()) == sched


BAD_FILES = [
    ({"holidays": ["2027-01-01"], "source": "x"}, "`year`"),
    ({"year": 2027, "holidays": ["2027-01-01"]}, "`source`"),
    ({"year": 2027, "source": "x", "holidays": ["2027-13-01"]}, "not an ISO date"),
    ({"year": 2027, "source": "x", "holidays": ["2028-01-01"]}, "outside year 2027"),
    ({"year": 2027, "source": "x", "holidays": ["2026-11-30"]}, "outside year 2027"),
    ({"year": 2027, "source": "x", "holidays": ["2027-01-02"], "workdays": ["2027-01-02"]}, "both"),
    ({"year": 2027, "source": "x", "workdays": ["2027-01-05"]}, "Saturdays or Sundays"),
    ({"year": 2027, "source": "x", "holiday": ["2027-01-01"]}, "unknown key `holiday`"),
    ({"year": 2027, "source": "x", "holidays": "2027-01-01"}, "must be a list"),
]


@pytest.mark.parametrize(("data", "message"), BAD_FILES, ids=[m for _, m in BAD_FILES])
def test_bad_year_file_is_a_config_error_naming_the_file(tmp_path: Path, data: dict, message: str) -> None:
    import yaml

    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_calendar(tmp_path)
    assert message in str(info.value) and str(path) in str(info.value)


def test_file_name_and_duplicates_are_checked(tmp_path: Path) -> None:
    write_year(tmp_path / "2028.yaml", 2027, ["2027-01-01"], [])
    with pytest.raises(ConfigError, match="named for 2028"):
        load_calendar(tmp_path)
    (tmp_path / "2028.yaml").unlink()
    write_year(tmp_path / "a.yaml", 2027, ["2027-01-01"], [])
    write_year(tmp_path / "b.yml", 2027, ["2027-01-01"], [])
    with pytest.raises(ConfigError, match="already given"):
        load_calendar(tmp_path)
    with pytest.raises(ConfigError, match="not found"):
        load_calendar(tmp_path / "empty", [tmp_path / "missing.yaml"])

