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


def write_quarantine_xlsx(result: GateResult, path: Path) -> Path:
    """One summary sheet, then one sheet per check that quarantined rows (offending values shown)."""
    summary = pd.DataFrame(
        [
            {
                "check_id": r.id,
                "table": r.table,
                "severity": r.severity,
                "level": r.level,
                "passed": r.passed,
                "failing_rows": r.failing_rows,
                "description_zh": r.description_zh,
                "description_en": r.description_en,
                "error": mask_value(r.error or ""),
                "failing_ids": mask_value(", ".join(r.failing_ids)),
            }
            for r in result.results
        ]
    )
    with pd.ExcelWriter(path, engine="openpyxl") as writer:
        summary.to_excel(writer, sheet_name="summary", index=False)
        recon = pd.DataFrame(
            [
                {"table": t, **{k: v for k, v in rec.items() if k != "by_check"}}
                for t, rec in result.reconciliation.items()
            ]
        )
        recon.to_excel(writer, sheet_name="reconciliation", index=False)
        for r in result.results:
            check = C.BY_ID[r.id]
            if check.level != "row" or check.severity != "blocking" or r.passed:
                continue
            rows = _sheet_rows(result, check)
            if not rows.empty:
                rows.to_excel(writer, sheet_name=r.id, index=False)
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
