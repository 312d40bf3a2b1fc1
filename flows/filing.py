"""The filing flows: quarterly report, annual self-inspection and the monthly publication tables, and the
fan-out of a filing over entities. Composition only.

extract → validate → compute → render → archive; each stage is a Prefect task around a plain function
in ``tasks/stages.py``. Figures and the summary are published as Prefect artifacts. One run holds the
per-(filing, entity, period) run lock (``tasks.runs.run_lock``) from extract to commit.

``filings_for_entities`` runs one filing for many entities as parallel child flow runs, each with its
own bundle. How the children run (``launch``):

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

import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any, cast

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_markdown_artifact, create_table_artifact
from prefect.cache_policies import NONE
from prefect.context import FlowRunContext
from prefect.states import Completed, Failed, State

from complaints.config import load_settings
from complaints.deadlines import PERIOD_KIND
from complaints.figures import flatten
from complaints.periods import Period
from complaints.times import now_local, parse_local
from tasks import stages
from tasks.bundle import load_private_key
from tasks.calendar_files import load_calendar
from tasks.memory import tune
from tasks.runs import RunContext, attach_run_log, detach_run_log, run_lock
from tasks.stores import open_store

LAUNCH_MODES = ("auto", "deployment", "threads", "processes", "dask")
FINAL = {"COMPLETED", "FAILED", "CRASHED", "CANCELLED"}


def make_context(
    filing: str,
    period: str,
    entity: str | None,
    as_of: str | None,
    config: str | None,
    workdir: str | Path,
    trigger: str,
    accept_risk: str | None,
    calendar_files: list[str] | None = None,
) -> RunContext:
    loaded = load_settings(config)
    settings = loaded.settings
    p = Period.parse(period)
    expected = PERIOD_KIND.get(cast(Any, filing))
    if expected is None:
        raise ValueError(f"no flow for the {filing!r} filing (one of {', '.join(PERIOD_KIND)})")
    if p.kind != expected:
        raise ValueError(f"the {filing} filing takes a {expected} period, not {period!r}")
    load_private_key(settings.archive.signing)  # fail now, not after the work, if the key is unreadable
    calendar = load_calendar(loaded.resolve(settings.calendar_dir), [Path(f) for f in calendar_files or []])
    flow_ctx = FlowRunContext.get()
    return RunContext(
        filing=filing,
        period=p,
        entity=settings.entity(entity),
        as_of=parse_local(as_of) if as_of else now_local(),
        loaded=loaded,
        workdir=Path(workdir).resolve(),
        calendar=calendar,
        trigger=trigger,
        accept_risk=accept_risk,
        flow_run_id=str(flow_ctx.flow_run.id) if flow_ctx and flow_ctx.flow_run else None,
    )


def run_stages(ctx: RunContext) -> dict[str, Any]:
    """The five stages under the run lock (a concurrent run of the same filing/entity/period is refused)."""
    tune()  # Arrow's allocator, before the first frame: every run (CLI, deployment, worker) starts here
    with run_lock(ctx):
        handler = attach_run_log(ctx)
        try:
            data = stages.extract_task(ctx)
            gate = stages.validate_task(ctx, data)
            computed = stages.compute_task(ctx, gate)
            rendered = stages.render_task(ctx, gate, computed)
        finally:
            detach_run_log(handler)  # the log is sealed before bagging: a retried archive finds it intact
        ref = stages.archive_task(ctx, gate, computed, rendered)
    summary = summarize(ctx, gate, computed, rendered, ref)
    publish(summary, computed.figures)
    return summary


def summarize(ctx: RunContext, gate: Any, computed: Any, rendered: Any, ref: Any) -> dict[str, Any]:
    f = computed.figures
    rec = gate.reconciliation["ledger"]
    return {
        "filing": ctx.filing,
        "period": ctx.period.code,
        "entity": ctx.entity.code,
        "run_id": ctx.run_id,
        "as_of": f["as_of"],
        "rows": {"read": rec["read"], "accepted": rec["accepted"], "quarantined": rec["quarantined"]},
        "headline": {  # the monthly tables have counts only: no rates
            "cases": f["counts"]["cases"],
            "contacts": f["counts"]["contacts"],
            "valid_cases": f["counts"]["valid_cases"],
            "regulator_forwarded_cases": f["counts"]["regulator_forwarded_cases"],
            "timeliness_rate": f.get("timeliness", {}).get("rate"),
            "satisfaction_rate": f.get("satisfaction", {}).get("rate"),
            "per_100m_premium": f.get("rates", {}).get("per_100m_premium"),
        },
        "due": computed.due.isoformat() if computed.due else None,
        "due_error": computed.due_error,
        "document": str(rendered.path),
        "incomplete": [*ctx.incomplete, *rendered.incomplete],
        "bundle": ref.bundle_id,
        "bundle_location": ref.location,
        "signed": ref.signed,
        "quarantine_xlsx": str(ctx.output_dir / f"quarantine-{ctx.period.code}-{ctx.entity.code}.xlsx"),
        "accept_risk": gate.accept_risk,
    }


def publish(summary: dict[str, Any], figures: dict[str, Any]) -> None:
    """Prefect artifacts: the figures table and a markdown summary of the run."""
    key = f"{summary['filing']}-{summary['entity']}-{summary['period']}".lower().replace("_", "-")
    create_table_artifact(
        key=f"figures-{key}",
        description=f"Figures {summary['entity']} {summary['period']}",
        table=[{"figure": k, "value": v} for k, v in flatten(figures) if not isinstance(v, (dict, list))],
    )
    h = summary["headline"]
    lines = [
        f"# {summary['filing']} filing {summary['entity']} {summary['period']}",
        f"- rows read {summary['rows']['read']} = accepted {summary['rows']['accepted']} + "
        f"quarantined {summary['rows']['quarantined']}",
        f"- cases {h['cases']}, valid {h['valid_cases']}, contacts {h['contacts']}, "
        f"timeliness {h['timeliness_rate']}",
        f"- due {summary['due'] or summary['due_error']}",
        f"- bundle `{summary['bundle']}`",
        f"- incomplete: {', '.join(summary['incomplete']) or 'no'}",
    ]
    create_markdown_artifact(key=f"summary-{key}", markdown="\n".join(lines))


@flow(name="quarterly-filing", log_prints=True)
def quarterly_filing(
    period: str,
    entity: str | None = None,
    as_of: str | None = None,
    config: str | None = None,
    workdir: str = ".",
    trigger: str = "cli",
    accept_risk: str | None = None,
    calendar_files: list[str] | None = None,
) -> dict[str, Any]:
    """季度投诉处理工作情况报告: one quarter, one entity, one bundle."""
    ctx = make_context(
        "quarterly", period, entity, as_of, config, workdir, trigger, accept_risk, calendar_files
    )
    return run_stages(ctx)


@flow(name="annual-self-inspection", log_prints=True)
def annual_self_inspection(
    year: str,
    entity: str | None = None,
    as_of: str | None = None,
    config: str | None = None,
    workdir: str = ".",
    trigger: str = "cli",
    accept_risk: str | None = None,
    calendar_files: list[str] | None = None,
) -> dict[str, Any]:
    """年度投诉处理工作自查报告: one year, one entity, one bundle."""
    ctx = make_context("annual", year, entity, as_of, config, workdir, trigger, accept_risk, calendar_files)
    return run_stages(ctx)


@flow(name="monthly-publication", log_prints=True)
def monthly_publication(
    month: str,
    entity: str | None = None,
    as_of: str | None = None,
    config: str | None = None,
    workdir: str = ".",
    trigger: str = "cli",
    accept_risk: str | None = None,
    calendar_files: list[str] | None = None,
) -> dict[str, Any]:
    """月度投诉通报 (投诉处理汇总表, 各地投诉案件分类汇总表, 案件处理明细表): one month (``YYYY-MM``), the
    head office's publication over every entity by default, one bundle."""
    ctx = make_context("monthly", month, entity, as_of, config, workdir, trigger, accept_risk, calendar_files)
    return run_stages(ctx)


#: each filing's flow and the name of its period parameter
FILING_FLOWS: dict[str, tuple[Any, str]] = {
    "quarterly": (quarterly_filing, "period"),
    "annual": (annual_self_inspection, "year"),
    "monthly": (monthly_publication, "month"),
}


# ------------------------------------------------------------------------------ fan-out over entities


def entity_codes(config: str | None, entities: str | Sequence[str] | None) -> list[str]:
    """``None`` / ``"all"``: every configured entity; else the codes given (list or comma-separated),
    each checked against the configuration."""
    settings = load_settings(config).settings
    if entities is None or (isinstance(entities, str) and entities.strip().lower() == "all"):
        return [e.code for e in settings.entities]
    codes = [c.strip() for c in (entities.split(",") if isinstance(entities, str) else entities)]
    return [settings.entity(c).code for c in codes if c]


def flow_parameters(filing: str, period: str, entity: str, common: dict[str, Any]) -> dict[str, Any]:
    """The parameters of ``filing``'s flow for one entity (the period under the flow's own name)."""
    return {FILING_FLOWS[filing][1]: period, "entity": entity, **common}


@task(name="file-entity", cache_policy=NONE, task_run_name="{filing}-{entity}-{period}")
def file_entity(filing: str, period: str, entity: str, common: dict[str, Any]) -> dict[str, Any]:
    """One entity's filing as a child flow run; never raises (the outcome says what happened)."""
    fn = FILING_FLOWS[filing][0]
    state = fn(**flow_parameters(filing, period, entity, common), return_state=True)  # type: ignore[operator]
    out: dict[str, Any] = {"entity": entity, "state": state.type.value, "ok": state.is_completed(),
                           "flow_run_id": str(state.state_details.flow_run_id), "bundle": None,
                           "message": ""}
    if out["ok"]:
        summary = state.result()
        out.update(bundle=summary["bundle"], incomplete=summary["incomplete"])
    else:
        out["message"] = state.message or ""
    return out


def make_task_runner(launch: str, max_parallel: int, dask_address: str | None = None) -> Any:
    """The task runner for a local launch mode (module docstring)."""
    if launch == "threads":
        from prefect.task_runners import ThreadPoolTaskRunner

        return ThreadPoolTaskRunner(max_workers=max_parallel)
    if launch == "processes":
        from prefect.task_runners import ProcessPoolTaskRunner

        return ProcessPoolTaskRunner(max_workers=max_parallel)
    if launch == "dask":
        try:
            from prefect_dask import DaskTaskRunner
        except ImportError as exc:
            raise ValueError("launch 'dask' needs the dask extra: pip install 'complaints[dask]'") from exc
        if dask_address:
            return DaskTaskRunner(address=dask_address)
        return DaskTaskRunner(cluster_kwargs={"n_workers": max_parallel, "threads_per_worker": 1,
                                              "processes": True, "dashboard_address": None})
    raise ValueError(f"launch {launch!r} is not one of {', '.join(LAUNCH_MODES)}")


def deployment_names(filing: str, codes: Sequence[str], template: str | None) -> dict[str, str]:
    from flows.deployments import FLOW_NAMES, deployment_name

    if template:  # e.g. "{flow}/pool" (entity given as a parameter) or "{flow}/{filing}-{entity}"
        return {c: template.format(filing=filing, entity=c, flow=FLOW_NAMES[filing]) for c in codes}
    return {c: deployment_name(filing, c) for c in codes}


def resolve_entity_launch(launch: str, names: dict[str, str]) -> str:
    mode = (launch or "auto").strip().lower()
    if mode not in LAUNCH_MODES:
        raise ValueError(f"launch {mode!r} is not one of {', '.join(LAUNCH_MODES)}")
    if mode != "auto":
        return mode
    from flows.deployments import deployments_available

    return "deployment" if deployments_available(names.values()) else "threads"


def run_local(filing: str, period: str, codes: Sequence[str], common: dict[str, Any], launch: str,
              max_parallel: int, dask_address: str | None) -> list[dict[str, Any]]:
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


def run_deployments(filing: str, period: str, codes: Sequence[str], common: dict[str, Any],
                    names: dict[str, str], wait_seconds: float, poll_seconds: float = 2.0
                    ) -> list[dict[str, Any]]:
    """``run_deployment`` every entity's deployment at once (children of this run), then wait for all."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.objects import FlowRun
    from prefect.deployments import run_deployment

    logger = get_run_logger()
    out: dict[str, dict[str, Any]] = {}
    submitted: dict[str, str] = {}
    for code in codes:
        try:
            run = cast(FlowRun, run_deployment(names[code], parameters=flow_parameters(filing, period, code,
                                                                                     common),
                                               timeout=0, as_subflow=True, tags=["filings-for-entities"]))
        except Exception as exc:  # noqa: BLE001 - a failed start is reported, the others still go
            out[code] = {"entity": code, "state": "NOT_STARTED", "ok": False, "bundle": None,
                         "message": f"{names[code]}: {type(exc).__name__}: {exc}"}
            continue
        logger.info("started %s %s %s as deployment %s (flow run %s)", filing, period, code, names[code],
                    run.id)
        submitted[code] = str(run.id)
    deadline = time.monotonic() + wait_seconds
    pending = dict(submitted)
    with get_client(sync_client=True) as client:
        while pending:
            for code, run_id in list(pending.items()):
                fr = client.read_flow_run(run_id)  # type: ignore[arg-type]
                if fr.state is not None and fr.state.type.value in FINAL:
                    out[code] = {"entity": code, "state": fr.state.type.value,
                                 "ok": fr.state.type.value == "COMPLETED", "bundle": None,
                                 "flow_run_id": run_id,
                                 "message": "" if fr.state.is_completed() else fr.state.message or ""}
                    del pending[code]
            if not pending or time.monotonic() > deadline:
                break
            time.sleep(poll_seconds)
    for code, run_id in pending.items():
        out[code] = {"entity": code, "state": "TIMED_OUT", "ok": False, "bundle": None,
                     "flow_run_id": run_id, "message": f"not finished within {wait_seconds:.0f} s"}
    return [out[c] for c in codes]


def _attach_bundles(outcomes: list[dict[str, Any]], filing: str, period: str, config: str | None,
                    workdir: str, before: dict[str, set[str]]) -> None:
    """Deployment children report no summary here: find each one's new committed bundle in the store."""
    store = open_store(load_settings(config).settings.archive, Path(workdir).resolve())
    for o in outcomes:
        if o["bundle"] is None and o["ok"]:
            new = sorted(set(store.list(filing, o["entity"], period)) - before.get(o["entity"], set()))
            if new:
                o["bundle"] = new[-1]
            else:
                o.update(ok=False, message="completed but no new committed bundle is in the archive")


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
              "accept_risk": accept_risk, "calendar_files": calendar_files or None}
    names = deployment_names(filing, codes, deployment)
    mode = resolve_entity_launch(launch, names)
    logger = get_run_logger()
    logger.info("%s %s for %d entities (%s) as %s", filing, period, len(codes), ", ".join(codes), mode)
    store = open_store(loaded.settings.archive, Path(work))
    before = {c: set(store.list(filing, c, period)) for c in codes}
    if mode == "deployment":
        outcomes = run_deployments(filing, period, codes, common, names, wait_seconds)
    else:
        outcomes = run_local(filing, period, codes, common, mode, max_parallel, dask_address)
    _attach_bundles(outcomes, filing, period, config, work, before)
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
