"""The weekly overdue publication flow (超时限投诉案件周公示). Composition only.

extract → validate → compute → render (XLSX for e-mail) → archive (the week's JSON and the XLSX in a signed
bundle ``weekly/<entity>/<YYYY-Www>/…``), under the run lock like the filings; then the escalated units are
sent to the notifier (``schedules.notifier``). A notice that cannot be delivered does not undo the
publication: it is in the returned summary (``notify_errors``) and logged as an error.
"""

from __future__ import annotations

from typing import Any

from prefect import flow, get_run_logger
from prefect.artifacts import create_markdown_artifact

from tasks import stages
from tasks.memory import tune
from tasks.notify import channels, deliver
from tasks.runs import attach_run_log, detach_run_log, run_lock
from tasks.weekly import escalation_notice


@flow(name="weekly-overdue-publication", log_prints=True)
def weekly_publication(
    week: str,
    entity: str | None = None,
    as_of: str | None = None,
    config: str | None = None,
    workdir: str = ".",
    trigger: str = "cli",
    accept_risk: str | None = None,
    calendar_files: list[str] | None = None,
    accept_empty: str | None = None,
) -> dict[str, Any]:
    """超时限投诉案件周公示: one ISO week (``2026-W40``), the head office's publication over every entity by
    default, one bundle; the escalated units notified."""
    from flows.filing import make_context  # here: flows.filing registers this flow

    logger = get_run_logger()
    ctx = make_context("weekly", week, entity, as_of, config, workdir, trigger, accept_risk, calendar_files)
    tune()
    with run_lock(ctx):
        handler = attach_run_log(ctx)
        try:
            data = stages.extract_task(ctx)
            gate = stages.validate_task(ctx, data, accept_empty)
            computed = stages.compute_task(ctx, gate, accept_empty)
            rendered = stages.render_task(ctx, gate, computed)
        finally:
            detach_run_log(handler)
        ref = stages.archive_task(ctx, gate, computed, rendered)
    f = computed.figures
    settings = ctx.loaded.settings
    escalated = [f"{kind} {code}" for kind in ("branch", "department")
                 for code, u in f["units"][kind].items() if u["escalated"]]
    notified: list[str] = []
    errors: list[str] = []
    notice = escalation_notice(f, {e.code: e.name for e in settings.entities}, ctx.entity.code)
    if notice is not None:
        if channels(settings.schedules.notifier):
            for dl in deliver(settings.schedules.notifier, notice):
                (notified if dl.ok else errors).append(f"{dl.channel}: {dl.detail}")
                (logger.info if dl.ok else logger.error)("escalation notice %s: %s", dl.channel, dl.detail)
        else:
            notified.append("none: no notifier is configured (schedules.notifier); the escalated units are "
                            "in the workbook only")
            logger.warning(notified[-1])
    rec = gate.reconciliation["ledger"]
    summary: dict[str, Any] = {
        "filing": "weekly",
        "period": ctx.period.code,
        "entity": ctx.entity.code,
        "run_id": ctx.run_id,
        "as_of": f["as_of"],
        "rows": {"read": rec["read"], "accepted": rec["accepted"], "quarantined": rec["quarantined"]},
        "open": f["counts"]["open"],
        "overdue": f["counts"]["overdue"],
        "escalated": escalated,
        "due": computed.due.isoformat() if computed.due else None,
        "due_error": computed.due_error,
        "document": str(rendered.path),
        "incomplete": [*ctx.incomplete, *rendered.incomplete],
        "bundle": ref.bundle_id,
        "bundle_location": ref.location,
        "signed": ref.signed,
        "notified": notified,
        "notify_errors": errors,
        "accept_risk": gate.accept_risk,
        "accept_empty": computed.accept_empty,
    }
    key = f"weekly-{ctx.entity.code}-{ctx.period.code}".lower().replace("_", "-")
    create_markdown_artifact(key=f"summary-{key}", markdown="\n".join([
        f"# weekly publication {ctx.entity.code} {ctx.period.code}",
        f"- open {f['counts']['open']}, overdue {f['counts']['overdue']}",
        f"- escalated: {', '.join(escalated) or 'none'}",
        f"- bundle `{ref.bundle_id}`"]))
    return summary
