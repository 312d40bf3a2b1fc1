"""The filing flows, unchanged, on a Prefect PROCESS work pool (real server on loopback).

``prefect work-pool create --type process``, ``prefect deploy`` of the ``pool`` deployments from the
project's ``prefect.yaml``, a ``prefect worker start`` subprocess; then the fan-out flow
``filings-for-entities/pool`` is run through its deployment: the worker runs it in a process of its
own, and it starts one child run per entity through ``quarterly-filing/pool``, each in its own
process, each committing its own bundle. (The Kubernetes deployments of ``prefect.yaml`` are not run.)
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tasks.config_files import PROJECT_ROOT

pytestmark = pytest.mark.slow

BIN = Path(sys.executable).parent
POOL = "complaints-process"
AS_OF = "2026-11-20T09:00:00+08:00"


def _prefect(env: dict[str, str], *args: str, known_422: bool = False) -> str:
    proc = subprocess.run([str(BIN / "prefect"), *args], env=env, cwd=str(PROJECT_ROOT), capture_output=True,
                          text=True, timeout=180)
    out = proc.stdout + proc.stderr
    # Prefect 3.8.8's `prefect deploy` saves the deployment, then asks for the pool's online workers
    # with `limit: null`, which the 3.8.8 server (on the pinned FastAPI) rejects with a 422
    if known_422 and proc.returncode != 0 and "workers/filter" in out and "422" in out:
        return out
    assert proc.returncode == 0, out[-3000:]
    return out


def test_entity_filings_run_on_a_process_work_pool(
        server: dict[str, Any], demo_workdir: tuple[Path, Path, str], wait_for: Callable[..., Any],
        stop_process: Callable[[Any], None]) -> None:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.sorting import FlowRunSort
    from prefect.deployments import run_deployment
    from prefect.settings import PREFECT_API_URL, temporary_settings

    from tasks.archive.stores import LocalStore

    wd, config, key_file = demo_workdir
    home = server["home"] / "cli-home"
    home.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    env.update({"PREFECT_API_URL": server["api"], "PREFECT_HOME": str(home),
                "PREFECT_WORKER_QUERY_SECONDS": "2", "PREFECT_WORKER_PREFETCH_SECONDS": "5",
                "COMPLAINTS_SIGNING_KEY_FILE": key_file})
    _prefect(env, "work-pool", "create", POOL, "--type", "process")
    for name in ("quarterly-filing/pool", "filings-for-entities/pool"):  # one at a time (see _prefect)
        _prefect(env, "--no-prompt", "deploy", "--prefect-file", str(PROJECT_ROOT / "prefect.yaml"),
                 "--name", name, known_422=True)

    worker_log = server["home"] / "worker.log"
    with open(worker_log, "wb") as log:
        worker = subprocess.Popen([str(BIN / "prefect"), "worker", "start", "--pool", POOL, "--name",
                                   "test-worker"], env=env, cwd=str(server["home"]), stdout=log,
                                  stderr=subprocess.STDOUT, start_new_session=True)
    try:
        with temporary_settings(updates={PREFECT_API_URL: server["api"]}), \
                get_client(sync_client=True) as client:
            for name in ("quarterly-filing/pool", "filings-for-entities/pool"):
                dep = client.read_deployment_by_name(name)
                assert dep.work_pool_name == POOL
            parent: Any = run_deployment(
                "filings-for-entities/pool", timeout=0, as_subflow=False,
                parameters={"filing": "quarterly", "period": "2026Q3", "entities": "all", "as_of": AS_OF,
                            "config": str(config), "workdir": str(wd)})

            def finished() -> Any:
                fr = client.read_flow_run(parent.id)
                return fr if fr.state is not None and fr.state.is_final() else None

            done = wait_for("the fan-out run on the work pool", finished, 300,
                            [worker_log, server["log"]], [worker, server["proc"]], interval=2)
            assert done.state.type.value == "COMPLETED", (done.state.message, worker_log.read_text()[-4000:])
            assert done.state.message == "quarterly 2026Q3: 2 of 2 entities filed (deployment)"
            assert done.work_pool_name == POOL

            children = [r for r in client.read_flow_runs(limit=50, sort=FlowRunSort.EXPECTED_START_TIME_ASC)
                        if r.parent_task_run_id is not None and r.deployment_id is not None
                        and r.parameters.get("period") == "2026Q3"]
            by_entity = {r.parameters["entity"]: r for r in children}
            assert set(by_entity) == {"HO", "GD"}
            for r in by_entity.values():
                assert r.state is not None and r.state.type.value == "COMPLETED"
                assert r.work_pool_name == POOL
                assert client.read_deployment(r.deployment_id).name == "pool"

        assert "test-worker" in worker_log.read_text(errors="replace")
        store = LocalStore(wd / "archive")
        for entity in ("HO", "GD"):
            (bundle,) = store.list("quarterly", entity, "2026Q3")
            run = json.loads(store.read(bundle, "data/run.json"))
            assert run["entity"] == entity and run["flow_run_id"] == str(by_entity[entity].id)
            assert run["pid"] != os.getpid()  # ran in the worker's flow-run process
            verify = subprocess.run([str(BIN / "complaints"), "bundles", "verify", bundle, "--config",
                                     str(config), "--workdir", str(wd)], capture_output=True, text=True,
                                    timeout=120)
            assert verify.returncode == 0, verify.stdout + verify.stderr
    finally:
        stop_process(worker)


@pytest.mark.parametrize("launch", ["threads", "dask"])
def test_entity_filings_in_parallel_in_this_process(
        launch: str, server: dict[str, Any], demo_workdir: tuple[Path, Path, str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    """``filings_for_entities`` without deployments: children on a thread pool, or on a local Dask
    cluster of two worker processes (skipped without the ``[dask]`` extra)."""
    if launch == "dask":
        pytest.importorskip("prefect_dask")
    from prefect.settings import PREFECT_API_URL, temporary_settings

    from flows.fanout import filings_for_entities
    from tasks.archive.stores import LocalStore

    wd, config, key_file = demo_workdir
    monkeypatch.setenv("COMPLAINTS_SIGNING_KEY_FILE", key_file)
    store = LocalStore(wd / "archive")
    before = set(store.list(period="2026Q3"))
    with temporary_settings(updates={PREFECT_API_URL: server["api"]}):
        if launch == "threads":  # through the command line: `complaints run quarterly --entity HO,GD`
            from cli import app

            out, err = io.StringIO(), io.StringIO()  # not CliRunner: it closes streams Prefect keeps
            with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
                code = app(["run", "quarterly", "--period", "2026Q3", "--entity", "HO,GD", "--as-of", AS_OF,
                            "--config", str(config), "--workdir", str(wd), "--launch", "threads", "--json"],
                           standalone_mode=False)
            assert not code, err.getvalue()[-3000:]
            data = json.loads(out.getvalue()[out.getvalue().index("{"):])
            assert data["ok"] and data["message"] == "quarterly 2026Q3: 2 of 2 entities filed (threads)"
        else:
            state: Any = filings_for_entities(filing="quarterly", period="2026Q3", entities="HO,GD",
                                              as_of=AS_OF, config=str(config), workdir=str(wd),
                                              launch=launch, max_parallel=2, return_state=True)
            data = state.result(raise_on_failure=False)
            assert state.is_completed(), state.message
    assert data["launch"] == launch and [r["entity"] for r in data["runs"]] == ["HO", "GD"]
    new = set(store.list(period="2026Q3")) - before
    assert {r["bundle"] for r in data["runs"]} == new and len(new) == 2
    for r in data["runs"]:
        run = json.loads(store.read(r["bundle"], "data/run.json"))
        assert run["flow_run_id"] == r["flow_run_id"] and run["entity"] == r["entity"]
        log = store.read(r["bundle"], "data/logs/run.log").decode()
        other = "GD" if r["entity"] == "HO" else "HO"
        assert "extracted" in log and f"/{other}/" not in log  # each bundle logs its own run only
        if launch == "dask":
            assert run["pid"] != os.getpid()  # filed in a Dask worker process
