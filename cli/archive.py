"""``complaints archive …``: the operator's checks of the configured archive store.

``archive check`` connects to the store and says, in one screen, whether bundles would be write-once
there (bucket, versioning, Object Lock, retention) and which integrity features the server honours.
Store code lives in ``tasks.archive.stores`` (imported lazily)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from complaints.errors import ConfigError
from tasks.archive.stores import LocalStore, S3Store, StoreError, check_s3_archive, open_store
from tasks.config_files import load_settings

archive_app = typer.Typer(help="The archive store: check it is write-once.", no_args_is_help=True)


def cmd_check(
    config: Annotated[Path | None, typer.Option("--config", help="configuration file (default "
                                                "$COMPLAINTS_CONFIG or config/complaints.yaml)")] = None,
    workdir: Annotated[Path, typer.Option("--workdir", help="where the local store's root is resolved",
                                          file_okay=False)] = Path("."),
) -> None:
    """Connect to the configured store and report whether the archive is write-once.

    Exit 0 when it is, 1 naming each reason when it is not, 2 when the store cannot be reached.
    """

    try:
        store = open_store(load_settings(config).settings.archive, workdir)
    except (ConfigError, StoreError, ValueError, OSError) as exc:
        typer.secho(f"error: {exc}", err=True, fg=typer.colors.RED)
        raise typer.Exit(2) from exc
    if isinstance(store, LocalStore):
        typer.echo(f"archive: {store.describe()}")
        typer.secho("NOT WRITE-ONCE: the local store only makes bundles read-only (its owner or root can "
                    "change them); configure archive.store: s3 with Object Lock", fg=typer.colors.RED)
        raise typer.Exit(1)
    assert isinstance(store, S3Store)
    try:
        report = check_s3_archive(store)
    except (ConfigError, StoreError, ValueError, OSError) as exc:
        typer.secho(f"error: {exc}", err=True, fg=typer.colors.RED)
        raise typer.Exit(2) from exc
    except Exception as exc:  # botocore: no credentials, endpoint unreachable, access denied ...
        typer.secho(f"error: {store.describe()}: {type(exc).__name__}: {exc}", err=True, fg=typer.colors.RED)
        raise typer.Exit(2) from exc
    typer.echo(f"archive: {report.where}")
    for line in report.lines:
        typer.echo(f"  {line}")
    for warning in report.warnings:
        typer.secho(f"  warning: {warning}", fg=typer.colors.YELLOW)
    if report.problems:
        for problem in report.problems:
            typer.secho(f"NOT WRITE-ONCE: {problem}", fg=typer.colors.RED)
        raise typer.Exit(1)
    typer.echo("OK: the archive is write-once")


archive_app.command("check")(cmd_check)


def register(app: typer.Typer) -> None:
    """Add ``complaints archive …``."""
    app.add_typer(archive_app, name="archive")
