"""Row order in Arrow: how each row compares with the next on some keys, and the stable sort that
uses it to move as few rows as it can. Keys compare as ``pc.sort_indices`` orders them (text by code
point, missing values last)."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc


def adjacent(keys: pa.Table) -> tuple[np.ndarray, np.ndarray]:
    """For each row i and the next: whether row i comes first on ``keys`` (lexicographic, missing values
    last, as ``pc.sort_indices`` with ``at_end``) and whether the two are equal on every key."""
    n = keys.num_rows
    before = np.zeros(max(n - 1, 0), dtype=bool)
    tied = np.ones(max(n - 1, 0), dtype=bool)
    if n < 2:
        return before, tied
    for column in keys.columns:
        a, b = column.slice(0, n - 1), column.slice(1)
        less = np.asarray(pc.fill_null(pc.less(a, b), False).to_numpy(), dtype=bool)
        equal = np.asarray(pc.fill_null(pc.equal(a, b), False).to_numpy(), dtype=bool)
        if column.null_count:
            a_missing = np.asarray(a.is_null().to_numpy(), dtype=bool)
            b_missing = np.asarray(b.is_null().to_numpy(), dtype=bool)
            less |= ~a_missing & b_missing
            equal |= a_missing & b_missing
        before |= tied & less
        tied &= equal
    return before, tied


def sort_indexer(keys: pa.Table) -> np.ndarray | None:
    """The stable sort of the rows on ``keys`` (missing values last) as positions; None when the rows are
    in order. Rows read in order on every key but the last (a source's events come sorted by complaint
    and time, their kinds by the source's own codes) are only reordered within their ties."""
    n = keys.num_rows
    sort_keys = [(c, "ascending", "at_end") for c in keys.column_names]
    if n < 2:
        return None
    before, tied = adjacent(keys.select(keys.column_names[:-1])) if keys.num_columns > 1 else (
        np.zeros(n - 1, dtype=bool), np.ones(n - 1, dtype=bool))
    if not (before | tied).all():
        return np.asarray(pc.sort_indices(keys, sort_keys=sort_keys).to_numpy())  # stable
    last = keys.column(keys.num_columns - 1)
    last_before, last_tied = adjacent(pa.table({"k": last}))
    wrong = tied & ~(last_before | last_tied)  # a tie on the first keys in the wrong order on the last
    if not wrong.any():
        return None
    run = np.concatenate([[0], np.cumsum(~tied)])  # each row's run of rows tied on the first keys
    out_of_order = np.zeros(run[-1] + 1, dtype=bool)
    out_of_order[run[:-1][wrong]] = True
    rows = np.flatnonzero(out_of_order[run])  # the rows of the runs out of order
    if len(rows) > n // 10:
        return np.asarray(pc.sort_indices(keys, sort_keys=sort_keys).to_numpy())
    local = pa.table({"run": run[rows], "k": last.take(rows)})
    order = pc.sort_indices(local, sort_keys=[("run", "ascending"), ("k", "ascending", "at_end")]).to_numpy()
    indexer = np.arange(n)
    indexer[rows] = rows[order]
    return indexer
