"""Prefect deployments: the filing flows per entity and the daily deadline watcher. Composition only.

* ``quarterly-filing/quarterly-<ENTITY>`` for the head office and every configured branch
  (parameter ``period`` is given per run: by the watcher, or by an officer in the UI / CLI);
* ``annual-self-inspection/annual-<ENTITY>`` for every entity (parameter ``year``);
* ``deadline-watcher/daily``: every day at ``schedules.watcher_time`` in ``schedules.timezone``
  (Asia/Shanghai by default), a Cron schedule with that time zone; it starts filings through the
  deployments above (``launch="deployment"``).
* ``monthly-publication/monthly-<ENTITY>`` for the head office (parameter ``month``, e.g. 2026-10);
* ``weekly-overdue-publication/weekly-<ENTITY>`` for the head office (parameter ``week``, e.g. 2026-W40);

Served by ``complaints serve`` (``prefect.serve``) against a Prefect server (``PREFECT_API_URL``);
cron schedules do not run on Prefect's ephemeral server. Entry points are module paths
(``flows.filing.quarterly_filing``), so the served runs work from any directory.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, cast
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from prefect import serve as prefect_serve
from prefect.deployments.runner import RunnerDeployment
from prefect.schedules import Cron
from prefect.types.entrypoint import EntrypointType

from complaints.filings import FILING_KINDS
from complaints.settings import Schedules
from flows.filing import annual_self_inspection, monthly_publication, quarterly_filing
from flows.launch import FLOW_NAMES, deployment_name, deployments_available
from flows.watch import deadline_watcher
from flows.weekly import weekly_publication
from tasks.config_files import Loaded

__all__ = ["FLOW_NAMES", "WATCHER", "build_deployments", "deployment_name", "deployments_available", "serve",
           "watcher_cron"]

WATCHER = "deadline-watcher/daily"
_TIME = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")


def watcher_cron(schedules: Schedules) -> str:
    """The cron line of ``schedules.watcher_time`` ("08:30" → ``30 8 * * *``)."""
    m = _TIME.match(schedules.watcher_time.strip())
    if not m:
        raise ValueError(f"schedules.watcher_time {schedules.watcher_time!r} is not a time HH:MM "
                         "(e.g. 08:30)")
    return f"{int(m[2])} {int(m[1])} * * *"


def build_deployments(loaded: Loaded, workdir: str | Path, launch: str = "deployment",
                      watcher_parameters: dict[str, Any] | None = None) -> list[RunnerDeployment]:
    """The deployments for the configured entities (see module docstring).

    ``loaded.path`` and ``workdir`` are written as absolute default parameters, so served runs find
    the configuration and archive whatever their working directory.
    """
    settings = loaded.settings
    common = {"config": str(loaded.path), "workdir": str(Path(workdir).resolve())}
    tz = settings.schedules.timezone
    try:
        ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"schedules.timezone {tz!r} is not an IANA time zone (e.g. Asia/Shanghai)") from exc
    out: list[RunnerDeployment] = []
    for e in settings.entities:
        out.append(cast("RunnerDeployment", quarterly_filing.to_deployment(
            name=f"quarterly-{e.code}", parameters={**common, "entity": e.code, "trigger": "deployment"},
            description=f"季度投诉处理工作情况报告 · {e.name} ({e.code}, {e.level}); "
                        "give `period`, e.g. 2026Q3",
            tags=["filing", "quarterly", e.code], entrypoint_type=EntrypointType.MODULE_PATH)))
        out.append(cast("RunnerDeployment", annual_self_inspection.to_deployment(
            name=f"annual-{e.code}", parameters={**common, "entity": e.code, "trigger": "deployment"},
            description=f"年度投诉处理工作自查报告 · {e.name} ({e.code}); give `year`, e.g. 2026",
            tags=["filing", "annual", e.code], entrypoint_type=EntrypointType.MODULE_PATH)))
        if e.level in FILING_KINDS["monthly"].default_levels:
            out.append(cast("RunnerDeployment", monthly_publication.to_deployment(
                name=f"monthly-{e.code}", parameters={**common, "entity": e.code, "trigger": "deployment"},
                description=f"月度投诉通报（三张表） · {e.name} ({e.code}); give `month`, e.g. 2026-10",
                tags=["filing", "monthly", e.code], entrypoint_type=EntrypointType.MODULE_PATH)))
        if e.level in FILING_KINDS["weekly"].default_levels:
            out.append(cast("RunnerDeployment", weekly_publication.to_deployment(
                name=f"weekly-{e.code}", parameters={**common, "entity": e.code, "trigger": "deployment"},
                description=f"超时限投诉案件周公示 · {e.name} ({e.code}); give `week`, e.g. 2026-W40",
                tags=["publication", "weekly", e.code], entrypoint_type=EntrypointType.MODULE_PATH)))
    out.append(cast("RunnerDeployment", deadline_watcher.to_deployment(
        name=WATCHER.split("/")[1],
        schedule=Cron(watcher_cron(settings.schedules), timezone=tz),
        parameters={**common, "launch": launch, **(watcher_parameters or {})},
        description=f"Daily at {settings.schedules.watcher_time} {tz}: start filings whose run window "
                    "opened, report due / at risk / late / failed, notify.",
        tags=["watcher"], entrypoint_type=EntrypointType.MODULE_PATH)))
    return out


def serve(loaded: Loaded, workdir: str | Path, limit: int | None = None) -> None:
    """Serve every deployment until interrupted (needs ``PREFECT_API_URL``: a real Prefect server)."""
    prefect_serve(*build_deployments(loaded, workdir), limit=limit)
