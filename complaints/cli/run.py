"""``complaints run quarterly|annual``: run a filing flow end to end and print its summary."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from complaints.calendar import UnknownCalendarYear
from complaints.config import ConfigError

run_app = typer.Typer(help="Run a filing flow: extract → validate → compute → render → archive.",
                      no_args_is_help=True)
err = Console(stderr=True)

Entity = Annotated[str | None, typer.Option("--entity", help="entity code (default: the head office)")]
AsOf = Annotated[str | None, typer.Option("--as-of", help="ISO time the figures describe (default: now)")]
ConfigOpt = Annotated[Path | None, typer.Option("--config", help="configuration file")]
Workdir = Annotated[Path, typer.Option("--workdir", help="working directory (outputs, archive, runs)")]
AcceptRisk = Annotated[str | None, typer.Option("--accept-risk", help="go on despite blocking table-level "
                                                "failures; the reason is recorded in the filing")]
CalendarOpt = Annotated[list[Path] | None, typer.Option("--calendar", help="extra calendar year file")]
JsonOpt = Annotated[bool, typer.Option("--json", help="print the summary as JSON")]


def user_errors() -> tuple[type[BaseException], ...]:
    """Exceptions a user can cause and fix: printed as one message, never a traceback."""
    from tasks.bundle import BundleError
    from tasks.extract import ExtractError
    from tasks.read_files import InputError
    from tasks.runs import RunBlocked
    from tasks.stores import StoreError

    return (ConfigError, UnknownCalendarYear, RunBlocked, ExtractError, InputError, StoreError,
            BundleError, ValueError, FileNotFoundError, PermissionError)


class _NoUserTracebacks(logging.Filter):
    """Prefect logs a failed task with its traceback; for errors the user can fix, the message suffices."""

    def __init__(self, types: tuple[type[BaseException], ...]) -> None:
        super().__init__()
        self.types = types

    def filter(self, record: logging.LogRecord) -> bool:
        if record.exc_info and isinstance(record.exc_info[1], self.types):
            record.exc_info, record.exc_text = None, None
        return True


def quiet_user_tracebacks() -> None:
    quiet = _NoUserTracebacks(user_errors())
    for name in ["prefect", *logging.root.manager.loggerDict]:
        if name.startswith("prefect"):
            logger = logging.getLogger(name)
            for handler in logger.handlers:
                if not any(isinstance(f, _NoUserTracebacks) for f in handler.filters):
                    handler.addFilter(quiet)


def run_filing(filing: str, period: str, **kwargs: Any) -> dict[str, Any]:
    """Run the filing flow and return its summary; user errors exit with status 1 and one message."""
    from flows.filing import annual_self_inspection, quarterly_filing

    quiet_user_tracebacks()
    try:
        if filing == "quarterly":
            return quarterly_filing(period=period, **kwargs)
        return annual_self_inspection(year=period, **kwargs)
    except user_errors() as exc:
        err.print(f"[red]error:[/red] {exc}", highlight=False, soft_wrap=True)
        raise typer.Exit(1) from None


def _pct(value: Any) -> str:
    return "—" if value is None else f"{value * 100:.2f}%"


def print_summary(summary: dict[str, Any], console: Console | None = None) -> None:
    console = console or Console()
    h, rows = summary["headline"], summary["rows"]
    table = Table(title=f"{summary['filing']} filing · {summary['entity']} · {summary['period']}",
                  show_header=False)
    table.add_column(style="bold")
    table.add_column()
    table.add_row("rows read / accepted / quarantined",
                  f"{rows['read']} / {rows['accepted']} / {rows['quarantined']}")
    table.add_row("cases (件) / contacts (次)", f"{h['cases']} / {h['contacts']}")
    table.add_row("valid cases (有效投诉)", str(h["valid_cases"]))
    table.add_row("regulator-forwarded (监管转办)", str(h["regulator_forwarded_cases"]))
    table.add_row("timeliness (处理及时率)", _pct(h["timeliness_rate"]))
    table.add_row("satisfaction (客户满意度)", _pct(h["satisfaction_rate"]))
    per = h["per_100m_premium"]
    table.add_row("per CNY 100m premium (亿元保费投诉量)", "—" if per is None else f"{per:.2f}")
    table.add_row("due (报送截止日)", summary["due"] or f"unknown: {summary['due_error']}")
    if summary["accept_risk"]:
        table.add_row("accepted risk", summary["accept_risk"])
    table.add_row("status", "[yellow]INCOMPLETE[/yellow] (see below)" if summary["incomplete"] else "complete")
    console.print(table)
    console.print(f"filing (DOCX):        {summary['docx']}", soft_wrap=True, highlight=False)
    console.print(f"quarantine workbook:  {summary['quarantine_xlsx']}", soft_wrap=True, highlight=False)
    console.print(f"evidence bundle:      {summary['bundle']}"
                  + ("" if summary["signed"] else "  (unsigned: no signing key configured)"),
                  soft_wrap=True, highlight=False)
    console.print(f"                      {summary['bundle_location']}", soft_wrap=True, highlight=False)
    for reason in summary["incomplete"]:
        console.print(f"[yellow]incomplete:[/yellow] {reason}", soft_wrap=True, highlight=False)


def _command(filing: str) -> Any:
    def command(
        period: Annotated[str, typer.Option("--period", "--year", help="2026Q3 (quarterly) or 2026 (annual)")],
        entity: Entity = None, as_of: AsOf = None, config: ConfigOpt = None, workdir: Workdir = Path("."),
        accept_risk: AcceptRisk = None, calendar: CalendarOpt = None, as_json: JsonOpt = False,
    ) -> None:
        summary = run_filing(filing, period, entity=entity, as_of=as_of,
                             config=str(config) if config else None, workdir=str(workdir), trigger="cli",
                             accept_risk=accept_risk, calendar_files=[str(c) for c in calendar or []])
        if as_json:
            print(json.dumps(summary, ensure_ascii=False, indent=2))
        else:
            print_summary(summary)

    command.__doc__ = {"quarterly": "季度投诉处理工作情况报告 for one quarter (--period 2026Q3).",
                       "annual": "年度投诉处理工作自查报告 for one year (--year 2026)."}[filing]
    return command


run_app.command("quarterly")(_command("quarterly"))
run_app.command("annual")(_command("annual"))


def register(app: typer.Typer) -> None:
    app.add_typer(run_app, name="run")
