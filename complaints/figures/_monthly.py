"""The monthly publication tables (FILINGS.md §5, DOMAIN.md: 投诉处理汇总表, 各地投诉案件分类汇总表) as
figures with lineage. Pure.

The month's records are those received in it (Asia/Shanghai local time), repeats included; "件" counts
exclude repeats (``repeat_of`` set), "次" counts every record, as in the quarterly figures.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from complaints.callback import callback_sample
from complaints.ledger import CATEGORIES
from complaints.periods import Period
from complaints.times import SHANGHAI, to_local

from ._result import Collector, FiguresResult


def month_rows(ledger: pd.DataFrame, month: Period) -> pd.DataFrame:
    """The records received in ``month`` (normalised ledger, tz-naive local times)."""
    if month.kind != "month":
        raise ValueError(f"{month.code!r} is not a month (YYYY-MM)")
    recv = ledger["received_at"]
    inside = (recv >= pd.Timestamp(month.start)) & (recv < pd.Timestamp(month.end))
    return ledger[inside.to_numpy()].reset_index(drop=True)


def _flags(ledger: pd.DataFrame) -> dict[str, np.ndarray]:
    """The summary table's columns as boolean masks over the rows (cases only, except 投诉次数)."""
    cases = ledger["repeat_of"].isna().to_numpy()

    def true(col: str) -> np.ndarray:
        return ledger[col].fillna(False).astype(bool).to_numpy()

    return {
        "cases": cases,
        "contacts": np.ones(len(ledger), dtype=bool),
        "valid_cases": cases & true("valid"),
        "regulator_forwarded_cases": cases & true("regulator_forwarded"),
        "major_cases": cases & ledger["severity"].isin(["major", "difficult"]).to_numpy(),
        "decided_cases": cases & ledger["decided_at"].notna().to_numpy(),
        "closed_cases": cases & ledger["closed_at"].notna().to_numpy(),
        "open_cases": cases & ledger["closed_at"].isna().to_numpy(),
    }


#: summary-table column (Chinese header) of each count
SUMMARY_COLUMNS = {
    "cases": "投诉件数",
    "contacts": "投诉次数",
    "valid_cases": "有效投诉件数",
    "regulator_forwarded_cases": "监管转办件数",
    "major_cases": "重大/疑难投诉件数",
    "decided_cases": "已作出处理决定件数",
    "closed_cases": "已结案件数",
    "open_cases": "未结案件数",
}
REDRESS_COLUMN = "赔付金额(元)"


def summary_table(ledger: pd.DataFrame, names: Mapping[str, str]) -> pd.DataFrame:
    """Per handling branch: cases, contacts, valid, forwarded, major, decided, closed, open, paid."""
    flags = _flags(ledger)
    cases = flags["cases"]
    frame = pd.DataFrame({"branch": ledger["branch_code"].astype(str)})
    for key, column in SUMMARY_COLUMNS.items():
        frame[column] = flags[key].astype(int)
    frame[REDRESS_COLUMN] = ledger["redress_amount"].fillna(0.0).where(cases, 0.0).astype(float)
    table = frame.groupby("branch", sort=True).sum(numeric_only=True)
    table.loc["合计"] = table.sum(numeric_only=True)
    table.index = [names.get(code, code) for code in table.index]
    table.index.name = "机构"
    return table.reset_index()


def region_category_table(ledger: pd.DataFrame) -> pd.DataFrame:
    """Cases by province (rows) × category (columns, Chinese labels in code-list order), with totals."""
    cases = ledger[ledger["repeat_of"].isna()]
    order = [c for c in CATEGORIES if c in set(cases["category"])]
    table = pd.crosstab(
        cases["province"].astype(str),
        pd.Categorical(cases["category"], categories=order),
        margins=True,
        margins_name="合计",
        dropna=False,
    )
    table.columns = [CATEGORIES.get(str(c), str(c)) for c in table.columns]
    table.index.name = "省份（地区）"
    return table.reset_index()


def _records(table: pd.DataFrame) -> list[dict[str, Any]]:
    """JSON-ready rows (native Python numbers, column order kept)."""
    return [
        {str(k): (v.item() if hasattr(v, "item") else v) for k, v in row.items()}
        for row in table.to_dict("records")
    ]


def monthly_figures(
    ledger: pd.DataFrame,
    *,
    month: Period,
    as_of: dt.datetime,
    entity: str,
    names: Mapping[str, str],
    rows: Mapping[str, int] | None = None,
    callback: Mapping[str, Any] | None = None,
    callback_results: Mapping[str, Any] | None = None,
    penalties: Mapping[str, Any] | None = None,
) -> FiguresResult:
    """The month's counts and the two summary tables, with the complaint ids behind each count.

    ``ledger``: the accepted, normalised ledger (any span; the month's records are taken here).
    ``callback``: when given (``calendar``, ``rulebooks``, ``seed``, ``share``, ``head_office``), the
    call-back sample (:mod:`complaints.callback`) as ``callback.*``, its population and sample with
    lineage. ``callback_results``: the previous month's call-back results as read back (figures as given).
    """
    month_ledger = month_rows(ledger, month)
    out = Collector()
    flags = _flags(month_ledger)
    for key, mask in flags.items():
        out.put(f"counts.{key}", int(mask.sum()), mask)
    paid = month_ledger["redress_amount"].fillna(0.0).where(flags["cases"], 0.0)
    out.put("redress_total", float(paid.sum()), flags["cases"] & (paid.to_numpy() > 0))
    out.put("tables.summary", _records(summary_table(month_ledger, names)))
    out.put("tables.region_category", _records(region_category_table(month_ledger)))
    if callback is not None:
        sample = callback_sample(month_ledger, month=month, as_of=as_of, entity=entity, **callback)
        ids = month_ledger["complaint_id"].astype(str)
        for key, value in sample.figures().items():
            if key == "population":
                out.put("callback.population", value, ids.isin(sample.population).to_numpy())
            elif key == "sample":
                out.put("callback.sample", value, ids.isin(sample.sample).to_numpy())
            else:
                out.put(f"callback.{key}", value)
    if callback_results is not None:  # read back from the previous month's call lists (tasks/)
        out.put("callback_results", dict(callback_results))
    if penalties is not None:  # the fines summary (complaints.penalties), where a source has penalties
        out.put("penalties", dict(penalties))
    n = len(ledger)
    figures: dict[str, Any] = {
        "period": month.code,
        "entity": entity,
        "as_of": to_local(as_of).replace(tzinfo=SHANGHAI).isoformat(),
        "rows": dict(rows) if rows is not None else {"read": n, "accepted": n, "quarantined": 0},
    }
    figures.update(out.figures)
    figures["notes"] = dict(out.notes)
    return FiguresResult(figures=figures, lineage=out.lineage(month_ledger["complaint_id"]))
