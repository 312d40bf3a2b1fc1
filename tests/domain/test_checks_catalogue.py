"""The check catalogue is pinned: ids, their order per table, severities, levels and engines.

The golden lists below were captured from the catalogue as it was before ``complaints/checks.py``
became the package ``complaints/checks/`` (issue 15): a re-layering must not add, drop, reorder or
re-grade a check. A deliberate change to the catalogue updates these lists in the same commit.
"""

from __future__ import annotations

import ast
import dataclasses
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from complaints import checks as C
from complaints.checks import conditions

PACKAGE = Path(C.__file__).parent

GOLDEN_IDS: dict[str, list[str]] = {
    "ledger": [
        "L000", "L100", "L001", "L002", "L003", "L004", "L005", "L006", "L007", "L008", "L009",
        "L010", "L011", "L012", "L013", "L014", "L015", "L016", "L017", "L018", "L019", "L020",
        "L021", "L022", "L023", "L024", "L025", "L026", "L027", "L028", "L029", "L030", "L031",
        "L032", "L033", "L034", "L035", "L036", "L037", "L038", "L039", "L040", "L041", "L042",
        "L043", "L044", "L045", "L046", "L047", "L048", "L049", "L050", "L051", "L052", "L053",
        "L054", "L055", "L056", "L057", "L058", "L059", "L060", "L061", "L062", "L063", "L064",
    ],
    "exposure": [
        "X000", "X100", "X001", "X002", "X003", "X004", "X005", "X006", "X007", "X008", "X009",
        "X010", "X011", "X012", "X013", "X014", "X015", "X016",
    ],
    "events": ["E000", "E100", "E001", "E002", "E003", "E004", "E005", "E006", "E007", "E008"],
}
GOLDEN_WARNINGS = [
    "L024", "L033", "L048", "L049", "L050", "L055", "L062", "L063", "X013", "X014", "X015", "X016",
    "E007", "E008",
]
GOLDEN_TABLE_LEVEL = ["L100", "L012", "L059", "L060", "L061", "X100", "X011", "X012", "E100", "E008"]
GOLDEN_PANDAS_ENGINE = ["L000", "L100", "X000", "X100", "X012", "E000", "E100"]
GOLDEN_CUSTOM = [
    "L023", "L024", "L055", "L056", "L057", "L058", "L059", "L060", "L061", "L062", "L063", "L064",
]


def test_ids_are_unique() -> None:
    ids = [c.id for c in C.CATALOGUE]
    assert len(ids) == len(set(ids))
    assert list(C.BY_ID) == ids
    assert all(C.BY_ID[c.id] is c for c in C.CATALOGUE)


def test_ids_per_table_in_order_are_the_golden_lists() -> None:
    for table, ids in GOLDEN_IDS.items():
        assert [c.id for c in C.checks_for(table)] == ids, table
    # the catalogue is the three tables one after the other, nothing else
    assert [c.id for c in C.CATALOGUE] == [i for ids in GOLDEN_IDS.values() for i in ids]


def test_severities_levels_and_engines_are_the_golden_ones() -> None:
    assert [c.id for c in C.CATALOGUE if c.severity == "warning"] == GOLDEN_WARNINGS
    assert [c.id for c in C.CATALOGUE if c.level == "table"] == GOLDEN_TABLE_LEVEL
    assert [c.id for c in C.CATALOGUE if c.engine == "pandas"] == GOLDEN_PANDAS_ENGINE
    assert [c.id for c in C.CATALOGUE if c.gx_type == C.CUSTOM_EXPECTATION] == GOLDEN_CUSTOM


def test_per_table_lookups_name_catalogue_checks() -> None:
    for table in GOLDEN_IDS:
        assert C.BY_ID[C.PARSE_CHECK[table]].table == table
        assert C.BY_ID[C.COLUMNS_CHECK[table]].table == table
        assert set(C.KEY_COLUMNS[table]) <= {col for c in C.checks_for(table) for col in c.columns}
    assert sorted(C.SCANS_CATEGORIES) == ["L062", "L063"]


def test_custom_checks_and_only_they_name_a_condition_function() -> None:
    for c in C.CATALOGUE:
        if c.gx_type != C.CUSTOM_EXPECTATION:
            assert c.condition is None, c.id
            continue
        fn = c.condition
        assert fn is not None and fn.__name__ != "<lambda>", c.id
        assert fn.__module__ == "complaints.checks.conditions", c.id
        assert getattr(conditions, fn.__name__) is fn, c.id  # a module-level function, by its name
        assert C.CONDITIONS[c.id] is fn
    assert list(C.CONDITIONS) == GOLDEN_CUSTOM


def test_the_package_declares_no_lambda() -> None:
    for path in PACKAGE.glob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        assert not [n.lineno for n in ast.walk(tree) if isinstance(n, ast.Lambda)], path.name


def test_the_catalogue_is_read_only() -> None:
    assert isinstance(C.CATALOGUE, tuple)
    lookups: list[dict[str, Any]] = [C.BY_ID, C.CONDITIONS, C.PARSE_CHECK, C.COLUMNS_CHECK, C.KEY_COLUMNS]
    for lookup in lookups:
        with pytest.raises(TypeError):
            lookup["Z999"] = None
        with pytest.raises(TypeError):
            lookup.update({"Z999": None})
        with pytest.raises(TypeError):
            lookup.pop(next(iter(lookup)))
    with pytest.raises(dataclasses.FrozenInstanceError):
        C.CATALOGUE[0].severity = "warning"  # type: ignore[misc]


def test_the_package_imports_no_io_or_orchestration_library() -> None:
    forbidden = ("prefect", "great_expectations", "sqlalchemy", "boto3", "docx", "docxtpl", "openpyxl",
                 "yaml")
    code = (
        "import sys, complaints.checks; "
        f"print(','.join(m for m in {forbidden!r} if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
