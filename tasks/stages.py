"""The five stages of a filing run (extract → validate → compute → render → archive) as plain functions.

Each takes the :class:`~tasks.runs.RunContext` and the previous stage's plain value, does its I/O, writes
its part of the bundle payload into the staging directory, and returns plain values. The Prefect task
wrappers at the bottom add names, retries and no caching; ``flows/`` composes them.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import shutil
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

import pandas as pd
from prefect import task
from prefect.cache_policies import NONE

from complaints.callback import run_seed
from complaints.deadlines import due_date
from complaints.figures import (
    FiguresResult,
    compute_figures,
    flatten,
    month_rows,
    monthly_figures,
    quarter_trend,
)
from complaints.filings import filing_kind, preview_mark
from complaints.ledger import local_dates
from complaints.masking import mask_frame
from complaints.periods import Period
from complaints.rectification import measure_all
from complaints.settings import Settings
from complaints.times import TZ, iso_local, now_local
from tasks import lookup
from tasks.archive.bundle import BundleError, BundleRef, archive_bundle, bag_info_from_run
from tasks.archive.stores import new_bundle_id, open_store
from tasks.benchmarks import reference_for
from tasks.callback_results import results_figures, stage_callback_results, write_errors
from tasks.memory import release_memory
from tasks.penalties import penalties_figures
from tasks.quality import GateResult, run_quality_gate, run_quality_gate_owned, write_quality_outputs
from tasks.render import (
    QualitySummary,
    RenderResult,
    context_from_settings,
    render_annual,
    render_quarterly,
    write_monthly_workbook,
)
from tasks.rulebooks import load_rulebooks, rulebook_files
from tasks.runs import (
    RunBlocked,
    RunContext,
    code_version,
    is_disk_full,
    package_versions,
    stage_inputs,
    write_frames,
    write_json,
)
from tasks.sources import Extract, extract_period
from tasks.weekly import render_weekly, weekly_figures
from tasks.xlsx_safe import write_frames_xlsx

log = logging.getLogger("complaints.run")

#: matplotlib's pyplot and rcParams are process-global: parallel entity runs in threads render one at a time
_RENDER_LOCK = threading.Lock()

def rulebooks_dir(ctx: RunContext) -> Path:
    return ctx.loaded.resolve(ctx.loaded.settings.rulebooks_dir)


# -- 1. extract --------------------------------------------------------------------------------------
def extract(ctx: RunContext) -> Extract:
    """Read the sources in one snapshot; stage the inputs used and the extract as read."""
    stage_inputs(ctx, rulebook_files(rulebooks_dir(ctx)))
    if ctx.filing == "monthly":  # the filled-in call lists, read back from the bundle's copies
        stage_callback_results(ctx)
    result = extract_period(ctx.loaded, ctx.period, ctx.as_of, entity=ctx.entity.code, workdir=ctx.workdir)
    extract_dir = ctx.staging / "extract"
    unmasked = {"exposure": result.exposure, "events": result.events}
    if result.penalties is not None:  # a source has the penalties side table (投诉罚单)
        unmasked["penalties"] = result.penalties
    # the tables with nothing to mask are written while the ledger is masked (0.7 s at 1M rows)
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="extract-write") as pool:
        written = pool.submit(write_frames, extract_dir, unmasked)
        ledger = result.ledger
        if not ctx.loaded.settings.archive.include_personal_data:
            ledger = mask_frame(ledger)  # free text and policy numbers; no figure depends on them
        frames = {"ledger": ledger}
        if not result.branch_errors.empty:
            frames["branch_errors"] = mask_frame(result.branch_errors)
            ctx.output_dir.mkdir(parents=True, exist_ok=True)
            write_frames_xlsx(ctx.output_dir / f"branch-errors-{ctx.period.code}-{ctx.entity.code}.xlsx",
                              {"Sheet1": frames["branch_errors"]})
        write_frames(extract_dir, frames)
        written.result()  # a failed write raises here
    del frames, ledger, unmasked
    release_memory()  # the masked copy and Parquet's buffers
    for source in result.sources:
        for name in source.get("unreadable") or []:
            ctx.incomplete.append(f"source {source['name']}: {name} could not be read and was left out")
    write_json(extract_dir / "extract.json", result.summary())
    log.info("extracted %d ledger rows, %d exposure rows, %d events from %d source(s)",
             len(result.ledger), len(result.exposure), len(result.events), len(result.sources))
    return result


# -- 2. validate -------------------------------------------------------------------------------------
def validate(ctx: RunContext, data: Extract, accept_empty: str | None = None) -> GateResult:
    """Run the quality gate; quarantine failing rows; stop on a blocking table-level failure, and on a
    period without a single accepted complaint unless ``accept_empty`` (the officer's reason) is given.

    The gate takes over the extract's frames (``data.ledger``, ``.exposure``, ``.events`` are left
    empty; the extract was written out by :func:`extract`): the rows as read are freed as soon as their
    quarantine is taken, so the accepted copy does not sit beside them."""
    frames: dict[str, pd.DataFrame | None] = {
        "ledger": data.ledger, "exposure": data.exposure, "events": data.events}
    data.ledger, data.exposure, data.events = (empty_like(data.ledger), empty_like(data.exposure),
                                               empty_like(data.events))
    gate = run_quality_gate_owned(frames, period=ctx.period, as_of=ctx.as_of, accept_risk=ctx.accept_risk)
    release_memory(collect=True)  # GX's copies of the frames (held in reference cycles)
    paths = write_quality_outputs(gate, ctx.staging / "quality")
    release_memory(collect=True)  # the quarantine workbook's and the data docs' working copies
    ctx.output_dir.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(paths["quarantine_xlsx"],
                    ctx.output_dir / f"quarantine-{ctx.period.code}-{ctx.entity.code}.xlsx")
    rec = gate.reconciliation["ledger"]
    log.info("quality gate: ledger rows read %d = accepted %d + quarantined %d; %d checks, %d failed",
             rec["read"], rec["accepted"], rec["quarantined"], len(gate.results),
             sum(not r.passed for r in gate.results))
    if gate.blocked:
        failures = "; ".join(f"{r.id} {r.description_en}" for r in gate.blocking_failures)
        raise RunBlocked(
            f"the quality gate stopped the {ctx.filing} filing for {ctx.entity.code} {ctx.period.code}: "
            f"{failures}. Details: {ctx.staging / 'quality'}. Fix the source data, or, if the officer "
            f"accepts the risk, re-run with --accept-risk \"reason\" (recorded in the filing)."
        )
    if not accept_empty_reason(accept_empty) and relevant_complaints(ctx, gate) == 0:
        raise RunBlocked(empty_message(ctx, data, gate))
    return gate


def accept_empty_reason(text: str | None) -> str | None:
    """The officer's acknowledgement of an empty period, stripped (blank: none given)."""
    return text.strip() if text and text.strip() else None


def period_complaints(gate: GateResult, period: Period) -> int:
    """Accepted ledger rows received in ``period``: 0 means the filing would report 0 cases."""
    received = gate.ledger["received_at"]
    return int(((received >= pd.Timestamp(period.start)) & (received < pd.Timestamp(period.end))).sum())


def relevant_complaints(ctx: RunContext, gate: GateResult) -> int:
    """What makes a run non-empty: the period's complaints; for the weekly publication any accepted case
    read (a week without new complaints still publishes the cases open and overdue at its end)."""
    return len(gate.ledger) if ctx.filing == "weekly" else period_complaints(gate, ctx.period)


def empty_message(ctx: RunContext, data: Extract, gate: GateResult) -> str:
    """Why an empty period stops the run: the period, each source and what it yielded, what to do."""
    sources = "; ".join(
        f"source {s.get('name')} ({s.get('kind')}) yielded {int((s.get('rows') or {}).get('ledger', 0))} "
        f"ledger row(s)" for s in data.sources) or "no source yielded any ledger row"
    rec = gate.reconciliation["ledger"]
    quarantined = f", {rec['quarantined']} of them quarantined" if rec["quarantined"] else ""
    return (
        f"no complaint received in {ctx.period.code} for {ctx.entity.code}: {sources} "
        f"(read {rec['read']} in all the periods read{quarantined}). A {ctx.filing} filing of 0 cases with "
        f"rates of 0.00 is not made on an empty source: check the source (files, query, export window), or, "
        f"if there really were no complaints, re-run with --accept-empty \"reason\" (recorded in the filing "
        f"and its bundle)."
    )


def empty_like(frame: pd.DataFrame) -> pd.DataFrame:
    """No rows, the same columns and dtypes, and no reference to ``frame``'s data (``frame.iloc[:0]`` is a
    view: it keeps every column's buffers alive)."""
    return pd.DataFrame({c: pd.Series([], dtype=frame[c].dtype) for c in frame.columns})


def gate_frames(ledger: pd.DataFrame, exposure: pd.DataFrame, events: pd.DataFrame, period: Period,
                as_of: dt.datetime, accept_risk: str | None) -> GateResult:
    """The gate as the flow runs it (also used by ``bundles reproduce``)."""
    return run_quality_gate(ledger, exposure, events, period=period, as_of=as_of, accept_risk=accept_risk)


# -- 3. compute --------------------------------------------------------------------------------------
@dataclass
class Computed:
    result: FiguresResult
    trend: list[dict[str, Any]]
    due: dt.date | None
    due_error: str | None
    # the officer's acknowledgement that the period has no complaint (set only when it has none)
    accept_empty: str | None = None
    # annual: the configured rectification items measured up to the year's end (figures/rectification.json)
    rectification: list[dict[str, Any]] = field(default_factory=list)

    @property
    def figures(self) -> dict[str, Any]:
        return self.result.figures


def compute(ctx: RunContext, gate: GateResult, accept_empty: str | None = None) -> Computed:
    """Figures and lineage for the period (FIGURES.md; for the monthly tables the counts behind them),
    the trend of earlier quarters, the due date; ``accept_empty`` is kept when the period is empty."""
    settings = ctx.loaded.settings
    result = figures_for(ctx, gate, ctx.period, load_rulebooks(rulebooks_dir(ctx)))
    trend = [] if ctx.period.kind in ("month", "week") else quarter_trend(
        gate.ledger, trend_quarters(ctx.period), entity=ctx.entity.code,
        head_office=settings.head_office.code)
    figures_dir = ctx.staging / "figures"
    write_json(figures_dir / "figures.json", result.figures)
    pd.DataFrame(flatten(result.figures), columns=["key", "value"]).to_csv(
        figures_dir / "figures.csv", index=False)
    result.lineage.to_parquet(figures_dir / "lineage.parquet", index=False)
    due, error = None, None
    try:
        due = due_date(cast(Any, ctx.filing), ctx.period, ctx.entity.level, ctx.calendar, settings.filings)
    except ValueError as exc:  # UnknownCalendarYear: said plainly, never guessed
        error = str(exc)
    reason = accept_empty_reason(accept_empty)
    empty = reason if reason and relevant_complaints(ctx, gate) == 0 else None
    if empty:
        log.warning("no complaint in %s; filed on the officer's acknowledgement: %s", ctx.period.code, empty)
    rectification = measured_items(ctx, gate.ledger, settings) if ctx.filing == "annual" else []
    if rectification:
        write_json(figures_dir / "rectification.json", rectification)
    return Computed(result, trend, due, error, empty, rectification)


def measured_items(ctx: RunContext, ledger: pd.DataFrame, settings: Settings) -> list[dict[str, Any]]:
    """Each configured rectification item opened by the period's end, with its measurement over the
    accepted rows (baseline quarter and each quarter since, up to the period's end)."""
    items = {i.id: i for i in settings.rectification_items}
    measured = measure_all(ledger, list(items.values()), as_of=ctx.as_of, entity=ctx.entity.code,
                           head_office=settings.head_office.code, until=ctx.period)
    return [{**items[m["id"]].model_dump(mode="json"), "measured": m} for m in measured]


def figures_for(ctx: RunContext, gate: GateResult, period: Period, rulebooks: Any) -> FiguresResult:
    """The figures of ``period`` over the gate's accepted rows (the monthly tables' counts for a month)."""
    settings = ctx.loaded.settings
    rec = gate.reconciliation["ledger"]
    rows = {"read": rec["read"], "accepted": rec["accepted"], "quarantined": rec["quarantined"]}
    if period.kind == "week":
        return weekly_figures(ctx, gate, period, rulebooks, rows)
    if period.kind == "month":
        return monthly_figures(gate.ledger, month=period, as_of=ctx.as_of, entity=ctx.entity.code,
                               names={e.code: e.name for e in settings.entities}, rows=rows,
                               callback=callback_arguments(ctx, period, rulebooks),
                               callback_results=results_figures(ctx, period),
                               penalties=penalties_figures(ctx, period))
    return compute_figures(
        gate.ledger, period=period, as_of=ctx.as_of, calendar=ctx.calendar, rulebooks=rulebooks,
        exposure=gate.exposure, events=gate.events, entity=ctx.entity.code,
        head_office=settings.head_office.code, major=settings.major,
        department_targets=settings.department_targets, rows=rows, reference=reference_for(ctx.loaded))


def callback_arguments(ctx: RunContext, period: Period, rulebooks: Any) -> dict[str, Any]:
    """The monthly call-back sample's inputs: the seed comes from the run id (recorded in run.json), so
    ``bundles reproduce`` redraws the same sample."""
    settings = ctx.loaded.settings
    return {"calendar": ctx.calendar, "rulebooks": rulebooks, "seed": run_seed(ctx.run_id, period.code),
            "share": settings.publications.callback_sample_share, "head_office": settings.head_office.code}


def trend_quarters(period: Period) -> list[Period]:
    """Trend chart quarters: the last five up to a quarter, or the last eight up to a year's end."""
    last = period if period.kind == "quarter" else Period("quarter", period.year, 4)
    return [last.shift(-k) for k in range(7 if period.kind == "year" else 4, -1, -1)]


def open_cases(ledger: pd.DataFrame, period: Period) -> pd.DataFrame:
    """Accepted cases received by the period's last day with no decision and not closed (the reports
    say why they are still open)."""
    if ledger.empty or "decided_at" not in ledger:
        return ledger.iloc[0:0]
    received = pd.Series(local_dates(pd.to_datetime(ledger["received_at"]).astype("datetime64[us]")),
                         index=ledger.index)
    undecided = ledger["decided_at"].isna() & ledger["closed_at"].isna()
    accepted = ledger["accepted"].fillna(True).astype(bool) if "accepted" in ledger else True
    return ledger[undecided & accepted & (received <= pd.Timestamp(period.last_day))]


# -- 4. render ---------------------------------------------------------------------------------------
def render(ctx: RunContext, gate: GateResult, computed: Computed,
           settings: Settings | None = None) -> RenderResult:
    """The filing document (DOCX; XLSX for the monthly tables), for the officer (output dir, under a new
    versioned name) and byte-for-byte in the bundle. ``settings``: what the content is made from (default
    the run's; ``complaints render`` passes the archived bundle's); where the templates and the narrative
    are found is always the run's own configuration and working directory (``tasks/lookup.py``)."""
    settings = settings or ctx.loaded.settings
    if ctx.filing == "monthly":
        write_errors(ctx, computed.figures.get("callback_results"))
        return _publish_file(ctx, render_monthly(ctx, gate.ledger, settings, computed.figures.get("callback"),
                                                 computed.figures.get("penalties")))
    if ctx.filing == "weekly":
        return _publish_file(ctx, render_weekly(ctx, gate.ledger, computed.figures))
    failed = [(f"{r.id} {r.description_zh}", r.failing_rows) for r in gate.results if not r.passed]
    rec = gate.reconciliation["ledger"]
    quality = QualitySummary(rows_read=rec["read"], rows_accepted=rec["accepted"],
                             rows_quarantined=rec["quarantined"], checks_run=len(gate.results),
                             failed_checks=failed, accept_risk=gate.accept_risk,
                             accept_empty=computed.accept_empty)
    major_ids = set(computed.result.ids("counts.major_cases"))
    # all major cases: the renderer picks what the list shows (forwarded, media, group, undecided first)
    major = gate.ledger[gate.ledger["complaint_id"].isin(major_ids)]
    rctx = context_from_settings(
        settings, period=ctx.period.code, run_id=ctx.run_id, generated_at=ctx.started_at,
        entity_code=ctx.entity.code, narrative_dir=entity_narrative_dir(ctx),
        quality=quality, major_cases=major, trend=computed.trend,
        open_cases=open_cases(gate.ledger, ctx.period), rectification=computed.rectification,
        **render_overrides(ctx))
    stage_narrative(ctx)
    out = document_path(ctx, ".docx")
    renderer = render_quarterly if ctx.filing == "quarterly" else render_annual
    with _RENDER_LOCK:
        result = renderer(computed.figures, rctx, out)
    return _publish_file(ctx, result)


def entity_narrative_dir(ctx: RunContext) -> Path:
    """``<workdir>/<rendering.narrative_dir>/<ENTITY>``: the entity's own narratives, no fallback."""
    return lookup.narrative_dir(ctx.workdir / ctx.loaded.settings.rendering.narrative_dir, ctx.entity.code)


def narrative_file(ctx: RunContext) -> Path:
    return entity_narrative_dir(ctx) / f"{ctx.period.code}.yaml"


def check_narrative(ctx: RunContext) -> None:
    """Refuse a broken narrative file before any extraction (one line: file and line, exit 2)."""
    lookup.check_narrative(narrative_file(ctx))


def stage_narrative(ctx: RunContext) -> None:
    """Bundle the narrative the document was made with (``narratives/<ENTITY>/<period>.yaml``)."""
    src = narrative_file(ctx)
    if src.is_file():
        dst = ctx.staging / "narratives" / ctx.entity.code / src.name
        dst.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(src, dst)


def render_overrides(ctx: RunContext) -> dict[str, Any]:
    """The entity's template folder (``tasks/lookup.py``) and, for a preview, the page mark."""
    out: dict[str, Any] = {}
    template = filing_kind(ctx.filing).template
    if template:
        dirs = lookup.template_dirs(ctx.loaded.settings, ctx.loaded.config_dir, ctx.entity.code)
        out["templates_dir"] = lookup.find_template(template, dirs).parent
    if ctx.preview:
        out["preview_mark"] = preview_mark(ctx.as_of.date())
    return out


def render_monthly(ctx: RunContext, ledger: pd.DataFrame, settings: Settings | None = None,
                   callback: dict[str, Any] | None = None, penalties: dict[str, Any] | None = None
                   ) -> RenderResult:
    """The monthly publication workbook (three sheets, personal data masked) of the accepted ``ledger``'s
    records received in the month, into the output dir."""
    settings = settings or ctx.loaded.settings
    rows = month_rows(ledger, ctx.period)
    rctx = context_from_settings(settings, period=ctx.period.code, run_id=ctx.run_id,
                                 generated_at=ctx.started_at, entity_code=ctx.entity.code,
                                 narrative_dir=entity_narrative_dir(ctx), **render_overrides(ctx))
    return RenderResult(write_monthly_workbook(rows, ctx.period.code, rctx, document_path(ctx, ".xlsx"),
                                               callback=callback, penalties=penalties), [])


def document_path(ctx: RunContext, suffix: str) -> Path:
    """``<output dir>/<company>-<entity>-<period>-<filing title>[-预览稿]-v<N><suffix>``, N the first version
    not in the folder: a run never overwrites a document the officer may have edited, and the versions
    sort in the order they were made (the bundle holds the exact draft, named the same)."""
    company = ctx.loaded.settings.company
    base = f"{company.short_name or company.name}-{ctx.entity.code}-{ctx.period.code}-" \
           f"{filing_kind(ctx.filing).title_zh}" + ("-预览稿" if ctx.preview else "")
    n = 1
    while (ctx.output_dir / f"{base}-v{n}{suffix}").exists():
        n += 1
    return ctx.output_dir / f"{base}-v{n}{suffix}"


def _publish_file(ctx: RunContext, result: RenderResult) -> RenderResult:
    """Copy the rendered document into the bundle, byte for byte."""
    (ctx.staging / "filings").mkdir(parents=True, exist_ok=True)
    shutil.copyfile(result.path, ctx.staging / "filings" / result.path.name)
    if result.incomplete:
        log.warning("filing incomplete: %s", "; ".join(result.incomplete))
    return result


# -- 5. archive --------------------------------------------------------------------------------------
def archive(ctx: RunContext, gate: GateResult, computed: Computed, rendered: RenderResult) -> BundleRef:
    """Write run.json, bag and sign the staging directory, upload it, commit it."""
    settings = ctx.loaded.settings
    store = open_store(settings.archive, ctx.workdir)
    bundle_id = new_bundle_id(ctx.filing, ctx.entity.code, ctx.period.code, ctx.run_id,
                              dt.datetime.now(dt.UTC), preview=ctx.preview)
    if (ctx.staging / "bagit.txt").is_file():  # a retry: the earlier attempt sealed the bag; reuse it
        run = load_run(ctx.staging / "data")
        ref = archive_bundle(ctx.staging, bundle_id, store, bag_info_from_run(run), settings.archive.signing)
        log.info("archived bundle %s (%d files) at %s", ref.bundle_id, ref.files, ref.location)
        return ref
    finished = now_local()
    rec = gate.reconciliation["ledger"]
    run = {
        **ctx.describe(),
        "finished_at": iso_local(finished),
        "code_version": code_version(),
        "package_versions": package_versions(),
        "rows": {"read": rec["read"], "accepted": rec["accepted"], "quarantined": rec["quarantined"]},
        "incomplete": [*ctx.incomplete, *rendered.incomplete],
        "due": computed.due.isoformat() if computed.due else None,
        "due_error": computed.due_error,
        "accept_empty": computed.accept_empty,
        "timezone": TZ,
    }
    write_json(ctx.staging / "run.json", run)
    ref = archive_bundle(ctx.staging, bundle_id, store, bag_info_from_run(run), settings.archive.signing)
    log.info("archived bundle %s (%d files) at %s", ref.bundle_id, ref.files, ref.location)
    return ref


def load_run(bag_data: Path) -> dict[str, Any]:
    return json.loads((bag_data / "run.json").read_text(encoding="utf-8"))


# -- Prefect task wrappers (call ``.fn`` to run without Prefect) -------------------------------------
extract_task = task(name="extract", cache_policy=NONE, retries=0)(extract)
validate_task = task(name="validate", cache_policy=NONE)(validate)
compute_task = task(name="compute", cache_policy=NONE)(compute)
render_task = task(name="render", cache_policy=NONE)(render)


def _transient(task: Any, run: Any, state: Any) -> bool:
    """Retry the archive only for store errors (network, endpoint), not for a missing key or bad bag."""

    try:
        state.result()
    except BundleError:
        return False
    except Exception as exc:  # noqa: BLE001 - any other failure of the upload may be transient,
        return not is_disk_full(exc)  # but a full disk stays full for the next 5 s: fail now, clearly
    return False


archive_task = task(name="archive", cache_policy=NONE, retries=2, retry_delay_seconds=5,
                    retry_condition_fn=_transient)(archive)
