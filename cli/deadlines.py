"""``complaints deadlines``: the filing calendar of a year (due date of every periodic filing).

Exit status: 0 all due dates computed; 2 bad configuration or calendar file; 3 some due date needs
a calendar year nobody supplied (printed with ``due`` null and the error, then exit 3).
"""

from __future__ import annotations

import json
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from complaints.deadlines import (
    FilingDue,
    filings_for_year,
    missing_years,
)
from complaints.errors import ConfigError
from complaints.filings import FILING_KINDS
from complaints.periods import FIRST_YEAR, LAST_YEAR
from tasks.calendar_files import load_calendar  # the edge that reads year files
from tasks.config_files import load_settings

EXIT_CONFIG = 2
EXIT_UNKNOWN_CALENDAR_YEAR = 3
_WEEKDAYS_ZH = "一二三四五六日"


class LevelChoice(StrEnum):
    head_office = "head_office"
    branch = "branch"


def _table(year: int, entries: list[FilingDue]) -> Table:
    table = Table(title=f"{year} 年报送日历 (filing calendar)")
    for name in ("filing", "period", "level", "due", "note"):
        table.add_column(name, no_wrap=True)
    for e in entries:
        if e.due is not None:
            due, note = f"{e.due.isoformat()} 周{_WEEKDAYS_ZH[e.due.weekday()]}", ""
        else:
            due, note = "—", f"[red]缺{e.missing_year}年日历[/red]"
        table.add_row(f"{e.filing} {FILING_KINDS[e.filing].short_zh}", e.period,
                      e.level, due, note)
    return table


def deadlines(
    year: Annotated[int, typer.Option("--year", help=f"the year whose reporting periods to list "
                                      f"({FIRST_YEAR}-{LAST_YEAR})")],
    level: Annotated[LevelChoice | None, typer.Option(
        "--level", help="only this entity level (default: both; monthly tables: head_office)")] = None,
    calendar: Annotated[list[Path] | None, typer.Option(
        "--calendar", help="a calendar year file (YAML) to add; overrides config/calendar for its year",
    )] = None,
    config: Annotated[Path | None, typer.Option("--config", help="configuration file (default "
                                                "config/complaints.yaml or $COMPLAINTS_CONFIG)")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print a JSON array instead of a table")] = False,
) -> None:
    """Due dates of the quarterly, annual and monthly filings whose period lies in YEAR."""

    problem = None
    if not FIRST_YEAR <= year <= LAST_YEAR:  # the years a period code may name (complaints.periods)
        problem = f"--year {year}: give a year between {FIRST_YEAR} and {LAST_YEAR}"
    for path in calendar or []:
        if problem is None and path.is_dir():  # a missing file is the loader's "file not found"
            problem = f"--calendar {path}: is a directory; give a calendar year file (YAML)"
    if problem is not None:
        typer.echo(f"error: {problem}", err=True)
        raise typer.Exit(EXIT_CONFIG)
    try:
        loaded = load_settings(config)
        work_calendar = load_calendar(loaded.resolve(loaded.settings.calendar_dir), calendar or [])
    except ConfigError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(EXIT_CONFIG) from None
    try:
        entries = filings_for_year(year, level.value if level else None, work_calendar,
                                   loaded.settings.filings)
    except ValueError as exc:  # a configured rule that cannot be applied
        typer.echo(f"error: {loaded.path}: {exc}", err=True)
        raise typer.Exit(EXIT_CONFIG) from None

    if as_json:
        typer.echo(json.dumps([e.to_dict() for e in entries], ensure_ascii=False, indent=2))
    else:
        Console().print(_table(year, entries))
    missing = missing_years(entries)
    if missing:
        for e in {e.missing_year: e for e in entries if e.error}.values():
            typer.echo(f"error: {e.error}", err=True)
        raise typer.Exit(EXIT_UNKNOWN_CALENDAR_YEAR)


def register(app: typer.Typer) -> None:
    app.command("deadlines")(deadlines)
