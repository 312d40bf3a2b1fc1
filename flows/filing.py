"""The filing flows: quarterly report, annual self-inspection and the monthly publication tables.
Composition only.

extract → validate → compute → render → archive; each stage is a Prefect task around a plain function
in ``tasks/stages.py``. Figures and the summary are published as Prefect artifacts. One run holds the
per-(filing, entity, period) run lock (``tasks.runs.run_lock``) from extract to commit. The fan-out of a
filing over entities is ``flows/fanout.py``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, TypedDict

from prefect import flow
from prefect.artifacts import create_markdown_artifact, create_table_artifact
from prefect.context import FlowRunContext

from complaints.figures import flatten
from complaints.filings import FILING_KINDS, filing_kind
from complaints.masking import mask_value
from complaints.periods import Period
from complaints.settings import redact_text
from complaints.times import now_local, parse_local
from flows.weekly import weekly_publication
from tasks import stages
from tasks.archive.bundle import load_private_key
from tasks.calendar_files import load_calendar
from tasks.config_files import load_settings
from tasks.memory import tune
from tasks.runs import RunContext, attach_run_log, detach_run_log, run_lock


class RowCounts(TypedDict):
    read: int
    accepted: int
    quarantined: int


class Headline(TypedDict):
    """The figures the run prints; the monthly tables have counts only (rates are None)."""

    cases: int
    contacts: int
    valid_cases: int
    regulator_forwarded_cases: int
    timeliness_rate: float | None
    satisfaction_rate: float | None
    per_100m_premium: float | None


class FilingSummary(TypedDict):
    """What one filing run returns (the CLI prints it; ``--json`` prints it as is)."""

    filing: str
    period: str
    entity: str
    run_id: str
    as_of: str
    rows: RowCounts
    headline: Headline
    due: str | None
    due_error: str | None
    document: str
    incomplete: list[str]
    bundle: str
    bundle_location: str
    signed: bool
    quarantine_xlsx: str
    accept_risk: str | None
    accept_empty: str | None  # the officer's acknowledgement of a period without complaints


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
    expected = filing_kind(filing).period_kind
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


def run_stages(ctx: RunContext, accept_empty: str | None = None) -> FilingSummary:
    """The five stages under the run lock (a concurrent run of the same filing/entity/period is refused).

    A period without a single accepted complaint stops the run at the gate unless ``accept_empty`` (the
    officer's reason) is given; it is then recorded in run.json and the document's data-quality annex."""
    tune()  # Arrow's allocator, before the first frame: every run (CLI, deployment, worker) starts here
    with run_lock(ctx):
        handler = attach_run_log(ctx)
        try:
            data = stages.extract_task(ctx)
            gate = stages.validate_task(ctx, data, accept_empty)
            computed = stages.compute_task(ctx, gate, accept_empty)
            rendered = stages.render_task(ctx, gate, computed)
        finally:
            detach_run_log(handler)  # the log is sealed before bagging: a retried archive finds it intact
        ref = stages.archive_task(ctx, gate, computed, rendered)
    summary = summarize(ctx, gate, computed, rendered, ref)
    publish(summary, computed.figures)
    return summary


def summarize(ctx: RunContext, gate: Any, computed: Any, rendered: Any, ref: Any) -> FilingSummary:
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
        "accept_empty": computed.accept_empty,
    }


def publish(summary: FilingSummary, figures: dict[str, Any]) -> None:
    """Prefect artifacts: the figures table and a markdown summary of the run. Figure keys can carry
    source values (an unknown channel in a breakdown) and the summary file names: both are masked and
    redacted like every other exit."""

    def safe(value: Any) -> Any:
        return mask_value(redact_text(value)) if isinstance(value, str) else value

    key = f"{summary['filing']}-{summary['entity']}-{summary['period']}".lower().replace("_", "-")
    create_table_artifact(
        key=f"figures-{key}",
        description=f"Figures {summary['entity']} {summary['period']}",
        table=[
            {"figure": safe(k), "value": safe(v)}
            for k, v in flatten(figures)
            if not isinstance(v, (dict, list))
        ],
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
    create_markdown_artifact(key=f"summary-{key}", markdown=safe("\n".join(lines)))


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
    accept_empty: str | None = None,
) -> FilingSummary:
    """季度投诉处理工作情况报告: one quarter, one entity, one bundle."""
    ctx = make_context(
        "quarterly", period, entity, as_of, config, workdir, trigger, accept_risk, calendar_files
    )
    return run_stages(ctx, accept_empty)


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
    accept_empty: str | None = None,
) -> FilingSummary:
    """年度投诉处理工作自查报告: one year, one entity, one bundle."""
    ctx = make_context("annual", year, entity, as_of, config, workdir, trigger, accept_risk, calendar_files)
    return run_stages(ctx, accept_empty)


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
    accept_empty: str | None = None,
) -> FilingSummary:
    """月度投诉通报 (投诉处理汇总表, 各地投诉案件分类汇总表, 案件处理明细表): one month (``YYYY-MM``), the
    head office's publication over every entity by default, one bundle."""
    ctx = make_context("monthly", month, entity, as_of, config, workdir, trigger, accept_risk, calendar_files)
    return run_stages(ctx, accept_empty)


_FLOWS = {"quarterly": quarterly_filing, "annual": annual_self_inspection, "monthly": monthly_publication,
          "weekly": weekly_publication}
#: each filing's flow and the name of its period parameter
FILING_FLOWS: dict[str, tuple[Any, str]] = {
    k: (_FLOWS[k], kind.period_param) for k, kind in FILING_KINDS.items()}


def flow_parameters(filing: str, period: str, entity: str, common: dict[str, Any]) -> dict[str, Any]:
    """The parameters of ``filing``'s flow for one entity (the period under the flow's own name)."""
    return {FILING_FLOWS[filing][1]: period, "entity": entity, **common}
