"""The weekly overdue publication workbook (超时限投诉案件周公示, for e-mail): the overdue list and the
per-branch and per-department tables, Chinese headers, names not codes, case facts masked, an
autofilter and a print setup (landscape, fit to width, the header row repeated), fixed bytes."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pandas as pd
from openpyxl import Workbook
from openpyxl.styles import PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from complaints.ledger import CATEGORIES, DEPARTMENTS, local_dates
from complaints.masking import mask_policy_no, mask_text, may_unmask
from complaints.periods import Period
from complaints.weekly import UNASSIGNED
from tasks.xlsx_safe import neutralise

from .context import RenderContext
from .docx_utils import normalize_zip, write_atomic
from .monthly import titled_table

LIST_SHEET = "超时限案件清单"
BRANCH_SHEET = "各机构超时限情况"
DEPT_SHEET = "各责任部门超时限情况"
_ESCALATED = PatternFill("solid", fgColor="FFC7CE")


def department_name(code: Any) -> str:
    if code is None or (isinstance(code, float) and pd.isna(code)) or code == UNASSIGNED:
        return "未填写"
    return DEPARTMENTS.get(str(code), str(code))


def overdue_table(rows: pd.DataFrame, names: dict[str, str], unmask: bool = False) -> pd.DataFrame:
    """The overdue list (rows from :class:`complaints.weekly.WeeklyResult`) with Chinese headers."""
    summary, policy = rows["summary"], rows["policy_no"]
    if not unmask:
        summary, policy = mask_text(summary), mask_policy_no(policy)
    received = pd.Series(local_dates(rows["received_at"]), index=rows.index).astype(str)
    return pd.DataFrame({
        "投诉编号": rows["complaint_id"].astype(str),
        "处理机构": rows["branch_code"].map(lambda c: names.get(c, c)),
        "责任部门": rows["responsible_dept"].map(department_name),
        "投诉事由": rows["category"].map(lambda c: CATEGORIES.get(c, c)),
        "收到日期": received,
        "处理时限截止日": rows["due"].map(lambda d: pd.Timestamp(d).date().isoformat()),
        "超期天数": rows["days_past_due"].astype(int),
        "本周末是否已作出处理决定": rows["decided_in_week"].map({True: "是（本周超期办结）", False: "否"}),
        "保单号": policy,
        "投诉摘要": summary,
    }).fillna("")


def unit_table(units: dict[str, dict[str, Any]], label: str, name_of: Any) -> pd.DataFrame:
    return pd.DataFrame([
        {label: name_of(code), "未办结件数": u["open"], "其中超时限件数": u["open_overdue"],
         "超时限占比": u["share"], "是否提交领导小组督办": "是" if u["escalated"] else "否"}
        for code, u in units.items()
    ], columns=[label, "未办结件数", "其中超时限件数", "超时限占比", "是否提交领导小组督办"])


def _sheet(ws: Worksheet, title: str, table: pd.DataFrame, widths: dict[str, float],
           percent: tuple[str, ...] = (), flag: str | None = None) -> None:
    titled_table(ws, title, table)
    headers = [str(c) for c in table.columns]
    for r in ws.iter_rows(min_row=3, max_row=ws.max_row):
        escalated = flag is not None and r[headers.index(flag)].value == "是"
        for cell in r:
            if headers[cell.column - 1] in percent:
                cell.number_format = "0.0%"
            if escalated:
                cell.fill = _ESCALATED
    for i, column in enumerate(headers, 1):
        ws.column_dimensions[get_column_letter(i)].width = widths.get(column, 14)
    last = get_column_letter(max(1, len(headers)))
    ws.auto_filter.ref = f"A2:{last}{max(2, ws.max_row)}"
    ws.freeze_panes = "A3"
    ws.print_title_rows = "2:2"  # the header row on every printed page
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True


def write_weekly_workbook(figures: dict[str, Any], overdue_rows: pd.DataFrame, ctx: RenderContext,
                          out: Path) -> Path:
    """Write the week's publication to ``out`` (.xlsx path or directory)."""
    week = Period.parse(figures["week"])
    unmask = may_unmask(ctx.role, ctx.unmask_roles)
    names = dict(ctx.entity_names)
    head = f"{ctx.institution}{week.label_zh}（{figures['first_day']}至{figures['last_day']}）"
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = LIST_SHEET
    _sheet(ws, f"{head}超时限投诉案件公示（个人信息已脱敏）", overdue_table(overdue_rows, names, unmask),
           {"投诉编号": 14, "处理机构": 16, "收到日期": 12, "处理时限截止日": 14, "超期天数": 10,
            "本周末是否已作出处理决定": 18, "保单号": 16, "投诉摘要": 50})
    share = f"{figures['threshold']:.0%}"
    _sheet(wb.create_sheet(BRANCH_SHEET),
           f"{head}各机构超时限情况（超时限占比超过{share}的提交领导小组督办）",
           unit_table(figures["units"]["branch"], "机构", lambda c: names.get(c, c)), {"机构": 18},
           percent=("超时限占比",), flag="是否提交领导小组督办")
    _sheet(wb.create_sheet(DEPT_SHEET),
           f"{head}各责任部门超时限情况（超时限占比超过{share}的提交领导小组督办）",
           unit_table(figures["units"]["department"], "责任部门", department_name), {"责任部门": 16},
           percent=("超时限占比",), flag="是否提交领导小组督办")
    stamp = ctx.generated_at.replace(microsecond=0, tzinfo=None)
    wb.properties.creator = ctx.company
    wb.properties.lastModifiedBy = ctx.company
    wb.properties.title = f"{head}超时限投诉案件周公示"
    wb.properties.created = stamp
    wb.properties.modified = stamp
    neutralise(wb)  # source text starting with = + - @ is stored as text, never a formula
    buffer = io.BytesIO()
    wb.save(buffer)
    out = Path(out)
    target = out if out.suffix.lower() == ".xlsx" else out / f"超时限投诉案件周公示_{week.code}.xlsx"
    return write_atomic(target, normalize_zip(buffer.getvalue(), core_time=stamp))
