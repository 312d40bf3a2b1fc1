"""The call-back results read back (FIGURES.md "Internal publications": the results filled in on the call
list are summarised in the next month's publication).

The call centre fills in the call list (the ``响应速度抽访名单`` sheet of month M−1's publication workbook,
the whole workbook or that sheet alone) and puts the file into the results folder
(``publications.callback_results_dir``, default ``callbacks/`` in the working directory). The monthly run
of month M copies the folder's workbooks into its bundle (``data/callback_results/``) and reads them from
there, so ``bundles reproduce`` reads the same bytes. Only call lists of month M−1 are read (their title
names the month); rows that cannot be read come back with their errors (figures
``callback_results.errors`` and a workbook in the output directory), the others are summarised.
"""

from __future__ import annotations

import logging
import shutil
import zipfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

from complaints.callback import check_result_row, summarise_results
from complaints.periods import Period

if TYPE_CHECKING:
    from tasks.runs import RunContext

log = logging.getLogger("complaints.run")
SHEET = "响应速度抽访名单"
STAGED = "callback_results"


def stage_callback_results(ctx: RunContext) -> list[str]:
    """Copy the results folder's workbooks into the bundle's staging directory; their names."""
    folder = ctx.workdir / ctx.loaded.settings.publications.callback_results_dir
    if not folder.is_dir():
        return []
    target = ctx.staging / STAGED
    names = []
    for path in sorted(folder.glob("*.xlsx")):
        if path.name.startswith("~$") or not path.is_file():  # Excel's lock files
            continue
        target.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, target / path.name)
        names.append(path.name)
    return names


def staged_folder(ctx: RunContext) -> Path:
    """The staged copies: in a run its staging directory, in ``bundles reproduce`` the bundle's data dir."""
    staged = ctx.staging / STAGED
    return staged if staged.is_dir() else ctx.workdir / STAGED


def read_results(folder: Path, month: Period) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(rows that can be read, rows that cannot with their errors) of ``month``'s call lists in ``folder``."""
    from openpyxl import load_workbook  # deferred: only monthly runs read workbooks

    good: list[dict[str, Any]] = []
    bad: list[dict[str, Any]] = []
    if not folder.is_dir():
        return good, bad
    for path in sorted(folder.glob("*.xlsx")):
        try:
            wb = load_workbook(path, read_only=True, data_only=True)
        except (OSError, zipfile.BadZipFile, KeyError, ValueError) as exc:
            bad.append({"file": path.name, "row": None, "complaint_id": None,
                        "errors": [f"无法读取该文件：{type(exc).__name__}"]})
            continue
        try:
            if SHEET not in wb.sheetnames:
                bad.append({"file": path.name, "row": None, "complaint_id": None,
                            "errors": [f"没有“{SHEET}”工作表"]})
                continue
            rows = list(wb[SHEET].iter_rows(values_only=True))
        finally:
            wb.close()
        title = str(rows[0][0] or "") if rows and rows[0] else ""
        if month.label_zh not in title:
            continue  # another month's call list
        header = [str(h).strip() if h is not None else "" for h in (rows[1] if len(rows) > 1 else ())]
        for number, values in enumerate(rows[2:], start=3):
            if all(v is None or str(v).strip() == "" for v in values):
                continue
            row = dict(zip(header, values, strict=False))
            errors = check_result_row(row)
            if errors:
                bad.append({"file": path.name, "row": number,
                            "complaint_id": str(row.get("投诉编号") or "") or None, "errors": errors})
            else:
                good.append(row)
    return good, bad


def results_figures(ctx: RunContext, month: Period) -> dict[str, Any]:
    """``callback_results``: the summary of the previous month's call-back results and the rows that
    could not be read."""
    previous = month.previous()
    good, bad = read_results(staged_folder(ctx), previous)
    out = summarise_results(good, previous.code)
    out["rejected"] = len(bad)
    out["errors"] = bad
    if bad:
        log.warning("call-back results of %s: %d row(s) could not be read", previous.code, len(bad))
    return out


def write_errors(ctx: RunContext, results: dict[str, Any] | None) -> Path | None:
    """The rows that could not be read, for the call centre (output dir); None when there are none."""
    if not results or not results.get("errors"):
        return None
    import pandas as pd

    from tasks.xlsx_safe import write_frames_xlsx

    frame = pd.DataFrame([{"文件": e["file"], "行号": e["row"], "投诉编号": e["complaint_id"],
                           "错误": "；".join(e["errors"])} for e in results["errors"]])
    ctx.output_dir.mkdir(parents=True, exist_ok=True)
    path = ctx.output_dir / f"抽访结果无法读取的行-{results['month']}.xlsx"
    write_frames_xlsx(path, {"无法读取的行": frame})
    return path
