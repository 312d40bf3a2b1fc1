"""``complaints weekly``: the weekly overdue publication (周公示) of a ledger file, as ``complaints
figures`` does; ``complaints run weekly``: its flow (extract → gate → compute → XLSX → signed bundle,
escalated units notified)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, cast

import typer
from rich.console import Console
from rich.table import Table

from cli.errors import fail, one_line_errors
from cli.figures import _read, quarantine_note
from cli.options import AsOfOpt, CalendarOpt, ConfigOpt, JsonOpt, WorkdirOpt, parse_as_of
from complaints.errors import Refused, UserError
from complaints.ledger import DEPARTMENTS
from complaints.periods import Period
from complaints.weekly import UNASSIGNED, WeeklyResult, weekly_overdue
from tasks.calendar_files import load_calendar
from tasks.config_files import load_settings
from tasks.memory import tune
from tasks.rulebooks import load_rulebooks

if TYPE_CHECKING:
    from tasks.quality import GateResult

Week = Annotated[str, typer.Option("--week", help="ISO week, e.g. 2026-W40 (Monday to Sunday)")]
Entity = Annotated[str | None, typer.Option("--entity", help="entity code (default: the head office = all)")]
AcceptRisk = Annotated[str | None, typer.Option("--accept-risk", help="go on despite table-level blocking "
                                                "failures of the quality gate; the reason is recorded")]


def _week(text: str) -> Period:
    p = Period.parse(text)
    if p.kind != "week":
        raise UserError(f"--week {text!r} is not an ISO week such as 2026-W40")
    return p


def gated_weekly(*, ledger: Path, week: str, entity: str | None = None, as_of: str | None = None,
                 calendar_files: list[Path] | None = None, config: Path | None = None,
                 accept_risk: str | None = None) -> tuple[WeeklyResult, GateResult]:
    """Read the ledger file, run the quality gate as the flow does, compute the week over the accepted
    rows (importable for tests)."""
    from tasks.quality import run_quality_gate  # deferred: Great Expectations takes seconds to import

    loaded = load_settings(config)
    settings = loaded.settings
    if entity is not None:
        settings.entity(entity)  # unknown codes are an error naming the known ones
    w = _week(week)
    moment = parse_as_of(as_of)
    calendar = load_calendar(loaded.resolve(settings.calendar_dir), calendar_files or [])
    rulebooks = load_rulebooks(loaded.resolve(settings.rulebooks_dir))
    gate = run_quality_gate(_read(ledger, "ledger"), None, None, period=w, as_of=moment,
                            accept_risk=accept_risk)
    if gate.blocked:
        failures = "; ".join(f"{r.id} {r.description_en}" for r in gate.blocking_failures)
        raise Refused(f"the quality gate refuses the week {w.code}: {failures}. `complaints validate` lists "
                      f"the failing rows; fix the data, or pass --accept-risk \"reason\".")
    rec = gate.reconciliation["ledger"]
    result = weekly_overdue(
        gate.ledger, week=w, as_of=moment, calendar=calendar, rulebooks=rulebooks, entity=entity,
        head_office=settings.head_office.code, threshold=settings.publications.weekly_escalation_share,
        rows={"read": rec["read"], "accepted": rec["accepted"], "quarantined": rec["quarantined"]})
    return result, gate


def print_weekly(figures: dict[str, Any], names: dict[str, str], console: Console) -> None:
    console.print(f"[bold]周公示 {figures['week']}[/bold] ({figures['first_day']} … {figures['last_day']}), "
                  f"as of {figures['as_of']}; published by {figures['publication_due'] or '—'}",
                  highlight=False)
    c = figures["counts"]
    console.print(f"open {c['open']}, open overdue {c['open_overdue']}, decided late during the week "
                  f"{c['decided_late_in_week']}; {c['overdue']} overdue case(s)", highlight=False)
    listed = Table(title="overdue cases", title_justify="left")
    for col in ("complaint", "branch", "department", "due", "days past due", "decided"):
        listed.add_column(col, justify="right" if col == "days past due" else "left")
    for o in figures["overdue"]:
        listed.add_row(o["complaint_id"], names.get(o["branch"], o["branch"]),
                       DEPARTMENTS.get(o["department"] or "", o["department"] or "—"), o["due"],
                       str(o["days_past_due"]), "yes" if o["decided"] else "no")
    console.print(listed)
    for kind in ("branch", "department"):
        table = Table(title=f"by {kind} (escalated: share > {figures['threshold']:.0%})",
                      title_justify="left")
        for col in (kind, "open", "open overdue", "share", "escalated"):
            table.add_column(col, justify="left" if col in (kind, "escalated") else "right")
        for code, u in figures["units"][kind].items():
            label = names.get(code, code) if kind == "branch" else (
                "未填写" if code == UNASSIGNED else DEPARTMENTS.get(code, code))
            table.add_row(label, str(u["open"]), str(u["open_overdue"]), f"{u['share']:.1%}",
                          "[red]督办[/red]" if u["escalated"] else "")
        console.print(table)


def print_run(summary: dict[str, Any], console: Console) -> None:
    console.print(f"weekly publication {summary['period']} · {summary['entity']}: {summary['overdue']} "
                  f"overdue, {len(summary['escalated'])} unit(s) escalated; "
                  f"due {summary['due'] or summary['due_error']}", highlight=False)
    console.print(f"workbook:        {summary['document']}", soft_wrap=True, highlight=False)
    console.print(f"evidence bundle: {summary['bundle']}" + ("" if summary["signed"] else "  (unsigned)"),
                  soft_wrap=True, highlight=False)
    for note in summary["notified"]:
        console.print(f"notified: {note}", soft_wrap=True, highlight=False)
    for reason in summary["incomplete"]:
        console.print(f"[yellow]incomplete:[/yellow] {reason}", soft_wrap=True, highlight=False)


def register(app: typer.Typer) -> None:
    from cli.run import run_app

    @app.command("weekly")
    def weekly(
        ledger: Annotated[Path, typer.Option("--ledger", help="ledger file (CSV, XLSX or Parquet)")],
        week: Week,
        entity: Entity = None,
        as_of: AsOfOpt = None,
        calendar: CalendarOpt = None,
        config: ConfigOpt = None,
        as_json: JsonOpt = False,
        accept_risk: AcceptRisk = None,
    ) -> None:
        """周公示 of a ledger file: the cases overdue at the end of the ISO week and, per branch and
        responsible department, open / open overdue / share / escalated (FIGURES.md)."""
        tune()
        with one_line_errors():
            result, gate = gated_weekly(ledger=ledger, week=week, entity=entity, as_of=as_of,
                                        calendar_files=calendar, config=config, accept_risk=accept_risk)
            names = {e.code: e.name for e in load_settings(config).settings.entities}
        note = quarantine_note(gate)
        if note is not None:
            Console(stderr=True).print(f"note: {note}", markup=False, highlight=False, soft_wrap=True)
        if as_json:
            typer.echo(json.dumps(result.figures, ensure_ascii=False))
            return
        print_weekly(result.figures, names, Console())

    @run_app.command("weekly")
    def run_weekly(
        week: Week,
        entity: Entity = None,
        as_of: AsOfOpt = None,
        config: ConfigOpt = None,
        workdir: WorkdirOpt = Path("."),
        calendar: CalendarOpt = None,
        accept_risk: AcceptRisk = None,
        accept_empty: Annotated[str | None, typer.Option(
            "--accept-empty", help="publish although no complaint was received in the week")] = None,
        as_json: JsonOpt = False,
    ) -> None:
        """超时限投诉案件周公示 for one ISO week (--week 2026-W40): XLSX for e-mail, JSON in a signed
        bundle, escalated units sent to the notifier."""
        from cli.run import check_arguments

        check_arguments("weekly", week, as_of, entity, config, calendar)
        tune()
        from flows.weekly import weekly_publication  # deferred: would import Prefect at every start-up

        with one_line_errors(str(workdir)):
            summary = cast(dict[str, Any], weekly_publication(
                week=week, entity=entity, as_of=as_of, config=str(config) if config else None,
                workdir=str(workdir), trigger="cli", accept_risk=accept_risk,
                calendar_files=[str(c) for c in calendar or []], accept_empty=accept_empty))
        if as_json:
            print(json.dumps(summary, ensure_ascii=False, indent=2))
        else:
            print_run(summary, Console())
        if summary.get("notify_errors"):
            raise fail("the escalation notice could not be delivered: " + "; ".join(summary["notify_errors"]),
                       1)
