"""The narrowed GX engine (tasks.quality.narrow) gives every expectation the result GX's own engine gives.

The ledger suite runs twice over the same frame, built from the bad-input corpus so that most checks fail
somewhere (row conditions, column pairs with missing values, the catalogue's multicolumn checks): once
on GX's engine as shipped, once narrowed. Success, counts, samples and failing row labels must agree,
in SUMMARY and in COMPLETE.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import great_expectations as gx
import pandas as pd
import pytest

from complaints import ledger as L
from tasks.quality.frames import for_gx
from tasks.quality.narrow import narrow_domains
from tasks.quality.runner import COMPLETE_FORMAT, SUMMARY_FORMAT, _gx_context, suite_columns
from tasks.quality.suites import load_suite

CORPUS = Path(__file__).resolve().parents[1] / "bad_inputs"


def _ledger() -> pd.DataFrame:
    frames = []
    for path in sorted(CORPUS.glob("*.csv")):
        if path.name.startswith(("events_", "exposure_", "clean_events", "clean_exposure")):
            continue
        try:
            f = pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[""])
        except (UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError):
            continue
        if "complaint_id" in f.columns and "received_at" in f.columns:
            frames.append(f.assign(complaint_id=f["complaint_id"] + "-" + path.stem))
    raw = pd.concat(frames, ignore_index=True)
    return L.normalize(raw[[c for c in raw.columns if c in {x.name for x in L.TABLES["ledger"]}]], "ledger")


def _run(frame: pd.DataFrame, narrowed: bool, result_format: dict[str, Any]) -> dict[str, Any]:
    context = _gx_context()
    source = context.data_sources.add_pandas("q")
    suite = context.suites.add(load_suite("ledger"))
    batch = source.add_dataframe_asset("ledger").add_batch_definition_whole_dataframe("all")
    vd = context.validation_definitions.add(gx.ValidationDefinition(name="v", data=batch, suite=suite))
    if narrowed:
        narrow_domains(source.get_execution_engine())
    gx_frame = for_gx(frame[suite_columns(suite, frame.columns)])
    run = vd.run(batch_parameters={"dataframe": gx_frame},
                 expectation_parameters={"as_of": dt.datetime(2026, 11, 21, 9)}, result_format=result_format)
    return {r.expectation_config.meta["check_id"]: json.loads(json.dumps(
        {"success": r.success, "result": r.result, "error": bool(r.exception_info.get("raised_exception"))
         if "raised_exception" in (r.exception_info or {}) else False}, default=str, sort_keys=True))
        for r in run.results}


@pytest.mark.parametrize("result_format", [SUMMARY_FORMAT, COMPLETE_FORMAT], ids=["summary", "complete"])
def test_narrowed_engine_gives_the_same_results(result_format: dict[str, Any]) -> None:
    frame = _ledger()
    shipped = _run(frame, False, result_format)
    narrowed = _run(frame, True, result_format)
    assert shipped.keys() == narrowed.keys() and len(shipped) > 50
    failing = [cid for cid, r in shipped.items() if not r["success"]]
    assert len(failing) >= 15  # the corpus makes the comparison mean something
    with_condition = {"L044", "L045", "L046", "L047", "L048", "L049", "L050"}  # row_condition domains
    assert with_condition & set(failing)
    for cid in shipped:
        assert narrowed[cid] == shipped[cid], cid


def test_each_row_condition_is_evaluated_once_per_batch(monkeypatch: pytest.MonkeyPatch) -> None:
    frame = _ledger()
    suite = load_suite("ledger")
    conditions = {e.configuration.kwargs["row_condition"]["pass_through_filter"] for e in suite.expectations
                  if e.configuration.kwargs.get("row_condition")}
    calls: list[str] = []
    query = pd.DataFrame.query

    def counted(self: pd.DataFrame, expr: str, **kwargs: Any) -> Any:
        calls.append(expr)
        return query(self, expr, **kwargs)

    monkeypatch.setattr(pd.DataFrame, "query", counted)
    _run(frame, True, SUMMARY_FORMAT)
    assert len(conditions) >= 5 and sorted(calls) == sorted(conditions)  # GX alone: once per metric
    calls.clear()
    _run(frame, False, SUMMARY_FORMAT)
    assert len(calls) > 2 * len(conditions)
