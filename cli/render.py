"""``complaints render BUNDLE_ID``: a new draft from an archived bundle, with the current templates and
narratives; no extraction, no quality gate (``flows.filing.render_draft``)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any, cast

import typer

from cli.errors import one_line_errors
from cli.options import ConfigOpt, JsonOpt, WorkdirOpt
from cli.run import print_summary
from tasks.archive.stores import parse_bundle_id
from tasks.memory import tune

BundleArg = Annotated[str, typer.Argument(
    help="the bundle to re-render, e.g. quarterly/HO/2026Q3/20261121T210405Z-1a2b3c4d "
    "(`complaints bundles list`)")]
OutputOpt = Annotated[Path | None, typer.Option(
    "--output", help="folder for the new draft (default: output/<period>/<entity> in the working directory)",
    file_okay=False)]


def render(bundle_id: BundleArg, config: ConfigOpt = None, workdir: WorkdirOpt = Path("."),
           output: OutputOpt = None, as_json: JsonOpt = False) -> None:
    """重新生成报告草稿 from an archived bundle's accepted data, figures and settings, with the current
    templates and narratives (after fixing a narrative or a template). The result is a new draft bundle
    linked to the same data (run.json ``rendered_from``); the document gets a new version name."""
    with one_line_errors(workdir):
        parse_bundle_id(bundle_id)  # a wrong id: one line, exit 2, before a flow run starts
    tune()
    # deferred: would import Prefect (seconds) at every start-up
    from flows.filing import render_draft

    with one_line_errors(workdir):
        summary = cast(dict[str, Any], render_draft(
            bundle_id=bundle_id, config=str(config) if config else None, workdir=str(workdir),
            output=str(output) if output else None, trigger="cli"))
    if as_json:
        print(json.dumps(summary, ensure_ascii=False, indent=2))
    else:
        print_summary(summary)


def register(app: typer.Typer) -> None:
    app.command("render")(render)
