"""The quality gate: run the GX suites (``expectations/*.json``) and the pandas checks, quarantine rows.

Entry points::

    run_quality_gate(ledger_raw, exposure_raw=None, events_raw=None, *, period, as_of,
                     entities_in_scope=None, accept_risk=None) -> GateResult
    write_quality_outputs(result, out_dir) -> {name: path}

Every check comes from the catalogue :mod:`complaints.checks` (stable id, severity, level,
descriptions). GX runs on an ephemeral context with a pandas datasource; every GX result is checked
for ``success`` *and* ``exception_info`` so a metric error surfaces as a failed check with its reason.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")

import great_expectations as gx  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from great_expectations.core.expectation_suite import ExpectationSuite  # noqa: E402
from great_expectations.core.run_identifier import RunIdentifier  # noqa: E402
from great_expectations.data_context.types.base import ProgressBarsConfig  # noqa: E402
from great_expectations.execution_engine import PandasExecutionEngine  # noqa: E402
from great_expectations.expectations.expectation import MulticolumnMapExpectation  # noqa: E402
from great_expectations.expectations.metrics.map_metric_provider import (  # noqa: E402
    MulticolumnMapMetricProvider,
    multicolumn_condition_partial,
)

from complaints import checks as C  # noqa: E402
from complaints import ledger as L  # noqa: E402
from complaints.config import EXPECTATIONS_DIR  # noqa: E402
from complaints.masking import mask_frame, mask_text, mask_value  # noqa: E402
from complaints.periods import Period  # noqa: E402
from complaints.times import to_local  # noqa: E402
from tasks.gx_partitions import exception_message, merge_runs, partitions  # noqa: E402
from tasks.memory import release_memory  # noqa: E402

TABLES = ("ledger", "exposure", "events")
MAX_IDS = 20
# Pass 1 runs every expectation with SUMMARY (counts + the first 20 failing rows). Only the blocking
# row-level expectations that failed are run again with COMPLETE, for every failing row index (the
# quarantine needs them). COMPLETE for the whole suite costs ~2x: each extra metric makes GX filter
# the whole frame again for row_condition / ignore_row_if domains.
SUMMARY_FORMAT: dict[str, Any] = {"result_format": "SUMMARY", "partial_unexpected_count": MAX_IDS}
COMPLETE_FORMAT: dict[str, Any] = {"result_format": "COMPLETE", "partial_unexpected_count": MAX_IDS}


# --------------------------------------------------------------------------------------------------
# Custom GX expectation: rows must pass a catalogue condition (links, extra categories, identifiers)
# --------------------------------------------------------------------------------------------------


class MulticolumnValuesPassCatalogueCheck(MulticolumnMapMetricProvider):  # type: ignore[misc]
    """Map metric: a row is expected when ``complaints.checks.CONDITIONS[check_id]`` does not flag it."""

    condition_metric_name = "multicolumn_values.pass_catalogue_check"
    condition_domain_keys = (
        "batch_id",
        "table",
        "column_list",
        "row_condition",
        "condition_parser",
        "ignore_row_if",
    )
    condition_value_keys = ("check_id",)

    @multicolumn_condition_partial(engine=PandasExecutionEngine)  # type: ignore[misc]
    def _pandas(cls, column_list: pd.DataFrame, check_id: str, **kwargs: Any) -> pd.Series:
        # identifier scans take the categorical columns as they are (searched once per category):
        # turned back into text, the 11 columns of L062/L063 cost ~220 MB per million rows
        frame = column_list if check_id in C.SCANS_CATEGORIES else _from_gx(column_list)
        fails = C.CONDITIONS[check_id](frame)
        return pd.Series(~fails, index=column_list.index)


class ExpectRowsToPassCatalogueCheck(MulticolumnMapExpectation):  # type: ignore[misc]
    """Expect every row to pass the vectorised catalogue check ``check_id`` over ``column_list``."""

    check_id: str
    ignore_row_if: Literal["all_values_are_missing", "any_value_is_missing", "never"] = "never"
    map_metric = "multicolumn_values.pass_catalogue_check"
    success_keys = ("check_id", "mostly")


# --------------------------------------------------------------------------------------------------
# Results
# --------------------------------------------------------------------------------------------------


@dataclass
class CheckResult:
    id: str
    table: str
    severity: str
    level: str
    passed: bool
    failing_rows: int
    failing_ids: list[str]
    description_zh: str
    description_en: str
    error: str | None = None
    positions: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64), repr=False)

    def to_dict(self) -> dict[str, Any]:
        return {
            k: getattr(self, k)
            for k in (
                "id",
                "table",
                "severity",
                "level",
                "passed",
                "failing_rows",
                "failing_ids",
                "description_zh",
                "description_en",
                "error",
            )
        }


@dataclass
class GateResult:
    ledger: pd.DataFrame
    exposure: pd.DataFrame
    events: pd.DataFrame
    quarantine: dict[str, pd.DataFrame]  # raw rows as read + row_number + failed_checks
    results: list[CheckResult]
    reconciliation: dict[str, dict[str, Any]]
    blocking_failures: list[CheckResult]  # table-level
    blocked: bool
    accept_risk: str | None
    warnings: list[CheckResult]
    as_of: dt.datetime
    period: Period | None
    entities_in_scope: list[str]
    skipped: dict[str, str] = field(default_factory=dict)  # table -> why its checks were not run
    gx_results: dict[str, Any] = field(default_factory=dict, repr=False)  # masked, for Data Docs

    @property
    def failed_blocking(self) -> list[CheckResult]:
        """Every failed blocking check, row- or table-level."""
        return [r for r in self.results if not r.passed and r.severity == "blocking"]

    @property
    def exit_code(self) -> int:
        """0 when no blocking check failed (or only table-level ones the officer accepted), else 1."""
        row_level = [r for r in self.failed_blocking if r.level == "row"]
        return 1 if (self.blocked or row_level) else 0

    def summary(self) -> dict[str, Any]:
        return {
            "as_of": _iso(self.as_of),
            "period": self.period.code if self.period else None,
            "entities_in_scope": self.entities_in_scope,
            "blocked": self.blocked,
            "accept_risk": self.accept_risk,
            "great_expectations": gx.__version__,
            "checks_run": len(self.results),
            "checks_failed": sum(not r.passed for r in self.results),
            "blocking_failures": [r.id for r in self.blocking_failures],
            "failed_blocking": [r.id for r in self.failed_blocking],
            "warnings": [r.id for r in self.warnings],
            "skipped": self.skipped,
            "rows": {
                t: {k: v for k, v in rec.items() if k != "by_check"} for t, rec in self.reconciliation.items()
            },
        }


class SuiteError(RuntimeError):
    """A suite file is broken or lost expectations on load (e.g. an unknown expectation type)."""


# --------------------------------------------------------------------------------------------------
# Suites
# --------------------------------------------------------------------------------------------------


def write_suites(directory: Path = EXPECTATIONS_DIR) -> list[Path]:
    """(Re)generate ``expectations/<table>.json`` from the catalogue."""
    directory.mkdir(parents=True, exist_ok=True)
    out = []
    for table in TABLES:
        path = directory / f"{table}.json"
        path.write_text(
            json.dumps(C.suite_dict(table), ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
        )
        out.append(path)
    return out


def load_suite(table: str, directory: Path = EXPECTATIONS_DIR) -> ExpectationSuite:
    """Load a suite JSON; refuse it when GX dropped an expectation or one lacks a known check id."""
    path = directory / f"{table}.json"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise SuiteError(f"{path}: cannot read the expectation suite ({exc}).") from exc
    wanted = data.get("expectations", [])
    try:
        suite = ExpectationSuite(**data)
    except Exception as exc:  # GX raises pydantic / its own errors for malformed expectations
        raise SuiteError(f"{path}: Great Expectations cannot build the suite: {exc}") from exc
    if len(suite.expectations) != len(wanted):
        got = {e.expectation_type for e in suite.expectations}
        lost = sorted({e["type"] for e in wanted} - got)
        raise SuiteError(
            f"{path}: Great Expectations dropped {len(wanted) - len(suite.expectations)} "
            f"expectation(s) of unknown type {lost}; import their classes before loading."
        )
    for exp in suite.expectations:
        cid = (exp.meta or {}).get("check_id")
        if cid not in C.BY_ID or C.BY_ID[cid].table != table:
            raise SuiteError(
                f"{path}: expectation {exp.expectation_type} has meta.check_id {cid!r}, "
                f"which is not a {table} check of complaints/checks.py."
            )
    return suite


# --------------------------------------------------------------------------------------------------
# The gate
# --------------------------------------------------------------------------------------------------


def _as_local_naive(value: dt.datetime) -> dt.datetime:
    return to_local(pd.Timestamp(value).to_pydatetime())


def _iso(value: dt.datetime) -> str:
    return pd.Timestamp(value).tz_localize(L.TZ).isoformat()


def _row_ids(frame: pd.DataFrame, table: str, positions: np.ndarray, limit: int = MAX_IDS) -> list[str]:
    """Readable ids of the rows at ``positions`` (complaint ids, or exposure keys); ``#n`` when blank."""
    keys = C.KEY_COLUMNS[table] if table != "events" else ("complaint_id",)
    out: list[str] = []
    seen: set[str] = set()
    sub = frame.iloc[positions[: max(limit * 5, limit)]]
    for pos, values in zip(positions, sub[list(keys)].itertuples(index=False), strict=False):
        parts = ["" if pd.isna(v) else str(v) for v in values]
        key = "/".join(parts) if any(parts) else f"#{int(pos) + 1}"
        if key not in seen:
            seen.add(key)
            out.append(key)
        if len(out) >= limit:
            break
    return out


def _make(
    check: C.Check,
    frame: pd.DataFrame | None,
    positions: np.ndarray,
    error: str | None = None,
    ids: list[str] | None = None,
    failing_rows: int | None = None,
) -> CheckResult:
    positions = np.asarray(positions, dtype=np.int64)
    n = int(failing_rows if failing_rows is not None else len(positions))
    if ids is None:
        ids = _row_ids(frame, check.table, positions) if frame is not None and len(positions) else []
    return CheckResult(
        check.id,
        check.table,
        check.severity,
        check.level,
        passed=(n == 0 and error is None),
        failing_rows=n,
        failing_ids=ids,
        description_zh=check.description_zh,
        description_en=check.description_en,
        error=error,
        positions=positions,
    )


_NS_MIN = pd.Timestamp.min.as_unit("us")
_NS_MAX = pd.Timestamp.max.as_unit("us")


def for_gx(frame: pd.DataFrame) -> pd.DataFrame:
    """The frame GX sees: datetimes as ``datetime64[ns]``, nullable ints as float64, text as category.

    Measured at 1M rows (bench/validate_bench.py), two GX-on-pandas-3 costs dominate otherwise:

    - GX 1.24's ``column_values.between`` takes its vectorised path only for ``datetime64[ns]`` and
      plain int/float columns; pandas 3 datetimes are ``datetime64[us]`` and our ints ``Int64``, which
      sends it to a per-element Python ``map`` (~1.5 s per column per million rows). Times outside
      the ns range (typos such as year 2962) are clipped: still after/before every real bound, so
      every order and as-of check keeps its answer.
    - For every metric of a null-filtered, ``row_condition`` or ``ignore_row_if`` domain GX filters
      the *whole* frame again; a take on pandas 3 Arrow-backed ``str`` columns costs ~4 ms per column
      per million rows, thousands of times per suite. Categorical columns take their int codes (4x
      faster). Values and missingness are unchanged; custom conditions get ``str`` back
      (:func:`_from_gx`).
    """
    out = frame.copy(deep=False)
    for col in frame.columns:
        dtype = frame[col].dtype
        if pd.api.types.is_datetime64_any_dtype(dtype) and not isinstance(dtype, pd.DatetimeTZDtype):
            out[col] = frame[col].clip(_NS_MIN, _NS_MAX).astype("datetime64[ns]")
        elif isinstance(dtype, pd.Int64Dtype):
            out[col] = frame[col].astype("float64")
        elif pd.api.types.is_string_dtype(dtype) and not isinstance(dtype, pd.CategoricalDtype):
            out[col] = frame[col].astype("category")
            # pandas keeps the hash table it built to check the categories unique, over a Python
            # object per category (≈60 MB per million distinct ids); GX never looks values up in it.
            getattr(out[col].cat.categories, "_cache", {}).clear()
    return out


def _from_gx(frame: pd.DataFrame) -> pd.DataFrame:
    """Undo :func:`for_gx`'s categorical text columns (missing values stay missing)."""
    cats = [c for c in frame.columns if isinstance(frame[c].dtype, pd.CategoricalDtype)]
    if not cats:
        return frame
    out = frame.copy(deep=False)
    for col in cats:
        s = frame[col]
        values = s.cat.categories.array.take(s.cat.codes.to_numpy(), allow_fill=True)
        out[col] = pd.Series(values, index=s.index).astype("str")
    return out


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
    context = _gx_context()
    source = context.data_sources.add_pandas("quality_gate")
    results: list[CheckResult] = []
    raw: dict[str, Any] = {}
    run_id = RunIdentifier(run_name="quality_gate", run_time=dt.datetime.now(dt.UTC))
    params = {"as_of": as_of}
    for table, frame in frames.items():
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
        for part, rows in enumerate(partitions(frame, suite, table)):
            gx_frame = for_gx(frame[columns] if rows is None else frame[columns].take(rows))
            run, failing = _validate_part(context, suite, batch, vd, gx_frame, params, run_id,
                                          f"{table}_{part}")
            runs.append(run)
            for cid, positions in failing.items():
                full.setdefault(cid, []).append(positions)
            del gx_frame
            _forget_batches(source)
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
        raw[table] = _masked_for_docs(run)
        del batch, vd, runs
    return results, raw


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


def _forget_batches(source: Any) -> None:
    """Drop the table's data GX keeps: its execution engine caches every batch's frame for the life of
    the context, which GX's project manager keeps alive after the gate returns (hundreds of MB at 1M)."""
    manager = source.get_execution_engine().batch_manager
    manager.batch_data_cache.clear()
    manager.reset_batch_cache()
    release_memory(collect=True)  # GX's other copies of this table (held in reference cycles)


def _mask_value(value: Any) -> Any:
    if isinstance(value, str):
        return mask_value(value)
    if isinstance(value, dict):
        return {k: _mask_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(_mask_value(v) for v in value)
    return value


def _masked_for_docs(run: Any) -> Any:
    """Drop the full unexpected lists (kept as positions elsewhere) and mask identifiers in samples."""
    for r in run.results:
        res = r.result or {}
        for key in ("unexpected_list", "unexpected_index_list", "unexpected_index_query"):
            res.pop(key, None)
        for key in ("partial_unexpected_list", "partial_unexpected_counts"):
            if key in res:
                res[key] = _mask_value(res[key])
        if r.exception_info:
            for info in (
                r.exception_info.values()
                if "raised_exception" not in r.exception_info
                else [r.exception_info]
            ):
                if isinstance(info, dict) and info.get("exception_traceback"):
                    info["exception_traceback"] = str(info["exception_traceback"]).strip().splitlines()[-1]
    return run


def run_quality_gate(
    ledger_raw: pd.DataFrame,
    exposure_raw: pd.DataFrame | None = None,
    events_raw: pd.DataFrame | None = None,
    *,
    period: Period | None,
    as_of: dt.datetime,
    entities_in_scope: list[str] | None = None,
    accept_risk: str | None = None,
) -> GateResult:
    """Validate the tables, quarantine failing rows, decide whether the filing may go on."""
    raws = {"ledger": ledger_raw, "exposure": exposure_raw, "events": events_raw}
    return run_quality_gate_owned(raws, period=period, as_of=as_of, entities_in_scope=entities_in_scope,
                                  accept_risk=accept_risk)


def run_quality_gate_owned(
    raws: dict[str, pd.DataFrame | None],
    *,
    period: Period | None,
    as_of: dt.datetime,
    entities_in_scope: list[str] | None = None,
    accept_risk: str | None = None,
) -> GateResult:
    """:func:`run_quality_gate` of the frames in ``raws`` (``ledger``, ``exposure``, ``events``; None: not
    supplied), which it empties: when the caller keeps no other reference to them, each table's rows as
    read are freed as soon as its quarantine is taken, so the accepted copy does not sit beside them."""
    as_of_local = _as_local_naive(as_of)
    accept = accept_risk.strip() if accept_risk and accept_risk.strip() else None
    skipped = {t: f"no {t} table supplied; its checks were not run" for t in TABLES if raws.get(t) is None}
    given: dict[str, pd.DataFrame] = {}
    for t in TABLES:
        f = raws.pop(t, None)
        if f is not None:
            given[t] = f.reset_index(drop=True)
        del f

    normalized: dict[str, pd.DataFrame] = {}
    results: list[CheckResult] = []
    for table, raw in given.items():
        missing = C.required_columns_missing(raw, table)
        norm = L.normalize(raw, table)
        normalized[table] = norm
        col_check = C.BY_ID[C.COLUMNS_CHECK[table]]
        results.append(
            _make(
                col_check,
                None,
                np.zeros(0),
                ids=missing,
                failing_rows=0,
                error=f"missing required column(s): {', '.join(missing)}" if missing else None,
            )
        )
        flags = C.parse_failures(raw, norm, table)
        bad = np.flatnonzero(flags.any(axis=1).to_numpy()) if flags.shape[1] else np.zeros(0, np.int64)
        results.append(_make(C.BY_ID[C.PARSE_CHECK[table]], norm, bad))
    if "events" in normalized:
        ev, led = normalized["events"], normalized["ledger"]
        # each event's complaint in the ledger (its first row with that id): two columns, no frame copies
        pos = C.positions_in(ev["complaint_id"], led["complaint_id"])
        known = pos >= 0
        received = led["received_at"].to_numpy(dtype="datetime64[us]")[np.where(known, pos, 0)] \
            if len(led) else np.full(len(ev), np.datetime64("NaT"), dtype="datetime64[us]")
        received[~known] = np.datetime64("NaT")
        ev[C.EVENT_IN_LEDGER] = known | ev["complaint_id"].isna().to_numpy()
        ev[C.EVENT_RECEIVED_AT] = received
        del ev, led, pos, received, known
    if given:
        del raw, norm  # the last table's: only ``given`` and ``normalized`` hold the frames

    gx_checks, gx_raw = _run_gx(normalized, as_of_local)
    results.extend(gx_checks)

    # Row-level quarantine.
    row_failures: dict[str, dict[int, list[str]]] = {t: {} for t in normalized}
    for r in results:
        if r.level == "row" and r.severity == "blocking" and len(r.positions):
            for pos in r.positions.tolist():
                row_failures[r.table].setdefault(pos, []).append(r.id)
    accepted: dict[str, pd.DataFrame] = {}
    quarantine: dict[str, pd.DataFrame] = {}
    reconciliation: dict[str, dict[str, Any]] = {}
    for table in list(normalized):
        failed = row_failures[table]
        read = len(normalized[table])
        mask = np.zeros(read, dtype=bool)
        mask[list(failed)] = True
        q = given[table].loc[mask].copy()
        del given[table]  # the rows as read: only the quarantined ones are kept
        q.insert(0, "row_number", np.flatnonzero(mask) + 1)
        q["failed_checks"] = [";".join(sorted(set(failed[int(p)]))) for p in np.flatnonzero(mask)]
        quarantine[table] = q.reset_index(drop=True)
        accepted[table] = _accepted_rows(normalized[table], mask)
        by_check: dict[str, int] = {}
        for ids in failed.values():
            for cid in set(ids):
                by_check[cid] = by_check.get(cid, 0) + 1
        reconciliation[table] = {
            "read": read,
            "accepted": len(accepted[table]),
            "quarantined": int(mask.sum()),
            "by_check": dict(sorted(by_check.items())),
        }
        assert read == reconciliation[table]["accepted"] + reconciliation[table]["quarantined"]
    for table in TABLES:
        if table not in normalized:
            accepted[table] = L.empty(table)
            quarantine[table] = pd.DataFrame()
            reconciliation[table] = {
                "read": 0,
                "accepted": 0,
                "quarantined": 0,
                "by_check": {},
                "supplied": False,
            }

    # Table-level: denominators for every entity × line in scope.
    ledger_ok = accepted["ledger"]
    scope = (
        sorted(entities_in_scope)
        if entities_in_scope
        else sorted(ledger_ok["entity_code"].dropna().unique().tolist())
    )
    if "exposure" in normalized:
        gaps = C.exposure_gaps(ledger_ok, accepted["exposure"], period, scope)
        results.append(_make(C.BY_ID["X012"], None, np.zeros(0), ids=gaps[:MAX_IDS], failing_rows=len(gaps)))

    order = {c.id: i for i, c in enumerate(C.CATALOGUE)}
    results.sort(key=lambda r: order.get(r.id, len(order)))
    table_blocking = [r for r in results if not r.passed and r.severity == "blocking" and r.level == "table"]
    warnings = [r for r in results if not r.passed and r.severity == "warning"]
    return GateResult(
        ledger=accepted["ledger"],
        exposure=accepted["exposure"],
        events=accepted["events"],
        quarantine=quarantine,
        results=results,
        reconciliation=reconciliation,
        blocking_failures=table_blocking,
        blocked=bool(table_blocking) and accept is None,
        accept_risk=accept,
        warnings=warnings,
        as_of=as_of_local,
        period=period,
        entities_in_scope=scope,
        skipped=skipped,
        gx_results=gx_raw,
    )


def _accepted_rows(norm: pd.DataFrame, quarantined: np.ndarray) -> pd.DataFrame:
    """``norm`` without the quarantined rows and the ``_ledger_*`` helper columns (fresh index). With
    quarantined rows the frame is built one column at a time, taking the columns out of ``norm`` (left
    empty): the peak is one table plus one column, not two tables. Without, nothing is copied."""
    helper = [c for c in norm.columns if str(c).startswith("_ledger_")]
    if not quarantined.any():
        return norm.drop(columns=helper).reset_index(drop=True)
    keep = ~quarantined
    out: dict[Any, pd.Series] = {}
    for name in list(norm.columns):
        col = norm.pop(name)
        if name not in helper:
            out[name] = col[keep].reset_index(drop=True)
        del col
    return pd.DataFrame(out, copy=False)


# --------------------------------------------------------------------------------------------------
# Outputs
# --------------------------------------------------------------------------------------------------


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
                "error": r.error or "",
                "failing_ids": ", ".join(r.failing_ids),
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
    return path


def build_data_docs(result: GateResult, out_dir: Path) -> Path:
    """GX Data Docs (HTML) for the gate's validation results, in ``out_dir`` (``index.html``)."""
    from great_expectations.data_context.types.resource_identifiers import (
        ExpectationSuiteIdentifier,
        ValidationResultIdentifier,
    )

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
        context.validation_results_store.set(key, run)
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
    validation = {**result.summary(), "results": [r.to_dict() for r in result.results]}
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


def check_ids(results: Iterable[CheckResult], *, failed: bool = True) -> list[str]:
    return [r.id for r in results if (not r.passed) == failed]


if __name__ == "__main__":  # python -m tasks.validate: regenerate the suites from the catalogue
    for p in write_suites():
        print(p)
