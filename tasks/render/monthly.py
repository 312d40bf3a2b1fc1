"""The monthly publication workbook (FILINGS.md §5): three sheets, personal data masked, fixed bytes."""

from __future__ import annotations

import io
from pathlib import Path

import pandas as pd
from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from complaints.figures import region_category_table, summary_table
from complaints.ledger import (
    BUSINESS_LINES,
    CATEGORIES,
    CHANNELS,
    OUTCOMES,
    PRODUCT_LINES,
    SEVERITIES,
    local_dates,
)
from complaints.masking import mask_policy_no, mask_text, may_unmask
from complaints.periods import Period
from tasks.xlsx_safe import neutralise

from .common import code_label
from .context import RenderContext
from .docx_utils import normalize_zip, write_atomic

SUMMARY_SHEET = "投诉处理汇总表"
REGION_SHEET = "各地投诉案件分类汇总表"
DETAIL_SHEET = "案件处理明细表"
_THIN = Side(style="thin", color="000000")
_BORDER = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)


def detail_table(
    ledger: pd.DataFrame, unmask: bool = False, names: dict[str, str] | None = None
) -> pd.DataFrame:
    """Every record of the month (repeats included) with Chinese headers; personal data masked."""

    def dates(col: str) -> pd.Series:
        return pd.Series(local_dates(ledger[col]), index=ledger.index).astype(str).replace("NaT", "")

    def flag(col: str) -> pd.Series:
        return ledger[col].map({True: "是", False: "否"}).fillna("")

    summary, policy, ref = ledger["summary"], ledger["policy_no"], ledger["complainant_ref"]
    if not unmask:
        summary, policy, ref = mask_text(summary), mask_policy_no(policy), mask_text(ref)
    out = pd.DataFrame(
        {
            "投诉编号": ledger["complaint_id"],
            "处理机构": ledger["branch_code"].map(lambda c: (names or {}).get(c, c)),
            "省份": ledger["province"],
            "收到日期": dates("received_at"),
            "投诉渠道": ledger["channel"].map(CHANNELS),
            "业务类型": ledger["business_line"].map(BUSINESS_LINES),
            "产品类型": ledger["product_line"].map(PRODUCT_LINES),
            "投诉事由": ledger["category"].map(CATEGORIES),
            "投诉级别": ledger["severity"].map(SEVERITIES),
            "监管转办": flag("regulator_forwarded"),
            "是否受理": flag("accepted"),
            "有效投诉": flag("valid"),
            "重复投诉原编号": ledger["repeat_of"],
            "处理决定日期": dates("decided_at"),
            "结案日期": dates("closed_at"),
            "结案方式": ledger["outcome"].map(OUTCOMES),
            "投诉人标识": ref,
            "保单号": policy,
            "投诉摘要": summary,
        }
    )
    return out.sort_values(["收到日期", "投诉编号"], kind="stable").fillna("").reset_index(drop=True)


def _write(
    ws: Worksheet, title: str, table: pd.DataFrame, widths: dict[str, float], money: tuple[str, ...] = ()
) -> None:
    ws.append([title])
    ws["A1"].font = Font(bold=True, size=14)
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=max(1, table.shape[1]))
    ws["A1"].alignment = Alignment(horizontal="center")
    ws.append([str(c) for c in table.columns])
    for cell in ws[2]:
        cell.font = Font(bold=True)
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
        cell.border = _BORDER
    for row in table.itertuples(index=False):
        ws.append([v.item() if hasattr(v, "item") else v for v in row])
    for r in ws.iter_rows(min_row=3, max_row=ws.max_row):
        for cell in r:
            cell.border = _BORDER
            header = ws.cell(row=2, column=cell.column).value
            if header in money:
                cell.number_format = "#,##0.00"
    for i, column in enumerate(table.columns, 1):
        ws.column_dimensions[get_column_letter(i)].width = widths.get(str(column), 12)
    ws.freeze_panes = "B3"


def write_monthly_workbook(ledger_month: pd.DataFrame, month: str, ctx: RenderContext, out: Path) -> Path:
    """Write the monthly publication tables for ``month`` (``YYYY-MM``) to ``out`` (.xlsx path or directory).

    ``ledger_month`` is the normalised ledger restricted to the month (the loading step is the caller's).
    """
    period = Period.parse(month)
    if period.kind != "month":
        raise ValueError(f"{month!r} is not a month (YYYY-MM)")
    unmask = may_unmask(ctx.role, ctx.unmask_roles)
    # names, never codes: every branch/office code of the month has one (else an error naming it)
    codes = ledger_month["branch_code"].dropna().astype(str).unique() if "branch_code" in ledger_month else []
    names = {**dict(ctx.entity_names), **{c: code_label(c, None, ctx.entity_names) for c in codes}}
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = SUMMARY_SHEET
    head = f"{ctx.institution}{period.label_zh}"
    _write(
        ws, f"{head}投诉处理汇总表", summary_table(ledger_month, names), {"机构": 16}, money=("赔付金额(元)",)
    )
    _write(
        wb.create_sheet(REGION_SHEET),
        f"{head}各地投诉案件分类汇总表",
        region_category_table(ledger_month),
        {"省份（地区）": 14},
    )
    _write(
        wb.create_sheet(DETAIL_SHEET),
        f"{head}案件处理明细表（个人信息已脱敏）",
        detail_table(ledger_month, unmask, names),
        {
            "投诉编号": 14,
            "收到日期": 12,
            "处理决定日期": 12,
            "结案日期": 12,
            "投诉人标识": 12,
            "保单号": 16,
            "投诉摘要": 60,
        },
    )
    stamp = ctx.generated_at.replace(microsecond=0, tzinfo=None)
    wb.properties.creator = ctx.company
    wb.properties.lastModifiedBy = ctx.company
    wb.properties.title = f"{head}投诉处理情况月度通报"
    wb.properties.created = stamp
    wb.properties.modified = stamp
    neutralise(wb)  # source text starting with = + - @ is stored as text, never a formula
    if ctx.preview_mark:
        mark_printed_pages(wb, ctx.preview_mark)
    buffer = io.BytesIO()
    wb.save(buffer)
    out = Path(out)
    target = out if out.suffix.lower() == ".xlsx" else out / f"投诉月度通报_{period.code}.xlsx"
    return write_atomic(target, normalize_zip(buffer.getvalue(), core_time=stamp))


def mark_printed_pages(wb: Workbook, text: str) -> None:
    """A preview: ``text`` in every sheet's page header (each printed page; the title rows stay as they are,
    and the file name says 预览稿)."""
    for sheet in wb.worksheets:
        sheet.oddHeader.center.text = text
        sheet.evenHeader.center.text = text
        sheet.firstHeader.center.text = text
