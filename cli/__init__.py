"""The ``complaints`` command line: one Typer app; each area registers its commands from its module.

Area modules (``cli/<area>.py``) each expose ``register(app: typer.Typer) -> None``; adding a command
area is its module plus its name in the registration line below.
"""

from __future__ import annotations

import os

import typer

from cli import (
    archive,
    benchmark,
    bundles,
    deadlines,
    demo,
    figures,
    render,
    report,
    run,
    sources,
    status,
    submit,
    validate,
    weekly,
)
from cli.errors import BoundaryGroup

# Prefect's ephemeral server needs 20-30 s on a fresh PREFECT_HOME on a 2-core machine (default 20 s).
os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120")
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")

app = typer.Typer(
    name="complaints",
    cls=BoundaryGroup,
    help="投诉报送 — complaint-filing pipeline: quarterly and annual filings with signed evidence bundles.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


@app.callback()
def _root() -> None:
    """投诉报送 — complaint-filing pipeline: quarterly and annual filings with signed evidence bundles."""


for _area in (demo, run, render, deadlines, figures, benchmark, validate, report, bundles, sources, status,
              submit, archive, weekly):
    _area.register(app)


def main() -> None:
    app()
