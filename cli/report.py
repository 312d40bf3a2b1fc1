"""``complaints report …``: on-request filings (forwarded-case report, rectification report, monthly tables).

Loading (files → DataFrames) is kept apart from rendering so the integrator can swap the ledger file for
the configured source.
"""

from __future__ import annotations

import datetime as dt
import getpass
import json
from pathlib import Path
from typing import Annotated, Any

import pandas as pd
import typer

from cli.errors import exit_code, fail, is_user_error, user_message
from complaints.errors import UserError
from complaints.figures import month_rows
from complaints.ledger import normalize
from complaints.on_request import forwarded_items, rectification_item
from complaints.periods import Period
from complaints.settings import Entity, Settings
from complaints.times import TimeOutOfRange, now_local, parse_local
from tasks.calendar_files import load_calendar
from tasks.config_files import load_settings
from tasks.rulebooks import load_rulebooks
from tasks.sources import ExtractError, InputError, extract_period, read_table

report_app = typer.Typer(help="按需报告：转办投诉书面报告、整改情况报告、月度通报表。", no_args_is_help=True)

ConfigOpt = Annotated[Path | None, typer.Option("--config", help="configuration file")]
OutOpt = Annotated[Path, typer.Option("--out", help="output directory (or a file path)")]
OutOrDraftOpt = Annotated[
    Path | None,
    typer.Option("--out", help="output directory or file path (default: a versioned draft under "
                 "<workdir>/output/<filing>/<entity>/<key>/)"),
]
RunIdOpt = Annotated[str | None, typer.Option("--run-id", help="run id printed in the header")]
WhenOpt = Annotated[
    str | None, typer.Option("--generated-at", help="generation time, ISO (default: now, Asia/Shanghai)")
]
ArchiveOpt = Annotated[
    bool | None,
    typer.Option(
        "--archive/--no-archive",
        help="archive the draft as a signed bundle (a filing, tracked by status, submitted with "
        "`complaints submit`); default: yes unless --out is given (a look, not a filing)",
    ),
]
WorkdirOpt = Annotated[Path, typer.Option("--workdir", help="working directory (sources, archive, output)")]
ByOpt = Annotated[str | None, typer.Option("--by", help="who makes the draft (default: the OS user)")]
RoleOpt = Annotated[
    str | None, typer.Option("--role", help="your role; only rendering.unmask_roles see personal data")
]


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
    """The command's error boundary (cli.errors): a user's or the world's error is one line and its exit
    code (a user error 2, a failing store or disk 1), never a traceback."""
    try:
        action()
    except Exception as exc:
        if not is_user_error(exc):
            raise
        raise fail(user_message(exc), exit_code(exc)) from None


def _person(by: str | None) -> str:
    if by:
        return by
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


def _entity(settings: Settings, code: Any) -> Entity:
    """The configured entity ``code`` (the case's or the requirement's), the head office when not given."""
    if code is None or (not isinstance(code, str) and pd.isna(code)) or not str(code):
        return settings.head_office
    return settings.entity(str(code))


def _draft(loaded: Any, item: Any, entity: Entity, workdir: Path, when: dt.datetime, run_id: str | None,
           by: str | None) -> Any:
    from tasks.on_request import OnRequestRun  # deferred: pulls in pandas/pyarrow writers and the stores

    run = OnRequestRun(item, entity, loaded, workdir.resolve(), as_of=when, by=_person(by))
    if run_id:
        run.run_id = run_id
    return run


def _finish(run: Any, document: Path, incomplete: list[str]) -> None:
    from tasks.on_request import archive, publish

    publish(run, document)
    ref = archive(run, incomplete)
    due = run.item.due.isoformat() if run.item.due else f"unknown ({run.item.error})"
    typer.echo(f"draft bundle {ref.bundle_id} (due {due}; record its submission with "
               f"`complaints submit {ref.bundle_id}`)", err=True)


@report_app.command("forwarded")
def forwarded(
    case: Annotated[str, typer.Option("--case", help="complaint_id or the regulator's forward_ref")],
    ledger: Annotated[
        Path | None,
        typer.Option("--ledger", help="ledger file (CSV/XLSX/Parquet); default: the configured sources"),
    ] = None,
    events: Annotated[Path | None, typer.Option("--events", help="events file (optional)")] = None,
    workdir: WorkdirOpt = Path("."),
    out: OutOrDraftOpt = None,
    addressee: Annotated[
        str | None,
        typer.Option("--addressee", help="forwarding office (default: filings.forwarding_offices, else the "
                     "province the forward reference names, e.g. 粤… → 国家金融监督管理总局广东监管局)"),
    ] = None,
    archive: ArchiveOpt = None,
    config: ConfigOpt = None,
    run_id: RunIdOpt = None,
    generated_at: WhenOpt = None,
    role: RoleOpt = None,
    by: ByOpt = None,
) -> None:
    """转办投诉书面报告 for one regulator-forwarded complaint: a draft DOCX, archived as a signed bundle
    (due as the forwarding office requires)."""

    def action() -> None:
        # deferred: would import python-docx, docxtpl and matplotlib at every start-up
        from tasks.on_request import extract_case, stage_rules
        from tasks.render import due_date, render_forwarded_report
        from tasks.rulebooks import rulebook_files

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
        calendar = load_calendar(loaded.resolve(settings.calendar_dir))
        rulebooks = load_rulebooks(loaded.resolve(settings.rulebooks_dir))
        if not bool(row["regulator_forwarded"] if pd.notna(row["regulator_forwarded"]) else False):
            typer.echo(f"注意 note: {case} is not marked regulator_forwarded; rendering anyway.", err=True)
        decision_due = due_date(row, calendar, rulebooks)[0]
        item = forwarded_items([{**row.to_dict(), "regulator_forwarded": True, "decision_due": decision_due}],
                               settings.filings)[0]
        entity = _entity(settings, row.get("entity_code"))
        archived = archive if archive is not None else out is None
        run = _draft(loaded, item, entity, workdir, when, run_id, by) if archived else None
        ctx = _context(settings, period, run.run_id if run else run_id, when, role, entity_code=entity.code)
        if run is not None:
            extract_case(run, row, event_frame)
            stage_rules(run, rulebook_files(loaded.resolve(settings.rulebooks_dir)), calendar)
        target = out if out is not None else draft_path_for(run, f"转办投诉处理情况报告_{item.title}")
        path = render_forwarded_report(row, event_frame, ctx, target, calendar=calendar, rulebooks=rulebooks,
                                       addressee=addressee, offices=settings.filings.forwarding_offices)
        if run is not None:
            _finish(run, path, [])
        typer.echo(str(path))

    _run(action)


def draft_path_for(run: Any, stem: str) -> Path:
    from tasks.on_request import draft_path

    return draft_path(run, stem)


def _figures_file(path: Path | None, option: str) -> dict[str, Any] | None:
    if path is None:
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise UserError(f"{option} {path}: cannot read figures JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise UserError(f"{option} {path}: expected a figures object")
    return data


def _linked_items(settings: Any, requirement: dict[str, Any], entity: str, ledger: Path | None,
                  config: Path | None, workdir: Path, when: dt.datetime) -> list[dict[str, Any]]:
    """The configured rectification items answering this requirement (``requirement`` = its reference),
    measured as of ``when`` on ``ledger`` (default: the configured sources, this year and last)."""
    from complaints.rectification import measure_all

    items = [i for i in settings.rectification_items if i.requirement == str(requirement["reference"])]
    if not items:
        return []
    frame = load_ledger(ledger) if ledger is not None else load_from_source(
        config, Period("year", when.year, 1), workdir)[0]
    measured = measure_all(frame, items, as_of=when, entity=entity, head_office=settings.head_office.code)
    by_id = {i.id: i for i in items}
    return [{**by_id[m["id"]].model_dump(mode="json"), "measured": m} for m in measured]


@report_app.command("rectification")
def rectification(
    requirement: Annotated[
        Path, typer.Option("--requirement", help="requirement YAML (reference, received, items)")
    ],
    figures: Annotated[
        Path | None,
        typer.Option("--figures", help="figures JSON of a period after the requirement (the effect)"),
    ] = None,
    baseline: Annotated[
        Path | None,
        typer.Option("--baseline", help="figures JSON of the quarter before the requirement (the baseline)"),
    ] = None,
    entity: Annotated[
        str | None, typer.Option("--entity", help="reporting entity (default: the requirement's, else HO)")
    ] = None,
    ledger: Annotated[
        Path | None,
        typer.Option("--ledger", help="ledger file (CSV/XLSX/Parquet) the rectification items linked to the "
                     "requirement are measured on; default: the configured sources"),
    ] = None,
    workdir: WorkdirOpt = Path("."),
    out: OutOrDraftOpt = None,
    archive: ArchiveOpt = None,
    config: ConfigOpt = None,
    run_id: RunIdOpt = None,
    generated_at: WhenOpt = None,
    role: RoleOpt = None,
    by: ByOpt = None,
) -> None:
    """整改情况报告: due 30 days after the requirement was received; a draft DOCX archived as a signed
    bundle. Figures of a period before the requirement are shown as the baseline, never as the effect."""

    def action() -> None:
        # deferred: would import python-docx, docxtpl and matplotlib at every start-up
        from tasks.on_request import extract_requirement
        from tasks.render import load_requirement, render_rectification_report

        loaded = load_settings(config)
        settings = loaded.settings
        req = load_requirement(requirement)
        after, before = _figures_file(figures, "--figures"), _figures_file(baseline, "--baseline")
        when = _when(generated_at)
        who = _entity(settings, entity or req.get("entity"))
        try:
            item = rectification_item(req, who.code, settings.filings)
        except ValueError as exc:
            raise UserError(f"{requirement}: {exc}") from exc
        archived = archive if archive is not None else out is None
        run = _draft(loaded, item, who, workdir, when, run_id, by) if archived else None
        period = str((after or before or {}).get("period", ""))
        ctx = _context(settings, period, run.run_id if run else run_id, when, role, entity_code=who.code)
        linked = _linked_items(settings, req, who.code, ledger, config, workdir, when)
        if run is not None:
            extract_requirement(run, req, after, before, linked)
        target = out if out is not None else draft_path_for(run, f"整改情况报告_{item.title}")
        result = render_rectification_report(req, after, ctx, target, baseline=before,
                                             linked_items=linked)
        if run is not None:
            _finish(run, result.path, result.incomplete)
        for reason in result.incomplete:
            typer.echo(f"待补充 incomplete: {reason}", err=True)
        typer.echo(str(result.path))

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
