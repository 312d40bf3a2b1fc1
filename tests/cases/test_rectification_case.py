"""The rectification golden case (``rectification_item/``): items measured against the quarter before the one
they were opened in and over each quarter since, hand-computed in its README."""

from __future__ import annotations

import datetime as dt
import json
import math
from pathlib import Path
from typing import Any

import yaml

from complaints.ledger import normalize
from complaints.rectification import measure_all, overdue_items
from complaints.settings import RectificationItem
from tasks.sources import read_table

CASE = Path(__file__).resolve().parent / "rectification_item"


def _same(got: Any, want: Any, where: str) -> None:
    if isinstance(want, dict):
        assert isinstance(got, dict), where
        for k, v in want.items():
            _same(got.get(k), v, f"{where}.{k}")
    elif isinstance(want, list):
        assert isinstance(got, list) and len(got) == len(want), f"{where}: {got!r}"
        for i, (g, w) in enumerate(zip(got, want, strict=True)):
            _same(g, w, f"{where}[{i}]")
    elif isinstance(want, float):
        assert isinstance(got, float), f"{where}: {got!r}"
        assert math.isclose(got, want, abs_tol=1e-12), f"{where}: {got!r} != {want!r}"
    else:
        assert got == want, f"{where}: {got!r} != {want!r}"


def _inputs() -> tuple[Any, list[RectificationItem], dt.datetime, str]:
    spec = yaml.safe_load((CASE / "items.yaml").read_text(encoding="utf-8"))
    items = [RectificationItem(**i) for i in spec["rectification_items"]]
    ledger = normalize(read_table(CASE / "ledger.csv", "ledger"), "ledger")
    return ledger, items, dt.datetime.fromisoformat(spec["as_of"]), spec["entity"]


def test_items_measured_against_their_baseline() -> None:
    ledger, items, as_of, entity = _inputs()
    got = measure_all(ledger, items, as_of=as_of, entity=entity, head_office="HO")
    want = json.loads((CASE / "expected_rectification.json").read_text(encoding="utf-8"))
    _same(got, want, "items")


def test_overdue_is_past_due_and_not_done() -> None:
    _, items, as_of, _ = _inputs()
    assert [r["id"] for r in overdue_items(items, as_of.date())] == ["RC-CLAIMS-TERMS"]
    assert overdue_items(items, dt.date(2026, 9, 30)) == []  # due today is not yet overdue
    assert overdue_items(items, dt.date(2026, 10, 1))[0]["days_overdue"] == 1


def test_a_branch_entity_sees_only_its_cases_and_no_later_quarter_than_asked() -> None:
    ledger, items, as_of, _ = _inputs()
    assert all(m["baseline"]["cases"] == 0 for m in measure_all(ledger, items, as_of=as_of, entity="GD",
                                                                 head_office="HO"))
    from complaints.periods import Period

    only_q2 = measure_all(ledger, items[:1], as_of=as_of, entity="HO", head_office="HO",
                          until=Period.parse("2026Q2"))
    assert [q["period"] for q in only_q2[0]["quarters"]] == ["2026Q2"]
    assert only_q2[0]["moved"] == "improved"
