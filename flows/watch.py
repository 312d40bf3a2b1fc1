"""The deadline watcher flow: read calendar, filing rules and archive; start what is due; report and notify.

Composition only: the decisions are :func:`complaints.watch.decide`, the report
:class:`complaints.watch.WatchReport`, the delivery :func:`tasks.notify.deliver`.

How a filing is started (``launch``, or the ``COMPLAINTS_WATCHER_LAUNCH`` environment variable):

* ``deployment``: ``run_deployment`` of the filing's deployment (``flows.launch.deployment_name``,
  e.g. ``quarterly-filing/quarterly-HO``), linked to the watcher run as a child; the runs are
  submitted together and the watcher waits up to ``wait_seconds`` for them. Needs a Prefect server
  (``PREFECT_API_URL``) with the deployments served (``complaints serve``); a missing deployment is a
  failed start, never a silent fallback.
* ``subflow``: the filing flow is called in the watcher's own process, one after the other.
* ``auto`` (default): ``deployment`` when ``PREFECT_API_URL`` is set and the deployment exists,
  else ``subflow``; each run records which one was used.

The monthly publication tables are started like the filings (``monthly-publication/monthly-<HO>``), and
so is the weekly overdue publication (``weekly-overdue-publication/weekly-<HO>``) on the first working day
after its week; its escalations go to the notifier from its own run.
The watcher run ends **Failed** (with the one-line summary as its state message) when a filing is
late, a started run failed, a deadline cannot be computed, or a notification could not be delivered;
otherwise Completed with the same summary. Both publish a markdown and a table artifact.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any, Literal

from prefect import flow, get_run_logger
from prefect.artifacts import create_markdown_artifact, create_table_artifact
from prefect.states import Completed, Failed, State

from complaints.calendar import WorkCalendar
from complaints.periods import Period
from complaints.rectification import overdue_items
from complaints.times import now_local
from complaints.watch import (
    Decision,
    RunOutcome,
    WatchReport,
    decide,
    index_bundles,
    index_submissions,
    to_start,
    watched,
    years_to_watch,
)
from flows.filing import FILING_FLOWS, flow_parameters
from flows.launch import deployment_name, deployments_available, run_deployments
from tasks.archive.stores import Store, open_store, parse_bundle_id
from tasks.calendar_files import load_calendar
from tasks.config_files import Loaded, load_settings
from tasks.notify import channels, deliver, notice_for
from tasks.on_request_status import on_request_status, submitted_days
from tasks.submission import SubmissionRef
from tasks.submission import read_archive as read_store

LaunchMode = Literal["auto", "deployment", "subflow"]
LAUNCH_ENV = "COMPLAINTS_WATCHER_LAUNCH"


def read_archive(store: Store, public_key: str | None = None
                 ) -> dict[tuple[str, str, str], list[tuple[str, dt.date]]]:
    """The committed drafts by (filing, period, entity) (see :func:`complaints.watch.index_bundles`):
    only those whose marker and signed manifest are well-formed and whose signed identity matches the
    id (``tasks.archive.bundle.list_committed``), previews never; damaged ones are logged, never counted."""
    return read_drafts_and_submissions(store, public_key)[0]


def read_drafts_and_submissions(store: Store, public_key: str | None = None
                                ) -> tuple[dict[tuple[str, str, str], list[tuple[str, dt.date]]],
                                           list[SubmissionRef]]:
    """The committed drafts (indexed as :func:`read_archive`) and the recorded submissions."""
    listing = read_store(store, public_key)
    for bundle_id, why in listing.damaged:
        logging.getLogger(__name__).warning("damaged bundle (not counted): %s: %s", bundle_id, why)
    return index_bundles(parse_bundle_id(b) for b in listing.drafts), listing.submissions


def on_request_items(loaded: Loaded, workdir: Path, store: Store, day: dt.date, calendar: WorkCalendar
                     ) -> tuple[list[dict[str, Any]], list[str]]:
    """The forwarded-case and rectification reports to track (``tasks.on_request_status``): the saved
    requirements and the drafts archived for cases and requirements, each with its due date and state
    (filed only by a recorded submission, the first one deciding)."""
    listing = read_store(store, loaded.settings.archive.signing.public_key)
    return on_request_status(loaded, workdir, store, listing.drafts, day, calendar,
                             submitted=submitted_days(listing.submissions))


def load_inputs(config: str | None, workdir: str, calendar_files: Sequence[str] = ()
                ) -> tuple[Loaded, WorkCalendar, Store]:
    """Settings, working-day calendar and bundle store, as the filing flows load them."""
    loaded = load_settings(config)
    calendar = load_calendar(loaded.resolve(loaded.settings.calendar_dir), [Path(f) for f in calendar_files])
    return loaded, calendar, open_store(loaded.settings.archive, Path(workdir).resolve())


def resolve_launch(launch: str | None, names: Sequence[str]) -> Literal["deployment", "subflow"]:
    """The launch mode to use for this watcher run (rules: module docstring)."""
    mode = (launch or os.environ.get(LAUNCH_ENV) or "auto").strip().lower()
    if mode not in ("auto", "deployment", "subflow"):
        raise ValueError(f"launch mode {mode!r} is not one of auto, deployment, subflow "
                         f"(parameter `launch` or ${LAUNCH_ENV})")
    if mode == "auto":
        return "deployment" if deployments_available(names) else "subflow"
    return mode  # type: ignore[return-value]


def _parameters(d: Decision, config: str | None, workdir: str,
                calendar_files: Sequence[str]) -> dict[str, Any]:
    return flow_parameters(d.filing, d.period, d.entity, {
        "config": config, "workdir": workdir, "trigger": "deadline-watcher",
        "calendar_files": list(calendar_files) or None})


def start_as_deployments(todo: Sequence[Decision], config: str | None, workdir: str,
                         calendar_files: Sequence[str], wait_seconds: float,
                         poll_seconds: float = 3.0) -> list[RunOutcome]:
    """Submit every filing run to its deployment, then wait (up to ``wait_seconds`` overall)."""
    starts = [(d, deployment_name(d.filing, d.entity), _parameters(d, config, workdir, calendar_files))
              for d in todo]
    return [RunOutcome(r.key.filing, r.key.period, r.key.entity, "deployment", r.ok, r.state, r.message,
                       r.flow_run_id)
            for r in run_deployments(starts, ["deadline-watcher"], wait_seconds, poll_seconds)]


def start_as_subflows(todo: Sequence[Decision], config: str | None, workdir: str,
                      calendar_files: Sequence[str]) -> list[RunOutcome]:
    """Run every filing flow in this process, one after the other, as child flow runs."""
    out: list[RunOutcome] = []
    for d in todo:
        fn = FILING_FLOWS[d.filing][0]
        state = fn(**_parameters(d, config, workdir, calendar_files), return_state=True)  # type: ignore[operator]
        ok = state.is_completed()
        out.append(RunOutcome(d.filing, d.period, d.entity, "subflow", ok, state.type.value,
                              "" if ok else (state.message or ""), str(state.state_details.flow_run_id)))
    return out


def _with_bundles(runs: Sequence[RunOutcome], decisions: Sequence[Decision]) -> list[RunOutcome]:
    """Attach the committed bundle to each run; a run that completed without one did not file."""
    by_key = {d.key: d for d in decisions}
    out = []
    for r in runs:
        d = by_key.get((r.filing, r.period, r.entity))
        bundle = d.bundle if d else None
        if r.ok and bundle is None:
            r = replace(r, ok=False, message="completed but no committed bundle is in the archive")
        out.append(replace(r, bundle=bundle))
    return out


def publish(report: WatchReport) -> None:
    """Prefect artifacts: the summary (markdown) and the watched filings (table)."""
    create_markdown_artifact(key="deadline-watch", markdown=report.markdown(),
                             description=report.message())
    create_table_artifact(key="deadline-watch-filings", table=report.rows(),
                          description=f"Filings watched on {report.today}")


@flow(name="deadline-watcher", log_prints=True)
def deadline_watcher(
    today: str | None = None,
    config: str | None = None,
    workdir: str = ".",
    start_runs: bool = True,
    launch: str | None = None,
    lookback_days: int = 31,
    wait_seconds: float = 3600.0,
    notify: bool = True,
    calendar_files: list[str] | None = None,
    redraft: bool = False,
) -> State[Any]:
    """Daily: start the filings whose run window opened and that have no draft yet (``redraft``: also
    those with one, not yet submitted), report what is due / at risk / late (every late unsubmitted
    filing, however old) / failed (artifacts, state message, webhook/e-mail)."""
    logger = get_run_logger()
    day = dt.date.fromisoformat(today) if today else now_local().date()
    files = list(calendar_files or [])
    loaded, calendar, store = load_inputs(config, workdir, files)
    settings = loaded.settings
    config_path, work = str(loaded.path), str(Path(workdir).resolve())

    def current() -> list[Decision]:
        drafts, submissions = read_drafts_and_submissions(store, settings.archive.signing.public_key)
        submitted = index_submissions(submissions)
        # a draft never submitted keeps its year watched, however old
        years = set(years_to_watch(day)) | {Period.parse(k[1]).year for k in drafts if k not in submitted}
        all_ = decide(day, settings.entities, calendar, settings.filings, drafts, sorted(years),
                      submitted=submitted, redraft=redraft)
        return watched(all_, day, lookback_days, settings.schedules.watch_from)

    decisions = current()
    todo = to_start(decisions, day, lookback_days)
    runs: list[RunOutcome] = []
    if start_runs and todo:
        mode = resolve_launch(launch, [deployment_name(d.filing, d.entity) for d in todo])
        logger.info("starting %d filing run(s) as %s: %s", len(todo), mode,
                    ", ".join(f"{d.filing} {d.period} {d.entity}" for d in todo))
        if mode == "deployment":
            runs = start_as_deployments(todo, config_path, work, files, wait_seconds)
        else:
            runs = start_as_subflows(todo, config_path, work, files)
        decisions = current()
        runs = _with_bundles(runs, decisions)
    elif todo:
        logger.info("start_runs is off: %d filing(s) would be started", len(todo))

    on_request, on_request_problems = on_request_items(loaded, Path(workdir).resolve(), store, day, calendar)
    for problem in on_request_problems:
        logger.error("on-request filing not tracked: %s", problem)
    report = WatchReport(day, tuple(decisions), tuple(runs), on_request=tuple(on_request),
                         rectification_overdue=tuple(overdue_items(settings.rectification_items, day)))
    notifier = settings.schedules.notifier
    if notify and report.needs_notice and channels(notifier):
        deliveries = deliver(notifier, notice_for(report))
        for dl in deliveries:
            (logger.info if dl.ok else logger.error)("notification %s: %s", dl.channel, dl.detail)
        report = replace(report, delivery_errors=tuple(f"{dl.channel}: {dl.detail}" for dl in deliveries
                                                       if not dl.ok))
    publish(report)
    for line in report.problems:
        logger.error(line)
    summary = {"today": day.isoformat(), "ok": report.ok, "message": report.message(),
               "problems": report.problems, "decisions": report.rows(),
               "runs": [r.to_row() for r in report.runs]}
    if report.ok:
        return Completed(message=report.message(), data=summary)
    return Failed(message=report.message(), data=summary)
