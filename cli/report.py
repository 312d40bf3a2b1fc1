"""``complaints report …``: on-request filings (forwarded-case report, rectification report, monthly tables).

Loading (files → DataFrames) is kept apart from rendering so the integrator can swap the ledger file for
the configured source.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Annotated, Any

import pandas as pd
import typer

from complaints.errors import ConfigError
from complaints.figures import month_rows
from complaints.ledger import normalize
from complaints.periods import Period
from complaints.settings import Settings
from complaints.times import TimeOutOfRange, now_local, parse_local
from tasks.calendar_files import load_calendar
from tasks.config_files import load_settings
from tasks.rulebooks import load_rulebooks
from tasks.sources import ExtractError, InputError, extract_period, read_table

report_app = typer.Typer(help="按需报告：转办投诉书面报告、整改情况报告、月度通报表。", no_args_is_help=True)

ConfigOpt = Annotated[Path | None, typer.Option("--config", help="configuration file")]
OutOpt = Annotated[Path, typer.Option("--out", help="output directory (or a file path)")]
RunIdOpt = Annotated[str | None, typer.Option("--run-id", help="run id printed in the header")]
WhenOpt = Annotated[
    str | None, typer.Option("--generated-at", help="generation time, ISO (default: now, Asia/Shanghai)")
]
RoleOpt = Annotated[
    str | None, typer.Option("--role", help="your role; only rendering.unmask_roles see personal data")
]


class UserError(Exception):
    """A problem the user can fix; printed as one message without a traceback."""


def _fail(message: str) -> typer.Exit:
    typer.echo(f"错误 error: {message}", err=True)
    return typer.Exit(code=2)


def _when(text: str | None) -> dt.datetime:

    if text is None:
        return now_local()

    try:
        return parse_local(text)
    except TimeOutOfRange as exc:
        raise UserError(f"--generated-at {exc}") from exc
    except ValueError as exc:
        raise UserError(f"--generated-at {text!r} is not an ISO date-time (e.g. 2026-10-10T09:30)") from exc


def load_ledger(path: Path, table: str = "ledger") -> pd.DataFrame:
    """The loading step: read a CSV/XLSX/Parquet file and normalise it to the canonical schema."""

    try:
        return normalize(read_table(path, table), table)
    except FileNotFoundError as exc:
        raise UserError(f"{path}: file not found") from exc
    except InputError as exc:
        raise UserError(str(exc)) from exc


def load_from_source(config: Path | None, period: Period, workdir: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The loading step without --ledger: ledger and events of ``period`` (and the four periods before it,
    plus cases still open) from the configured operational sources, normalised."""

    try:
        data = extract_period(load_settings(config), period, now_local(), workdir=workdir, progress=False)
    except ExtractError as exc:
        raise UserError(str(exc)) from exc
    return normalize(data.ledger), normalize(data.events, "events")


def find_case(ledger: pd.DataFrame, case_id: str) -> pd.Series:
    """The ledger row whose complaint_id or forward_ref equals ``case_id``."""
    hit = ledger[(ledger["complaint_id"] == case_id) | (ledger["forward_ref"] == case_id)]
    if hit.empty:
        raise UserError(f"no complaint with complaint_id or forward_ref {case_id!r} in the ledger")
    if len(hit) > 1:
        raise UserError(
            f"{case_id!r} matches {len(hit)} rows ({', '.join(hit['complaint_id'])}); give the complaint_id"
        )
    return hit.iloc[0]


def _context(
    settings: Settings, period: str, run_id: str | None, when: dt.datetime, role: str | None, **extra: Any
) -> Any:
    # deferred: would import python-docx, docxtpl and matplotlib at every start-up
    from tasks.render import context_from_settings

    return context_from_settings(
        settings,
        period=period,
        run_id=run_id or f"adhoc-{when:%Y%m%d-%H%M%S}",
        generated_at=when,
        role=role,
        **extra,
    )


def _settings(config: Path | None) -> Settings:
    return load_settings(config).settings


def _run(action: Any) -> None:
    # deferred: would import python-docx, docxtpl and matplotlib at every start-up
    from tasks.render import FiguresError, NarrativeError, RequirementError

    try:
        action()
    except (UserError, ConfigError, RequirementError, FiguresError, NarrativeError) as exc:
        raise _fail(str(exc)) from None


@report_app.command("forwarded")
def forwarded(
    case: Annotated[str, typer.Option("--case", help="complaint_id or the regulator's forward_ref")],
    ledger: Annotated[
        Path | None,
        typer.Option("--ledger", help="ledger file (CSV/XLSX/Parquet); default: the configured sources"),
    ] = None,
    events: Annotated[Path | None, typer.Option("--events", help="events file (optional)")] = None,
    workdir: Annotated[Path, typer.Option("--workdir", help="working directory of the sources")] = Path("."),
    out: OutOpt = Path("reports"),
    addressee: Annotated[
        str | None, typer.Option("--addressee", help="forwarding office, e.g. …广东监管局")
    ] = None,
    config: ConfigOpt = None,
    run_id: RunIdOpt = None,
    generated_at: WhenOpt = None,
    role: RoleOpt = None,
) -> None:
    """转办投诉书面报告: one DOCX for a regulator-forwarded complaint."""

    def action() -> None:
        # deferred: would import python-docx, docxtpl and matplotlib at every start-up
        from tasks.render import render_forwarded_report

        loaded = load_settings(config)
        settings = loaded.settings
        if ledger is None:
            today = now_local().date()
            # this year and last year, plus cases still open
            frame, event_frame = load_from_source(config, Period("year", today.year, 1), workdir)
        else:
            frame = load_ledger(ledger)
            event_frame = load_ledger(events, "events") if events else None
        row = find_case(frame, case)
        when = _when(generated_at)
        received = pd.Timestamp(row["received_at"])
        period = (
            Period("quarter", received.year, (received.month - 1) // 3 + 1).code if pd.notna(received) else ""
        )
        extra = {"addressee": addressee} if addressee else {}
        ctx = _context(settings, period, run_id, when, role, **extra)
        calendar = load_calendar(loaded.resolve(settings.calendar_dir))
        rulebooks = load_rulebooks(loaded.resolve(settings.rulebooks_dir))
        if not bool(row["regulator_forwarded"] if pd.notna(row["regulator_forwarded"]) else False):
            typer.echo(f"注意 note: {case} is not marked regulator_forwarded; rendering anyway.", err=True)
        path = render_forwarded_report(row, event_frame, ctx, out, calendar=calendar, rulebooks=rulebooks)
        typer.echo(str(path))

    _run(action)


@report_app.command("rectification")
def rectification(
    requirement: Annotated[
        Path, typer.Option("--requirement", help="requirement YAML (reference, received, items)")
    ],
    figures: Annotated[
        Path | None, typer.Option("--figures", help="figures JSON that show the effect")
    ] = None,
    out: OutOpt = Path("reports"),
    config: ConfigOpt = None,
    run_id: RunIdOpt = None,
    generated_at: WhenOpt = None,
    role: RoleOpt = None,
) -> None:
    """整改情况报告: due 30 days after the requirement was received."""

    def action() -> None:
        # deferred: would import python-docx, docxtpl and matplotlib at every start-up
        from tasks.render import load_requirement, render_rectification_report

        settings = _settings(config)
        req = load_requirement(requirement)
        figs = None
        if figures is not None:
            try:
                figs = json.loads(figures.read_text(encoding="utf-8"))
            except (OSError, ValueError) as exc:
                raise UserError(f"{figures}: cannot read figures JSON: {exc}") from exc
        when = _when(generated_at)
        ctx = _context(settings, str(figs.get("period", "")) if figs else "", run_id, when, role)
        result = render_rectification_report(req, figs, ctx, out)
        typer.echo(str(result.path))
        for reason in result.incomplete:
            typer.echo(f"待补充 incomplete: {reason}", err=True)

    _run(action)


@report_app.command("monthly")
def monthly(
    month: Annotated[str, typer.Option("--month", help="YYYY-MM")],
    ledger: Annotated[
        Path | None,
        typer.Option("--ledger", help="ledger file (CSV/XLSX/Parquet); default: the configured sources"),
    ] = None,
    workdir: Annotated[Path, typer.Option("--workdir", help="working directory of the sources")] = Path("."),
    out: OutOpt = Path("reports"),
    config: ConfigOpt = None,
    run_id: RunIdOpt = None,
    generated_at: WhenOpt = None,
    role: RoleOpt = None,
) -> None:
    """月度通报表 (XLSX): 投诉处理汇总表, 各地投诉案件分类汇总表, 案件处理明细表."""

    def action() -> None:
        # deferred: would import python-docx, docxtpl and matplotlib at every start-up
        from tasks.render import write_monthly_workbook

        try:
            period = Period.parse(month)
        except ValueError as exc:
            raise UserError(str(exc)) from exc
        if period.kind != "month":
            raise UserError(f"--month {month!r}: give a month like 2026-07")
        settings = _settings(config)
        frame = load_ledger(ledger) if ledger is not None else load_from_source(config, period, workdir)[0]
        in_month = month_rows(frame, period)
        ctx = _context(settings, period.code, run_id, _when(generated_at), role)
        path = write_monthly_workbook(in_month, period.code, ctx, out)
        typer.echo(f"{path} ({len(in_month)} records)")

    _run(action)


def register(app: typer.Typer) -> None:
    app.add_typer(report_app, name="report")
