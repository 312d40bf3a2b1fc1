"""Load the working-day calendar: the package's years overridden by ``config/calendar/*.yaml`` files.

The file format is described in ``config/calendar/README.md``.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from complaints.calendar import WorkCalendar, YearSchedule, build_calendar
from complaints.errors import ConfigError
from tasks.config_files import CONFIG_DIR, read_yaml


def read_year_file(path: Path) -> YearSchedule:
    """One year file, validated; errors (:class:`ConfigError`) name the file and the key."""
    data = read_yaml(path)
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: a calendar year file is a mapping with year, holidays, workdays, source")
    try:
        schedule = YearSchedule.from_mapping(data, origin=str(path))
    except ValueError as exc:
        raise ConfigError(str(exc)) from exc
    stem = path.stem
    if stem.isdigit() and len(stem) == 4 and int(stem) != schedule.year:
        raise ConfigError(f"{path}: the file is named for {stem} but says `year: {schedule.year}`")
    return schedule


def year_files(calendar_dir: Path) -> list[Path]:
    """The year files of a calendar directory (``*.yaml`` and ``*.yml``), sorted by name."""
    if not calendar_dir.is_dir():
        return []
    return sorted([*calendar_dir.glob("*.yaml"), *calendar_dir.glob("*.yml")])


def load_calendar(calendar_dir: Path | None = None, extra_files: Sequence[Path] = ()) -> WorkCalendar:
    """Package years, then every year file in ``calendar_dir`` (default ``config/calendar``), then
    ``extra_files`` (e.g. ``--calendar FILE``).

    A year file replaces the package's schedule for its year; an extra file replaces a directory
    file for its year (and a later extra file an earlier one). Two files in the directory for the
    same year are an error, since nothing says which one the operator meant.
    """
    directory = calendar_dir if calendar_dir is not None else CONFIG_DIR / "calendar"
    schedules: dict[int, YearSchedule] = {}
    origin: dict[int, Path] = {}
    for path in year_files(directory):
        schedule = read_year_file(path)
        if schedule.year in schedules:
            raise ConfigError(
                f"{path}: year {schedule.year} is already given by {origin[schedule.year]}; "
                "keep one file per year"
            )
        schedules[schedule.year], origin[schedule.year] = schedule, path
    for extra in extra_files:
        path = Path(extra)
        schedule = read_year_file(path)
        schedules[schedule.year] = schedule
    return build_calendar(schedules.values())
