"""``filings_for_entities``: one filing for many entities as parallel child flow runs, each with its own
bundle. Composition only.

How the children run (``launch``):

* ``deployment``: ``run_deployment`` of each entity's deployment (``quarterly-filing/quarterly-<E>``,
  or the ``deployment`` template, e.g. ``{flow}/pool`` from ``prefect.yaml``), submitted together,
  then awaited: on a work pool every child runs
  where the pool's workers run it (a process each on a ``process`` pool, a pod each on Kubernetes);
* ``threads``: a ``ThreadPoolTaskRunner(max_parallel)`` in this process (no extra dependency);
* ``processes``: Prefect's ``ProcessPoolTaskRunner(max_parallel)``: one process per child;
* ``dask``: ``prefect_dask.DaskTaskRunner`` on a local Dask cluster of ``max_parallel`` single-threaded
  worker processes, or on ``dask_address`` (an existing cluster); needs the ``[dask]`` extra;
* ``auto`` (default): ``deployment`` when a Prefect server is configured (``PREFECT_API_URL``) and
  every entity's deployment exists, else ``threads``.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any, TypedDict

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_table_artifact
from prefect.cache_policies import NONE
from prefect.states import Completed, Failed, State
from prefect.task_runners import ProcessPoolTaskRunner, ThreadPoolTaskRunner

from flows.filing import FILING_FLOWS, flow_parameters
from flows.launch import FLOW_NAMES, deployment_name, deployments_available, run_deployments
from tasks.archive.stores import open_store
from tasks.config_files import load_settings

LAUNCH_MODES = ("auto", "deployment", "threads", "processes", "dask")


class EntityOutcome(TypedDict, total=False):
    """What became of one entity's child run (``state``: a Prefect state type, NOT_STARTED, TIMED_OUT)."""

    entity: str
    state: str
    ok: bool
    bundle: str | None
    flow_run_id: str | None
    message: str
    incomplete: list[str]


def entity_codes(config: str | None, entities: str | Sequence[str] | None) -> list[str]:
    """``None`` / ``"all"``: every configured entity; else the codes given (list or comma-separated),
    each checked against the configuration."""
    settings = load_settings(config).settings
    if entities is None or (isinstance(entities, str) and entities.strip().lower() == "all"):
        return [e.code for e in settings.entities]
    codes = [c.strip() for c in (entities.split(",") if isinstance(entities, str) else entities)]
    return [settings.entity(c).code for c in codes if c]


@task(name="file-entity", cache_policy=NONE, task_run_name="{filing}-{entity}-{period}")
def file_entity(filing: str, period: str, entity: str, common: dict[str, Any]) -> EntityOutcome:
    """One entity's filing as a child flow run; never raises (the outcome says what happened)."""
    fn = FILING_FLOWS[filing][0]
    state = fn(**flow_parameters(filing, period, entity, common), return_state=True)  # type: ignore[operator]
    out: EntityOutcome = {"entity": entity, "state": state.type.value, "ok": state.is_completed(),
                           "flow_run_id": str(state.state_details.flow_run_id), "bundle": None,
                           "message": ""}
    if out["ok"]:
        summary = state.result()
        out["bundle"], out["incomplete"] = summary["bundle"], summary["incomplete"]
    else:
        out["message"] = state.message or ""
    return out


def make_task_runner(launch: str, max_parallel: int, dask_address: str | None = None) -> Any:
    """The task runner for a local launch mode (module docstring)."""
    if launch == "threads":
        return ThreadPoolTaskRunner(max_workers=max_parallel)
    if launch == "processes":
        return ProcessPoolTaskRunner(max_workers=max_parallel)
    if launch == "dask":
        try:  # an optional extra: imported only when asked for
            from prefect_dask import DaskTaskRunner
        except ImportError as exc:
            raise ValueError("launch 'dask' needs the dask extra: pip install 'complaints[dask]'") from exc
        if dask_address:
            return DaskTaskRunner(address=dask_address)
        return DaskTaskRunner(cluster_kwargs={"n_workers": max_parallel, "threads_per_worker": 1,
                                              "processes": True, "dashboard_address": None})
    raise ValueError(f"launch {launch!r} is not one of {', '.join(LAUNCH_MODES)}")


def deployment_names(filing: str, codes: Sequence[str], template: str | None) -> dict[str, str]:
    if template:  # e.g. "{flow}/pool" (entity given as a parameter) or "{flow}/{filing}-{entity}"
        return {c: template.format(filing=filing, entity=c, flow=FLOW_NAMES[filing]) for c in codes}
    return {c: deployment_name(filing, c) for c in codes}


def resolve_entity_launch(launch: str, names: dict[str, str]) -> str:
    mode = (launch or "auto").strip().lower()
    if mode not in LAUNCH_MODES:
        raise ValueError(f"launch {mode!r} is not one of {', '.join(LAUNCH_MODES)}")
    if mode != "auto":
        return mode
    return "deployment" if deployments_available(names.values()) else "threads"


def run_local(filing: str, period: str, codes: Sequence[str], common: dict[str, Any], launch: str,
              max_parallel: int, dask_address: str | None) -> list[EntityOutcome]:
    """Submit one ``file_entity`` per entity to the chosen task runner and collect the outcomes."""
    with make_task_runner(launch, max_parallel, dask_address) as runner:
        futures = [runner.submit(file_entity, parameters={"filing": filing, "period": period, "entity": c,
                                                          "common": common}) for c in codes]
        out = []
        for code, fut in zip(codes, futures, strict=True):
            try:
                out.append(fut.result())
            except Exception as exc:  # noqa: BLE001 - a crashed child is reported, the others still count
                out.append({"entity": code, "state": "CRASHED", "ok": False, "bundle": None,
                            "message": f"{type(exc).__name__}: {exc}"})
        return out


def start_deployments(filing: str, period: str, codes: Sequence[str], common: dict[str, Any],
                      names: dict[str, str], wait_seconds: float) -> list[EntityOutcome]:
    """Every entity's deployment started at once (children of this run), then awaited."""
    starts = [(c, names[c], flow_parameters(filing, period, c, common)) for c in codes]
    return [{"entity": r.key, "state": r.state, "ok": r.ok, "bundle": None, "flow_run_id": r.flow_run_id,
             "message": "" if r.ok else r.message}
            for r in run_deployments(starts, ["filings-for-entities"], wait_seconds, poll_seconds=2.0)]


def _attach_bundles(outcomes: list[EntityOutcome], filing: str, period: str, config: str | None,
                    workdir: str, before: dict[str, set[str]]) -> None:
    """Deployment children report no summary here: find each one's new committed bundle in the store."""
    store = open_store(load_settings(config).settings.archive, Path(workdir).resolve())
    for o in outcomes:
        if o["bundle"] is None and o["ok"]:
            new = sorted(set(store.list(filing, o["entity"], period)) - before.get(o["entity"], set()))
            if new:
                o["bundle"] = new[-1]
            else:
                o["ok"], o["message"] = False, "completed but no new committed bundle is in the archive"


@flow(name="filings-for-entities", log_prints=True)
def filings_for_entities(
    filing: str,
    period: str,
    entities: list[str] | str | None = None,
    as_of: str | None = None,
    config: str | None = None,
    workdir: str = ".",
    trigger: str = "cli",
    accept_risk: str | None = None,
    calendar_files: list[str] | None = None,
    launch: str = "auto",
    max_parallel: int = 2,
    deployment: str | None = None,
    dask_address: str | None = None,
    wait_seconds: float = 3600.0,
    preview: bool = False,
) -> State[Any]:
    """One filing for many entities (``entities``: None or "all" = every configured one) as parallel
    child flow runs, each with its own bundle. Completed when every child filed, else Failed; the
    state's data is ``{"filing", "period", "launch", "runs": [per-entity outcome]}``."""
    if filing not in ("quarterly", "annual"):
        raise ValueError(f"filing {filing!r} is not one of quarterly, annual")
    if max_parallel < 1:
        raise ValueError("max_parallel must be at least 1")
    codes = entity_codes(config, entities)
    if not codes:
        raise ValueError("no entities to file for")
    loaded = load_settings(config)
    work = str(Path(workdir).resolve())
    common = {"as_of": as_of, "config": str(loaded.path), "workdir": work, "trigger": trigger,
              "accept_risk": accept_risk, "calendar_files": calendar_files or None, "preview": preview}
    names = deployment_names(filing, codes, deployment)
    mode = resolve_entity_launch(launch, names)
    logger = get_run_logger()
    logger.info("%s %s for %d entities (%s) as %s", filing, period, len(codes), ", ".join(codes), mode)
    store = open_store(loaded.settings.archive, Path(work))
    kind = filing + ("-preview" if preview else "")  # previews are listed under their own first part
    before = {c: set(store.list(kind, c, period)) for c in codes}
    if mode == "deployment":
        outcomes = start_deployments(filing, period, codes, common, names, wait_seconds)
    else:
        outcomes = run_local(filing, period, codes, common, mode, max_parallel, dask_address)
    _attach_bundles(outcomes, kind, period, config, work, before)
    ok = [o for o in outcomes if o["ok"]]
    message = f"{filing} {period}: {len(ok)} of {len(outcomes)} entities filed ({mode})"
    failed = [f"{o['entity']} {o['state']}: {o['message']}" for o in outcomes if not o["ok"]]
    for line in failed:
        logger.error(line)
    create_table_artifact(key=f"entities-{filing}-{period}".lower(), description=message,
                          table=[{k: o.get(k) for k in ("entity", "state", "bundle", "message")}
                                 for o in outcomes])
    data = {"filing": filing, "period": period, "launch": mode, "runs": outcomes}
    if failed:
        return Failed(message=message + "; " + "; ".join(failed), data=data)
    return Completed(message=message, data=data)
