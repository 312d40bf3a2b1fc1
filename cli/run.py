"""``complaints run quarterly|annual``: run a filing flow end to end and print its summary."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any, cast

import typer
from rich.console import Console
from rich.table import Table

from cli.errors import fail, one_line_errors
from cli.options import AsOfOpt, CalendarOpt, ConfigOpt, JsonOpt, WorkdirOpt, parse_as_of
from complaints.errors import UserError
from complaints.filings import filing_kind, period_not_ended, preview_refusal
from complaints.periods import Period
from tasks.config_files import load_settings
from tasks.lookup import check_narrative, narrative_path
from tasks.memory import tune

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
AcceptRisk = Annotated[str | None, typer.Option("--accept-risk", help="go on despite blocking table-level "
                                                "failures; the reason is recorded in the filing")]
AcceptEmpty = Annotated[str | None, typer.Option(
    "--accept-empty", help="file even though the sources yield no complaint for the period (a filing of 0 "
    "cases); the reason is recorded in the bundle's run.json and the document's data-quality annex")]
By = Annotated[str | None, typer.Option(
    "--by", help="who runs it (recorded in run.json and bag-info as Run-By; default the OS user)")]


PreviewFlag = Annotated[bool, typer.Option(
    "--preview", help="for a period not yet ended: a preview marked 【预览稿，数据截至…】 on every page, "
    "archived apart from the drafts and never submitted")]


def run_filing(filing: str, period: str, **kwargs: Any) -> dict[str, Any]:
    """Run the filing flow and return its summary; user errors exit with one message (cli.errors)."""
    # deferred: would import Prefect (seconds) at every start-up
    from flows.filing import FILING_FLOWS

    fn, key = FILING_FLOWS[filing]
    with one_line_errors(kwargs.get("workdir")):
        return cast(dict[str, Any], fn(**{key: Period.parse(period).code}, **kwargs))
    raise AssertionError("unreachable")  # pragma: no cover - the context manager exits or re-raises


def run_entities(filing: str, period: str, entities: str, **kwargs: Any) -> dict[str, Any]:
    """``filings_for_entities``: every entity a child flow run; returns ``{"ok", "message", "runs"...}``."""
    # deferred: would import Prefect (seconds) at every start-up
    from flows.fanout import filings_for_entities

    with one_line_errors(kwargs.get("workdir")):
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


def check_arguments(filing: str, period: str, as_of: str | None, entity: str | None = None,
                    config: Path | None = None, calendar: list[Path] | None = None,
                    preview: bool = False, workdir: Path | None = None) -> None:
    """The period (its form, its years, its kind for ``filing``, whether it has ended or ``--preview`` is
    given), ``--as-of``, ``--calendar`` files, a single ``--entity`` and its narrative file as the flow will
    take them, refused here in one line (exit 2) before a flow run starts."""

    with one_line_errors():
        p = Period.parse(period)
        expected = filing_kind(filing).period_kind
        if p.kind != expected:
            raise UserError(f"the {filing} filing takes a {expected} period, not {period!r}")
        today = parse_as_of(as_of).date()
        if period_not_ended(p, today) and not preview:
            raise UserError(preview_refusal(filing, p, today))
        for path in calendar or []:
            if not path.is_file():
                why = "is a directory" if path.is_dir() else "file not found"
                raise UserError(f"--calendar {path}: {why}; give a calendar year file (YAML)")
        if entity is None or (entity.strip().lower() != "all" and "," not in entity):
            settings = load_settings(config).settings
            code = settings.entity(entity).code  # an unknown code names the known ones
            base = Path(workdir or ".") / settings.rendering.narrative_dir
            check_narrative(narrative_path(base, code, p.code))  # a YAML mistake: file and line, at once


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
    if summary.get("accept_empty"):
        table.add_row("accepted empty period", summary["accept_empty"])
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
        entity: Entity = None, as_of: AsOfOpt = None, config: ConfigOpt = None,
        workdir: WorkdirOpt = Path("."),
        accept_risk: AcceptRisk = None, calendar: CalendarOpt = None, as_json: JsonOpt = False,
        all_entities: AllEntities = False, launch: Launch = "auto", max_parallel: MaxParallel = 2,
        accept_empty: AcceptEmpty = None, by: By = None, preview: PreviewFlag = False,
    ) -> None:
        # one line, exit 2, before a flow
        check_arguments(filing, period, as_of, entity, config, calendar, preview, workdir)
        if by and by.strip():  # the flow's run context reads it (tasks.runs.current_person)
            import os

            from tasks.runs import BY_ENV

            os.environ[BY_ENV] = " ".join(by.split())
        tune()
        common: dict[str, Any] = {"as_of": as_of, "config": str(config) if config else None,
                                  "workdir": str(workdir), "trigger": "cli", "accept_risk": accept_risk,
                                  "calendar_files": [str(c) for c in calendar or []], "preview": preview}
        if all_entities or (entity is not None and (entity.strip().lower() == "all" or "," in entity)):
            if accept_empty:
                raise fail("--accept-empty acknowledges one entity's empty period: run that entity alone "
                           "(--entity CODE) with it")
            result = run_entities(filing, period, "all" if all_entities else str(entity), launch=launch,
                                  max_parallel=max_parallel, **common)
            if as_json:
                print(json.dumps(result, ensure_ascii=False, indent=2, default=str))
            else:
                print_entities(result)
            if not result["ok"]:
                raise fail(result["message"], 1)
            return
        summary = run_filing(filing, period, entity=entity, accept_empty=accept_empty, **common)
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
