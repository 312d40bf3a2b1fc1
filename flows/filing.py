"""The filing flows: quarterly report, annual self-inspection and the monthly publication tables.
Composition only.

extract → validate → compute → render → archive; each stage is a Prefect task around a plain function
in ``tasks/stages.py``. Figures and the summary are published as Prefect artifacts. One run holds the
per-(filing, entity, period) run lock (``tasks.runs.run_lock``) from extract to commit. The fan-out of a
filing over entities is ``flows/fanout.py``.
"""

# No ``from __future__ import annotations`` here: the flows' parameter types (patterns in ``Annotated``)
# must be objects, not strings, where Prefect validates them in another process (dask, a worker), whose
# unpickled flow function does not carry the module's globals to resolve them.
import contextlib
import datetime as dt
import logging
import shutil
import tempfile
from pathlib import Path
from typing import Annotated, Any, TypedDict

from prefect import flow, get_client, get_run_logger
from prefect.artifacts import create_markdown_artifact, create_table_artifact
from prefect.context import FlowRunContext
from prefect.exceptions import MissingContextError
from pydantic import Field

from complaints.deadlines import at_risk_from
from complaints.errors import UserError
from complaints.figures import flatten
from complaints.figures.catalogue import label
from complaints.filings import FILING_KINDS, filing_kind, period_not_ended, preview_refusal
from complaints.masking import mask_value
from complaints.periods import Period
from complaints.settings import redact_text
from complaints.times import now_local, parse_local
from flows.weekly import weekly_publication
from tasks import rerender, stages
from tasks.archive.bundle import load_private_key
from tasks.archive.stores import parse_bundle_id
from tasks.calendar_files import load_calendar
from tasks.config_files import load_settings
from tasks.memory import tune
from tasks.runs import RunBlocked, RunContext, attach_run_log, detach_run_log, run_lock


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
    preview: bool  # a preview of a period not yet ended (never submitted)
    rendered_from: str | None  # ``complaints render``: the bundle whose data this draft re-renders
    due_state: str | None  # late / at_risk / open at the as-of date; None: due date unknown


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
    preview: bool = False,
) -> RunContext:
    loaded = load_settings(config)
    settings = loaded.settings
    p = Period.parse(period)
    expected = filing_kind(filing).period_kind
    if p.kind != expected:
        raise ValueError(f"the {filing} filing takes a {expected} period, not {period!r}")
    when = parse_local(as_of) if as_of else now_local()
    if period_not_ended(p, when.date()) and not preview:
        raise UserError(preview_refusal(filing, p, when.date()))
    load_private_key(settings.archive.signing)  # fail now, not after the work, if the key is unreadable
    calendar = load_calendar(loaded.resolve(settings.calendar_dir), [Path(f) for f in calendar_files or []])
    flow_ctx = FlowRunContext.get()
    ctx = RunContext(
        filing=filing,
        period=p,
        entity=settings.entity(entity),
        as_of=when,
        loaded=loaded,
        workdir=Path(workdir).resolve(),
        calendar=calendar,
        trigger=trigger,
        accept_risk=accept_risk,
        flow_run_id=str(flow_ctx.flow_run.id) if flow_ctx and flow_ctx.flow_run else None,
        preview=preview,
    )
    stages.check_narrative(ctx)  # a YAML mistake in the narrative: refused now, before any extraction
    tag_flow_run(ctx)
    return ctx


def run_stages(ctx: RunContext, accept_empty: str | None = None) -> FilingSummary:
    """The five stages under the run lock (a concurrent run of the same filing/entity/period is refused).

    A period without a single accepted complaint stops the run at the gate unless ``accept_empty`` (the
    officer's reason) is given; it is then recorded in run.json and the document's data-quality annex.
    The gate's outcome, the bundle and what the document still lacks are also said in the Prefect run's
    log (the officer's view in the UI)."""
    tune()  # Arrow's allocator, before the first frame: every run (CLI, deployment, worker) starts here
    logger = run_logger()
    with run_lock(ctx):
        handler = attach_run_log(ctx)
        try:
            data = stages.extract_task(ctx)
            try:
                gate = stages.validate_task(ctx, data, accept_empty)
            except RunBlocked as exc:
                logger.error("质量校验未通过，未生成报告：%s", safe_text(str(exc)))
                raise
            rec = gate.reconciliation["ledger"]
            logger.info("质量校验：读取%d行 = 接受%d行 + 隔离%d行；%d项校验，%d项未通过",
                        rec["read"], rec["accepted"], rec["quarantined"], len(gate.results),
                        sum(not r.passed for r in gate.results))
            computed = stages.compute_task(ctx, gate, accept_empty)
            rendered = stages.render_task(ctx, gate, computed)
        finally:
            detach_run_log(handler)  # the log is sealed before bagging: a retried archive finds it intact
        ref = stages.archive_task(ctx, gate, computed, rendered)
    summary = summarize(ctx, gate, computed, rendered, ref)
    report(summary, computed.figures, logger)
    return summary


def run_logger() -> Any:
    """The Prefect run logger inside a flow run, else this module's logger (plain function calls)."""
    try:
        return get_run_logger()
    except MissingContextError:
        return logging.getLogger("complaints.run")


def safe_text(value: Any) -> Any:
    return mask_value(redact_text(value)) if isinstance(value, str) else value


def report(summary: FilingSummary, figures: dict[str, Any], logger: Any) -> None:
    """The bundle and the document's gaps in the run log, then the artifacts."""
    kind = "预览稿" if summary["preview"] else "报告草稿"
    logger.info("%s：%s；证据包 %s（%s）", kind, safe_text(summary["document"]), summary["bundle"],
                "已签名" if summary["signed"] else "未签名：未配置签名密钥")
    for reason in summary["incomplete"]:
        logger.warning("报告待补充：%s", safe_text(reason))
    publish(summary, figures)


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
        "preview": ctx.preview,
        "rendered_from": ctx.rendered_from,
        "due_state": due_state(ctx, computed.due),
    }


def due_state(ctx: RunContext, due: dt.date | None) -> str | None:
    """At the as-of date: ``late`` after the due date, ``at_risk`` from ``at_risk_from`` (the configured
    working days before it), else ``open``; None when the due date is unknown. What the run can say;
    ``complaints status`` decides from the submissions."""
    if due is None:
        return None
    today = ctx.as_of.date()
    if today > due:
        return "late"
    try:
        risk = at_risk_from(due, ctx.calendar, ctx.loaded.settings.filings)
    except ValueError:  # a year the calendar does not know
        return "open"
    return "at_risk" if today >= risk else "open"


_DUE_ZH = {"late": "已逾期", "at_risk": "临近截止", "open": "未到期", None: "截止日未知"}
_FILING_ZH = {"quarterly": "季度报告", "annual": "年度自查报告", "monthly": "月度通报"}


def _shown(value: Any, unit: str) -> Any:
    """A figure as the officer reads it: a ratio as a percentage, other values as they are."""
    if unit == "ratio" and isinstance(value, (int, float)) and not isinstance(value, bool):
        return _pct(value)
    return value


def _pct(value: Any) -> str:
    return "—" if not isinstance(value, (int, float)) else f"{value * 100:.2f}%"


def publish(summary: FilingSummary, figures: dict[str, Any]) -> None:
    """Prefect artifacts for the officer, in Chinese: the headline (rates as percentages, the due date and
    whether it is late or at risk, the draft's path, the bundle id) and every figure. Figure keys can carry
    source values (an unknown channel in a breakdown) and the summary file names: both are masked and
    redacted like every other exit."""
    key = f"{summary['filing']}-{summary['entity']}-{summary['period']}".lower().replace("_", "-")
    if summary.get("preview"):
        key += "-preview"
    create_table_artifact(
        key=f"figures-{key}",
        description=f"{summary['entity']} {summary['period']} 全部指标（figures.json）",
        table=[
            {"指标": safe_text(label(k)[0]), "数值": safe_text(_shown(v, label(k)[1])), "键": safe_text(k)}
            for k, v in flatten(figures)
            if not isinstance(v, (dict, list))
        ],
    )
    h, rows = summary["headline"], summary["rows"]
    kind = "预览稿（期间未结束，不可报送）" if summary.get("preview") else "报告草稿（待审核后报送）"
    due = summary["due"] or f"未知（{summary['due_error']}）"
    table = [
        ("报送事项", f"{_FILING_ZH.get(summary['filing'], summary['filing'])} · {summary['entity']} · "
                 f"{summary['period']}"),
        ("文稿性质", kind),
        ("数据截至", summary.get("as_of") or "—"),
        ("读取/接受/隔离行数", f"{rows['read']} / {rows['accepted']} / {rows['quarantined']}"),
        ("投诉件数 / 人次", f"{h['cases']} / {h['contacts']}"),
        ("有效投诉", str(h["valid_cases"])),
        ("监管转办", str(h.get("regulator_forwarded_cases", "—"))),
    ]
    if summary["filing"] != "monthly":
        per = h.get("per_100m_premium")
        table += [("处理及时率", _pct(h.get("timeliness_rate"))),
                  ("客户满意度", _pct(h.get("satisfaction_rate"))),
                  ("亿元保费投诉量", "—" if per is None else f"{per:.2f}")]
    table += [
        ("报送截止日", due),
        ("期限状态", _DUE_ZH.get(summary.get("due_state"), "—")),
        ("报告文件", summary.get("document") or "—"),
        ("证据包编号", summary["bundle"]),
        ("待补充事项", "；".join(summary["incomplete"]) or "无"),
    ]
    if summary.get("rendered_from"):
        table.append(("重新生成自证据包", summary["rendered_from"]))
    lines = [f"# {table[0][1]}", "", "| 项目 | 内容 |", "| --- | --- |",
             *(f"| {k} | {str(v).replace('|', '／')} |" for k, v in table)]
    create_markdown_artifact(key=f"summary-{key}", markdown=safe_text("\n".join(lines)),
                             description=f"{summary['entity']} {summary['period']} {kind}")


# -- Prefect: run names, tags, typed parameters -------------------------------------------------------

def _run_name_for(filing: str, param: str) -> Any:
    """``quarterly-HO-2026Q3`` (``-preview`` for a preview): the flow run's name in the UI."""

    def name() -> str:
        from prefect.runtime import flow_run  # the running flow's parameters

        p = flow_run.parameters or {}
        entity = p.get("entity")
        if not entity:
            try:
                entity = load_settings(p.get("config")).settings.head_office.code
            except Exception:  # noqa: BLE001 - a name is never worth failing the run; the run says why
                entity = "head-office"
        try:
            period = Period.parse(str(p.get(param))).code
        except Exception:  # noqa: BLE001 - the run itself refuses the period in one line
            period = str(p.get(param))
        return f"{filing}-{entity}-{period}" + ("-preview" if p.get("preview") else "")

    return name


def tag_flow_run(ctx: RunContext) -> None:
    """Tag the running flow run (filing, entity, period, preview/draft) so the UI can filter on them."""
    flow_ctx = FlowRunContext.get()
    if not flow_ctx or not flow_ctx.flow_run:
        return
    tags = sorted({*(flow_ctx.flow_run.tags or []), "filing", ctx.filing, ctx.entity.code, ctx.period.code,
                   "preview" if ctx.preview else "draft", *(["render"] if ctx.rendered_from else [])})
    try:
        with get_client(sync_client=True) as client:
            client.update_flow_run(flow_ctx.flow_run.id, tags=tags)
    except Exception as exc:  # noqa: BLE001 - tags help the UI; the filing does not depend on them
        logging.getLogger("complaints.run").warning("could not tag the flow run: %s", exc)


QUARTER = r"^\d{4}Q[1-4]$"
YEAR = r"^\d{4}$"
MONTH = r"^\d{4}-(0[1-9]|1[0-2])$"
# types and patterns here; the descriptions the Prefect UI shows come from each flow's docstring (Args:)
EntityParam = Annotated[str | None, Field(pattern=r"^[A-Za-z0-9_\-]{1,64}$")]
AsOfParam = str | None
ConfigParam = str | None
WorkdirParam = str
TriggerParam = str
AcceptRiskParam = str | None
CalendarParam = list[str] | None
AcceptEmptyParam = str | None
PreviewParam = bool


@flow(name="quarterly-filing", log_prints=True, flow_run_name=_run_name_for("quarterly", "period"))
def quarterly_filing(
    period: Annotated[str, Field(pattern=QUARTER)],
    entity: EntityParam = None,
    as_of: AsOfParam = None,
    config: ConfigParam = None,
    workdir: WorkdirParam = ".",
    trigger: TriggerParam = "cli",
    accept_risk: AcceptRiskParam = None,
    calendar_files: CalendarParam = None,
    accept_empty: AcceptEmptyParam = None,
    preview: PreviewParam = False,
) -> FilingSummary:
    """季度投诉处理工作情况报告: one quarter, one entity, one bundle.

    Args:
        period: 报告季度，如 2026Q3（格式 YYYYQ1–YYYYQ4）。
        entity: 报送机构代码，如 HO（总公司）、GD；留空为总公司。
        as_of: 数据截至时间（ISO 8601，如 2026-10-08T09:00:00+08:00）；留空为当前时间。
        config: 配置文件路径（complaints.yaml）。
        workdir: 工作目录：output/ 报告文件、runs/、archive/ 证据包。
        trigger: 触发方式：cli / deployment / watcher / demo。
        accept_risk: 质量校验表级失败时仍继续的理由（记入报告与证据包）；留空为不接受。
        calendar_files: 补充的工作日日历文件（YAML）。
        accept_empty: 本期确无投诉时的说明（记入报告与证据包）；留空时无投诉的期间不出报告。
        preview: 期间未结束时出预览稿：每页标注【预览稿，数据截至…】，单独归档，不可报送。
    """
    ctx = make_context(
        "quarterly", period, entity, as_of, config, workdir, trigger, accept_risk, calendar_files, preview
    )
    return run_stages(ctx, accept_empty)


@flow(name="annual-self-inspection", log_prints=True, flow_run_name=_run_name_for("annual", "year"))
def annual_self_inspection(
    year: Annotated[str, Field(pattern=YEAR)],
    entity: EntityParam = None,
    as_of: AsOfParam = None,
    config: ConfigParam = None,
    workdir: WorkdirParam = ".",
    trigger: TriggerParam = "cli",
    accept_risk: AcceptRiskParam = None,
    calendar_files: CalendarParam = None,
    accept_empty: AcceptEmptyParam = None,
    preview: PreviewParam = False,
) -> FilingSummary:
    """年度投诉处理工作自查报告: one year, one entity, one bundle.

    Args:
        year: 自查年度，如 2026。
        entity: 报送机构代码，如 HO（总公司）、GD；留空为总公司。
        as_of: 数据截至时间（ISO 8601，如 2026-10-08T09:00:00+08:00）；留空为当前时间。
        config: 配置文件路径（complaints.yaml）。
        workdir: 工作目录：output/ 报告文件、runs/、archive/ 证据包。
        trigger: 触发方式：cli / deployment / watcher / demo。
        accept_risk: 质量校验表级失败时仍继续的理由（记入报告与证据包）；留空为不接受。
        calendar_files: 补充的工作日日历文件（YAML）。
        accept_empty: 本期确无投诉时的说明（记入报告与证据包）；留空时无投诉的期间不出报告。
        preview: 期间未结束时出预览稿：每页标注【预览稿，数据截至…】，单独归档，不可报送。
    """
    ctx = make_context("annual", year, entity, as_of, config, workdir, trigger, accept_risk, calendar_files,
                       preview)
    return run_stages(ctx, accept_empty)


@flow(name="monthly-publication", log_prints=True, flow_run_name=_run_name_for("monthly", "month"))
def monthly_publication(
    month: Annotated[str, Field(pattern=MONTH)],
    entity: EntityParam = None,
    as_of: AsOfParam = None,
    config: ConfigParam = None,
    workdir: WorkdirParam = ".",
    trigger: TriggerParam = "cli",
    accept_risk: AcceptRiskParam = None,
    calendar_files: CalendarParam = None,
    accept_empty: AcceptEmptyParam = None,
    preview: PreviewParam = False,
) -> FilingSummary:
    """月度投诉通报 (投诉处理汇总表, 各地投诉案件分类汇总表, 案件处理明细表): one month (``YYYY-MM``), the
    head office's publication over every entity by default, one bundle.

    Args:
        month: 通报月份，如 2026-10。
        entity: 报送机构代码，如 HO（总公司）、GD；留空为总公司。
        as_of: 数据截至时间（ISO 8601，如 2026-10-08T09:00:00+08:00）；留空为当前时间。
        config: 配置文件路径（complaints.yaml）。
        workdir: 工作目录：output/ 报告文件、runs/、archive/ 证据包。
        trigger: 触发方式：cli / deployment / watcher / demo。
        accept_risk: 质量校验表级失败时仍继续的理由（记入报告与证据包）；留空为不接受。
        calendar_files: 补充的工作日日历文件（YAML）。
        accept_empty: 本期确无投诉时的说明（记入报告与证据包）；留空时无投诉的期间不出报告。
        preview: 期间未结束时出预览稿：每页标注【预览稿，数据截至…】，单独归档，不可报送。
    """
    ctx = make_context("monthly", month, entity, as_of, config, workdir, trigger, accept_risk, calendar_files,
                       preview)
    return run_stages(ctx, accept_empty)


def _render_run_name() -> str:
    """``render-quarterly-HO-2026Q3`` (``-preview`` for a preview's bundle) from the bundle id."""
    from prefect.runtime import flow_run  # the running flow's parameters

    bundle_id = str((flow_run.parameters or {}).get("bundle_id", ""))
    try:
        b = parse_bundle_id(bundle_id)
    except ValueError:
        return "render"
    return f"render-{b.filing}-{b.entity}-{b.period}" + ("-preview" if b.preview else "")


@flow(name="render-draft", log_prints=True, flow_run_name=_render_run_name)
def render_draft(
    bundle_id: Annotated[str, Field(
        pattern=r"^[A-Za-z0-9_\-]+/[A-Za-z0-9_\-]+/[A-Za-z0-9_\-]+/\d{8}T\d{6}Z-[a-z0-9]{1,8}$")],
    config: ConfigParam = None,
    workdir: WorkdirParam = ".",
    output: str | None = None,
    trigger: TriggerParam = "cli",
) -> FilingSummary:
    """重新生成报告草稿: a new draft from an archived bundle's accepted data, figures and settings with the
    current templates and narratives. No extraction, no quality gate; a new bundle (``rendered_from``) that
    carries the same data, so it is self-contained.

    Args:
        bundle_id: 要重新生成报告的证据包编号，如 quarterly/HO/2026Q3/20261121T210405Z-1a2b3c4d。
        config: 配置文件路径（complaints.yaml）。
        workdir: 工作目录：output/ 报告文件、runs/、archive/ 证据包。
        output: 报告输出目录；留空为 output/<期间>/<机构>。
        trigger: 触发方式：cli / deployment。
    """
    loaded = load_settings(config)
    work = Path(workdir).resolve()
    flow_ctx = FlowRunContext.get()
    logger = run_logger()
    with tempfile.TemporaryDirectory(prefix="render-") as tmp:
        source = rerender.fetch(loaded, work, bundle_id, Path(tmp) / "bag")
        run = source.run
        ctx = RunContext(
            filing=str(run["filing"]), period=source.period,
            entity=source.settings.entity(str(run["entity"])),
            as_of=parse_local(str(run["as_of"])), loaded=loaded, workdir=work,
            calendar=load_calendar(loaded.resolve(loaded.settings.calendar_dir)), trigger=trigger,
            accept_risk=run.get("accept_risk"),
            flow_run_id=str(flow_ctx.flow_run.id) if flow_ctx and flow_ctx.flow_run else None,
            preview=bool(run.get("preview")), rendered_from=bundle_id,
            output=Path(output).resolve() if output else None)
        stages.check_narrative(ctx)
        tag_flow_run(ctx)
        with run_lock(ctx):
            handler = attach_run_log(ctx)
            try:
                logger.info("重新生成：证据包 %s 的已接受数据与指标（不重新抽取、不重新校验）", bundle_id)
                rerender.stage_payload(source, ctx.staging)
                gate, computed = rerender.rebuild(ctx, source)
                rendered = stages.render_task(ctx, gate, computed, source.settings)
            finally:
                detach_run_log(handler)
            ref = stages.archive_task(ctx, gate, computed, rendered)
    quarantine = ctx.staging / "data" / "quality" / "quarantine.xlsx"
    if quarantine.is_file():
        shutil.copyfile(quarantine, ctx.output_dir / f"quarantine-{ctx.period.code}-{ctx.entity.code}.xlsx")
    summary = summarize(ctx, gate, computed, rendered, ref)
    report(summary, computed.figures, logger)
    return summary


_FLOWS = {"quarterly": quarterly_filing, "annual": annual_self_inspection, "monthly": monthly_publication,
          "weekly": weekly_publication}
#: each filing's flow and the name of its period parameter
FILING_FLOWS: dict[str, tuple[Any, str]] = {
    k: (_FLOWS[k], kind.period_param) for k, kind in FILING_KINDS.items()}


def flow_parameters(filing: str, period: str, entity: str, common: dict[str, Any]) -> dict[str, Any]:
    """The parameters of ``filing``'s flow for one entity (the period under the flow's own name)."""
    with contextlib.suppress(UserError):  # typed parameters: 2026q3 is given as 2026Q3 (else refused)
        period = Period.parse(period).code
    return {FILING_FLOWS[filing][1]: period, "entity": entity, **common}
