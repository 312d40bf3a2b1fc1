"""Recompute a bundle's figures from what the bundle alone holds (``complaints bundles reproduce``).

The bundled extract goes through the same quality gate and the same figures code, with the bundled
configuration, rule sets and calendar, at the bundled as-of time: an auditor gets the same numbers or
the differences.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from complaints.calendar import WorkCalendar, YearSchedule
from complaints.periods import Period
from complaints.settings import Settings
from complaints.times import parse_local
from tasks.config_files import Loaded
from tasks.rulebooks import load_rulebooks
from tasks.runs import RunContext
from tasks.stages import figures_for, gate_frames


def bundled_calendar(data_dir: Path) -> WorkCalendar:
    years = json.loads((data_dir / "calendar" / "calendar.json").read_text(encoding="utf-8"))["years"]
    return WorkCalendar({y["year"]: YearSchedule.from_mapping(y) for y in years})


def bundled_context(data_dir: Path) -> RunContext:
    """A run context rebuilt from ``run.json`` and the bundled configuration."""

    run = json.loads((data_dir / "run.json").read_text(encoding="utf-8"))
    config_path = data_dir / "config" / "complaints.yaml"
    settings = Settings.model_validate(yaml.safe_load(config_path.read_text(encoding="utf-8")))
    loaded = Loaded(settings=settings, path=config_path, config_dir=data_dir / "config")
    return RunContext(filing=run["filing"], period=Period.parse(run["period"]),
                      entity=settings.entity(run["entity"]), as_of=parse_local(run["as_of"]),
                      loaded=loaded, workdir=data_dir, calendar=bundled_calendar(data_dir),
                      trigger=run.get("trigger", ""), accept_risk=run.get("accept_risk"),
                      run_id=run["run_id"])


def figures_from_bundle(data_dir: Path) -> dict[str, Any]:
    """The figures JSON recomputed from the bundle's extract (``data_dir`` is the bag's ``data/``)."""
    data_dir = Path(data_dir)
    ctx = bundled_context(data_dir)
    frames = {t: pd.read_parquet(data_dir / "extract" / f"{t}.parquet")
              for t in ("ledger", "exposure", "events")}
    gate = gate_frames(frames["ledger"], frames["exposure"], frames["events"], ctx.period, ctx.as_of,
                       ctx.accept_risk)
    rulebooks = load_rulebooks(files=sorted((data_dir / "rules").glob("*.y*ml")))
    result = figures_for(ctx, gate, ctx.period, rulebooks)
    return json.loads(json.dumps(result.figures, ensure_ascii=False, sort_keys=True, default=str))
