"""Great Expectations' pandas engine, computing each metric over the columns its domain names.

GX 1.x's :meth:`PandasExecutionEngine.get_domain_records` filters the *whole* batch frame (row condition,
``ignore_row_if``, then the column's nulls in the map metrics) and only then picks the domain's columns:
with the ledger suite's 38 columns at 1M rows that is a 38-column copy per metric, ~0.5 s per
expectation however simple (measured with bench/validate_bench.py). :func:`narrow_domains` makes the
engine select the domain's columns (and those its row condition reads) first, then apply GX's own
filters: the same rows, the same labels, the same values, so every metric gives the same answer.
Table-level domains (row count, column list, column types) still see the whole frame.

A row condition is evaluated once per batch: GX runs ``DataFrame.query`` again for every metric of its
domain, table domains included (46 queries of 6 conditions per ledger suite, ~2 s at 1M rows); the
narrowed engine keeps the rows each condition selects (a boolean array per condition, 1 MB per million
rows), found by GX's own filter, and hands GX those rows.
"""

from __future__ import annotations

import json
import re
import types
import weakref
from typing import Any

import numpy as np
import pandas as pd
from great_expectations.execution_engine import PandasExecutionEngine

_WORD = re.compile(r"[\w\u4e00-\u9fff]+")
_CONDITION_KEYS = ("row_condition", "condition_parser")


def _domain_columns(domain_kwargs: dict[str, Any], columns: pd.Index) -> list[Any] | None:
    """The batch columns a domain reads, in the frame's order; None for a table domain."""
    named: list[Any] = []
    if "column" in domain_kwargs:
        named.append(domain_kwargs["column"])
    for key in ("column_A", "column_B"):
        if key in domain_kwargs:
            named.append(domain_kwargs[key])
    named.extend(domain_kwargs.get("column_list") or [])
    if not named:
        return None
    condition = domain_kwargs.get("row_condition")
    if condition:
        words = set(_WORD.findall(str(condition)))
        named.extend(c for c in columns if str(c) in words)
    wanted = set(named)
    if not wanted <= set(columns):  # a column the frame lacks: GX's own error message
        return None
    return [c for c in columns if c in wanted]


def _condition_rows(engine: Any, whole: pd.DataFrame, narrowed: pd.DataFrame,
                   domain_kwargs: dict[str, Any]) -> np.ndarray:
    """The rows of ``whole`` that GX's own row-condition filter keeps (``DataFrame.query`` of the
    condition), as a boolean array; computed once per batch frame and condition."""
    condition = domain_kwargs["row_condition"]
    key = json.dumps([condition, domain_kwargs.get("condition_parser")], sort_keys=True, default=repr)
    masks: dict[str, tuple[weakref.ref[pd.DataFrame], np.ndarray]] = engine._row_masks
    cached = masks.get(key)
    if cached is not None and cached[0]() is whole:
        return cached[1]
    kept = engine._apply_row_condition_filter(narrowed, condition, domain_kwargs)
    mask = np.zeros(len(narrowed), dtype=bool)
    mask[narrowed.index.get_indexer(kept.index)] = True
    masks[key] = (weakref.ref(whole), mask)
    return mask


def forget_conditions(engine: Any) -> None:
    """Drop the row conditions' cached rows (with the batches they were computed over)."""
    getattr(engine, "_row_masks", {}).clear()


def narrow_domains(engine: PandasExecutionEngine) -> PandasExecutionEngine:
    """Make ``engine`` hand each column, column-pair and multicolumn domain only its own columns (again:
    no change)."""
    if getattr(engine, "_narrowed", False):
        return engine
    original = type(engine).get_domain_records

    def get_domain_records(self: PandasExecutionEngine, domain_kwargs: dict[str, Any]) -> pd.DataFrame:
        batch_id: Any = domain_kwargs.get("batch_id") or self.batch_manager.active_batch_data_id
        batch: Any = self.batch_manager.batch_data_cache.get(batch_id)
        whole: Any = getattr(batch, "dataframe", None)
        if whole is None:
            return original(self, domain_kwargs)
        cols = _domain_columns(domain_kwargs, whole.columns)
        narrowed = whole if cols is None or len(cols) == len(whole.columns) else whole[cols]
        kwargs = domain_kwargs
        if domain_kwargs.get("row_condition") and whole.index.is_unique:
            narrowed = narrowed[_condition_rows(self, whole, narrowed, domain_kwargs)]
            kwargs = {k: v for k, v in domain_kwargs.items() if k not in _CONDITION_KEYS}
        if narrowed is whole:
            return original(self, domain_kwargs)
        batch._dataframe = narrowed  # GX's own filters, over the domain's columns only
        try:
            return original(self, kwargs)
        finally:
            batch._dataframe = whole

    engine.get_domain_records = types.MethodType(get_domain_records, engine)  # type: ignore[method-assign]
    engine._narrowed = True  # type: ignore[attr-defined]
    engine._row_masks = {}  # type: ignore[attr-defined]
    return engine
