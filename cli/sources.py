"""CLI: ``demo-data``, ``template spreadsheet`` and ``sources check``."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated, Any

import typer

from complaints.errors import ConfigError
from tasks.config_files import load_settings
from tasks.demo_data import create_demo_source
from tasks.sources import SpreadsheetSource, branch_files, load_sources, redact_url, write_template


def _fail(message: str) -> None:
    typer.echo(message, err=True)
    raise typer.Exit(code=2)


def _date(value: str | None, option: str) -> dt.date | None:
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        _fail(f"{option} {value!r} is not a date (YYYY-MM-DD)")
    return None


def demo_data(
    url: Annotated[
        str | None, typer.Option("--url", help="SQLAlchemy URL (default: sqlite:///./demo_source.sqlite)")
    ] = None,
    seed: Annotated[int, typer.Option("--seed", help="random seed (same seed, same data)")] = 7,
    complaints: Annotated[
        int, typer.Option("--complaints", min=50, help="complaints per year of span")
    ] = 20000,
    start: Annotated[
        str | None,
        typer.Option(
            "--start", help="first received date (default: a year before the last full quarter's start)"
        ),
    ] = None,
    end: Annotated[str | None, typer.Option("--end", help="last received date (default: yesterday)")] = None,
) -> None:
    """Create the demo call-centre database (drops and recreates its own tables)."""

    target = url or f"sqlite:///{Path.cwd().resolve() / 'demo_source.sqlite'}"
    try:
        counts = create_demo_source(
            target, seed=seed, complaints=complaints, start=_date(start, "--start"), end=_date(end, "--end")
        )
    except ValueError as exc:
        _fail(str(exc))
    except Exception as exc:  # noqa: BLE001 - database errors are user errors here (URL, server down)
        _fail(f"cannot write the demo database at {redact_url(target)}: {str(exc).splitlines()[0]}")
    typer.echo(f"demo source written to {redact_url(target)}")
    for table, n in counts.items():
        typer.echo(f"  {table}: {n} rows")


def template_spreadsheet(
    out: Annotated[Path, typer.Option("--out", help="where to write the XLSX intake template")],
) -> None:
    """Write the branch intake template (Chinese headers, code lists, instructions)."""

    write_template(out)
    typer.echo(f"template written to {out}")


def sources_check(
    config: Annotated[
        Path | None, typer.Option("--config", help="configuration file (default: config/complaints.yaml)")
    ] = None,
    workdir: Annotated[
        Path | None,
        typer.Option("--workdir", help="working directory file sources are relative to (default: .)"),
    ] = None,
) -> None:
    """Load and validate every source mapping and print what would be read."""

    try:
        loaded = load_settings(config)
        sources = load_sources(loaded)
    except ConfigError as exc:
        _fail(str(exc))
    for src in sources:
        if src.kind != "sql":
            _describe_files(src, workdir or Path.cwd())
            continue
        m = src.sql()
        try:
            url = redact_url(src.url(workdir))
        except ConfigError as exc:
            url = f"<not set: {exc}>"
        typer.echo(f"source {m.name} ({src.path})")
        typer.echo(f"  url: {url}  (from ${m.url_env} or default_url)")
        typer.echo(f"  time zone: {m.timezone}; chunk rows: {m.chunk_rows}; retries: {m.retries}")
        for label, tmap in (("ledger", m.ledger), ("exposure", m.exposure), ("events", m.events)):
            if tmap is None:
                continue
            where = tmap.table or "query"
            typer.echo(
                f"  {label} <- {where}: {len(tmap.columns)} columns mapped, defaults "
                f"{dict(tmap.defaults) or '-'}"
            )
            for name, cm in tmap.columns.items():
                src_desc = cm.column or cm.template or repr(cm.value)
                if cm.lookup:
                    src_desc = f"{m.ledger.lookups[cm.lookup].table}.{cm.column}"
                extra = f" ({len(cm.values)} value translations)" if cm.values else ""
                typer.echo(f"    {name:<20} <- {src_desc}{extra}")
    typer.echo(f"{len(sources)} source mapping(s) OK")


def _describe_files(src: Any, workdir: Path) -> None:
    """A file source: where its files are (relative paths against the current directory) and whether
    they are there now."""

    m = src.mapping
    typer.echo(f"source {m.name} ({src.path})")
    typer.echo(f"  kind: {m.kind}; unreadable files: {m.on_unreadable}")
    if isinstance(m, SpreadsheetSource):
        folder = src.resolve(m.path, workdir)
        if folder.is_dir():
            files = branch_files(folder, m.pattern)
            typer.echo(f"  folder: {folder} ({len(files)} file(s) matching {m.pattern})")
        else:
            typer.echo(f"  folder: {folder} (does not exist yet)")
        return
    for table, paths in m.files().items():
        for rel in paths:
            p = src.resolve(rel, workdir)
            state = f"{p.stat().st_size} bytes" if p.is_file() else "missing"
            typer.echo(f"  {table} <- {p} ({state})")


def register(app: typer.Typer) -> None:
    app.command("demo-data")(demo_data)
    template = typer.Typer(help="Write templates for manual intake.", no_args_is_help=True)
    template.command("spreadsheet")(template_spreadsheet)
    app.add_typer(template, name="template")
    sources = typer.Typer(help="Operational data sources.", no_args_is_help=True)
    sources.command("check")(sources_check)
    app.add_typer(sources, name="sources")
