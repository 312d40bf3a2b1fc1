"""``complaints figures``: compute the FIGURES.md figures of a ledger file for a period (with lineage)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import pandas as pd
import typer
from rich.console import Console
from rich.table import Table

from cli.options import parse_as_of
from complaints.calendar import UnknownCalendarYear
from complaints.errors import ConfigError, Refused
from complaints.figures import FiguresResult, compute_figures, flatten
from complaints.periods import Period
from complaints.rules import RulebookError
from tasks.benchmarks import reference_for
from tasks.calendar_files import load_calendar
from tasks.config_files import load_settings
from tasks.memory import tune
from tasks.rulebooks import load_rulebooks
from tasks.sources import read_table

if TYPE_CHECKING:
    from tasks.quality import GateResult


def _read(path: Path, table: str) -> pd.DataFrame:
    """The table as read (the quality gate parses and normalises it)."""

    try:
        return read_table(path, table)
    except FileNotFoundError as exc:
        raise ValueError(f"{path}: file not found") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise ValueError(f"{path}: cannot be read as a {table} table: {exc}") from exc


def gated_figures(
    *,
    ledger: Path,
    period: str,
    exposure: Path | None = None,
    events: Path | None = None,
    entity: str | None = None,
    as_of: str | None = None,
    calendar_files: list[Path] | None = None,
    config: Path | None = None,
    bulletins: Path | None = None,
    accept_risk: str | None = None,
) -> tuple[FiguresResult, GateResult]:
    """The work behind the command (importable for tests): read, run the quality gate as the filing run
    does, compute over the accepted rows. ``result.figures["rows"]`` says rows read / accepted /
    quarantined; a table-level blocking failure (unless ``accept_risk``) is :class:`Refused`. Returns the
    figures and the gate's result (its quarantine and reconciliation)."""
    # deferred: would import Great Expectations (seconds) at every start-up
    from tasks.quality import run_quality_gate

    loaded = load_settings(config)
    settings = loaded.settings
    if entity is not None:
        settings.entity(entity)  # unknown codes are an error naming the known ones
    p = Period.parse(period)
    moment = parse_as_of(as_of)
    calendar = load_calendar(loaded.resolve(settings.calendar_dir), calendar_files or [])
    rulebooks = load_rulebooks(loaded.resolve(settings.rulebooks_dir))
    gate = run_quality_gate(
        _read(ledger, "ledger"),
        _read(exposure, "exposure") if exposure is not None else None,
        _read(events, "events") if events is not None else None,
        period=p,
        as_of=moment,
        accept_risk=accept_risk,
    )
    if gate.blocked:
        failures = "; ".join(f"{r.id} {r.description_en}" for r in gate.blocking_failures)
        raise Refused(
            f"the quality gate refuses the figures of {p.code}: {failures}. `complaints validate` lists "
            f"the failing rows; fix the data, or pass --accept-risk \"reason\" as the filing run would."
        )
    rec = gate.reconciliation["ledger"]
    supplied = {t: gate.reconciliation[t].get("supplied", True) for t in ("exposure", "events")}
    result = compute_figures(
        gate.ledger,
        period=p,
        as_of=moment,
        calendar=calendar,
        rulebooks=rulebooks,
        exposure=gate.exposure if supplied["exposure"] else None,
        events=gate.events if supplied["events"] else None,
        entity=entity,
        head_office=settings.head_office.code,
        major=settings.major,
        department_targets=settings.department_targets,
        rows={"read": rec["read"], "accepted": rec["accepted"], "quarantined": rec["quarantined"]},
        reference=reference_for(loaded, bulletins),
    )
    return result, gate


def quarantine_note(gate: GateResult) -> str | None:
    """One line per table with quarantined rows: how many, by which checks (None when none)."""
    parts = []
    for table, rec in gate.reconciliation.items():
        if rec["quarantined"]:
            checks = ", ".join(f"{cid} ×{n}" for cid, n in rec.get("by_check", {}).items())
            parts.append(f"{table}: {rec['quarantined']} of {rec['read']} rows quarantined ({checks})")
    if not parts:
        return None
    return ("left out of the figures, as the filing run leaves them out — " + "; ".join(parts)
            + ". `complaints validate` lists them.")


def _fmt(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:.4f}".rstrip("0").rstrip(".") if value != int(value) else f"{value:.0f}"
    return str(value)


def _print_tables(result: FiguresResult, console: Console) -> None:
    figs = result.figures
    console.print(
        f"[bold]Figures {figs['period']}[/bold]  entity: {figs['entity'] or 'all'}  as of {figs['as_of']}"
    )
    rows = figs.get("rows") or {}
    if rows:
        console.print(f"ledger rows read / accepted / quarantined: {rows['read']} / {rows['accepted']} / "
                      f"{rows['quarantined']}")
    console.print("rule sets: " + ", ".join(f"{r['id']} ({r['version']})" for r in figs["rule_sets"]))
    sections: dict[str, Table] = {}
    for key, value in flatten(
        {k: v for k, v in figs.items() if k not in ("period", "entity", "as_of", "rule_sets", "notes")}
    ):
        section = key.split(".")[0]
        if section not in sections:
            sections[section] = Table(title=section, show_header=False, title_justify="left")
            sections[section].add_column("figure")
            sections[section].add_column("value", justify="right")
        sections[section].add_row(key[len(section) + 1 :] or section, _fmt(value))
    for table in sections.values():
        console.print(table)
    if figs["notes"]:
        notes = Table(title="why some figures are empty", show_header=False, title_justify="left")
        for key, why in figs["notes"].items():
            notes.add_row(key, why)
        console.print(notes)


def register(app: typer.Typer) -> None:
    @app.command("figures")
    def figures(
        ledger: Annotated[Path, typer.Option("--ledger", help="ledger file (CSV, XLSX or Parquet)")],
        period: Annotated[str, typer.Option("--period", help="a quarter (2026Q3) or a year (2026)")],
        exposure: Annotated[
            Path | None, typer.Option("--exposure", help="exposure table (denominators)")
        ] = None,
        events: Annotated[Path | None, typer.Option("--events", help="events table")] = None,
        entity: Annotated[
            str | None, typer.Option("--entity", help="entity code (head office = all)")
        ] = None,
        as_of: Annotated[
            str | None, typer.Option("--as-of", help="ISO time; default now (Asia/Shanghai)")
        ] = None,
        calendar: Annotated[
            list[Path] | None, typer.Option("--calendar", help="extra calendar year file")
        ] = None,
        config: Annotated[Path | None, typer.Option("--config", help="configuration file")] = None,
        bulletins: Annotated[
            Path | None, typer.Option("--bulletins", help="bulletin reference data (default: configured)")
        ] = None,
        as_json: Annotated[bool, typer.Option("--json", help="print one JSON object")] = False,
        lineage: Annotated[
            str | None, typer.Option("--lineage", help="print the complaint ids behind KEY")
        ] = None,
        accept_risk: Annotated[
            str | None,
            typer.Option("--accept-risk", help="go on despite table-level blocking failures of the "
                         "quality gate (as `complaints run` does)"),
        ] = None,
    ) -> None:
        """Compute every figure of a period from a ledger file (FIGURES.md), with lineage.

        The quality gate runs first, as in the filing run: rows failing a blocking row-level check are
        quarantined, left out and counted (rows read / accepted / quarantined); a table-level blocking
        failure refuses (exit 1) unless --accept-risk is given."""
        tune()
        err = Console(stderr=True)
        try:
            result, gate = gated_figures(
                ledger=ledger,
                period=period,
                exposure=exposure,
                events=events,
                entity=entity,
                as_of=as_of,
                calendar_files=calendar,
                config=config,
                bulletins=bulletins,
                accept_risk=accept_risk,
            )
        except UnknownCalendarYear as exc:
            err.print(f"error: {exc}", markup=False)
            raise typer.Exit(2) from None
        except (ConfigError, RulebookError, ValueError, KeyError, OSError) as exc:
            err.print(f"error: {exc}", markup=False)
            raise typer.Exit(2) from None
        note = quarantine_note(gate)
        if note is not None:
            err.print(f"note: {note}", markup=False, highlight=False, soft_wrap=True)
        if lineage is not None:
            known = set(result.lineage["figure"].astype(str).unique())
            ids = result.ids(lineage)
            if not ids and lineage not in known and lineage not in dict(flatten(result.figures)):
                err.print(
                    f"error: {lineage!r} is not a figure key (try counts.cases, timeliness.late)",
                    markup=False,
                )
                raise typer.Exit(2)
            if as_json:
                typer.echo(json.dumps({"figure": lineage, "complaint_ids": ids}, ensure_ascii=False))
            else:
                for cid in ids:
                    typer.echo(cid)
            return
        if as_json:
            typer.echo(json.dumps(result.figures, ensure_ascii=False))
            return
        _print_tables(result, Console())
