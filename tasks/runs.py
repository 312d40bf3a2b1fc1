"""The stages of one filing run as plain functions of a :class:`RunContext` (no Prefect here).

Each stage writes its part of the evidence bundle into the run's staging directory (layout:
``tasks/bundle.py`` / FILINGS.md) and returns plain values. ``tasks/stages.py`` wraps them as Prefect
tasks; ``flows/`` composes them.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import shutil
import subprocess
import uuid
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from complaints.calendar import WorkCalendar
from complaints.config import PROJECT_ROOT, Entity, Loaded, read_yaml, redact
from complaints.periods import Period
from complaints.times import iso_local, now_local

log = logging.getLogger("complaints.run")

PACKAGES = ("complaints", "prefect", "pandas", "numpy", "pyarrow", "great_expectations", "SQLAlchemy",
            "python-docx", "docxtpl", "openpyxl", "matplotlib", "boto3", "chinesecalendar", "bagit",
            "cryptography")


class RunBlocked(RuntimeError):
    """The quality gate stopped the filing; the message says why and where the details are."""


@dataclass
class RunContext:
    """Everything a stage needs to know about the run it belongs to."""

    filing: str  # "quarterly" | "annual"
    period: Period
    entity: Entity
    as_of: dt.datetime  # tz-naive Asia/Shanghai
    loaded: Loaded
    workdir: Path
    calendar: WorkCalendar
    trigger: str = "cli"
    accept_risk: str | None = None
    run_id: str = field(default_factory=lambda: uuid.uuid4().hex)
    started_at: dt.datetime = field(default_factory=now_local)

    @property
    def run_dir(self) -> Path:
        return self.workdir / "runs" / self.run_id

    @property
    def staging(self) -> Path:
        return self.run_dir / "bundle"

    @property
    def output_dir(self) -> Path:
        """Where the officer finds the filing documents and the data owners the quarantine workbook."""
        return self.workdir / "output" / self.period.code / self.entity.code

    @property
    def is_head_office(self) -> bool:
        return self.entity.level == "head_office"

    def describe(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id, "filing": self.filing, "period": self.period.code,
            "entity": self.entity.code, "entity_name": self.entity.name, "as_of": iso_local(self.as_of),
            "trigger": self.trigger, "started_at": iso_local(self.started_at),
            "config_file": str(self.loaded.path), "accept_risk": self.accept_risk,
        }


def code_version() -> str:
    """``git describe`` of the checkout when there is one, else the installed package version."""
    try:
        out = subprocess.run(["git", "-C", str(PROJECT_ROOT), "describe", "--always", "--dirty", "--tags"],
                             capture_output=True, text=True, timeout=10, check=True)
        return out.stdout.strip() or metadata.version("complaints")
    except (OSError, subprocess.SubprocessError):
        return metadata.version("complaints")


def package_versions() -> dict[str, str]:
    versions = {}
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return versions


def write_json(path: Path, data: Any) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, ensure_ascii=False, indent=2, sort_keys=True, default=str) + "\n",
                    encoding="utf-8")
    return path


def stage_inputs(ctx: RunContext, rulebook_files: list[Path]) -> None:
    """Copy the configuration (secrets removed), source mappings, rule sets and calendar used."""
    staging = ctx.staging
    (staging / "config" / "sources").mkdir(parents=True, exist_ok=True)
    raw = read_yaml(ctx.loaded.path)
    (staging / "config" / "complaints.yaml").write_text(
        yaml.safe_dump(redact(raw), allow_unicode=True, sort_keys=False), encoding="utf-8")
    for rel in ctx.loaded.settings.sources:
        src = ctx.loaded.resolve(rel)
        data = redact(read_yaml(src))
        (staging / "config" / "sources" / src.name).write_text(
            yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    (staging / "rules").mkdir(parents=True, exist_ok=True)
    for path in rulebook_files:
        shutil.copyfile(path, staging / "rules" / path.name)
    write_json(staging / "calendar" / "calendar.json", ctx.calendar.to_mapping())


def write_frames(directory: Path, frames: dict[str, pd.DataFrame]) -> dict[str, Path]:
    directory.mkdir(parents=True, exist_ok=True)
    out = {}
    for name, frame in frames.items():
        path = directory / f"{name}.parquet"
        frame.to_parquet(path, index=False)
        out[name] = path
    return out


def attach_run_log(ctx: RunContext) -> logging.Handler:
    """Send this run's log records (ours and Prefect's) to ``logs/run.log`` in the staging directory."""
    path = ctx.staging / "logs" / "run.log"
    path.parent.mkdir(parents=True, exist_ok=True)
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.setLevel(logging.INFO)
    for name in ("complaints", "prefect.flow_runs", "prefect.task_runs"):
        lg = logging.getLogger(name)
        lg.addHandler(handler)
        if lg.level == logging.NOTSET or lg.level > logging.INFO:
            lg.setLevel(logging.INFO)
    return handler


def detach_run_log(handler: logging.Handler) -> None:
    for name in ("complaints", "prefect.flow_runs", "prefect.task_runs"):
        logging.getLogger(name).removeHandler(handler)
    handler.close()
