"""Data-driven golden cases: ``tests/cases/<name>/`` each a small ledger and HAND-COMPUTED expected figures.

``expected.json`` holds any subset of the figures (nested like figures.json; every key present is compared,
floats with a tight tolerance) plus optional checks: ``_lineage`` {figure key: [complaint ids]},
``_rule_set_ids`` [ids], ``_notes_keys`` [figure keys that must carry a note], ``_absent`` [dotted keys
that must not exist]. ``args.json``: period, as_of, entity, head_office (default HO), calendar (extra
year files in the case folder), department_targets, major, rows, bulletins (the bulletin reference data:
a file in the case folder, or ``"config"`` for the shipped ``config/benchmarks/bulletins.yaml``).
"""

from __future__ import annotations

import datetime as dt
import json
import math
from pathlib import Path
from typing import Any

import pytest

from cli.options import parse_as_of
from complaints.figures import FiguresResult, compute_figures, flatten
from complaints.ledger import normalize
from complaints.settings import MajorCriteria
from tasks.benchmarks import load_reference
from tasks.calendar_files import load_calendar
from tasks.config_files import CONFIG_DIR
from tasks.rulebooks import load_rulebooks
from tasks.sources import read_table

CASES = Path(__file__).resolve().parent
NAMES = sorted(p.name for p in CASES.iterdir() if (p / "expected.json").is_file())

# Every dotted key of FIGURES.md (breakdown maps and per-department/line maps as their parent key).
FIGURES_KEYS = {
    *(
        f"counts.{k}"
        for k in (
            "contacts",
            "cases",
            "repeat_contacts",
            "valid_cases",
            "escalated_cases",
            "regulator_forwarded_cases",
            "major_cases",
            "issues",
        )
    ),
    "by_category",
    "by_channel",
    "by_business_line",
    "by_product_line",
    "by_branch",
    "by_province",
    "by_severity",
    "by_responsible_dept",
    "issues_by_category",
    "by_root_cause",
    "rates.per_100m_premium",
    "rates.per_10k_policies",
    "rates.complaint_rate_pct",
    "rates_by_business_line.life.per_100m_premium",
    "rates_by_business_line.life.per_10k_policies",
    "rates_by_business_line.life.complaint_rate_pct",
    "rates_by_business_line.life.per_10k_insured",
    "rates_by_business_line.property.per_100m_premium",
    *(
        f"timeliness.{k}"
        for k in ("on_time", "late", "pending", "rate", "median_days", "mean_days", "overdue_open")
    ),
    *(f"forwarded_timeliness.{k}" for k in ("on_time", "late", "pending", "rate")),
    *(
        f"{r}.{k}"
        for r in ("acknowledgement", "claims_3wd", "progress_logged_24h")
        for k in ("within", "late", "pending", "rate")
    ),
    "satisfaction.revisited",
    "satisfaction.satisfied",
    "satisfaction.not_reached",
    "satisfaction.rate",
    "outcomes.decided",
    "outcomes.upheld",
    "outcomes.upheld_rate",
    "outcomes.redress_total",
    "reviews.requested",
    "reviews.decided_on_time",
    *(
        f"{c}.{k}.{p}"
        for c in ("qoq", "yoy")
        for k in ("cases", "valid_cases", "rates.per_100m_premium")
        for p in ("previous", "change_pct")
    ),
    *(
        f"by_quarter.Q{q}.{k}"
        for q in range(1, 5)
        for k in ("cases", "valid_cases", "timeliness.rate", "satisfaction.rate")
    ),
    "by_department",
    *(
        f"regulator_basis.{line}.{k}"
        for line in ("property", "life")
        for k in ("forwarded", "per_100m_premium", "per_10k_policies", "by_issue", "by_product")
    ),
    "regulator_basis.life.per_10k_insured",
    *(f"benchmark.{line}.{k}" for line in ("property", "life") for k in ("binding", "bulletin")),
    *(
        f"benchmark.life.per_10k_insured.{k}"
        for k in ("value", "median", "median_period", "ratio", "deviation_pct", "above_median")
    ),
    "period",
    "entity",
    "as_of",
    "rows.read",
    "rows.accepted",
    "rows.quarantined",
}


def load_case(name: str) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    folder = CASES / name
    args = json.loads((folder / "args.json").read_text(encoding="utf-8"))
    expected = json.loads((folder / "expected.json").read_text(encoding="utf-8"))
    inputs: dict[str, Any] = {"ledger": normalize(read_table(folder / "ledger.csv", "ledger"), "ledger")}
    for table in ("exposure", "events"):
        path = folder / f"{table}.csv"
        inputs[table] = normalize(read_table(path, table), table) if path.is_file() else None
    inputs["calendar"] = load_calendar(extra_files=[folder / f for f in args.get("calendar", [])])
    bulletins = args.get("bulletins")
    inputs["reference"] = (
        None
        if bulletins is None
        else load_reference(
            CONFIG_DIR / "benchmarks" / "bulletins.yaml" if bulletins == "config" else folder / bulletins
        )
    )
    return args, expected, inputs


def run_case(name: str) -> tuple[FiguresResult, dict[str, Any]]:
    args, expected, inputs = load_case(name)
    result = compute_figures(
        inputs["ledger"],
        period=args["period"],
        as_of=parse_as_of(args["as_of"]),
        calendar=inputs["calendar"],
        rulebooks=load_rulebooks(),
        exposure=inputs["exposure"],
        events=inputs["events"],
        entity=args.get("entity"),
        head_office=args.get("head_office", "HO"),
        major=MajorCriteria(**args.get("major", {})),
        department_targets=args.get("department_targets"),
        rows=args.get("rows"),
        reference=inputs["reference"],
    )
    return result, expected


def compare(actual: Any, expected: Any, path: str = "") -> list[str]:
    problems: list[str] = []
    if isinstance(expected, dict):
        if not isinstance(actual, dict):
            return [f"{path}: expected a mapping, got {actual!r}"]
        for key, value in expected.items():
            where = f"{path}.{key}" if path else key
            if key not in actual:
                problems.append(f"{where}: missing")
            else:
                problems.extend(compare(actual[key], value, where))
        return problems
    if isinstance(expected, float) or (isinstance(expected, int) and isinstance(actual, float)):
        if (
            not isinstance(actual, int | float)
            or isinstance(actual, bool)
            or not math.isclose(actual, expected, rel_tol=1e-12, abs_tol=1e-12)
        ):
            problems.append(f"{path}: expected {expected!r}, got {actual!r}")
        return problems
    if type(actual) is not type(expected) or actual != expected:
        problems.append(f"{path}: expected {expected!r}, got {actual!r}")
    return problems


@pytest.mark.parametrize("name", NAMES)
def test_golden_case(name: str) -> None:
    result, expected = run_case(name)
    checks = {k: expected.pop(k) for k in [k for k in expected if k.startswith("_")]}
    problems = compare(result.figures, expected)
    for key, ids in checks.get("_lineage", {}).items():
        if result.ids(key) != ids:
            problems.append(f"lineage {key}: expected {ids}, got {result.ids(key)}")
    if "_rule_set_ids" in checks:
        got = [r["id"] for r in result.figures["rule_sets"]]
        if got != checks["_rule_set_ids"]:
            problems.append(f"rule_sets: expected {checks['_rule_set_ids']}, got {got}")
    for key in checks.get("_notes_keys", []):
        if key not in result.figures["notes"]:
            problems.append(f"notes: no note for {key}")
    flat = dict(flatten(result.figures))
    for key in checks.get("_absent", []):
        if key in flat:
            problems.append(f"{key}: should be absent, is {flat[key]!r}")
    json.dumps(result.figures)  # JSON-ready
    assert not problems, "\n".join(problems)


def _expected_keys(node: Any, prefix: str = "") -> set[str]:
    keys: set[str] = set()
    if isinstance(node, dict):
        for k, v in node.items():
            if k.startswith("_") or k == "notes":
                continue
            dotted = f"{prefix}{k}"
            keys.add(dotted)
            keys |= _expected_keys(v, f"{dotted}.")
    return keys


def test_cases_cover_every_figure_key() -> None:
    covered: set[str] = set()
    for name in NAMES:
        covered |= _expected_keys(json.loads((CASES / name / "expected.json").read_text(encoding="utf-8")))
    assert len(NAMES) >= 12
    missing = sorted(k for k in FIGURES_KEYS if k not in covered)
    assert not missing, f"no golden case checks: {missing}"


def test_as_of_is_local_time() -> None:
    assert parse_as_of("2026-07-01T05:00:00Z") == dt.datetime(2026, 7, 1, 13, 0)
