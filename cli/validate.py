"""``complaints validate``: run the quality gate on ledger / exposure / events files.

Exit codes: 0 no blocking check failed (or only table-level ones the officer accepted with
``--accept-risk``), 1 a blocking check failed, 2 an input (or option) cannot be read at all.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from cli.errors import fail
from cli.options import parse_as_of
from complaints.periods import Period
from tasks.memory import tune
from tasks.sources import InputError, read_table


def _print_human(result: Any, out_paths: dict[str, Path] | None) -> None:

    console = Console()
    if not console.is_terminal:
        console = Console(width=160)
    failed = [r for r in result.results if not r.passed]
    table = Table(title=f"质量检查 quality gate — {len(result.results)} checks, {len(failed)} failed")
    for col in ("id", "severity", "level", "passed", "rows", "description", "failing ids (≤20)"):
        table.add_column(col)
    for r in failed:
        desc = f"{r.description_zh} / {r.description_en}" + (f" — {r.error}" if r.error else "")
        table.add_row(r.id, r.severity, r.level, "no", str(r.failing_rows), desc, ", ".join(r.failing_ids))
    if failed:
        console.print(table)
    else:
        console.print(f"All {len(result.results)} checks passed.")
    for t, rec in result.reconciliation.items():
        console.print(
            f"{t}: read {rec['read']} = accepted {rec['accepted']} + quarantined {rec['quarantined']}"
            + (f" {rec['by_check']}" if rec.get("by_check") else "")
        )
    for t, why in result.skipped.items():
        console.print(f"[yellow]{t}: {why}[/yellow]")
    if result.blocking_failures:
        ids = ", ".join(r.id for r in result.blocking_failures)
        if result.blocked:
            console.print(
                f"[red]BLOCKED: table-level blocking check(s) {ids} failed; the filing stops. Fix the "
                'data, or pass --accept-risk "reason" to go on (the reason is recorded).[/red]'
            )
        else:
            console.print(f"[yellow]Risk accepted for {ids}: {result.accept_risk!r}[/yellow]")
    if out_paths:
        console.print("Written: " + ", ".join(str(p) for p in out_paths.values()))


def validate(
    ledger: Annotated[Path, typer.Option("--ledger", help="ledger file (.csv UTF-8, .xlsx or .parquet)")],
    exposure: Annotated[Path | None, typer.Option("--exposure", help="exposure (denominators) file")] = None,
    events: Annotated[Path | None, typer.Option("--events", help="handling events file")] = None,
    period: Annotated[str | None, typer.Option("--period", help="2026Q3, 2026 or 2026-07")] = None,
    as_of: Annotated[
        str | None, typer.Option("--as-of", help="ISO time (default: now, Asia/Shanghai)")
    ] = None,
    entity: Annotated[
        list[str] | None, typer.Option("--entity", help="entity code in scope (repeatable)")
    ] = None,
    accept_risk: Annotated[
        str | None,
        typer.Option(
            "--accept-risk", help="go on despite table-level blocking failures; the reason is recorded"
        ),
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option(
            "--out",
            help="write validation.json, reconciliation.json, quarantine.parquet/.xlsx and data_docs/ here",
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print the results as JSON")] = False,
) -> None:
    """Run the quality gate (质量检查) and list every failed check with its failing rows."""

    tune()
    if out is not None and out.exists() and not out.is_dir():
        raise fail(f"--out {out}: is a file; give a directory (it is created if missing)")
    try:
        p = Period.parse(period) if period else None
    except ValueError as exc:
        raise fail(f"--period: {exc}.") from None
    moment = parse_as_of(as_of)
    try:
        ledger_raw = read_table(ledger, "ledger")
        exposure_raw = read_table(exposure, "exposure") if exposure else None
        events_raw = read_table(events, "events") if events else None
    except InputError as exc:
        raise fail(str(exc)) from None

    # deferred: would import Great Expectations (seconds) at every start-up
    from tasks.quality import SuiteError, run_quality_gate, write_quality_outputs

    try:
        result = run_quality_gate(
            ledger_raw,
            exposure_raw,
            events_raw,
            period=p,
            as_of=moment,
            entities_in_scope=list(entity) if entity else None,
            accept_risk=accept_risk,
        )
    except SuiteError as exc:
        raise fail(f"the quality-gate suites cannot be loaded: {exc}") from None
    paths = write_quality_outputs(result, out) if out else None
    if as_json:
        payload = {
            **result.summary(),
            "reconciliation": result.reconciliation,
            "results": [r.to_dict() for r in result.results],
            "outputs": {k: str(v) for k, v in (paths or {}).items()},
        }
        typer.echo(json.dumps(payload, ensure_ascii=False, indent=2, default=str))
    else:
        _print_human(result, paths)
    raise typer.Exit(result.exit_code)


def register(app: typer.Typer) -> None:
    app.command("validate")(validate)
