"""The FigureSpec catalogue is the one list of figure keys: the golden cases compute exactly its keys, every
label is Chinese, and the direction of every computed key is what ``findings.lower_is_better`` said before
the catalogue existed (``golden_lower_is_better.json``, captured from the old rule-based function)."""

from __future__ import annotations

import json
import re
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from test_golden_cases import NAMES, run_case

from complaints.figures import CATALOGUE, flatten, label, lower_is_better, spec_for
from complaints.figures.catalogue import CHANGE_METRICS, METADATA, PLACEHOLDERS, QUARTERS_ZH, matches

GOLDEN_DIRECTIONS = Path(__file__).with_name("golden_lower_is_better.json")
LATIN = re.compile(r"[A-Za-z]")


@cache
def computed_keys() -> dict[str, set[str]]:
    """Every figure key each golden case computes (metadata and empty families left out)."""
    out: dict[str, set[str]] = {}
    for name in NAMES:
        result, _ = run_case(name)
        out[name] = {
            key for key, value in flatten(result.figures) if key.split(".")[0] not in METADATA and value != {}
        }
    return out


def _all_computed() -> set[str]:
    return set().union(*computed_keys().values())


def test_every_computed_key_has_exactly_one_entry() -> None:
    problems = []
    for key in sorted(_all_computed()):
        found = [spec.key for spec, _ in matches(key)]
        if len(found) != 1:
            problems.append(f"{key}: {found or 'no catalogue entry'}")
    assert not problems, "\n".join(problems)


def test_every_entry_is_computed_by_a_golden_case() -> None:
    produced = {spec_for(key).key for key in _all_computed()}  # type: ignore[union-attr]
    unproduced = [spec.key for spec in CATALOGUE if spec.key not in produced]
    assert not unproduced, f"no golden case computes: {unproduced}"


def test_entries_are_unique_and_well_formed() -> None:
    keys = [spec.key for spec in CATALOGUE]
    assert len(keys) == len(set(keys))
    for spec in CATALOGUE:
        names = re.findall(r"<([a-z_]+)>", spec.key)
        assert all(n in PLACEHOLDERS or n == "figure" for n in names), spec.key
        assert "<figure>" not in spec.key or spec.key.endswith(".<figure>"), spec.key
        assert set(re.findall(r"\{([a-z_]+)\}", spec.label_zh)) == set(names), spec.key


@pytest.mark.parametrize("spec", CATALOGUE, ids=lambda s: s.key)
def test_labels_are_chinese(spec: Any) -> None:
    text = re.sub(r"\{[a-z_]+\}", "", spec.label_zh) + spec.short_zh
    assert text and not LATIN.search(text), spec.label_zh
    assert re.search(r"[\u4e00-\u9fff]", text)


def test_resolved_labels_of_computed_keys_are_chinese() -> None:
    """Codes with a Chinese name print it; branch codes and the ``unspecified`` code print as they are."""
    bare = re.compile(r"^(by_branch\.|by_product_line\.unspecified|by_responsible_dept\.unspecified)")
    wrong = {k: label(k)[0] for k in _all_computed() if not bare.match(k) and LATIN.search(label(k)[0])}
    assert not wrong


def test_lower_is_better_matches_the_previous_rules() -> None:
    golden = json.loads(GOLDEN_DIRECTIONS.read_text(encoding="utf-8"))
    expected = {**dict.fromkeys(golden["lower"], True), **dict.fromkeys(golden["higher_or_neutral"], False)}
    assert _all_computed() == set(expected)  # the reference covers exactly what the cases compute today
    changed = {k: v for k, v in expected.items() if lower_is_better(k) != v}
    assert not changed


def test_known_labels_and_lookups() -> None:
    assert label("by_quarter.Q4.satisfaction.rate") == ("第四季度客户满意度", "ratio")
    assert label("rates_by_business_line.life.per_10k_insured") == ("人身险万人次投诉量", "number")
    flag = label("by_department.claims.targets.timeliness.rate")
    assert flag == ("理赔部门投诉处理及时率目标达成情况", "number")
    assert label("qoq.cases.change_pct") == ("投诉件数环比变动率", "pct")
    assert label("unknown.rate") == ("unknown.rate", "ratio") and spec_for("unknown") is None
    for metric, key in CHANGE_METRICS.items():  # the names used inside qoq/yoy stand for their figure
        assert label(metric) == label(key) and lower_is_better(metric) == lower_is_better(key)
    assert list(QUARTERS_ZH) == ["Q1", "Q2", "Q3", "Q4"]
