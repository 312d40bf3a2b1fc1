"""Load the working-day calendar: the package's years overridden by ``config/calendar/*.yaml`` files."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from complaints.calendar import WorkCalendar, YearSchedule, build_calendar
from complaints.config import CONFIG_DIR, ConfigError, read_yaml


def read_year_file(path: Path) -> YearSchedule:
    data = read_yaml(path)
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: a calendar year file is a mapping with year, holidays, workdays, source")
    try:
        return YearSchedule.from_mapping(data, origin=str(path))
    except ValueError as exc:
        raise ConfigError(str(exc)) from exc


def load_calendar(calendar_dir: Path | None = None, extra_files: Sequence[Path] = ()) -> WorkCalendar:
    """Package years, then every ``*.yaml`` in ``calendar_dir`` (default ``config/calendar``), then
    ``extra_files`` (e.g. ``--calendar FILE``); a later file overrides an earlier one for its year."""
    directory = calendar_dir if calendar_dir is not None else CONFIG_DIR / "calendar"
    files = sorted(directory.glob("*.yaml")) if directory.is_dir() else []
    return build_calendar([read_year_file(p) for p in [*files, *map(Path, extra_files)]])
