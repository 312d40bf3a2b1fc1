"""``complaints figures``: compute the FIGURES.md figures of a ledger file for a period (with lineage)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import pandas as pd
import typer
from rich.console import Console
from rich.table import Table

from cli.options import parse_as_of
from complaints.calendar import UnknownCalendarYear
from complaints.errors import ConfigError
from complaints.figures import FiguresResult, compute_figures, flatten
from complaints.ledger import normalize
from complaints.periods import Period
from complaints.rules import RulebookError
from tasks.config_files import load_settings
from tasks.memory import tune


def _read(path: Path, table: str) -> pd.DataFrame:
    from tasks.sources import read_table

    try:
        raw = read_table(path, table)
    except FileNotFoundError as exc:
        raise ValueError(f"{path}: file not found") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise ValueError(f"{path}: cannot be read as a {table} table: {exc}") from exc
    return normalize(raw, table)


def run_figures(
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
) -> FiguresResult:
    """The work behind the command (importable for tests): read, normalise, compute."""
    from tasks.benchmarks import reference_for
    from tasks.calendar_files import load_calendar
    from tasks.rulebooks import load_rulebooks

    loaded = load_settings(config)
    settings = loaded.settings
    if entity is not None:
        settings.entity(entity)  # unknown codes are an error naming the known ones
    p = Period.parse(period)
    moment = parse_as_of(as_of)
    calendar = load_calendar(loaded.resolve(settings.calendar_dir), calendar_files or [])
    rulebooks = load_rulebooks(loaded.resolve(settings.rulebooks_dir))
    frame = _read(ledger, "ledger")
    exp = _read(exposure, "exposure") if exposure is not None else None
    ev = _read(events, "events") if events is not None else None
    reference = reference_for(loaded, bulletins)
    return compute_figures(
        frame,
        period=p,
        as_of=moment,
        calendar=calendar,
        rulebooks=rulebooks,
        exposure=exp,
        events=ev,
        entity=entity,
        head_office=settings.head_office.code,
        major=settings.major,
        department_targets=settings.department_targets,
        reference=reference,
    )


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
    ) -> None:
        """Compute every figure of a period from a ledger file (FIGURES.md), with lineage."""
        tune()
        err = Console(stderr=True)
        try:
            result = run_figures(
                ledger=ledger,
                period=period,
                exposure=exposure,
                events=events,
                entity=entity,
                as_of=as_of,
                calendar_files=calendar,
                config=config,
                bulletins=bulletins,
            )
        except UnknownCalendarYear as exc:
            err.print(f"error: {exc}", markup=False)
            raise typer.Exit(2) from None
        except (ConfigError, RulebookError, ValueError, KeyError, OSError) as exc:
            err.print(f"error: {exc}", markup=False)
            raise typer.Exit(2) from None
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
