"""The gate's files: validation.json, reconciliation.json, the quarantine (Parquet and a workbook
with one sheet per check) and GX Data Docs."""

from __future__ import annotations

import copy
import datetime as dt
import html
import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from great_expectations.data_context.types.resource_identifiers import (
    ExpectationSuiteIdentifier,
    ValidationResultIdentifier,
)

from complaints import checks as C
from complaints import ledger as L
from complaints.masking import mask_frame, mask_text, mask_value
from tasks.quality.results import GateResult
from tasks.quality.runner import _gx_context
from tasks.quality.suites import TABLES
from tasks.xlsx_safe import neutralise


def _text_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """Every cell as text (identifiers masked), blanks as missing: safe for Parquet and XLSX."""
    out = {}
    for col in frame.columns:
        s = frame[col]
        text = (
            s.astype("string")
            if not pd.api.types.is_datetime64_any_dtype(s.dtype)
            else (s.dt.strftime("%Y-%m-%dT%H:%M:%S").astype("string"))
        )
        out[str(col)] = mask_text(text) if col not in ("row_number",) else s
    return mask_frame(pd.DataFrame(out, index=frame.index))  # free text and policy numbers as in filings


def quarantine_frame(result: GateResult) -> pd.DataFrame:
    """All quarantined rows of all tables: ``table``, ``row_number``, ``failed_checks`` + the raw values."""
    parts = []
    for table in TABLES:
        q = result.quarantine.get(table)
        if q is None or q.empty:
            continue
        t = _text_frame(q)
        t.insert(0, "table", table)
        parts.append(t)
    if not parts:
        return pd.DataFrame(
            {
                "table": pd.Series([], dtype="string"),
                "row_number": pd.Series([], dtype="int64"),
                "failed_checks": pd.Series([], dtype="string"),
            }
        )
    frame = pd.concat(parts, ignore_index=True)
    frame["row_number"] = frame["row_number"].astype("int64")
    return frame


def _sheet_rows(result: GateResult, check: C.Check) -> pd.DataFrame:
    q = result.quarantine[check.table]
    rows = q[q["failed_checks"].str.split(";").map(lambda ids: check.id in ids)]
    keys = list(C.KEY_COLUMNS[check.table])
    cols = ["row_number"] + [c for c in keys if c in rows.columns]
    wanted = list(check.columns)
    if check.id in C.PARSE_CHECK.values():
        parseable = [c.name for c in L.TABLES[check.table] if c.kind not in ("text", "code")]
        wanted = [c for c in parseable if c in rows.columns]
    cols += [c for c in wanted if c in rows.columns and c not in cols]
    return _text_frame(rows[cols + ["failed_checks"]])


SUMMARY_SHEET, RECONCILIATION_SHEET = "校验汇总", "记录核对"
SUMMARY_HEADERS = {
    "check_id": "校验规则编号", "table": "数据表", "severity": "严重程度", "level": "校验层级",
    "passed": "是否通过", "failing_rows": "未通过记录数", "description_zh": "规则说明",
    "description_en": "规则说明（英文）", "error": "错误信息", "failing_ids": "未通过记录编号（已脱敏）",
}
RECONCILIATION_HEADERS = {"table": "数据表", "read": "读取记录数", "accepted": "通过记录数",
                          "quarantined": "隔离记录数"}
TABLE_NAMES = {"ledger": "投诉台账", "exposure": "业务量", "events": "处理过程记录"}
VALUE_NAMES = {"blocking": "阻断", "warning": "警告", "row": "逐行", "table": "整表", True: "是", False: "否"}


def _zh_columns(frame: pd.DataFrame, table: str) -> pd.DataFrame:
    """The columns of a quarantine sheet under their Chinese labels (LEDGER.md), as the officer who
    fixes the source reads them."""
    labels = {c.name: c.label for c in L.TABLES.get(table, ())}
    labels.update(row_number="行号", failed_checks="未通过的校验规则")
    return frame.rename(columns=lambda c: labels.get(str(c), str(c)))


def write_quarantine_xlsx(result: GateResult, path: Path) -> Path:
    """One summary sheet, then one sheet per check that quarantined rows (offending values shown);
    headers in Chinese (the English description stays as a column for the developers)."""
    summary = pd.DataFrame(
        [
            {
                "check_id": r.id,
                "table": TABLE_NAMES.get(r.table, r.table),
                "severity": VALUE_NAMES.get(r.severity, r.severity),
                "level": VALUE_NAMES.get(r.level, r.level),
                "passed": VALUE_NAMES[bool(r.passed)],
                "failing_rows": r.failing_rows,
                "description_zh": r.description_zh,
                "description_en": r.description_en,
                "error": mask_value(r.error or ""),
                "failing_ids": mask_value(", ".join(r.failing_ids)),
            }
            for r in result.results
        ]
    ).rename(columns=SUMMARY_HEADERS)
    with pd.ExcelWriter(path, engine="openpyxl") as writer:
        summary.to_excel(writer, sheet_name=SUMMARY_SHEET, index=False)
        recon = pd.DataFrame(
            [
                {"table": TABLE_NAMES.get(t, t), **{k: v for k, v in rec.items() if k != "by_check"}}
                for t, rec in result.reconciliation.items()
            ]
        ).rename(columns=RECONCILIATION_HEADERS)
        recon.to_excel(writer, sheet_name=RECONCILIATION_SHEET, index=False)
        for r in result.results:
            check = C.BY_ID[r.id]
            if check.level != "row" or check.severity != "blocking" or r.passed:
                continue
            rows = _sheet_rows(result, check)
            if not rows.empty:
                _zh_columns(rows, check.table).to_excel(writer, sheet_name=r.id, index=False)
        neutralise(writer.book)  # source values starting with = + - @ stay text, never formulas
    return path


def _escaped(value: Any) -> Any:
    if isinstance(value, str):
        return html.escape(value, quote=True)
    if isinstance(value, dict):
        return {k: _escaped(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(_escaped(v) for v in value)
    return value


def _html_safe(run: Any) -> Any:
    """A copy of a GX run whose every result value and exception text is HTML-escaped: GX's Data Docs
    renderers write them into the page as they are (a channel ``<img src=x onerror=…>`` would run when
    an auditor opens the bundle's docs). The expectations themselves come from the catalogue."""
    run = copy.deepcopy(run)
    for r in run.results:
        if r.result:
            r.result = _escaped(r.result)
        if r.exception_info:
            r.exception_info = _escaped(r.exception_info)
    return run


def _safe_result(record: dict[str, Any]) -> dict[str, Any]:
    """A check's record for validation.json: failing ids and error texts masked (they quote source values)."""
    out = dict(record)
    if isinstance(out.get("error"), str):
        out["error"] = mask_value(out["error"])
    if "failing_ids" in out:
        out["failing_ids"] = [mask_value(str(i)) for i in out["failing_ids"]]
    return out


def build_data_docs(result: GateResult, out_dir: Path) -> Path:
    """GX Data Docs (HTML) for the gate's validation results, in ``out_dir`` (``index.html``)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    context = _gx_context()
    context.add_data_docs_site(
        "bundle",
        {
            "class_name": "SiteBuilder",
            "store_backend": {"class_name": "TupleFilesystemStoreBackend", "base_directory": str(out_dir)},
            "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
        },
    )
    for table, run in result.gx_results.items():
        key = ValidationResultIdentifier(
            expectation_suite_identifier=ExpectationSuiteIdentifier(name=table),
            run_id=run.meta["run_id"],
            batch_identifier=table,
        )
        context.validation_results_store.set(key, _html_safe(run))
    context.build_data_docs(site_names=["bundle"])
    return out_dir / "index.html"


def _json_default(value: Any) -> Any:
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, dt.datetime | pd.Timestamp):
        return value.isoformat()
    return str(value)


def write_quality_outputs(result: GateResult, out_dir: Path) -> dict[str, Path]:
    """Write validation.json, reconciliation.json, quarantine.parquet, quarantine.xlsx and data_docs/."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = {
        "validation": out_dir / "validation.json",
        "reconciliation": out_dir / "reconciliation.json",
        "quarantine_parquet": out_dir / "quarantine.parquet",
        "quarantine_xlsx": out_dir / "quarantine.xlsx",
    }
    validation = {**result.summary(), "results": [_safe_result(r.to_dict()) for r in result.results]}
    paths["validation"].write_text(
        json.dumps(validation, ensure_ascii=False, indent=2, default=_json_default) + "\n", encoding="utf-8"
    )
    paths["reconciliation"].write_text(
        json.dumps(result.reconciliation, ensure_ascii=False, indent=2, default=_json_default) + "\n",
        encoding="utf-8",
    )
    quarantine_frame(result).to_parquet(paths["quarantine_parquet"], index=False)
    write_quarantine_xlsx(result, paths["quarantine_xlsx"])
    paths["data_docs"] = build_data_docs(result, out_dir / "data_docs").parent
    return paths
