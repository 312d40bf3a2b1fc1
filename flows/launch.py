"""Starting child flow runs: deployment names, whether deployments exist, and one ``run_deployment``
+ polling loop for the fan-out over entities and the deadline watcher. Composition only."""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, cast

from prefect import get_run_logger
from prefect.client.orchestration import get_client
from prefect.client.schemas.objects import FlowRun
from prefect.deployments import run_deployment
from prefect.exceptions import ObjectNotFound
from prefect.settings import PREFECT_API_URL

from complaints.filings import FILING_KINDS, filing_kind

FINAL = {"COMPLETED", "FAILED", "CRASHED", "CANCELLED"}
#: Prefect flow names of the startable filings
FLOW_NAMES: dict[str, str] = {k.name: k.flow_name for k in FILING_KINDS.values()}


def deployment_name(filing: str, entity: str) -> str:
    """``<flow name>/<filing>-<entity code>``, e.g. ``quarterly-filing/quarterly-HO``."""
    try:
        kind = filing_kind(filing)
    except ValueError:
        known = ", ".join(FLOW_NAMES)
        raise ValueError(f"no flow for the {filing} filing (flows exist for: {known})") from None
    return f"{kind.flow_name}/{filing}-{entity}"


def deployments_available(names: Iterable[str]) -> bool:
    """True when a Prefect server is configured (``PREFECT_API_URL``) and every named deployment exists."""
    wanted = list(names)
    if not wanted or not PREFECT_API_URL.value():
        return False
    with get_client(sync_client=True) as client:
        for name in wanted:
            try:
                client.read_deployment_by_name(name)
            except ObjectNotFound:
                return False
    return True


@dataclass(frozen=True)
class ChildRun:
    """What became of one deployment run started by :func:`run_deployments`."""

    key: Any  # the caller's key (an entity code, a watcher decision)
    deployment: str
    state: str  # a final Prefect state type, or NOT_STARTED / TIMED_OUT
    message: str
    flow_run_id: str | None = None

    @property
    def ok(self) -> bool:
        return self.state == "COMPLETED"


def run_deployments(starts: Sequence[tuple[Any, str, dict[str, Any]]], tags: list[str], wait_seconds: float,
                    poll_seconds: float = 2.0) -> list[ChildRun]:
    """Start every ``(key, deployment, parameters)`` at once as a child of the current flow run, then wait
    up to ``wait_seconds`` overall for all of them; one :class:`ChildRun` per start, in order."""
    logger = get_run_logger()
    out: dict[int, ChildRun] = {}
    pending: dict[int, str] = {}
    for i, (key, name, parameters) in enumerate(starts):
        try:
            run = cast(FlowRun, run_deployment(name, parameters=parameters, timeout=0, as_subflow=True,
                                               tags=tags))
        except Exception as exc:  # noqa: BLE001 - a failed start is reported, the others still go
            out[i] = ChildRun(key, name, "NOT_STARTED", f"{name}: {type(exc).__name__}: {exc}")
            continue
        logger.info("started deployment %s (flow run %s)", name, run.id)
        pending[i] = str(run.id)
    deadline = time.monotonic() + wait_seconds
    with get_client(sync_client=True) as client:
        while pending:
            for i, run_id in list(pending.items()):
                fr = client.read_flow_run(run_id)  # type: ignore[arg-type]
                if fr.state is not None and fr.state.type.value in FINAL:
                    out[i] = ChildRun(starts[i][0], starts[i][1], fr.state.type.value,
                                      fr.state.message or "", run_id)
                    del pending[i]
            if not pending or time.monotonic() > deadline:
                break
            time.sleep(poll_seconds)
    for i, run_id in pending.items():
        out[i] = ChildRun(starts[i][0], starts[i][1], "TIMED_OUT",
                          f"not finished within {wait_seconds:.0f} s", run_id)
    return [out[i] for i in range(len(starts))]
