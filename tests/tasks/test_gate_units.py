"""The gate's units of work (tasks.quality.runner): a table's suite split into groups across threads, and
a big table cut into row partitions, give every check the result one sequential run over each whole
table gives: the same verdicts, counts, failing rows and GX results.

The frames come from the bad-input corpus, so that most checks fail somewhere (row conditions, column
pairs, the catalogue's multicolumn checks, duplicate events).
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import numpy as np
import pandas as pd
import pytest

from complaints import checks as C
from complaints import ledger as L
from tasks.quality import partitioning, runner
from tests.tasks.test_gx_narrow import CORPUS, _ledger

AS_OF = dt.datetime(2026, 11, 21, 9)


def _events(ledger: pd.DataFrame) -> pd.DataFrame:
    """The corpus's event files (bad kinds, times, duplicates...) on the corpus ledger's ids, several
    times over, so that many rows share a key."""
    raws = []
    for path in sorted(CORPUS.glob("*events*.csv")):
        f = pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[""])
        if {"complaint_id", "at", "kind"} <= set(f.columns):
            raws.append(f[["complaint_id", "at", "kind"]])
    raw = pd.concat(raws, ignore_index=True)
    ids = ledger["complaint_id"].dropna().unique()
    frames = [raw.assign(complaint_id=[ids[(i * 7 + k) % len(ids)] if pd.notna(c) else c
                                       for i, c in enumerate(raw["complaint_id"])]) for k in range(6)]
    events = L.normalize(pd.concat(frames, ignore_index=True), "events")
    events[C.EVENT_IN_LEDGER] = events.index % 17 != 0  # some events of unknown complaints
    events[C.EVENT_RECEIVED_AT] = pd.Timestamp("2026-07-01")
    return events


def _gate(frames: dict[str, pd.DataFrame]) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    results, raw = runner._run_gx({t: f.copy() for t, f in frames.items()}, AS_OF)
    checks = [{**r.to_dict(), "positions": r.positions.tolist()} for r in results]
    gx = {t: json.loads(json.dumps(
        [{"id": r.expectation_config.meta["check_id"], "success": r.success, "result": r.result}
         for r in run.results], default=str)) for t, run in raw.items()}
    return checks, gx


@pytest.mark.parametrize("order", ["as read", "sorted by complaint"])
def test_groups_and_partitions_give_the_results_of_one_whole_run(
    monkeypatch: pytest.MonkeyPatch, order: str
) -> None:
    """Events in no order are partitioned by their key's code; events sorted by complaint (as the
    extract gives them, missing ids last) are cut into runs of rows between two complaints."""
    ledger = _ledger()
    events = _events(ledger)
    if order != "as read":
        events = events.sort_values("complaint_id", kind="stable", na_position="last").reset_index(drop=True)
    frames = {"ledger": ledger, "events": events}
    monkeypatch.setattr(runner, "GATE_THREADS", 1)
    whole, whole_gx = _gate(frames)
    assert len(partitioning.partitions(frames["events"], runner.load_suite("events"), "events")) == 1

    monkeypatch.setattr(runner, "GATE_THREADS", 2)
    monkeypatch.setattr(runner, "SPLIT_ROWS", 1)
    monkeypatch.setattr(partitioning, "PARTITION_ROWS", len(frames["events"]) // 3)
    plans = {t: runner._plan(t, f) for t, f in frames.items()}
    assert len(plans["ledger"].groups) == 4 and len(plans["events"].parts) >= 3  # the split is real
    parts = plans["events"].parts
    assert all(isinstance(p, slice) for p in parts) == (order != "as read")
    rows = [np.arange(len(events))[p] for p in parts]
    assert np.array_equal(np.sort(np.concatenate(rows)), np.arange(len(events)))  # every row once
    homes = [set(events["complaint_id"].iloc[r].fillna("<missing>")) for r in rows]
    assert all(not (a & b) for i, a in enumerate(homes) for b in homes[i + 1 :])  # each key in one part
    split, split_gx = _gate(frames)

    assert [c["id"] for c in split] == [c["id"] for c in whole]
    failing = {c["id"] for c in whole if not c["passed"]}
    assert len(failing) >= 15 and {"E004", "E005", "E006"} <= failing  # the comparison means something
    for a, b in zip(whole, split, strict=True):
        assert a == b, a["id"]
    assert split_gx == whole_gx  # the suite's order, the same counts and samples
