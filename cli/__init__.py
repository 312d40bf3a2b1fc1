"""The ``complaints`` command line: one Typer app; each area registers its commands from its module.

Area modules (``cli/<area>.py``) each expose ``register(app: typer.Typer) -> None``.
"""

from __future__ import annotations

import importlib
import os

import typer

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

AREAS = ("demo", "run", "deadlines", "figures", "validate", "report", "bundles", "sources", "status",
         "archive")


@app.callback()
def _root() -> None:
    """投诉报送 — complaint-filing pipeline: quarterly and annual filings with signed evidence bundles."""


def _register_all() -> None:
    for area in AREAS:
        name = f"{__name__}.{area}"
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name == name:  # area not built yet
                continue
            raise
        module.register(app)


_register_all()


def main() -> None:
    app()
