"""Deployments built from the configuration (no server needed): names, parameters, the watcher's Cron
schedule in Asia/Shanghai, and the Prefect-server fix for SQLAlchemy 2.1."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from complaints.settings import Schedules
from flows.deployments import (
    build_deployments,
    deployment_name,
    watcher_cron,
)
from tasks.config_files import load_settings


def test_deployments_for_every_entity_and_the_daily_watcher(tmp_path: Path) -> None:
    loaded = load_settings()  # config/complaints.yaml: HO + four branches
    deps = build_deployments(loaded, tmp_path)
    by_name = {d.name: d for d in deps}
    codes = [e.code for e in loaded.settings.entities]
    assert set(by_name) == ({f"quarterly-{c}" for c in codes} | {f"annual-{c}" for c in codes}
                            | {"monthly-HO", "weekly-HO", "daily"})  # monthly and weekly: head office only
    assert by_name["monthly-HO"].entrypoint == "flows.filing.monthly_publication"
    assert by_name["weekly-HO"].entrypoint == "flows.weekly.weekly_publication"
    gd = by_name["quarterly-GD"]
    assert gd.entrypoint == "flows.filing.quarterly_filing"  # module path: runs from any directory
    assert gd.parameters == {"config": str(loaded.path), "workdir": str(tmp_path.resolve()), "entity": "GD",
                             "trigger": "deployment"}
    assert not gd.schedules  # filings run when the watcher (or an officer) starts them
    watcher = by_name["daily"]
    assert watcher.entrypoint == "flows.watch.deadline_watcher"
    (sched,) = watcher.schedules or []
    cron: Any = sched.schedule
    assert (cron.cron, cron.timezone) == ("30 8 * * *", "Asia/Shanghai")
    assert watcher.parameters["launch"] == "deployment"
    assert deployment_name("quarterly", "GD") == "quarterly-filing/quarterly-GD"
    assert deployment_name("annual", "HO") == "annual-self-inspection/annual-HO"
    assert deployment_name("monthly", "HO") == "monthly-publication/monthly-HO"
    assert deployment_name("weekly", "HO") == "weekly-overdue-publication/weekly-HO"
    with pytest.raises(ValueError, match="no flow for the rectification filing"):
        deployment_name("rectification", "HO")


@pytest.mark.parametrize(("time", "cron"), [("08:30", "30 8 * * *"), ("7:05", "5 7 * * *"),
                                             ("23:59", "59 23 * * *")])
def test_watcher_cron(time: str, cron: str) -> None:
    assert watcher_cron(Schedules(watcher_time=time)) == cron


@pytest.mark.parametrize("time", ["8h30", "24:00", "08:60", ""])
def test_watcher_cron_rejects_bad_times(time: str) -> None:
    with pytest.raises(ValueError, match="schedules.watcher_time"):
        watcher_cron(Schedules(watcher_time=time))


def test_bad_timezone_is_a_config_error(tmp_path: Path) -> None:
    loaded = load_settings()
    bad = loaded.model_copy(update={"settings": loaded.settings.model_copy(update={
        "schedules": Schedules(timezone="Mars/Olympus")})})
    with pytest.raises(ValueError, match="schedules.timezone"):
        build_deployments(bad, tmp_path)

