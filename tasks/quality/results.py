"""What the gate reports: one :class:`CheckResult` per check, one :class:`GateResult` per run."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import great_expectations as gx
import numpy as np
import pandas as pd

from complaints import checks as C
from complaints import ledger as L
from complaints.periods import Period

MAX_IDS = 20


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


def _iso(value: dt.datetime) -> str:
    return pd.Timestamp(value).tz_localize(L.TZ).isoformat()


def _row_ids(frame: pd.DataFrame, table: str, positions: np.ndarray, limit: int = MAX_IDS) -> list[str]:
    """Readable ids of the rows at ``positions`` (complaint ids, or exposure keys); ``#n`` when blank."""
    keys = C.KEY_COLUMNS[table] if table != "events" else ("complaint_id",)
    out: list[str] = []
    seen: set[str] = set()
    sub = frame[list(keys)].iloc[positions[: max(limit * 5, limit)]]  # the key columns only (0.2 s a call)
    for pos, values in zip(positions, sub.itertuples(index=False), strict=False):
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


def check_ids(results: Iterable[CheckResult], *, failed: bool = True) -> list[str]:
    return [r.id for r in results if (not r.passed) == failed]
