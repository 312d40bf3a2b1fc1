"""What a check is, the builders for its recurring kinds, and the registry the catalogue is read through.

A check has a stable id (``L…`` ledger, ``X…`` exposure, ``E…`` events), a Chinese and an English
description, a severity (``blocking`` | ``warning``) and a level:

- ``row``: the check judges single rows; rows failing a *blocking* row check are quarantined (set aside
  with the ids of the checks they failed) and the rest go on;
- ``table``: the check judges the table as a whole (duplicate ids, links between rows, denominators);
  a blocking failure stops the filing unless the officer accepts the risk.

Each check is carried out by one Great Expectations expectation (``gx_type`` + ``gx_kwargs``; the GX
suites in ``expectations/*.json`` are generated from the catalogue and a test keeps them in sync) or,
where the rule needs data GX cannot see (raw values before parsing, another table), by the gate with a
function of :mod:`complaints.checks.conditions` (``engine="pandas"``). Checks GX has no built-in
expectation for run through one custom expectation, ``expect_rows_to_pass_catalogue_check``, whose
condition is the check's named ``condition`` (a frame → boolean "row fails" array).

No I/O and no GX here.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, NoReturn, TypeVar

import numpy as np
import pandas as pd

from complaints import ledger as L

Severity = Literal["blocking", "warning"]
Level = Literal["row", "table"]
Engine = Literal["gx", "pandas"]
# A vectorised condition: frame -> boolean ndarray, True where the row FAILS the check.
Condition = Callable[[pd.DataFrame], np.ndarray]

CUSTOM_EXPECTATION = "expect_rows_to_pass_catalogue_check"
AS_OF = {"$PARAMETER": "as_of"}


@dataclass(frozen=True)
class Check:
    """One quality check. ``columns``: the columns whose values a data owner must look at.

    ``condition``: the named function of :mod:`complaints.checks.conditions` a custom-expectation
    check runs (``None`` for GX built-in expectations and for the gate's pandas checks).
    """

    id: str
    table: str
    level: Level
    severity: Severity
    description_zh: str
    description_en: str
    columns: tuple[str, ...]
    engine: Engine = "gx"
    gx_type: str | None = None
    gx_kwargs: dict[str, Any] = field(default_factory=dict)
    condition: Condition | None = None

    @property
    def blocking(self) -> bool:
        return self.severity == "blocking"

    def meta(self) -> dict[str, Any]:
        """The expectation ``meta`` (GX renders ``notes`` in Data Docs)."""
        return {
            "check_id": self.id,
            "severity": self.severity,
            "level": self.level,
            "description_zh": self.description_zh,
            "description_en": self.description_en,
            "notes": {
                "format": "markdown",
                "content": [
                    f"**{self.id}** ({self.severity}, {self.level}) "
                    f"{self.description_zh} / {self.description_en}"
                ],
            },
        }


# --------------------------------------------------------------------------------------------------
# Builders for the recurring kinds of check (keyword arguments only)
# --------------------------------------------------------------------------------------------------


def _label(table: str, column: str) -> str:
    """The Chinese label of ``column`` in ``table`` (the officer's column heading)."""
    return next(c.label for c in L.TABLES[table] if c.name == column)


def not_null(*, id: str, table: str, column: str) -> Check:
    label = _label(table, column)
    return Check(
        id=id,
        table=table,
        level="row",
        severity="blocking",
        description_zh=f"必填项“{label}”({column})不得为空",
        description_en=f"required column {column} must not be empty",
        columns=(column,),
        gx_type="expect_column_values_to_not_be_null",
        gx_kwargs={"column": column},
    )


def in_set(*, id: str, table: str, column: str, codes: Iterable[str]) -> Check:
    label = _label(table, column)
    return Check(
        id=id,
        table=table,
        level="row",
        severity="blocking",
        description_zh=f"“{label}”({column})须为规定代码",
        description_en=f"{column} must be one of the listed codes",
        columns=(column,),
        gx_type="expect_column_values_to_be_in_set",
        gx_kwargs={"column": column, "value_set": sorted(codes)},
    )


def ordered(*, id: str, early: str, late: str, zh: str, severity: Severity = "blocking") -> Check:
    """A ledger row's ``early`` time must not be after its ``late`` time (either missing: not judged)."""
    return Check(
        id=id,
        table="ledger",
        level="row",
        severity=severity,
        description_zh=zh,
        description_en=f"{early} must not be after {late}",
        columns=("complaint_id", early, late),
        gx_type="expect_column_pair_values_a_to_be_greater_than_b",
        gx_kwargs={
            "column_A": late,
            "column_B": early,
            "or_equal": True,
            "ignore_row_if": "either_value_is_missing",
        },
    )


def not_future(*, id: str, table: str, column: str) -> Check:
    label = _label(table, column)
    return Check(
        id=id,
        table=table,
        level="row",
        severity="blocking",
        description_zh=f"“{label}”({column})不得晚于数据截止时间(as-of)",
        description_en=f"{column} must not be after the run's as-of time",
        columns=(column,),
        gx_type="expect_column_values_to_be_between",
        gx_kwargs={"column": column, "max_value": AS_OF},
    )


def required_if(
    *,
    id: str,
    table: str,
    column: str,
    row_condition: str,
    zh: str,
    en: str,
    columns: tuple[str, ...],
    severity: Severity = "blocking",
) -> Check:
    """``column`` must be set on the rows matching ``row_condition`` (a GX pandas row condition)."""
    return Check(
        id=id,
        table=table,
        level="row",
        severity=severity,
        description_zh=zh,
        description_en=en,
        columns=columns,
        gx_type="expect_column_values_to_not_be_null",
        gx_kwargs={"column": column, "row_condition": row_condition, "condition_parser": "pandas"},
    )


def at_least(
    *,
    id: str,
    table: str,
    column: str,
    minimum: float,
    zh: str,
    en: str,
    strict: bool = False,
    severity: Severity = "blocking",
) -> Check:
    kwargs: dict[str, Any] = {"column": column, "min_value": minimum}
    if strict:
        kwargs["strict_min"] = True
    return Check(
        id=id,
        table=table,
        level="row",
        severity=severity,
        description_zh=zh,
        description_en=en,
        columns=(column,),
        gx_type="expect_column_values_to_be_between",
        gx_kwargs=kwargs,
    )


def custom(
    *,
    id: str,
    table: str,
    level: Level,
    severity: Severity,
    zh: str,
    en: str,
    columns: tuple[str, ...],
    condition: Condition,
    gx_columns: tuple[str, ...] | None = None,
) -> Check:
    """A check GX runs through the custom expectation, with ``condition`` deciding which rows fail."""
    gx_columns = gx_columns or columns
    if len(gx_columns) < 2:  # a GX multicolumn domain needs two columns
        gx_columns = ("complaint_id", *gx_columns)
    return Check(
        id=id,
        table=table,
        level=level,
        severity=severity,
        description_zh=zh,
        description_en=en,
        columns=columns,
        gx_type=CUSTOM_EXPECTATION,
        gx_kwargs={"column_list": list(gx_columns), "check_id": id, "ignore_row_if": "never"},
        condition=condition,
    )


# --------------------------------------------------------------------------------------------------
# The registry
# --------------------------------------------------------------------------------------------------

K = TypeVar("K")
V = TypeVar("V")


class FrozenDict(dict[K, V]):
    """A dict that refuses changes once built: the catalogue's lookups. A ``dict`` subclass rather than
    a ``MappingProxyType`` so callers can keep ``dict`` typing (see :mod:`complaints.checks`)."""

    def _refuse(self, *args: Any, **kwargs: Any) -> NoReturn:
        raise TypeError("the check catalogue is read-only")

    __setitem__ = __delitem__ = __ior__ = _refuse
    clear = pop = popitem = setdefault = update = _refuse

    def __reduce__(self) -> tuple[Any, ...]:  # pickle/copy without __setitem__
        return (type(self), (dict(self),))



@dataclass(frozen=True)
class TableChecks:
    """One table's checks in catalogue order, and the gate's per-table lookups.

    ``parse_check``: the check rows with unparseable values fail; ``columns_check``: the check a
    missing required column fails; ``key_columns``: the columns that name a row to a data owner.
    """

    table: str
    checks: tuple[Check, ...]
    parse_check: str
    columns_check: str
    key_columns: tuple[str, ...]


class Registry:
    """The catalogue, built once from the tables' checks and read-only afterwards."""

    def __init__(self, tables: Sequence[TableChecks]) -> None:
        catalogue = tuple(c for t in tables for c in t.checks)
        by_id = {c.id: c for c in catalogue}
        if len(by_id) != len(catalogue):
            raise ValueError("check ids must be unique")
        for t in tables:
            wrong = [c.id for c in t.checks if c.table != t.table]
            if wrong:
                raise ValueError(f"checks {wrong} are listed under table {t.table}")
            for cid in (t.parse_check, t.columns_check):
                if cid not in by_id or by_id[cid].table != t.table:
                    raise ValueError(f"{cid} is not a {t.table} check")
        for c in catalogue:
            if (c.gx_type == CUSTOM_EXPECTATION) != (c.condition is not None):
                raise ValueError(f"{c.id}: custom-expectation checks, and only they, have a condition")
        self.catalogue: tuple[Check, ...] = catalogue
        self.by_id: FrozenDict[str, Check] = FrozenDict(by_id)
        self.conditions: FrozenDict[str, Condition] = FrozenDict(
            {c.id: c.condition for c in catalogue if c.condition is not None}
        )
        self.parse_check: FrozenDict[str, str] = FrozenDict({t.table: t.parse_check for t in tables})
        self.columns_check: FrozenDict[str, str] = FrozenDict({t.table: t.columns_check for t in tables})
        self.key_columns: FrozenDict[str, tuple[str, ...]] = FrozenDict(
            {t.table: t.key_columns for t in tables}
        )

    def checks_for(self, table: str) -> list[Check]:
        return [c for c in self.catalogue if c.table == table]

    def suite_dict(self, table: str) -> dict[str, Any]:
        """The GX 1.x suite (JSON-ready) for ``table``: every GX-engine check, ``meta`` carrying its id."""
        return {
            "name": table,
            # The committed suites (expectations/*.json) carry this string; changing it means
            # regenerating them (python -m tasks.quality.suites).
            "meta": {"generated_from": "complaints/checks/", "table": table},
            "expectations": [
                {"type": c.gx_type, "kwargs": c.gx_kwargs, "meta": c.meta()}
                for c in self.checks_for(table)
                if c.engine == "gx"
            ],
        }
