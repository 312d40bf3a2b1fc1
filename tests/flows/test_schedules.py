"""Schedules on a REAL Prefect server (cron schedules do not run on the ephemeral one).

Starts ``prefect server start`` on loopback with a temporary PREFECT_HOME and SQLite database, serves
the deployments with ``complaints serve`` (a subprocess), checks the watcher's Cron schedule (08:30
Asia/Shanghai) is live (the server's scheduler creates its runs at 00:30 UTC), triggers the watcher
for 2026-10-13 (2026Q3 run window open since the make-up Saturday 10 October; the September monthly
tables' since 8 October) and sees the quarterly filing runs and the monthly publication started through
their deployments and their bundles committed in the archive.
Every subprocess is stopped by its own process group id at the end.
"""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

pytestmark = pytest.mark.slow

BIN = Path(sys.executable).parent


def test_watcher_schedule_starts_quarterly_runs_via_deployments(
        server: dict[str, Any], demo_workdir: tuple[Path, Path, str], wait_for: Callable[..., Any],
        stop_process: Callable[[Any], None]) -> None:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import (
        DeploymentFilter,
        DeploymentFilterId,
        FlowFilter,
        FlowFilterName,
    )
    from prefect.client.schemas.sorting import FlowRunSort
    from prefect.deployments import run_deployment
    from prefect.settings import PREFECT_API_URL, temporary_settings

    from tasks.archive.stores import LocalStore

    wd, config, key_file = demo_workdir
    api = server["api"]
    serve_home = server["home"] / "serve-home"
    serve_home.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    env.update({"PREFECT_API_URL": api, "PREFECT_HOME": str(serve_home),
                "PREFECT_RUNNER_POLL_FREQUENCY": "2", "COMPLAINTS_SIGNING_KEY_FILE": key_file})
    serve_log = server["home"] / "serve.log"
    with open(serve_log, "wb") as out:
        serve = subprocess.Popen([str(BIN / "complaints"), "serve", "--config", str(config),
                                  "--workdir", str(wd)],
                                 env=env, cwd=str(server["home"]), stdout=out, stderr=subprocess.STDOUT,
                                 start_new_session=True)
    logs, procs = [serve_log, server["log"]], [serve, server["proc"]]
    try:
        with temporary_settings(updates={PREFECT_API_URL: api}), get_client(sync_client=True) as client:
            def deployment() -> Any:
                try:
                    return client.read_deployment_by_name("deadline-watcher/daily")
                except Exception:  # noqa: BLE001 - not registered yet
                    return None

            watcher = wait_for("`complaints serve` to register the deployments", deployment, 120, logs,
                                procs)
            (sched,) = watcher.schedules
            assert (sched.schedule.cron, sched.schedule.timezone, sched.active) == (
                "30 8 * * *", "Asia/Shanghai", True)
            for name in ("quarterly-filing/quarterly-HO", "quarterly-filing/quarterly-GD",
                         "annual-self-inspection/annual-HO", "annual-self-inspection/annual-GD"):
                assert str(client.read_deployment_by_name(name).entrypoint).startswith("flows.filing.")

            # the real server's scheduler turns the Cron schedule into runs at 08:30 Shanghai = 00:30 UTC
            def scheduled() -> list[Any] | None:
                runs = client.read_flow_runs(deployment_filter=DeploymentFilter(
                    id=DeploymentFilterId(any_=[watcher.id])), limit=50,
                    sort=FlowRunSort.EXPECTED_START_TIME_ASC)
                auto = [r for r in runs if r.auto_scheduled]
                return auto or None

            auto_runs = wait_for("the scheduler to create the watcher's runs", scheduled, 60, logs, procs)
            for r in auto_runs:
                assert r.expected_start_time is not None
                at = r.expected_start_time.astimezone(dt.UTC)
                assert (at.hour, at.minute) == (0, 30)

            # an officer (here: the test) triggers the watcher for a chosen day
            run: Any = run_deployment("deadline-watcher/daily", parameters={"today": "2026-10-13"}, timeout=0,
                                 as_subflow=False)

            def finished() -> Any:
                fr = client.read_flow_run(run.id)
                return fr if fr.state is not None and fr.state.is_final() else None

            done = wait_for("the watcher run to finish", finished, 240, logs, procs, interval=2)
            # HO, GD quarterly, HO monthly and weeks 40 and 41 started; September's monthly tables were due on
            # 12 October: drafted today, still late until a submission is recorded, so the watcher's run fails
            assert done.state.type.value == "FAILED", (done.state.message, serve_log.read_text()[-4000:])
            message = done.state.message or ""
            assert "1 late" in message and "5 started (0 failed)" in message

            quarterly = client.read_flow_runs(
                flow_filter=FlowFilter(name=FlowFilterName(any_=["quarterly-filing"])),
                                              limit=50, sort=FlowRunSort.EXPECTED_START_TIME_ASC)
            by_entity = {r.parameters["entity"]: r for r in quarterly}
            assert set(by_entity) == {"HO", "GD"}
            for entity, r in by_entity.items():
                assert r.state is not None and r.state.type.value == "COMPLETED"
                assert r.parameters["period"] == "2026Q3" and r.parameters["trigger"] == "deadline-watcher"
                assert r.deployment_id is not None  # started through its deployment, not in-process
                assert r.parent_task_run_id is not None  # linked to the watcher run as a child
                dep = client.read_deployment(r.deployment_id)
                assert dep.name == f"quarterly-{entity}"
            # the REST API directly: the sync client's read_artifacts sends nulls this server rejects
            found = httpx.post(f"{api}/artifacts/filter", json={
                "artifacts": {"key": {"any_": ["deadline-watch"]}}, "limit": 10, "offset": 0},
                timeout=10).json()
            watch_md = [a for a in found if a["flow_run_id"] == str(run.id)]
            assert watch_md and "quarterly 2026Q3 HO via deployment: COMPLETED" in watch_md[0]["data"]
            (monthly,) = client.read_flow_runs(
                flow_filter=FlowFilter(name=FlowFilterName(any_=["monthly-publication"])), limit=5,
                sort=FlowRunSort.EXPECTED_START_TIME_ASC)
            assert monthly.parameters["month"] == "2026-09" and monthly.deployment_id is not None
            assert monthly.state is not None and monthly.state.type.value == "COMPLETED"

        store = LocalStore(wd / "archive")
        for entity in ("HO", "GD"):
            (bundle,) = store.list("quarterly", entity, "2026Q3")
            assert store.exists(bundle) and "bagit.txt" in store.files(bundle)
        (monthly_bundle,) = store.list("monthly", "HO", "2026-09")
        assert any(f.endswith(".xlsx") for f in store.files(monthly_bundle))
    finally:
        stop_process(serve)
