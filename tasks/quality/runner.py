"""Running the GX suites over the tables: an ephemeral context, the tables in partitions where that
gives the same answer, two passes (SUMMARY, then COMPLETE for the failing blocking row checks), and
every GX result checked for ``success`` *and* ``exception_info``, so a metric error surfaces as a
failed check with its reason.
"""

from __future__ import annotations

import copy
import datetime as dt
import functools
import json
import os
import re
import threading
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import great_expectations as gx
import numpy as np
import pandas as pd
from great_expectations.core.expectation_suite import ExpectationSuite
from great_expectations.core.run_identifier import RunIdentifier
from great_expectations.data_context.types.base import ProgressBarsConfig
from great_expectations.execution_engine import pandas_execution_engine

from complaints import checks as C
from complaints.masking import mask_value
from tasks.memory import release_memory
from tasks.quality.frames import for_gx
from tasks.quality.narrow import forget_conditions, narrow_domains
from tasks.quality.partitioning import Part, concat_runs, exception_message, merge_runs, partitions
from tasks.quality.results import MAX_IDS, CheckResult, _make, _row_ids
from tasks.quality.suites import load_suite

# Pass 1 runs every expectation with SUMMARY (counts + the first 20 failing rows). Only the blocking
# row-level expectations that failed are run again with COMPLETE, for every failing row index (the
# quarantine needs them). COMPLETE for the whole suite costs ~2x: each extra metric makes GX filter
# the whole frame again for row_condition / ignore_row_if domains.
SUMMARY_FORMAT: dict[str, Any] = {"result_format": "SUMMARY", "partial_unexpected_count": MAX_IDS}
COMPLETE_FORMAT: dict[str, Any] = {"result_format": "COMPLETE", "partial_unexpected_count": MAX_IDS}
GATE_THREADS = int(os.environ.get("COMPLAINTS_GATE_THREADS", "2"))
SPLIT_ROWS = 100_000  # a table validated whole from this size has its suite split across the threads
# GX keeps every metric it resolved (the condition series of each expectation) until its run ends: two
# smaller groups per thread hold half as much at a time as one (ledger at 1M: peak RSS -80 to -140 MB,
# the same time)
GROUPS_PER_THREAD = 2


def suite_columns(suite: ExpectationSuite, columns: Iterable[Any]) -> list[Any]:
    """The columns the suite's expectations name anywhere (column kwargs, row conditions, custom
    parameters): GX copies its whole frame for every filtered metric, so it gets only these."""
    text = json.dumps([e.configuration.to_json_dict() for e in suite.expectations], ensure_ascii=False)
    words = set(re.findall(r"[\w\u4e00-\u9fff]+", text))
    ids = [(e.meta or {}).get("check_id") for e in suite.expectations]
    words.update(c for cid in ids if cid in C.BY_ID for c in C.BY_ID[cid].columns)  # what each check reads
    return [c for c in columns if str(c) in words]


_PARSE_LOCK = threading.Lock()


def _serialise_suite_parameter_parsing() -> None:
    """One suite-parameter parse at a time. GX parses ``{"$PARAMETER": "as_of"}`` with one module-level
    pyparsing parser: its expression stack, and pyparsing's detection of each parse action's arity on
    the first calls in a process, are shared by every thread. Two gate threads parsing at once failed
    at a process's first parses, now and then, with ``TypeError: SuiteParameterParser.push_unary_minus()
    missing 1 required positional argument: 'toks'``. Both places GX calls it from get the locked
    function; called before the gate's threads start, and again it changes nothing."""
    from great_expectations.core import suite_parameters, validation_definition

    parse = suite_parameters.parse_suite_parameter
    if getattr(parse, "serialised", False):
        return

    @functools.wraps(parse)
    def serialised(*args: Any, **kwargs: Any) -> Any:
        with _PARSE_LOCK:
            return parse(*args, **kwargs)

    serialised.serialised = True  # type: ignore[attr-defined]
    suite_parameters.parse_suite_parameter = serialised
    validation_definition.parse_suite_parameter = serialised  # type: ignore[attr-defined]


def _gx_context() -> Any:
    # GX fingerprints every pandas batch under 1 GB (an MD5 of pandas' hash of every value, kept as a
    # batch marker nobody reads): ~1 s per validation run of the 1M-row ledger, twice per table with
    # pass 2, and again for each events partition. What was validated is identified by the extract's
    # SHA-256 in the evidence bundle, not by this marker.
    pandas_execution_engine.HASH_THRESHOLD = 0
    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    return context


@dataclass
class _Table:
    """One table's share of the gate: its suite cut into units of work (a row partition × a group of
    expectations), and the GX frame of a whole table, built once and shared by its groups."""

    name: str
    frame: pd.DataFrame
    suite: ExpectationSuite
    columns: list[Any]
    parts: list[Part]
    groups: list[list[dict[str, Any]]]  # the suite's expectations (as configured), in groups validated apart
    left: int = 0  # units not finished; the shared GX frame is dropped after the last
    shared: pd.DataFrame | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)

    def gx_frame(self, rows: Part) -> pd.DataFrame:
        if isinstance(rows, slice):  # a run of rows: shared with the table, not copied
            return for_gx(self.frame[self.columns].iloc[rows])
        if rows is not None:
            return for_gx(self.frame[self.columns].take(rows))
        with self.lock:
            if self.shared is None:
                self.shared = for_gx(self.frame[self.columns])
            return self.shared

    def finished(self) -> None:
        with self.lock:
            self.left -= 1
            if self.left == 0:
                self.shared = None


def _plan(table: str, frame: pd.DataFrame) -> _Table:
    """Big tables whose checks are row-local or per complaint go through GX a partition at a time (row
    labels stay the table's positions): the same results at a fraction of GX's copies. A big table
    validated whole, with more than one thread, has its suite split into groups
    (:data:`GROUPS_PER_THREAD` per thread) over one shared GX frame. Either way each expectation sees
    exactly the rows it would see in one run over the whole table."""
    suite = load_suite(table)
    parts = partitions(frame, suite, table)
    expectations = [e.configuration.to_json_dict() for e in suite.expectations]
    split = GATE_THREADS > 1 and parts == [None] and len(frame) >= SPLIT_ROWS
    n = GATE_THREADS * GROUPS_PER_THREAD if split else 1
    groups = [g for g in (expectations[i::n] for i in range(n)) if g]
    return _Table(table, frame, suite, suite_columns(suite, frame.columns), parts, groups,
                  left=len(parts) * len(groups))


def _run_gx(frames: dict[str, pd.DataFrame], as_of: dt.datetime) -> tuple[list[CheckResult], dict[str, Any]]:
    """Every table's suite, its units of work (:func:`_plan`) shared among :data:`GATE_THREADS` threads,
    each unit with its own GX context (numpy and Arrow kernels release the GIL). Results come back in
    the tables' and the suites' order, as one sequential run over each whole table gives them."""
    run_id = RunIdentifier(run_name="quality_gate", run_time=dt.datetime.now(dt.UTC))
    _serialise_suite_parameter_parsing()  # before any thread parses
    plans = [_plan(table, frame) for table, frame in frames.items()]
    # the tables' units interleaved: each table's first unit, then the second ones, and so on
    units = sorted(((t, p, g) for t in plans for p in range(len(t.parts)) for g in range(len(t.groups))),
                   key=lambda u: u[1] + u[2])

    def run(unit: tuple[_Table, int, int]) -> tuple[Any, dict[str, np.ndarray]]:
        t, p, g = unit
        try:
            return _run_unit(t, p, g, as_of, run_id)
        finally:
            t.finished()
            release_memory(collect=True)  # the unit's GX context, in reference cycles, as soon as it is done

    if GATE_THREADS > 1 and len(units) > 1:
        with ThreadPoolExecutor(max_workers=GATE_THREADS, thread_name_prefix="gate") as pool:
            done = dict(zip(((t.name, p, g) for t, p, g in units), pool.map(run, units), strict=True))
    else:
        done = {(t.name, p, g): run((t, p, g)) for t, p, g in units}
    results: list[CheckResult] = []
    raw: dict[str, Any] = {}
    for t in plans:
        merged = [merge_runs([done[t.name, p, g][0] for p in range(len(t.parts))], MAX_IDS)
                  for g in range(len(t.groups))]
        full: dict[str, list[np.ndarray]] = {}
        for (name, _, _), (_, failing) in done.items():
            if name == t.name:
                for cid, positions in failing.items():
                    full.setdefault(cid, []).append(positions)
        run_all = concat_runs(merged, [e.meta["check_id"] for e in t.suite.expectations])
        results.extend(_table_results(t, run_all, full))
        raw[t.name] = _masked_for_docs(run_all)
    return results, raw


def _run_unit(t: _Table, part: int, group: int, as_of: dt.datetime, run_id: RunIdentifier
              ) -> tuple[Any, dict[str, np.ndarray]]:
    """One group of the table's expectations over one of its partitions, in a GX context of its own."""
    context = _gx_context()
    source = context.data_sources.add_pandas("quality_gate")
    suite = context.suites.add(ExpectationSuite(name=t.suite.name, meta=copy.deepcopy(t.suite.meta),
                                                expectations=copy.deepcopy(t.groups[group])))
    batch = source.add_dataframe_asset(t.name).add_batch_definition_whole_dataframe("all")
    vd = context.validation_definitions.add(
        gx.ValidationDefinition(name=f"gate_{t.name}", data=batch, suite=suite)
    )
    gx_frame = t.gx_frame(t.parts[part])
    narrow_domains(source.get_execution_engine())  # the engine GX validates this batch with
    try:
        return _validate_part(context, suite, batch, vd, gx_frame, {"as_of": as_of}, run_id,
                              f"{t.name}_{part}_{group}")
    finally:
        del gx_frame
        _forget_batches(source, collect=False)


def _table_results(t: _Table, run: Any, full: dict[str, list[np.ndarray]]) -> list[CheckResult]:
    """The catalogue's result of each of the table's expectations, from GX's merged result and the
    failing rows' positions of pass 2."""
    frame, table = t.frame, t.name
    results: list[CheckResult] = []
    by_id = {r.expectation_config.meta["check_id"]: (r, exception_message(r.exception_info))
             for r in run.results}
    complete = {cid: np.sort(np.concatenate(parts)) for cid, parts in full.items()}
    for exp in t.suite.expectations:
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
    return results


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
    engine = source.get_execution_engine()
    forget_conditions(engine)
    manager = engine.batch_manager
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
