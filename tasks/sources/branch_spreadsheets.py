"""The ``branch_spreadsheets`` source kind: the intake template, reading filled templates back with
errors per row, the mapping (:class:`SpreadsheetSource`) and the reader.

Branches without access to the complaint system fill an XLSX template whose headers are the
ledger's Chinese labels (LEDGER.md). Code columns accept the code or its Chinese label; dates are
ISO dates or Excel dates. Each file's row-level errors are written next to it as
``<name>_errors.xlsx`` so the branch can correct and resend it. The reader extracts the rows with
errors too, with their values as filled in, so the quality gate quarantines them: no row read is lost.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pandas as pd
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation
from pydantic import field_validator

from complaints.errors import UserError
from complaints.ledger import CODE_LISTS, LEDGER_COLUMNS, coercion_failures, normalize
from tasks.sources.base import ExtractError, Part, Scope
from tasks.sources.file_sources import (
    _check_path,
    _file_error,
    _FileSourceBase,
    _read_bytes,
    _stable,
)
from tasks.sources.files import InputError, _header_map, read_sheet_rows
from tasks.sources.files import _canonical as _canonical_header
from tasks.sources.ledger_files import _take
from tasks.sources.mapping import _canonical
from tasks.xlsx_safe import neutralise, write_frames_xlsx

if TYPE_CHECKING:  # type only: the registry imports every kind module, which imports this one
    from tasks.sources.registry import Source

DATA_SHEET = "投诉台账"
CODES_SHEET = "代码表"
HELP_SHEET = "填写说明"
ERRORS_SUFFIX = "_errors"
_KIND_ZH = {
    "text": "文本",
    "datetime": "日期时间(YYYY-MM-DD HH:MM)",
    "code": "代码(下拉选择)",
    "bool": "是/否",
    "int": "整数",
    "decimal": "金额(元)",
}
ERRORS_SHEET = "错误清单"
ERROR_COLUMNS = ["文件", "行号", "列", "字段", "填写值", "问题"]


def write_template(out: Path, rows: int = 2000) -> Path:
    """Write the intake template: data sheet, code lists with data validation, instructions."""
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = DATA_SHEET
    codes = wb.create_sheet(CODES_SHEET)
    help_ws = wb.create_sheet(HELP_SHEET)
    bold = Font(bold=True)
    fill_req = PatternFill("solid", fgColor="FCE4D6")
    fill_opt = PatternFill("solid", fgColor="DDEBF7")

    list_col: dict[str, str] = {}
    for i, (name, table) in enumerate(CODE_LISTS.items(), start=1):
        letter = get_column_letter(2 * i - 1)
        codes.cell(1, 2 * i - 1, name).font = bold
        codes.cell(1, 2 * i, "中文").font = bold
        for r, (code, label) in enumerate(table.items(), start=2):
            codes.cell(r, 2 * i - 1, code)
            codes.cell(r, 2 * i, label)
        list_col[name] = f"'{CODES_SHEET}'!${letter}$2:${letter}${len(table) + 1}"

    for j, col in enumerate(LEDGER_COLUMNS, start=1):
        cell = ws.cell(1, j, col.label)
        cell.font = bold
        cell.fill = fill_req if col.required else fill_opt
        ws.column_dimensions[get_column_letter(j)].width = max(12, 2 * len(col.label) + 4)
        letter = get_column_letter(j)
        rng = f"{letter}2:{letter}{rows + 1}"
        dv: DataValidation | None = None
        if col.kind == "code" and col.codes:
            dv = DataValidation(type="list", formula1=list_col[col.codes], allow_blank=not col.required)
        elif col.kind == "bool":
            dv = DataValidation(type="list", formula1='"是,否"', allow_blank=not col.required)
        elif col.kind in ("int", "decimal"):
            dv = DataValidation(
                type="decimal" if col.kind == "decimal" else "whole",
                operator="greaterThanOrEqual",
                formula1="0",
                allow_blank=True,
            )
        if dv is not None:
            dv.error = f"{col.label}: 请从列表中选择或填写有效值"
            dv.showErrorMessage = True
            ws.add_data_validation(dv)
            dv.add(rng)
        if col.kind == "datetime":
            for r in range(2, rows + 2):
                ws.cell(r, j).number_format = "yyyy-mm-dd hh:mm"
    ws.freeze_panes = "B2"

    help_rows = [("字段(表头)", "列名", "必填", "类型", "可选代码")]
    for col in LEDGER_COLUMNS:
        allowed = "、".join(f"{k}={v}" for k, v in CODE_LISTS[col.codes].items()) if col.codes else ""
        help_rows.append((col.label, col.name, "是" if col.required else "否", _KIND_ZH[col.kind], allowed))
    notes = [
        "填写说明：每行一件投诉（重复投诉另起一行并填写“重复投诉原编号”）。红色表头为必填。",
        "时间一律为北京时间；日期可写 2026-07-01 或 2026-07-01 09:30。代码列可填代码或其中文名称。",
        "监管转办件须填写转送日期和转办编号；不予受理须填写原因；结案须填写结案方式。",
        "摘要中不得出现完整身份证号、手机号（请写成 138****5678）。",
        "退回的 *_errors.xlsx 列出每行的问题，修改后重新提交整个文件。",
    ]
    for r, text in enumerate(notes, start=1):
        help_ws.cell(r, 1, text)
    for r, row in enumerate(help_rows, start=len(notes) + 2):
        for c, value in enumerate(row, start=1):
            cell = help_ws.cell(r, c, value)
            cell.alignment = Alignment(wrap_text=c == 5, vertical="top")
            if r == len(notes) + 2:
                cell.font = bold
    for c, width in enumerate((18, 22, 6, 26, 90), start=1):
        help_ws.column_dimensions[get_column_letter(c)].width = width
    wb.move_sheet(HELP_SHEET, offset=-2)
    wb.active = 1
    out.parent.mkdir(parents=True, exist_ok=True)
    neutralise(wb)
    wb.save(out)
    return out


class BranchFileError(UserError):
    """A branch file cannot be read at all (damaged, not a workbook); the message names the file."""


@dataclass
class BranchRows:
    """Every data row of one filled template, values as read (code labels mapped to codes)."""

    path: Path
    rows: pd.DataFrame  # canonical column names, object values as read
    excel_row: np.ndarray  # the row number in the workbook of each row
    errors: pd.DataFrame  # ERROR_COLUMNS, one line per problem
    bad: np.ndarray  # bool per row: the row has at least one error

    def good(self) -> pd.DataFrame:
        """The rows without errors, normalised to the ledger's dtypes."""
        return normalize(self.rows, "ledger")[~self.bad].reset_index(drop=True)


def _label_to_code(values: pd.Series, codes: dict[str, str]) -> pd.Series:
    lookup = {**{v: k for k, v in codes.items()}, **{k: k for k in codes}}
    text = values.astype("string").str.strip()
    mapped = text.map(lookup).fillna(text.str.lower().map(lookup)).fillna(text)
    return mapped.astype(object).where(mapped.notna(), None)


def _read_sheet(path: Path, data: bytes | None) -> tuple[pd.DataFrame, np.ndarray]:
    """The data sheet's rows (canonical column names where the header is known, values as read) and
    each row's number in the workbook. The sheet is 投诉台账 when the workbook has it visible, else its
    one visible sheet with data (see :func:`tasks.sources.files.read_sheet_rows`)."""
    try:
        sheet = read_sheet_rows(path, data, designated=DATA_SHEET, companions=(CODES_SHEET, HELP_SHEET))
    except InputError as exc:
        raise BranchFileError(str(exc)) from exc
    if sheet.title == ERRORS_SHEET:
        raise BranchFileError(
            f"{path}: is an error list written for a branch file that is no longer in the folder, not a "
            "filled template; delete it (the corrected branch file gets a new one when needed)."
        )
    if not sheet.rows:
        return pd.DataFrame(), np.zeros(0, dtype=int)
    _, header_cells = sheet.rows[0]
    width = max(header_cells)
    mapping = _header_map("ledger")
    names: list[str] = []
    for c in range(1, width + 1):
        raw_name = header_cells.get(c)
        name = _canonical_header(str(raw_name), mapping) if raw_name is not None else f"Unnamed: {c - 1}"
        if name in names:
            name = f"{name}.{names.count(name)}"
        names.append(name)
    records, numbers = [], []
    for idx, vals in sheet.rows[1:]:
        for c in vals:
            if c > width:
                raise BranchFileError(
                    f"{path}, sheet {sheet.title!r}: cell {get_column_letter(c)}{idx} has a value but its "
                    "column has no header; the branch should give the column a name or clear the cell and "
                    "send the file again."
                )
        records.append([_as_read(vals.get(c)) for c in range(1, width + 1)])
        numbers.append(idx)
    return pd.DataFrame(records, columns=names, dtype=object), np.asarray(numbers, dtype=int)


def _as_read(value: Any) -> Any:
    """A cell value as ``pandas.read_excel`` gives it: whole floats as ints (Excel stores 2 as 2.0)."""
    return int(value) if isinstance(value, float) and value.is_integer() else value


def read_branch_rows(path: Path, data: bytes | None = None, *, write_errors: bool = True) -> BranchRows:
    """One filled template → every row as read plus its row-level errors (also written next to the file
    as ``<name>_errors.xlsx`` unless ``write_errors`` is false). ``data``: the file's bytes, when the
    caller has read (and hashed) them already. Raises :class:`BranchFileError` for an unreadable file."""
    raw, excel_row = _read_sheet(path, data)
    unknown_headers = [c for c in raw.columns if c not in {col.name for col in LEDGER_COLUMNS}]
    raw = raw.drop(columns=unknown_headers)
    for col in LEDGER_COLUMNS:
        if col.kind == "code" and col.codes and col.name in raw:
            raw[col.name] = _label_to_code(raw[col.name], CODE_LISTS[col.codes])
    norm = normalize(raw, "ledger")
    problems: list[pd.DataFrame] = []

    def add(mask: np.ndarray, column: str, problem: str) -> None:
        if mask.any():
            label = next(c.label for c in LEDGER_COLUMNS if c.name == column)
            vals = raw[column] if column in raw else pd.Series([None] * len(raw))
            problems.append(
                pd.DataFrame(
                    {
                        "文件": path.name,
                        "行号": excel_row[mask],
                        "列": column,
                        "字段": label,
                        "填写值": vals.astype(object).where(vals.notna(), "").astype(str).to_numpy()[mask],
                        "问题": problem,
                    }
                )
            )

    fails = coercion_failures(raw, norm, "ledger")
    for col in fails.columns:
        add(fails[col].to_numpy(), col, "无法识别（日期/数字/是否格式有误）")
    for col in LEDGER_COLUMNS:
        s = norm[col.name]
        if col.required:
            unparsed = fails[col.name].to_numpy() if col.name in fails else np.zeros(len(s), dtype=bool)
            add(s.isna().to_numpy() & ~unparsed, col.name, "必填项为空")
        if col.kind == "code" and col.codes:
            bad = s.notna() & ~s.isin(list(CODE_LISTS[col.codes]))
            add(bad.to_numpy(), col.name, f"不是有效代码（可选：{'、'.join(CODE_LISTS[col.codes])}）")
    dup = norm["complaint_id"].notna() & norm["complaint_id"].duplicated(keep=False)
    add(dup.to_numpy(), "complaint_id", "投诉编号在本文件中重复")
    if unknown_headers:
        problems.append(
            pd.DataFrame(
                {
                    "文件": [path.name],
                    "行号": [1],
                    "列": [""],
                    "字段": [", ".join(map(str, unknown_headers))],
                    "填写值": [""],
                    "问题": ["无法识别的表头（已忽略）"],
                }
            )
        )
    errors = pd.concat(problems, ignore_index=True) if problems else pd.DataFrame(columns=ERROR_COLUMNS)
    errors = errors.sort_values(["行号", "列"], kind="stable").reset_index(drop=True)
    if write_errors:
        write_errors_file(path, errors)
    bad_rows = set(errors["行号"].tolist()) - {1}
    return BranchRows(path, raw, excel_row, errors, np.isin(excel_row, list(bad_rows)))


def errors_path(path: Path) -> Path:
    return path.with_name(f"{path.stem}{ERRORS_SUFFIX}.xlsx")


def write_errors_file(path: Path, errors: pd.DataFrame) -> Path | None:
    """``<name>_errors.xlsx`` next to the branch file (removed when there are no errors any more)."""
    target = errors_path(path)
    if len(errors):
        write_frames_xlsx(target, {ERRORS_SHEET: errors})  # values and file names as text, never formulas
        return target
    target.unlink(missing_ok=True)
    return None


def file_error_frame(path: Path, problem: str) -> pd.DataFrame:
    """The errors of a file that could not be read at all (one line, row 0)."""
    return pd.DataFrame(
        {"文件": [path.name], "行号": [0], "列": [""], "字段": [""], "填写值": [""], "问题": [problem]},
        columns=ERROR_COLUMNS,
    )


def _is_errors_list(path: Path) -> bool:
    """``X_errors.xlsx`` next to ``X.xlsx``: the error list we wrote for that file (a branch file that is
    merely named ``…_errors.xlsx`` is read)."""
    if not path.stem.endswith(ERRORS_SUFFIX):
        return False
    stem = path.stem[: -len(ERRORS_SUFFIX)]
    return any(path.with_name(f"{stem}{ext}").exists() for ext in (".xlsx", ".xlsm", ".XLSX"))


def branch_files(folder: str | Path, pattern: str = "*.xlsx") -> list[Path]:
    """The filled templates in ``folder`` (not the error lists we write, not Excel lock files)."""
    return sorted(
        p
        for p in Path(folder).glob(pattern)
        if p.is_file() and not p.name.startswith("~$") and not _is_errors_list(p)
    )


def read_branch_file(path: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """One filled template → (rows without errors, errors); errors are also written next to the file."""
    read = read_branch_rows(path)
    good = read.good()
    good["source"] = f"spreadsheet:{path.name}"
    return good, read.errors


def read_branch_folder(folder: str | Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Every filled template in ``folder`` → (ledger rows without errors, all row-level errors)."""
    files = branch_files(folder)
    ledgers, errors = [], []
    for p in files:
        good, bad = read_branch_file(p)
        ledgers.append(good)
        errors.append(bad)
    ledger = pd.concat(ledgers, ignore_index=True) if ledgers else normalize(pd.DataFrame(), "ledger")
    err = pd.concat(errors, ignore_index=True) if errors else pd.DataFrame(columns=ERROR_COLUMNS)
    return ledger, err


class SpreadsheetSource(_FileSourceBase):
    """A folder of filled branch intake templates (this module)."""

    kind: Literal["branch_spreadsheets"]
    path: str  # the folder
    pattern: str = "*.xlsx"  # which files in the folder are templates (``*_errors.xlsx`` never are)
    write_errors: bool = True  # write ``<file>_errors.xlsx`` next to each file with row errors

    @field_validator("path")
    @classmethod
    def _path(cls, v: str) -> str:
        return _check_path(v)

    @field_validator("pattern")
    @classmethod
    def _pattern(cls, v: str) -> str:
        if "/" in v or "\\" in v or not v.lower().endswith((".xlsx", ".xlsm")):
            raise ValueError("pattern must be a file name pattern ending in .xlsx, e.g. '*.xlsx'")
        return v


class BranchSpreadsheetsReader:
    """Reads a :class:`SpreadsheetSource` (see the module doc)."""

    model = SpreadsheetSource

    def check(self, path: Path, mapping: Any) -> None:
        """Nothing beyond the model's validators: each file's rows are checked when it is read."""

    def location(self, source: Source, workdir: Path | None = None) -> str:
        m = source.mapping
        assert isinstance(m, SpreadsheetSource)
        return str(source.resolve(m.path, workdir) / m.pattern)

    def read(self, src: Source, sc: Scope) -> Part:
        m = src.mapping
        assert isinstance(m, SpreadsheetSource)
        folder = src.resolve(m.path, sc.workdir)
        if not folder.is_dir():
            raise ExtractError(
                f"source {m.name} ({src.path.name}): path: the folder {folder} does not exist; create it or "
                "fix `path` (relative to the working directory, or absolute)"
            )
        files, records, frames, origin, errors = [], [], [], [], []
        for i, path in enumerate(branch_files(folder, m.pattern)):
            for _attempt in range(3):
                before = _stable(path)
                data, rec = _read_bytes(path)
                try:
                    read: BranchRows | None = read_branch_rows(path, data, write_errors=False)
                except BranchFileError as exc:
                    if m.on_unreadable == "fail":
                        raise _file_error(src, path, exc) from exc
                    read, problem = None, str(exc)
                if _stable(path) == before:
                    break
            else:
                raise ExtractError(f"source {m.name}: {path} kept changing while it was read; try again")
            rec.update(source=m.name, table="ledger")
            if read is None:
                err = file_error_frame(path, problem)
                rec.update(rows=0, rows_extracted=0, rows_with_errors=0, error=problem)
            else:
                err = read.errors
                frames.append(read.rows)
                origin.append(np.full(len(read.rows), i))
                rec.update(rows=len(read.rows), rows_with_errors=int(read.bad.sum()))
            if m.write_errors:
                write_errors_file(path, err)
            errors.append(err)
            rec["errors"] = _error_records(err)
            files.append(path)
            records.append(rec)
        rows = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=["complaint_id"])
        which = np.concatenate(origin) if origin else np.zeros(0, dtype=int)
        norm = normalize(rows, "ledger")
        take = _take(norm, sc)
        led, bad = _canonical(
            rows[take].reset_index(drop=True), "ledger", m.name, norm[take].reset_index(drop=True)
        )
        led = led.sort_values("complaint_id", kind="stable").reset_index(drop=True)
        counts = np.bincount(which[take], minlength=len(files))
        for i, rec in enumerate(records):
            if "error" not in rec:
                rec["rows_extracted"] = int(counts[i])
        meta = {
            "name": m.name,
            "kind": m.kind,
            "file": str(src.path),
            "path": str(folder),
            "rows": {"ledger": len(led)},
            "rows_read": len(rows),
            "files": len(files),
            "unreadable": [r["name"] for r in records if "error" in r],
        }
        all_errors = pd.concat(errors, ignore_index=True) if errors else pd.DataFrame(columns=ERROR_COLUMNS)
        return Part(led, None, None, [bad], records, meta, all_errors.assign(source=m.name))


def _error_records(errors: pd.DataFrame) -> list[dict[str, Any]]:
    names = dict(zip(ERROR_COLUMNS, ("file", "row", "column", "field", "value", "problem"), strict=True))
    return [
        {names[k]: (int(v) if k == "行号" else str(v)) for k, v in row.items()}
        for row in errors[ERROR_COLUMNS].to_dict("records")
    ]
