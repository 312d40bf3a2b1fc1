"""The weekly overdue publication's I/O around :mod:`complaints.weekly`: its figures in a run (and in
``bundles reproduce``), its workbook, and the escalation notice."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pandas as pd

from complaints.periods import Period
from complaints.weekly import weekly_overdue
from tasks.notify import Notice

if TYPE_CHECKING:
    from complaints.figures import FiguresResult
    from tasks.quality import GateResult
    from tasks.render import RenderResult
    from tasks.runs import RunContext


def weekly_figures(ctx: RunContext, gate: GateResult, period: Period, rulebooks: Any,
                   rows: dict[str, int]) -> FiguresResult:
    """The week's publication as figures (``figures.json``) with the overdue cases as its lineage."""
    from complaints.figures import FiguresResult

    settings = ctx.loaded.settings
    result = weekly_overdue(gate.ledger, week=period, as_of=ctx.as_of, calendar=ctx.calendar,
                            rulebooks=rulebooks, entity=ctx.entity.code,
                            head_office=settings.head_office.code,
                            threshold=settings.publications.weekly_escalation_share, rows=rows)
    lineage = pd.DataFrame({"figure": "overdue", "complaint_id": [o["complaint_id"]
                                                                  for o in result.figures["overdue"]]})
    lineage["complaint_id"] = lineage["complaint_id"].astype(str).astype("category")
    return FiguresResult(figures=result.figures, lineage=lineage)


def overdue_rows(ledger: pd.DataFrame, figures: dict[str, Any]) -> pd.DataFrame:
    """The ledger rows of the overdue list, in its order, with ``due``, ``days_past_due``,
    ``decided_in_week``."""
    listed = pd.DataFrame(figures["overdue"], columns=["complaint_id", "due", "days_past_due", "decided"])
    listed = listed.rename(columns={"decided": "decided_in_week"})
    listed["due"] = pd.to_datetime(listed["due"])
    merged = listed.merge(ledger.drop_duplicates("complaint_id"), on="complaint_id", how="left")
    return merged.reset_index(drop=True)


def render_weekly(ctx: RunContext, ledger: pd.DataFrame, figures: dict[str, Any]) -> RenderResult:
    """The week's XLSX for e-mail, in the output dir (the document of the run)."""
    from tasks.render import RenderResult, context_from_settings
    from tasks.render.weekly import write_weekly_workbook
    from tasks.stages import document_path

    settings = ctx.loaded.settings
    rctx = context_from_settings(settings, period=ctx.period.code, run_id=ctx.run_id,
                                 generated_at=ctx.started_at, entity_code=ctx.entity.code,
                                 narrative_dir=ctx.workdir / settings.rendering.narrative_dir)
    path = write_weekly_workbook(figures, overdue_rows(ledger, figures), rctx, document_path(ctx, ".xlsx"))
    return RenderResult(path, [])


def escalation_notice(figures: dict[str, Any], names: dict[str, str], entity: str) -> Notice | None:
    """The notice of the units escalated to the leadership group (None when no unit is)."""
    from tasks.render.weekly import department_name

    units = [
        {"unit_kind": kind, "unit": code,
         "name": names.get(code, code) if kind == "branch" else department_name(code),
         "open": u["open"], "open_overdue": u["open_overdue"], "share": round(u["share"], 4)}
        for kind in ("branch", "department") for code, u in figures["units"][kind].items() if u["escalated"]
    ]
    if not units:
        return None
    week = Period.parse(figures["week"])
    share = f"{figures['threshold']:.0%}"
    lines = [f"{week.label_zh}（{figures['first_day']}至{figures['last_day']}）超时限投诉案件周公示：",
             f"以下单位未办结投诉中超时限占比超过{share}，提交领导小组督办："]
    lines += [f"- {'机构' if u['unit_kind'] == 'branch' else '责任部门'} {u['name']}：未办结 {u['open']} 件，"
              f"其中超时限 {u['open_overdue']} 件（{u['share']:.1%}）" for u in units]
    return Notice(
        subject=f"【督办】{week.label_zh}超时限投诉案件周公示：{len(units)}个单位超时限占比超过{share}",
        text="\n".join(lines),
        payload={"kind": "weekly_escalation", "week": week.code, "entity": entity,
                 "threshold": figures["threshold"], "escalated": units},
    )
