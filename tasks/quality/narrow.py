"""Great Expectations' pandas engine, computing each metric over the columns its domain names.

GX 1.x's :meth:`PandasExecutionEngine.get_domain_records` filters the *whole* batch frame (row condition,
``ignore_row_if``, then the column's nulls in the map metrics) and only then picks the domain's columns:
with the ledger suite's 38 columns at 1M rows that is a 38-column copy per metric, ~0.5 s per
expectation however simple (measured with bench/validate_bench.py). :func:`narrow_domains` makes the
engine select the domain's columns (and those its row condition reads) first, then apply GX's own
filters: the same rows, the same labels, the same values, so every metric gives the same answer.
Table-level domains (row count, column list, column types) still see the whole frame.

A column metric's *compute* domain (what GX hands on to the metrics that list and count the failing
values) names no column, so GX filtered the whole frame again to read one column (1.4 s of the ledger
gate at 1M rows). The narrowed engine's compute domains carry the columns of the domain they came from
(:data:`_COLUMNS_KEY`, a key only this module reads), so those metrics get the same narrow frame. Under
a row condition, the table's row count and column types are answered without filtering the whole frame
(:func:`_register_table_metrics`).

A row condition is evaluated once per batch: GX runs ``DataFrame.query`` again for every metric of its
domain, table domains included (46 queries of 6 conditions per ledger suite, ~2 s at 1M rows); the
narrowed engine keeps the rows each condition selects (a boolean array per condition, 1 MB per million
rows), found by GX's own filter, and hands GX those rows.
"""

from __future__ import annotations

import functools
import json
import re
import weakref
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
from great_expectations.execution_engine import PandasExecutionEngine
from great_expectations.expectations.registry import _registered_metrics

_WORD = re.compile(r"[\w\u4e00-\u9fff]+")
_CONDITION_KEYS = ("row_condition", "condition_parser")
_COLUMNS_KEY = "_gate_domain_columns"  # a compute domain's columns, as its domain named them


def _named(domain_kwargs: dict[str, Any]) -> list[Any]:
    """The columns a domain names: its column, column pair or column list (in that order)."""
    named: list[Any] = []
    if "column" in domain_kwargs:
        named.append(domain_kwargs["column"])
    for key in ("column_A", "column_B"):
        if key in domain_kwargs:
            named.append(domain_kwargs[key])
    named.extend(domain_kwargs.get("column_list") or [])
    named.extend(domain_kwargs.get(_COLUMNS_KEY) or [])
    return named


def _condition_columns(domain_kwargs: dict[str, Any], columns: pd.Index) -> list[Any]:
    """The batch columns the domain's row condition names (none without a condition)."""
    condition = domain_kwargs.get("row_condition")
    if not condition:
        return []
    words = set(_WORD.findall(str(condition)))
    return [c for c in columns if str(c) in words]


def _domain_columns(domain_kwargs: dict[str, Any], columns: pd.Index) -> list[Any] | None:
    """The batch columns a domain reads, in the frame's order; None for a table domain."""
    named = _named(domain_kwargs)
    if not named:
        return None
    named.extend(_condition_columns(domain_kwargs, columns))
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


class NarrowedPandasEngine(PandasExecutionEngine):
    """GX's pandas engine with the domains narrowed (see the module's text). :func:`narrow_domains` turns
    the engine GX built for a data source into one; the two condition-aware table metrics are registered
    for this class alone (:func:`_register_table_metrics`), every other metric is GX's own."""

    _row_masks: dict[str, tuple[weakref.ref[pd.DataFrame], np.ndarray]]

    def _whole(self, domain_kwargs: dict[str, Any]) -> Any:
        """The batch (GX's ``PandasBatchData``) a domain reads, or None."""
        batch_id: Any = domain_kwargs.get("batch_id") or self.batch_manager.active_batch_data_id
        return self.batch_manager.batch_data_cache.get(batch_id)

    def get_domain_records(self, domain_kwargs: dict[str, Any]) -> pd.DataFrame:
        gx_kwargs = {k: v for k, v in domain_kwargs.items() if k != _COLUMNS_KEY}  # GX's own keys
        batch = self._whole(domain_kwargs)
        whole: Any = getattr(batch, "dataframe", None)
        if whole is None:
            return super().get_domain_records(gx_kwargs)
        cols = _domain_columns(domain_kwargs, whole.columns)
        narrowed = whole if cols is None or len(cols) == len(whole.columns) else whole[cols]
        kwargs = gx_kwargs
        if domain_kwargs.get("row_condition") and whole.index.is_unique:
            narrowed = narrowed[_condition_rows(self, whole, narrowed, domain_kwargs)]
            kwargs = {k: v for k, v in gx_kwargs.items() if k not in _CONDITION_KEYS}
        if narrowed is whole:
            return super().get_domain_records(gx_kwargs)
        batch._dataframe = narrowed  # GX's own filters, over the domain's columns only
        try:
            return super().get_domain_records(kwargs)
        finally:
            batch._dataframe = whole

    def get_compute_domain(self, domain_kwargs: dict[str, Any], domain_type: Any,
                           accessor_keys: Any = None) -> tuple[pd.DataFrame, dict[str, Any], dict[str, Any]]:
        data, compute, accessor = super().get_compute_domain(domain_kwargs, domain_type, accessor_keys)
        named = _named(domain_kwargs)
        if named and not _named(compute):  # a column's compute domain: it reads only these columns
            compute = {**compute, _COLUMNS_KEY: named}
        return data, compute, accessor

    def condition_rows(self, domain_kwargs: dict[str, Any]) -> np.ndarray | None:
        """The rows a table domain's row condition keeps (boolean array over the batch), or None when the
        domain has no condition or the batch is not one this engine can answer for."""
        whole: Any = getattr(self._whole(domain_kwargs), "dataframe", None)
        if whole is None or not domain_kwargs.get("row_condition") or not whole.index.is_unique:
            return None
        read = _condition_columns(domain_kwargs, whole.columns)  # filter only what the condition reads
        return _condition_rows(self, whole, whole[read] if read else whole, domain_kwargs)


def _register_table_metrics() -> None:
    """``table.row_count`` and ``table.column_types`` under a row condition, for the narrowed engine.

    GX computes both over the whole frame filtered by the condition (all 38 ledger columns copied,
    ~0.1-0.35 s per condition and metric at 1M rows, ~2 s per ledger suite). The rows a condition keeps
    are counted from its cached rows; the types of filtered rows are the frame's types (a boolean filter
    keeps every column's dtype), so they are read from the frame unfiltered. Without a condition, GX's
    own functions run."""
    registry = _registered_metrics
    name = NarrowedPandasEngine.__name__

    def row_count(original: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(original)
        def provider(cls: Any, execution_engine: Any, metric_domain_kwargs: dict[str, Any],
                     **kwargs: Any) -> Any:
            rows = execution_engine.condition_rows(metric_domain_kwargs)
            if rows is not None:
                return int(np.count_nonzero(rows))
            return original(cls=cls, execution_engine=execution_engine,
                            metric_domain_kwargs=metric_domain_kwargs, **kwargs)
        return provider

    def column_types(original: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(original)
        def provider(cls: Any, execution_engine: Any, metric_domain_kwargs: dict[str, Any],
                     **kwargs: Any) -> Any:
            if execution_engine.condition_rows(metric_domain_kwargs) is not None:
                metric_domain_kwargs = {k: v for k, v in metric_domain_kwargs.items()
                                        if k not in _CONDITION_KEYS}
            return original(cls=cls, execution_engine=execution_engine,
                            metric_domain_kwargs=metric_domain_kwargs, **kwargs)
        return provider

    for metric, wrap in (("table.row_count", row_count), ("table.column_types", column_types)):
        providers = registry[metric]["providers"]
        if name not in providers:
            metric_class, original = providers[PandasExecutionEngine.__name__]
            providers[name] = (metric_class, wrap(original))


def narrow_domains(engine: PandasExecutionEngine) -> PandasExecutionEngine:
    """Make ``engine`` (GX's pandas engine of a data source) a :class:`NarrowedPandasEngine` (again: no
    change)."""
    if isinstance(engine, NarrowedPandasEngine):
        return engine
    if type(engine) is not PandasExecutionEngine:
        raise TypeError(f"narrow_domains expects GX's PandasExecutionEngine, not {type(engine).__name__}")
    _register_table_metrics()
    engine.__class__ = NarrowedPandasEngine
    engine._row_masks = {}  # type: ignore[attr-defined]
    return engine
