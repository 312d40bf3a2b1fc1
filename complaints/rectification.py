"""Rectification items measured against a baseline (溯源整改, FIGURES.md "Root causes and rectification").

An item (:class:`complaints.settings.RectificationItem`) targets a slice of the complaints (a root cause
and/or a category and/or a branch: the cases matching every target given) and names the metric that
should move over it: ``cases`` (the slice's cases in a quarter) or ``share`` (the slice's cases ÷ all
cases in scope that quarter). It is measured over the quarter *before* the one it was opened in (the
baseline) and over each quarter since, up to the last quarter that ended by the as-of time, each with the
change against the baseline; an item past its due date and not done is overdue.

Cases are those of ``compute_figures``: rows in scope (the entity; the head office sees all) that are not
repeat contacts, by received time. Both metrics are better lower. Pure: no I/O.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from complaints.ledger import CATEGORIES, ROOT_CAUSES, root_cause_lists
from complaints.periods import Period
from complaints.settings import RectificationItem

STATUS_ZH = {"planned": "未启动", "in_progress": "整改中", "done": "已完成"}
METRIC_ZH = {"cases": "投诉件数", "share": "占全部投诉件数的比例"}
MOVED_ZH = {"improved": "改善", "unchanged": "持平", "worsened": "未改善"}


def quarter_of(day: dt.date) -> Period:
    return Period("quarter", day.year, (day.month - 1) // 3 + 1)


def baseline_quarter(item: RectificationItem) -> Period:
    """The quarter before the one the item was opened in."""
    return quarter_of(item.opened).previous()


def target_text(item: RectificationItem, names: Mapping[str, str] | None = None) -> str:
    """The slice in words: 「投诉原因为“合同条款”，事由为“理赔”，机构为广东分公司」 (names, never codes)."""
    parts = []
    if item.root_cause:
        parts.append(f"投诉原因为“{ROOT_CAUSES[item.root_cause]}”")
    if item.category:
        parts.append(f"事由为“{CATEGORIES[item.category]}”")
    if item.branch:
        parts.append(f"机构为{(names or {}).get(item.branch, item.branch)}")
    return "，".join(parts)


def metric_text(item: RectificationItem, names: Mapping[str, str] | None = None) -> str:
    """「投诉原因为合同条款的投诉件数」 / 「…的投诉占全部投诉件数的比例」."""
    slice_ = target_text(item, names)
    return f"{slice_}的投诉件数" if item.metric == "cases" else f"{slice_}的投诉{METRIC_ZH['share']}"


def slice_mask(ledger: pd.DataFrame, item: RectificationItem) -> np.ndarray:
    """Rows in the item's slice: every given target matches (root cause among the row's causes)."""
    mask = np.ones(len(ledger), dtype=bool)
    if item.root_cause:
        causes = root_cause_lists(ledger["root_cause"]) if "root_cause" in ledger else pd.Series(
            [[]] * len(ledger), dtype=object)
        mask &= causes.map(lambda codes: item.root_cause in codes).to_numpy(dtype=bool)
    if item.category:
        mask &= (ledger["category"] == item.category).fillna(False).to_numpy(dtype=bool)
    if item.branch:
        mask &= ((ledger["entity_code"] == item.branch) | (ledger["branch_code"] == item.branch)).fillna(
            False).to_numpy(dtype=bool)
    return mask


def _value(item: RectificationItem, in_slice: int, cases: int) -> float | None:
    if item.metric == "cases":
        return float(in_slice)
    return None if cases == 0 else in_slice / cases


def _moved(before: float | None, after: float | None) -> str | None:
    if before is None or after is None:
        return None
    if abs(after - before) < 1e-12:
        return "unchanged"
    return "improved" if after < before else "worsened"


def measure(
    ledger: pd.DataFrame,
    item: RectificationItem,
    *,
    as_of: dt.datetime,
    entity: str | None = None,
    head_office: str | None = None,
    until: Period | None = None,
) -> dict[str, Any]:
    """The item measured: ``{id, metric, baseline: {period, cases, in_slice, value}, quarters: [{period,
    cases, in_slice, value, change, moved}], latest: the last of quarters (or None), moved, overdue}``.

    ``quarters``: the opening quarter and each one after it that ended by ``as_of`` (and not after
    ``until``, e.g. the annual report's year). ``change`` = value − baseline value; ``moved``: improved
    (lower), unchanged, worsened, or None when either value is missing (a share of no cases)."""
    in_scope = np.ones(len(ledger), dtype=bool)
    if entity is not None and entity != head_office:
        in_scope = (ledger["entity_code"] == entity).to_numpy(dtype=bool)
    case = in_scope & ledger["repeat_of"].isna().to_numpy(dtype=bool)
    received = ledger["received_at"].to_numpy(dtype="datetime64[us]")
    in_slice = case & slice_mask(ledger, item)

    def one(q: Period) -> dict[str, Any]:
        inside = (received >= np.datetime64(q.start, "us")) & (received < np.datetime64(q.end, "us"))
        n, k = int((case & inside).sum()), int((in_slice & inside).sum())
        return {"period": q.code, "cases": n, "in_slice": k, "value": _value(item, k, n)}

    base = one(baseline_quarter(item))
    quarters: list[dict[str, Any]] = []
    q = quarter_of(item.opened)
    while q.end <= as_of.date() and (until is None or q.end <= until.end):
        row = one(q)
        b, v = base["value"], row["value"]
        row["change"] = None if b is None or v is None else v - b
        row["moved"] = _moved(b, v)
        quarters.append(row)
        q = q.shift(1)
    latest = quarters[-1] if quarters else None
    return {
        "id": item.id,
        "metric": item.metric,
        "baseline": base,
        "quarters": quarters,
        "latest": latest,
        "moved": latest["moved"] if latest else None,
        "overdue": is_overdue(item, as_of.date()),
    }


def measure_all(
    ledger: pd.DataFrame,
    items: Sequence[RectificationItem],
    *,
    as_of: dt.datetime,
    entity: str | None = None,
    head_office: str | None = None,
    until: Period | None = None,
) -> list[dict[str, Any]]:
    """:func:`measure` for each item opened by ``as_of`` (and, with ``until``, by that period's end)."""
    last = as_of.date() if until is None else min(as_of.date(), until.last_day)
    return [
        measure(ledger, item, as_of=as_of, entity=entity, head_office=head_office, until=until)
        for item in items
        if item.opened <= last
    ]


def is_overdue(item: RectificationItem, today: dt.date) -> bool:
    """Past its due date and not done."""
    return item.status != "done" and item.due < today


def overdue_items(items: Iterable[RectificationItem], today: dt.date) -> list[dict[str, Any]]:
    """The overdue items, oldest due first: ``{id, title, owner, due, status, days_overdue}``."""
    rows = [
        {
            "id": i.id,
            "title": i.title,
            "owner": i.owner,
            "due": i.due.isoformat(),
            "status": i.status,
            "days_overdue": (today - i.due).days,
        }
        for i in items
        if is_overdue(i, today)
    ]
    return sorted(rows, key=lambda r: (r["due"], r["id"]))
