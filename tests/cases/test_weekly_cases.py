"""Golden cases of the weekly overdue publication: ``tests/cases/<name>/expected_weekly.json`` maps each
ISO week of ``args.json["weeks"]`` to the HAND-COMPUTED expected object (any subset of its keys; the
arithmetic is in the case's README)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from test_golden_cases import compare

from cli.options import parse_as_of
from complaints.ledger import normalize
from complaints.weekly import weekly_overdue
from tasks.calendar_files import load_calendar
from tasks.rulebooks import load_rulebooks
from tasks.sources import read_table

CASES = Path(__file__).resolve().parent
NAMES = sorted(p.name for p in CASES.iterdir() if (p / "expected_weekly.json").is_file())


def _run(name: str, week: str, threshold: float = 0.5) -> dict:
    folder = CASES / name
    args = json.loads((folder / "args.json").read_text(encoding="utf-8"))
    ledger = normalize(read_table(folder / "ledger.csv", "ledger"), "ledger")
    return weekly_overdue(ledger, week=week, as_of=parse_as_of(args["as_of"]), calendar=load_calendar(),
                          rulebooks=load_rulebooks(), entity=args.get("entity"), head_office="HO",
                          threshold=threshold).figures


@pytest.mark.parametrize("name", NAMES)
def test_weekly_case(name: str) -> None:
    expected = json.loads((CASES / name / "expected_weekly.json").read_text(encoding="utf-8"))
    problems = [p for week, want in expected.items() for p in compare(_run(name, week), want, week)]
    assert not problems, "\n".join(problems)


def test_threshold_is_configurable_and_strict() -> None:
    """At 0.4 the W40 GD branch (share exactly 0.4) is still not escalated; ZJ's 1/3 neither; at 0.3 ZJ is."""
    units = _run("weekly_national_day", "2026-W40", threshold=0.4)["units"]["branch"]
    assert (units["GD"]["escalated"], units["ZJ"]["escalated"]) == (False, False)
    units = _run("weekly_national_day", "2026-W40", threshold=0.3)["units"]["branch"]
    assert (units["GD"]["escalated"], units["ZJ"]["escalated"]) == (True, True)
