"""Rule sets (the 2020 rule, the 2013 rule, the company's internal rules) and vectorised due dates. Pure.

A :class:`RuleSet` is data (``config/rulebooks/*.yaml``, read by ``tasks.rulebooks.load_rulebooks``): its
effective dates, its source citation and its clocks. A :class:`Clock` says where a time limit starts (the
local date of ``start``, or of ``restart`` when that is set), where it ends (``end``), how long it is per
complexity (natural days, working days or hours) and which column holds paused natural days.

The governing rule set of a complaint is chosen by its ``received_at`` date (FIGURES.md): the rule set of
that kind in force on that date; a date before the earliest rule set of the kind is governed by the earliest
one (FIGURES.md: "before [2020-03-01] the 2013 rule").

Due dates are computed for whole ledgers at once: one numpy operation per (rule set, limit) pair.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
import pandas as pd

from complaints.calendar import WorkCalendar
from complaints.errors import UserError
from complaints.ledger import local_dates

Unit = Literal["natural", "working", "hours"]
Kind = Literal["regulation", "internal"]
UNITS: tuple[str, ...] = ("natural", "working", "hours")
ALL = "all"  # limit key that applies whatever the complexity
EVENTS_PREFIX = "events:"  # ``end: events:logged`` = the first event of that kind

DECISION = "decision"
ACKNOWLEDGEMENT = "acknowledgement"
CLAIMS_DECISION = "claims_decision"
PROGRESS_LOGGED = "progress_logged"


class RulebookError(UserError):
    """A rulebook mapping is invalid; the message names the file and the key."""


@dataclass(frozen=True)
class Limit:
    """A time limit: ``amount`` natural days, working days (the n-th working day after) or hours."""

    amount: int
    unit: Unit

    def __post_init__(self) -> None:
        if self.unit not in UNITS:
            raise ValueError(f"unit {self.unit!r} is not one of {', '.join(UNITS)}")
        if self.amount < (1 if self.unit == "working" else 0):
            raise ValueError(f"amount {self.amount} is too small for unit {self.unit}")


@dataclass(frozen=True)
class Clock:
    """One time limit of a rule set."""

    name: str
    description: str
    start: str
    end: str
    limits: Mapping[str, Limit]
    restart: str | None = None
    complexity_column: str | None = None
    default_complexity: str | None = None
    pause_column: str | None = None
    applies_to: Mapping[str, str] = field(default_factory=dict)
    citation: str = ""

    @property
    def by_time(self) -> bool:
        """True when the limit is in hours (due is a time, not a date)."""
        return any(lim.unit == "hours" for lim in self.limits.values())


@dataclass(frozen=True)
class RuleSet:
    """A versioned rule set with effective dates, a citation and its clocks."""

    id: str
    version: str
    kind: Kind
    name: str
    document: str
    effective_from: dt.date
    effective_to: dt.date | None
    citation: str
    clocks: Mapping[str, Clock]

    def in_force(self, day: dt.date) -> bool:
        return self.effective_from <= day and (self.effective_to is None or day <= self.effective_to)

    def describe(self) -> dict[str, Any]:
        """JSON-ready identification (recorded in figures.json ``rule_sets``)."""
        return {
            "id": self.id,
            "version": self.version,
            "kind": self.kind,
            "name": self.name,
            "document": self.document,
            "effective_from": self.effective_from.isoformat(),
            "effective_to": self.effective_to.isoformat() if self.effective_to else None,
        }

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any], origin: str = "") -> RuleSet:
        where = f"{origin}: " if origin else ""

        def need(mapping: Mapping[str, Any], key: str, path: str) -> Any:
            value = mapping.get(key)
            if value is None or (isinstance(value, str) and not value.strip()):
                raise RulebookError(f"{where}`{path}{key}` is required")
            return value

        def day(value: Any, path: str) -> dt.date:
            if isinstance(value, dt.date):
                return value
            try:
                return dt.date.fromisoformat(str(value))
            except ValueError as exc:
                raise RulebookError(f"{where}`{path}` has {value!r}, not an ISO date") from exc

        kind = need(data, "kind", "")
        if kind not in ("regulation", "internal"):
            raise RulebookError(f"{where}`kind` must be regulation or internal, not {kind!r}")
        start = day(need(data, "effective_from", ""), "effective_from")
        end = day(data["effective_to"], "effective_to") if data.get("effective_to") else None
        if end is not None and end < start:
            raise RulebookError(f"{where}`effective_to` {end} is before `effective_from` {start}")
        raw_clocks = need(data, "clocks", "")
        if not isinstance(raw_clocks, Mapping):
            raise RulebookError(f"{where}`clocks` must be a mapping of clock name to clock")
        clocks: dict[str, Clock] = {}
        for name, raw in raw_clocks.items():
            path = f"clocks.{name}."
            if not isinstance(raw, Mapping):
                raise RulebookError(f"{where}`clocks.{name}` must be a mapping")
            raw_limits = need(raw, "limits", path)
            if not isinstance(raw_limits, Mapping) or not raw_limits:
                raise RulebookError(f"{where}`{path}limits` must map complexity (or `all`) to a limit")
            limits: dict[str, Limit] = {}
            for key, lim in raw_limits.items():
                try:
                    limits[str(key)] = Limit(int(lim["amount"]), lim["unit"])
                except (KeyError, TypeError, ValueError) as exc:
                    raise RulebookError(
                        f"{where}`{path}limits.{key}` must be {{amount: N, unit: natural|working|hours}}: "
                        f"{exc}"
                    ) from exc
            if len({lim.unit == "hours" for lim in limits.values()}) > 1:
                raise RulebookError(f"{where}`{path}limits` mixes hours with day limits")
            if ALL not in limits and not raw.get("complexity_column"):
                raise RulebookError(f"{where}`{path}complexity_column` is required without an `all` limit")
            pause = raw.get("pause") or {}
            if pause and pause.get("unit", "natural") != "natural":
                raise RulebookError(f"{where}`{path}pause.unit` must be natural")
            clocks[str(name)] = Clock(
                name=str(name),
                description=str(raw.get("description", "")),
                start=str(need(raw, "start", path)),
                end=str(need(raw, "end", path)),
                limits=limits,
                restart=raw.get("restart"),
                complexity_column=raw.get("complexity_column"),
                default_complexity=raw.get("default_complexity"),
                pause_column=pause.get("column") if pause else None,
                applies_to={str(k): str(v) for k, v in (raw.get("applies_to") or {}).items()},
                citation=str(raw.get("citation", "")),
            )
        return cls(
            id=str(need(data, "id", "")),
            version=str(need(data, "version", "")),
            kind=kind,
            name=str(need(data, "name", "")),
            document=str(data.get("document", "")),
            effective_from=start,
            effective_to=end,
            citation=str(need(data, "citation", "")),
            clocks=clocks,
        )


@dataclass(frozen=True)
class Rulebooks:
    """All rule sets known to a run (regulations and internal rules)."""

    rule_sets: tuple[RuleSet, ...]

    def __post_init__(self) -> None:
        ids = [r.id for r in self.rule_sets]
        if len(set(ids)) != len(ids):
            raise RulebookError(f"rule set ids must be unique: {sorted(ids)}")
        for kind in ("regulation", "internal"):
            chain = self.of_kind(kind)  # type: ignore[arg-type]
            for a, b in zip(chain, chain[1:], strict=False):
                if a.effective_to is not None and a.effective_to >= b.effective_from:
                    raise RulebookError(
                        f"rule sets {a.id} and {b.id} overlap ({a.effective_to} ≥ {b.effective_from})"
                    )

    @classmethod
    def from_mappings(cls, items: Iterable[tuple[str, Mapping[str, Any]]]) -> Rulebooks:
        return cls(tuple(RuleSet.from_mapping(data, origin) for origin, data in items))

    def of_kind(self, kind: Kind) -> list[RuleSet]:
        return sorted((r for r in self.rule_sets if r.kind == kind), key=lambda r: r.effective_from)

    def by_id(self, rule_id: str) -> RuleSet:
        for r in self.rule_sets:
            if r.id == rule_id:
                return r
        raise KeyError(rule_id)

    def governing(self, kind: Kind, day: dt.date) -> RuleSet:
        """Scalar form of :func:`governing_index`."""
        chain = self.of_kind(kind)
        idx = governing_index(chain, np.array([day], dtype="datetime64[D]"))[0]
        return chain[int(idx)]


def governing_index(chain: Sequence[RuleSet], days: npt.ArrayLike) -> npt.NDArray[np.int64]:
    """Index into ``chain`` (sorted by ``effective_from``) of the rule set governing each date.

    The last rule set whose ``effective_from`` ≤ the date; dates before the first one get the first one
    (FIGURES.md). NaT gets -1. Gaps between ``effective_to`` and the next start are governed by the
    earlier rule set (its successor had not started).
    """
    if not chain:
        raise RulebookError("no rule set of this kind is loaded")
    arr = np.asarray(days, dtype="datetime64[D]")
    starts = np.array([np.datetime64(r.effective_from, "D") for r in chain])
    idx = np.searchsorted(starts, arr, side="right") - 1
    idx = np.maximum(idx, 0).astype(np.int64)
    idx[np.isnat(arr)] = -1
    return idx


@dataclass(frozen=True)
class Due:
    """Due dates of one clock for every row of a ledger.

    ``due`` is ``datetime64[D]`` (last allowed local date) or, for hour limits, ``datetime64[us]``
    (last allowed moment); NaT where the clock does not apply or has no start. ``rule_index`` indexes
    ``rule_sets`` (-1 where not applicable).
    """

    due: np.ndarray
    rule_index: npt.NDArray[np.int64]
    rule_sets: tuple[RuleSet, ...]
    by_time: bool

    def rule_ids(self) -> np.ndarray:
        ids = np.array([r.id for r in self.rule_sets] + [None], dtype=object)
        return ids[self.rule_index]


def _column(ledger: pd.DataFrame, name: str) -> pd.Series:
    if name not in ledger.columns:
        raise KeyError(f"the ledger has no column {name!r} (needed by a rule-set clock)")
    return ledger[name]


def clock_start(ledger: pd.DataFrame, clock: Clock) -> tuple[np.ndarray, np.ndarray]:
    """(start dates ``datetime64[D]``, start times ``datetime64[us]``): ``restart`` if set, else ``start``."""
    times = _column(ledger, clock.start).to_numpy(dtype="datetime64[us]")
    if clock.restart:
        restart = _column(ledger, clock.restart).to_numpy(dtype="datetime64[us]")
        times = np.where(np.isnat(restart), times, restart)
    return times.astype("datetime64[D]"), times


def due_dates(
    ledger: pd.DataFrame,
    rulebooks: Rulebooks,
    clock_name: str,
    calendar: WorkCalendar,
    *,
    kind: Kind = "regulation",
    rows: npt.ArrayLike | None = None,
) -> Due:
    """Due dates of ``clock_name`` under the rule set of ``kind`` governing each row's ``received_at``.

    ``rows`` (boolean mask) restricts the computation (other rows get NaT), so that years of the working-day
    calendar nobody needs are not required. Working-day limits raise
    :class:`~complaints.calendar.UnknownCalendarYear` when they touch a year without a schedule.
    """
    chain = tuple(rulebooks.of_kind(kind))
    n = len(ledger)
    wanted = np.ones(n, dtype=bool) if rows is None else np.asarray(rows, dtype=bool).copy()
    received = local_dates(_column(ledger, "received_at"))
    rule_index = governing_index(chain, received)
    rule_index[~wanted] = -1
    missing = [r.id for r in chain if clock_name not in r.clocks]
    if missing:
        raise RulebookError(f"rule set(s) {', '.join(missing)} have no clock {clock_name!r}")
    by_time = chain[0].clocks[clock_name].by_time
    if any(r.clocks[clock_name].by_time != by_time for r in chain):
        raise RulebookError(f"clock {clock_name!r} is in hours in some rule sets and in days in others")
    due = np.full(n, np.datetime64("NaT"), dtype="datetime64[us]" if by_time else "datetime64[D]")
    for i, rule in enumerate(chain):
        mask = rule_index == i
        if not mask.any():
            continue
        clock = rule.clocks[clock_name]
        for col, value in clock.applies_to.items():
            mask &= (_column(ledger, col).astype("str") == value).to_numpy(dtype=bool, na_value=False)
        start_day, start_time = clock_start(ledger, clock)
        mask &= ~np.isnat(start_day)
        rule_index[(rule_index == i) & ~mask] = -1
        if not mask.any():
            continue
        comp: pd.Series | None = None
        if ALL not in clock.limits:
            assert clock.complexity_column is not None
            comp = _column(ledger, clock.complexity_column)
            if clock.default_complexity is not None:
                comp = comp.fillna(clock.default_complexity)
            known = comp.isin(list(clock.limits)).to_numpy(dtype=bool, na_value=False)
            unknown = mask & ~known
            if unknown.any():
                bad = sorted({str(k) for k in comp[unknown]})
                raise RulebookError(
                    f"{clock.complexity_column} {', '.join(bad)} has no {clock_name} limit "
                    f"in rule set {rule.id}"
                )
        pause = np.zeros(n, dtype="int64")
        if clock.pause_column:
            pause = _column(ledger, clock.pause_column).fillna(0).to_numpy(dtype="int64")
        for key, lim in clock.limits.items():
            sel = mask if comp is None else mask & (comp == key).to_numpy(dtype=bool, na_value=False)
            if not sel.any():
                continue
            if lim.unit == "hours":
                base: np.ndarray = start_time[sel] + np.timedelta64(lim.amount * 3600, "s").astype(
                    "timedelta64[us]"
                )
                due[sel] = base + (pause[sel] * 86400).astype("timedelta64[s]").astype("timedelta64[us]")
                continue
            if lim.unit == "working":
                base = calendar.add_workdays(start_day[sel], lim.amount)
            else:
                base = start_day[sel] + np.timedelta64(lim.amount, "D")
            due[sel] = base + pause[sel].astype("timedelta64[D]")
    return Due(due=due, rule_index=rule_index, rule_sets=chain, by_time=by_time)


def decision_due_dates(
    ledger: pd.DataFrame, rulebooks: Rulebooks, calendar: WorkCalendar, rows: npt.ArrayLike | None = None
) -> Due:
    """Legal decision due dates (FIGURES.md "Timeliness of decisions") for every row."""
    return due_dates(ledger, rulebooks, DECISION, calendar, kind="regulation", rows=rows)


def internal_due_dates(
    ledger: pd.DataFrame,
    rulebooks: Rulebooks,
    clock_name: str,
    calendar: WorkCalendar,
    rows: npt.ArrayLike | None = None,
) -> Due:
    """Due dates of an internal-rule clock (acknowledgement, claims_decision, progress_logged)."""
    return due_dates(ledger, rulebooks, clock_name, calendar, kind="internal", rows=rows)
