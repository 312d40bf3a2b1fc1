"""Running the GX suites over the tables: an ephemeral context, the tables in partitions where that
gives the same answer, two passes (SUMMARY, then COMPLETE for the failing blocking row checks), and
every GX result checked for ``success`` *and* ``exception_info``, so a metric error surfaces as a
failed check with its reason.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import great_expectations as gx
import numpy as np
import pandas as pd
from great_expectations.core.expectation_suite import ExpectationSuite
from great_expectations.core.run_identifier import RunIdentifier
from great_expectations.data_context.types.base import ProgressBarsConfig

from complaints import checks as C
from complaints.masking import mask_value
from tasks.memory import release_memory
from tasks.quality.frames import for_gx
from tasks.quality.narrow import narrow_domains
from tasks.quality.partitioning import exception_message, merge_runs, partitions
from tasks.quality.results import MAX_IDS, CheckResult, _make, _row_ids
from tasks.quality.suites import load_suite

# Pass 1 runs every expectation with SUMMARY (counts + the first 20 failing rows). Only the blocking
# row-level expectations that failed are run again with COMPLETE, for every failing row index (the
# quarantine needs them). COMPLETE for the whole suite costs ~2x: each extra metric makes GX filter
# the whole frame again for row_condition / ignore_row_if domains.
SUMMARY_FORMAT: dict[str, Any] = {"result_format": "SUMMARY", "partial_unexpected_count": MAX_IDS}
COMPLETE_FORMAT: dict[str, Any] = {"result_format": "COMPLETE", "partial_unexpected_count": MAX_IDS}
GATE_THREADS = int(os.environ.get("COMPLAINTS_GATE_THREADS", "2"))


def suite_columns(suite: ExpectationSuite, columns: Iterable[Any]) -> list[Any]:
    """The columns the suite's expectations name anywhere (column kwargs, row conditions, custom
    parameters): GX copies its whole frame for every filtered metric, so it gets only these."""
    text = json.dumps([e.configuration.to_json_dict() for e in suite.expectations], ensure_ascii=False)
    words = set(re.findall(r"[\w\u4e00-\u9fff]+", text))
    ids = [(e.meta or {}).get("check_id") for e in suite.expectations]
    words.update(c for cid in ids if cid in C.BY_ID for c in C.BY_ID[cid].columns)  # what each check reads
    return [c for c in columns if str(c) in words]


def _gx_context() -> Any:
    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    return context


def _run_gx(frames: dict[str, pd.DataFrame], as_of: dt.datetime) -> tuple[list[CheckResult], dict[str, Any]]:
    """Every table's suite; the tables in parallel threads (:data:`GATE_THREADS`), each with its own GX
    context. Results come back in the tables' order, as a sequential run gives them."""
    run_id = RunIdentifier(run_name="quality_gate", run_time=dt.datetime.now(dt.UTC))
    tables = list(frames.items())
    def run(item: tuple[str, pd.DataFrame]) -> tuple[list[CheckResult], Any]:
        out = _run_table(item[0], item[1], as_of, run_id)
        release_memory(collect=True)  # the table's GX context, in reference cycles, as soon as it is done
        return out

    if GATE_THREADS > 1 and len(tables) > 1:
        with ThreadPoolExecutor(max_workers=GATE_THREADS, thread_name_prefix="gate") as pool:
            done = list(pool.map(run, tables))
    else:
        done = [run(item) for item in tables]
    results: list[CheckResult] = []
    raw: dict[str, Any] = {}
    for (table, _), (table_results, table_raw) in zip(tables, done, strict=True):
        results.extend(table_results)
        raw[table] = table_raw
    return results, raw


def _run_table(table: str, frame: pd.DataFrame, as_of: dt.datetime, run_id: RunIdentifier
               ) -> tuple[list[CheckResult], Any]:
    context = _gx_context()
    source = context.data_sources.add_pandas("quality_gate")
    results: list[CheckResult] = []
    params = {"as_of": as_of}
    suite = context.suites.add(load_suite(table))
    batch = source.add_dataframe_asset(table).add_batch_definition_whole_dataframe("all")
    vd = context.validation_definitions.add(
        gx.ValidationDefinition(name=f"gate_{table}", data=batch, suite=suite)
    )
    columns = suite_columns(suite, frame.columns)
    runs: list[Any] = []
    full: dict[str, list[np.ndarray]] = {}
    # Big tables whose checks are row-local or per complaint go through GX a partition at a time
    # (row labels stay the table's positions): the same results at a fraction of GX's copies.
    parts = partitions(frame, suite, table)
    for part, rows in enumerate(parts):
        gx_frame = for_gx(frame[columns] if rows is None else frame[columns].take(rows))
        narrow_domains(source.get_execution_engine())  # the engine GX validates this batch with
        run, failing = _validate_part(context, suite, batch, vd, gx_frame, params, run_id,
                                      f"{table}_{part}")
        runs.append(run)
        for cid, positions in failing.items():
            full.setdefault(cid, []).append(positions)
        del gx_frame
        _forget_batches(source, collect=part == len(parts) - 1)
    run = merge_runs(runs, MAX_IDS)
    by_id = {r.expectation_config.meta["check_id"]: (r, exception_message(r.exception_info))
             for r in run.results}
    complete = {cid: np.sort(np.concatenate(parts)) for cid, parts in full.items()}
    for exp in suite.expectations:
        cid = exp.meta["check_id"]
        check = C.BY_ID[cid]
        if cid not in by_id:
            results.append(_make(check, frame, np.zeros(0), error="no result returned by GX"))
            continue
        r, error = by_id[cid]
        res = r.result or {}
        count = int(res.get("unexpected_count") or 0)
        sample = np.asarray(res.get("partial_unexpected_index_list") or [], dtype=np.int64)
        positions = complete.get(cid, sample)
        if error is None and not r.success and count == 0:
            error = "Great Expectations reported a failure without failing rows"
        if cid in complete and len(positions) != count and error is None:
            error = f"GX counted {count} failing rows but listed {len(positions)}"
        results.append(
            _make(
                check,
                frame,
                positions,
                error=error,
                failing_rows=count,
                ids=_row_ids(frame, table, positions) if count else [],
            )
        )
    del batch, vd, runs
    return results, _masked_for_docs(run)


def _validate_part(
    context: Any,
    suite: ExpectationSuite,
    batch: Any,
    vd: Any,
    gx_frame: pd.DataFrame,
    params: dict[str, Any],
    run_id: RunIdentifier,
    name: str,
) -> tuple[Any, dict[str, np.ndarray]]:
    """Pass 1 (SUMMARY) of the suite over ``gx_frame``; pass 2 (COMPLETE) of the blocking row-level
    expectations that failed, for every failing row label. Returns pass 1's result (with pass 2's
    errors) and the failing labels by check id."""
    run = vd.run(
        batch_parameters={"dataframe": gx_frame},
        expectation_parameters=params,
        result_format=SUMMARY_FORMAT,
        run_id=run_id,
    )
    first = {r.expectation_config.meta["check_id"]: r for r in run.results}
    again = [
        cid
        for cid, r in first.items()
        if exception_message(r.exception_info) is None
        and not r.success
        and C.BY_ID[cid].level == "row"
        and C.BY_ID[cid].blocking
    ]
    full: dict[str, np.ndarray] = {}
    if not again:
        return run, full
    expectations = [e for e in suite.expectations if (e.meta or {}).get("check_id") in again]
    sub = context.suites.add(
        ExpectationSuite(
            name=f"{name}_failing",
            expectations=[e.configuration.to_json_dict() for e in expectations],
        )
    )
    vd2 = context.validation_definitions.add(
        gx.ValidationDefinition(name=f"gate_{name}_failing", data=batch, suite=sub)
    )
    run2 = vd2.run(
        batch_parameters={"dataframe": gx_frame},
        expectation_parameters=params,
        result_format=COMPLETE_FORMAT,
    )
    for r in run2.results:
        cid = r.expectation_config.meta["check_id"]
        if exception_message(r.exception_info) is not None:
            first[cid].exception_info = r.exception_info
        full[cid] = np.asarray((r.result or {}).get("unexpected_index_list") or [], dtype=np.int64)
    return run, full


def _forget_batches(source: Any, collect: bool = True) -> None:
    """Drop the table's data GX keeps: its execution engine caches every batch's frame for the life of
    the context, which GX's project manager keeps alive after the gate returns (hundreds of MB at 1M).
    ``collect``: also GX's other copies, held in reference cycles. A full collection costs ~0.3 s once
    GX has built its objects, so a partitioned table collects after its last partition only."""
    manager = source.get_execution_engine().batch_manager
    manager.batch_data_cache.clear()
    manager.reset_batch_cache()
    release_memory(collect=collect)


def _mask_value(value: Any, numbers: bool = False) -> Any:
    """Identifiers masked in texts; with ``numbers``, also in numbers (samples of values: a mobile or ID
    number read into a numeric column is still one; statistics such as percentages are left alone)."""
    if isinstance(value, str):
        return mask_value(value)
    if (
        numbers
        and isinstance(value, int | float | np.integer | np.floating)
        and not isinstance(value, bool | np.bool_)
    ):
        text = str(value)
        masked = mask_value(text)
        return masked if masked != text else value
    if isinstance(value, dict):
        return {k: (v if k == "count" else _mask_value(v, numbers)) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(_mask_value(v, numbers) for v in value)
    return value


def _masked_for_docs(run: Any) -> Any:
    """Drop the full unexpected lists (kept as positions elsewhere) and mask identifiers in everything the
    docs show of a result (samples, counts of values, observed values, exception messages)."""
    for r in run.results:
        res = r.result or {}
        for key in ("unexpected_list", "unexpected_index_list", "unexpected_index_query"):
            res.pop(key, None)
        for key in list(res):
            if key != "partial_unexpected_index_list":  # row positions, not values
                res[key] = _mask_value(res[key], numbers=key.startswith("partial_unexpected"))
        if r.exception_info:
            for info in (
                r.exception_info.values()
                if "raised_exception" not in r.exception_info
                else [r.exception_info]
            ):
                if isinstance(info, dict) and info.get("exception_traceback"):
                    info["exception_traceback"] = str(info["exception_traceback"]).strip().splitlines()[-1]
                if isinstance(info, dict):
                    for key in ("exception_traceback", "exception_message"):
                        if isinstance(info.get(key), str):
                            info[key] = mask_value(info[key])
    return run
