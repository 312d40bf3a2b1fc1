"""``complaints status``: every filing of a year with its due date and state; ``complaints serve``: the
deployments (filing flows per entity, the daily deadline watcher) served against a Prefect server.

A filing is filed only by a recorded submission (``complaints submit``); a draft (a run's bundle)
leaves it open, at risk or late. Only bundles and submissions whose marker and signed manifest are
well-formed and whose signed identity matches their id count (``tasks.archive.bundle.list_committed``);
damaged ones are named on stderr, never counted. Previews never count as drafts.

``status`` exit status: 0 printed (a due date that needs a calendar year nobody supplied is printed
with ``due`` null and its ``reason``, the note on stderr); 2 bad configuration or calendar file.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from cli.on_request_status import on_request_rows, on_request_table
from cli.rectification_status import rectification_rows, rectification_table
from complaints.errors import ConfigError
from complaints.times import now_local
from complaints.watch import Decision, decide, index_bundles, index_submissions
from tasks.archive.stores import StoreError, open_store, parse_bundle_id
from tasks.calendar_files import load_calendar
from tasks.config_files import load_settings
from tasks.on_request_status import submitted_days
from tasks.penalties_status import fines_rows, penalties_configured
from tasks.submission import read_archive

EXIT_CONFIG = 2
_STYLE = {"late": "bold red", "at_risk": "yellow", "open": "cyan", "filed": "green", "filed_late": "magenta",
          "not_open": "dim", "unknown": "red"}
_STATE_ZH = {"not_open": "未到窗口", "open": "待报送", "at_risk": "临近截止", "filed": "已报送",
             "late": "已逾期", "filed_late": "逾期报送", "unknown": "日历缺失"}

ConfigOpt = Annotated[Path | None, typer.Option(
    "--config", help="configuration file (default config/complaints.yaml or $COMPLAINTS_CONFIG)")]
WorkdirOpt = Annotated[Path, typer.Option("--workdir", help="working directory (its archive is read)")]


def _table(year: int, today: dt.date, decisions: list[Decision]) -> Table:
    table = Table(title=f"{year} 年报送状态 (filing status) · today {today}")
    for name in ("filing", "period", "entity", "due", "state", "submission · drafts"):
        wraps = name.startswith("submission")
        table.add_column(name, no_wrap=name in ("filing", "period", "entity", "due"), overflow="fold",
                         min_width=12 if wraps else None)
    for d in decisions:
        style = _STYLE.get(d.state, "")
        lines = []
        if d.submitted_at is not None:
            lines.append(f"submitted {d.submitted_at:%Y-%m-%d %H:%M}"
                         + (f" {d.reference}" if d.reference else ""))
        if d.bundles:
            lines.append(f"{d.bundles} draft(s), latest {d.bundle}")
        table.add_row(d.filing, d.period, d.entity, d.due.isoformat() if d.due else "—",
                      f"[{style}]{d.state} {_STATE_ZH[d.state]}[/{style}]", escape("\n".join(lines)))
    return table


def _fines_table(rows: list[dict[str, object]]) -> Table:
    table = Table(title="投诉罚单汇总 (fines summary, a sheet of the monthly publication; due the 1st)")
    for name in ("period", "due", "state", "monthly bundle"):
        table.add_column(name, no_wrap=name != "monthly bundle", overflow="fold")
    for r in rows:
        state = str(r["state"])
        style = _STYLE.get(state, "")
        table.add_row(str(r["period"]), str(r["due"]), f"[{style}]{state} {_STATE_ZH[state]}[/{style}]",
                      escape(str(r["bundle"] or "—")))
    return table


def status(
    year: Annotated[int | None, typer.Option("--year", help="year of the reporting periods (default: "
                                             "the year of --today)", min=1900, max=2199)] = None,
    today: Annotated[str | None, typer.Option("--today", help="judge as of this day, YYYY-MM-DD "
                                              "(default: today in Asia/Shanghai)")] = None,
    config: ConfigOpt = None,
    workdir: WorkdirOpt = Path("."),
    calendar: Annotated[list[Path] | None, typer.Option(
        "--calendar", help="a calendar year file (YAML) to add", dir_okay=False)] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print a JSON array instead of a table")] = False,
) -> None:
    """Every filing of the year for every configured entity: due date, state (filed only by a recorded
    submission), drafts, the submission and the latest draft bundle."""

    try:
        day = dt.date.fromisoformat(today) if today else now_local().date()
    except ValueError:
        typer.echo(f"error: --today {today!r} is not a date YYYY-MM-DD", err=True)
        raise typer.Exit(EXIT_CONFIG) from None
    try:
        loaded = load_settings(config)
        settings = loaded.settings
        work_calendar = load_calendar(loaded.resolve(settings.calendar_dir), calendar or [])
        store = open_store(settings.archive, workdir.resolve())
        listing = read_archive(store, settings.archive.signing.public_key)
        drafts = index_bundles(parse_bundle_id(b) for b in listing.drafts)
        decisions = decide(day, settings.entities, work_calendar, settings.filings, drafts,
                           [year or day.year], submitted=index_submissions(listing.submissions))
        on_request, on_request_problems = on_request_rows(loaded, workdir.resolve(), store, listing.drafts,
                                                          day, work_calendar,
                                                          submitted=submitted_days(listing.submissions))
        fines = (fines_rows(year or day.year, day, settings.head_office.code, drafts)
                 if penalties_configured(loaded) else [])
    except (ConfigError, StoreError, ValueError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(EXIT_CONFIG) from None

    overdue_items = rectification_rows(settings.rectification_items, day, settings.head_office.code)
    if as_json:
        typer.echo(json.dumps([*(d.to_dict() for d in decisions), *fines, *on_request, *overdue_items],
                              ensure_ascii=False, indent=2))
    else:
        Console().print(_table(year or day.year, day, decisions))
        if fines:
            Console().print(_fines_table(fines))
        if on_request:
            Console().print(on_request_table(on_request, day))
        if overdue_items:
            Console().print(rectification_table(overdue_items, day))
    for problem in on_request_problems:
        typer.echo(f"error: {problem}", err=True)
    for bundle_id, why in listing.damaged:  # never counted as filed
        typer.echo(f"damaged bundle (not counted as filed): {bundle_id}: {why}", err=True)
    if not listing.signatures_checked:
        typer.echo("note: bundle signatures checked for form only (no archive.signing.public_key "
                   "configured)", err=True)
    errors = {d.missing_year: d.error for d in decisions if d.error}
    for year_missing, error in errors.items():
        affected = sum(1 for d in decisions if d.missing_year == year_missing)
        typer.echo(f"note: {affected} filing(s) without a due date: {error}", err=True)


def serve(
    config: ConfigOpt = None,
    workdir: WorkdirOpt = Path("."),
    limit: Annotated[int | None, typer.Option("--limit", help="at most this many runs at once")] = None,
) -> None:
    """Serve the deployments (quarterly and annual filing per entity, the daily deadline watcher at
    schedules.watcher_time Asia/Shanghai) against the Prefect server at PREFECT_API_URL; Ctrl-C stops."""
    if not os.environ.get("PREFECT_API_URL"):
        # deferred: would import Prefect (seconds) at every start-up
        from prefect.settings import PREFECT_API_URL

        if not PREFECT_API_URL.value():
            typer.echo("error: `complaints serve` needs a Prefect server (schedules do not run on the "
                       "ephemeral one). Start one with\n"
                       "  prefect server start --host 127.0.0.1 --port 4200\n"
                       "and run\n  PREFECT_API_URL=http://127.0.0.1:4200/api complaints serve", err=True)
            raise typer.Exit(EXIT_CONFIG)
    # deferred: would import Prefect (seconds) at every start-up
    from flows.deployments import build_deployments

    try:
        loaded = load_settings(config)
        deployments = build_deployments(loaded, workdir.resolve())
    except (ConfigError, ValueError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(EXIT_CONFIG) from None
    # deferred: would import Prefect (seconds) at every start-up
    from prefect import serve as prefect_serve

    prefect_serve(*deployments, limit=limit)


def register(app: typer.Typer) -> None:
    app.command("status")(status)
    app.command("serve")(serve)
