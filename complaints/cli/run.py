"""``complaints run quarterly|annual``: run a filing flow end to end and print its summary."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any, cast

import typer
from rich.console import Console
from rich.table import Table

from complaints.calendar import UnknownCalendarYear
from complaints.config import ConfigError

run_app = typer.Typer(help="Run a filing flow: extract → validate → compute → render → archive.",
                      no_args_is_help=True)
err = Console(stderr=True)

Entity = Annotated[str | None, typer.Option(
    "--entity", help="entity code (default: the head office); `all` or codes separated by commas (HO,GD) "
    "file each entity as a parallel child flow run with its own bundle")]
AllEntities = Annotated[bool, typer.Option("--all-entities", help="same as --entity all")]
Launch = Annotated[str, typer.Option(
    "--launch", help="with several entities: auto | deployment | threads | processes | dask (auto: the "
    "entities' deployments when a Prefect server is configured, else threads)")]
MaxParallel = Annotated[int, typer.Option("--max-parallel", min=1,
                                          help="with several entities: children run at once (local)")]
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
    from tasks.runs import RunBlocked, RunLocked
    from tasks.sources import ExtractError, InputError
    from tasks.stores import StoreError

    return (ConfigError, UnknownCalendarYear, RunBlocked, RunLocked, ExtractError, InputError, StoreError,
            BundleError, ValueError, FileNotFoundError, PermissionError)


def is_store_failure(exc: BaseException | None) -> bool:
    """An object-store endpoint that failed after the client's retries (5xx, timeouts, resets)."""
    return exc is not None and (type(exc).__module__.split(".")[0] in ("botocore", "boto3", "s3transfer")
                                or isinstance(exc, ConnectionError))


def is_user_error(exc: BaseException | None) -> bool:
    """A user error (above), a full disk / file-size limit (ENOSPC, EDQUOT, EFBIG) or a failing
    object-store endpoint: each is said in one message."""
    from tasks.runs import is_disk_full

    return exc is not None and (isinstance(exc, user_errors()) or is_disk_full(exc) or is_store_failure(exc))


def user_message(exc: BaseException, workdir: str | None = None) -> str:
    from tasks.runs import disk_full_error, disk_full_message

    full = disk_full_error(exc)
    if full is not None:
        return disk_full_message(full, workdir)
    if is_store_failure(exc) and not isinstance(exc, user_errors()):
        return (f"the archive's object store failed ({type(exc).__name__}: {' '.join(str(exc).split())}). "
                "Nothing was committed, so no bundle is listed for this run. Check the endpoint (archive.s3 "
                "in the configuration) and run the filing again.")
    return str(exc)


class _NoUserTracebacks(logging.Filter):
    """Prefect logs a failed task with its traceback; for errors the user can fix, the message suffices."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.exc_info and is_user_error(record.exc_info[1]):
            record.exc_info, record.exc_text = None, None
        return True


def quiet_user_tracebacks() -> None:
    quiet = _NoUserTracebacks()
    for name in ["prefect", *logging.root.manager.loggerDict]:
        if name.startswith("prefect"):
            logger = logging.getLogger(name)
            for handler in logger.handlers:
                if not any(isinstance(f, _NoUserTracebacks) for f in handler.filters):
                    handler.addFilter(quiet)


@contextmanager
def exit_on_user_error(workdir: Any) -> Iterator[None]:
    """Errors the user can fix become one message and exit status 1; anything else propagates."""
    quiet_user_tracebacks()
    try:
        yield
    except Exception as exc:
        if not is_user_error(exc):
            raise
        err.print(f"[red]error:[/red] {user_message(exc, workdir)}", highlight=False, soft_wrap=True)
        raise typer.Exit(1) from None


def run_filing(filing: str, period: str, **kwargs: Any) -> dict[str, Any]:
    """Run the filing flow and return its summary; user errors exit with status 1 and one message."""
    from flows.filing import FILING_FLOWS

    fn, key = FILING_FLOWS[filing]
    with exit_on_user_error(kwargs.get("workdir")):
        return cast(dict[str, Any], fn(**{key: period}, **kwargs))
    raise AssertionError("unreachable")  # pragma: no cover - the context manager exits or re-raises


def run_entities(filing: str, period: str, entities: str, **kwargs: Any) -> dict[str, Any]:
    """``filings_for_entities``: every entity a child flow run; returns ``{"ok", "message", "runs"...}``."""
    from flows.filing import filings_for_entities

    with exit_on_user_error(kwargs.get("workdir")):
        state = filings_for_entities(filing=filing, period=period, entities=entities, return_state=True,
                                     **kwargs)
        data: dict[str, Any] = state.result(raise_on_failure=False)  # type: ignore[assignment]
        if not isinstance(data, dict):  # the flow itself failed before any child ran
            raise data if isinstance(data, BaseException) else RuntimeError(state.message)
    return {**data, "ok": state.is_completed(), "message": state.message}


def print_entities(result: dict[str, Any], console: Console | None = None) -> None:
    console = console or Console()
    table = Table(title=f"{result['filing']} filing · {result['period']} · {len(result['runs'])} entities "
                        f"({result['launch']})")
    for name in ("entity", "state", "bundle", "note"):
        table.add_column(name, no_wrap=name != "note")
    for r in result["runs"]:
        note = r["message"] or ("incomplete: " + "; ".join(r["incomplete"]) if r.get("incomplete") else "")
        style = "green" if r["ok"] else "red"
        table.add_row(r["entity"], f"[{style}]{r['state']}[/{style}]", r["bundle"] or "—", note)
    console.print(table)


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
    if summary["filing"] != "monthly":  # the monthly tables have counts only
        table.add_row("timeliness (处理及时率)", _pct(h["timeliness_rate"]))
        table.add_row("satisfaction (客户满意度)", _pct(h["satisfaction_rate"]))
        per = h["per_100m_premium"]
        table.add_row("per CNY 100m premium (亿元保费投诉量)", "—" if per is None else f"{per:.2f}")
    table.add_row("due (报送截止日)", summary["due"] or f"unknown: {summary['due_error']}")
    if summary["accept_risk"]:
        table.add_row("accepted risk", summary["accept_risk"])
    table.add_row("status",
                  "[yellow]INCOMPLETE[/yellow] (see below)" if summary["incomplete"] else "complete")
    console.print(table)
    console.print(f"filing document:      {summary['document']}", soft_wrap=True, highlight=False)
    console.print(f"quarantine workbook:  {summary['quarantine_xlsx']}", soft_wrap=True, highlight=False)
    console.print(f"evidence bundle:      {summary['bundle']}"
                  + ("" if summary["signed"] else "  (unsigned: no signing key configured)"),
                  soft_wrap=True, highlight=False)
    console.print(f"                      {summary['bundle_location']}", soft_wrap=True, highlight=False)
    for reason in summary["incomplete"]:
        console.print(f"[yellow]incomplete:[/yellow] {reason}", soft_wrap=True, highlight=False)


def _command(filing: str) -> Any:
    def command(
        period: Annotated[str, typer.Option("--period", "--year", "--month",
                                            help="2026Q3 (quarterly), 2026 (annual) or 2026-10 (monthly)")],
        entity: Entity = None, as_of: AsOf = None, config: ConfigOpt = None, workdir: Workdir = Path("."),
        accept_risk: AcceptRisk = None, calendar: CalendarOpt = None, as_json: JsonOpt = False,
        all_entities: AllEntities = False, launch: Launch = "auto", max_parallel: MaxParallel = 2,
    ) -> None:
        from tasks.memory import tune  # imported when the command runs, like the CLI's other tasks imports

        tune()
        common: dict[str, Any] = {"as_of": as_of, "config": str(config) if config else None,
                                  "workdir": str(workdir), "trigger": "cli", "accept_risk": accept_risk,
                                  "calendar_files": [str(c) for c in calendar or []]}
        if all_entities or (entity is not None and (entity.strip().lower() == "all" or "," in entity)):
            result = run_entities(filing, period, "all" if all_entities else str(entity), launch=launch,
                                  max_parallel=max_parallel, **common)
            if as_json:
                print(json.dumps(result, ensure_ascii=False, indent=2, default=str))
            else:
                print_entities(result)
            if not result["ok"]:
                err.print(f"[red]error:[/red] {result['message']}", highlight=False, soft_wrap=True)
                raise typer.Exit(1)
            return
        summary = run_filing(filing, period, entity=entity, **common)
        if as_json:
            print(json.dumps(summary, ensure_ascii=False, indent=2))
        else:
            print_summary(summary)

    command.__doc__ = {"quarterly": "季度投诉处理工作情况报告 for one quarter (--period 2026Q3).",
                       "annual": "年度投诉处理工作自查报告 for one year (--year 2026).",
                       "monthly": "月度投诉通报（三张表, XLSX) for one month (--month 2026-10); "
                                  "filed and archived like the reports."}[filing]
    return command


run_app.command("quarterly")(_command("quarterly"))
run_app.command("annual")(_command("annual"))
run_app.command("monthly")(_command("monthly"))


def register(app: typer.Typer) -> None:
    app.add_typer(run_app, name="run")
