"""The monthly publication workbook (FILINGS.md §5): three sheets, personal data masked, fixed bytes."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pandas as pd
from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet

from complaints.callback import RESULT_CHOICES
from complaints.figures import region_category_table, summary_table
from complaints.ledger import (
    BUSINESS_LINES,
    CATEGORIES,
    CHANNELS,
    DEPARTMENTS,
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
CALLBACK_SHEET = "响应速度抽访名单"
PENALTIES_SHEET = "投诉罚单汇总表"
#: the call list's result columns (filled in by the call centre, read back for the next month)
CALLBACK_CHOICES = RESULT_CHOICES
CALLBACK_RESULT_COLUMNS: tuple[str, ...] = (*CALLBACK_CHOICES, "回访日期", "回访人", "备注")
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


def _write_call_list(ws: Worksheet, head: str, ledger: pd.DataFrame, callback: dict[str, Any],
                     names: dict[str, str], unmask: bool) -> None:
    table = callback_table(ledger, list(callback["sample"]), names, unmask)
    title = (f"{head}响应速度抽访名单（未在时限内办结{callback['population']}件，"
             f"随机抽取{callback['sample_size']}件，抽取比例不低于{callback['share']:.0%}，"
             f"随机种子{callback['seed']}）")
    widths = {"投诉编号": 18, "处理机构": 16, "收到日期": 12, "处理决定日期": 12, "投诉人标识": 12,
              "保单号": 16, "投诉摘要": 40, **{c: 16 for c in CALLBACK_RESULT_COLUMNS}}
    _write(ws, title, table, widths)
    headers = [str(c) for c in table.columns]
    last_row = max(3, ws.max_row)
    for col, allowed in CALLBACK_CHOICES.items():
        letter = get_column_letter(headers.index(col) + 1)
        dv = DataValidation(type="list", formula1='"' + ",".join(allowed) + '"', allow_blank=True)
        dv.add(f"{letter}3:{letter}{last_row}")
        ws.add_data_validation(dv)
    ws.auto_filter.ref = f"A2:{get_column_letter(len(headers))}{last_row}"
    ws.print_title_rows = "2:2"
    ws.page_setup.orientation = "landscape"
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True


def titled_table(ws: Worksheet, title: str, table: pd.DataFrame) -> None:
    """A sheet's title (row 1, merged over the table), bold header (row 2) and bordered body rows."""
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


def _write(
    ws: Worksheet, title: str, table: pd.DataFrame, widths: dict[str, float], money: tuple[str, ...] = ()
) -> None:
    titled_table(ws, title, table)
    for r in ws.iter_rows(min_row=3, max_row=ws.max_row):
        for cell in r:
            header = ws.cell(row=2, column=cell.column).value
            if header in money:
                cell.number_format = "#,##0.00"
    for i, column in enumerate(table.columns, 1):
        ws.column_dimensions[get_column_letter(i)].width = widths.get(str(column), 12)
    ws.freeze_panes = "B3"


def callback_table(ledger: pd.DataFrame, sample: list[str], names: dict[str, str],
                   unmask: bool = False) -> pd.DataFrame:
    """The call list: the sampled cases (masked) and an empty column for each result to record."""
    rows = ledger[ledger["complaint_id"].astype(str).isin(set(sample))].sort_values("complaint_id")
    detail = detail_table(rows, unmask, names)
    out = pd.DataFrame({"序号": range(1, len(detail) + 1)})
    for col in ("投诉编号", "处理机构", "收到日期", "投诉事由", "处理决定日期", "投诉人标识", "保单号",
                "投诉摘要"):
        out[col] = detail[col].to_numpy()
    for col in CALLBACK_RESULT_COLUMNS:
        out[col] = ""
    return out


def penalties_table(penalties: dict[str, Any], names: dict[str, str]) -> pd.DataFrame:
    """The fines summary as one table: by branch, by department, by reason, and the total."""
    rows = []
    for key, label, name in (("by_branch", "按机构", lambda c: names.get(c, c)),
                             ("by_department", "按责任部门", lambda c: DEPARTMENTS.get(c, c)),
                             ("by_reason", "按处罚原因", lambda c: c)):
        for code, g in penalties[key].items():
            rows.append({"分类": label, "名称": name(code), "罚单件数": g["count"],
                         "罚款金额(元)": g["amount"]})
    rows.append({"分类": "合计", "名称": f"涉及投诉{penalties['complaints']}件",
                 "罚单件数": penalties["count"], "罚款金额(元)": penalties["amount"]})
    return pd.DataFrame(rows, columns=["分类", "名称", "罚单件数", "罚款金额(元)"])


def write_monthly_workbook(ledger_month: pd.DataFrame, month: str, ctx: RenderContext, out: Path,
                           callback: dict[str, Any] | None = None,
                           penalties: dict[str, Any] | None = None) -> Path:
    """Write the monthly publication tables for ``month`` (``YYYY-MM``) to ``out`` (.xlsx path or directory).

    ``ledger_month`` is the normalised ledger restricted to the month (the loading step is the caller's).
    ``callback``: the month's call-back sample figures (``callback.*``): a fourth sheet, the call list.
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
    if penalties is not None:
        _write(wb.create_sheet(PENALTIES_SHEET),
               f"{head}投诉罚单汇总表（{penalties['due']}报送）", penalties_table(penalties, names),
               {"分类": 12, "名称": 24, "罚款金额(元)": 14}, money=("罚款金额(元)",))
    if callback is not None:
        _write_call_list(wb.create_sheet(CALLBACK_SHEET), head, ledger_month, callback, names, unmask)
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
