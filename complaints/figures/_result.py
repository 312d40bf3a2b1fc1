"""The figures' output contract: the nested JSON-ready dict, notes, lineage and ``flatten``."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd


@dataclass
class FiguresResult:
    """``figures``: JSON-ready nested dict (FIGURES.md keys nested by the dots, plus ``period``, ``entity``,
    ``as_of``, ``rule_sets``, ``rows``, ``notes``). ``lineage``: columns ``figure`` (dotted key) and
    ``complaint_id`` (categorical key, text id), one row per complaint that made the figure."""

    figures: dict[str, Any]
    lineage: pd.DataFrame

    def ids(self, key: str) -> list[str]:
        """The complaint ids behind a figure (in ledger order)."""
        return [str(v) for v in self.lineage.loc[self.lineage["figure"] == key, "complaint_id"]]


def set_nested(target: dict[str, Any], key: str, value: Any) -> None:
    parts = key.split(".")
    node = target
    for part in parts[:-1]:
        child = node.get(part)
        if not isinstance(child, dict):
            child = {}
            node[part] = child
        node = child
    node[parts[-1]] = value


def flatten(figures: dict[str, Any], prefix: str = "") -> list[tuple[str, Any]]:
    """Nested figures → ``[(dotted key, value), ...]`` (for CSV); lists and scalars are leaves.

    ``notes`` is flattened too (``notes.<figure key>``, the key kept whole after the prefix).
    """
    out: list[tuple[str, Any]] = []
    for key, value in figures.items():
        dotted = f"{prefix}{key}"
        if key == "notes" and not prefix and isinstance(value, dict):
            out.extend((f"notes.{k}", v) for k, v in value.items())
        elif isinstance(value, dict) and value:
            out.extend(flatten(value, f"{dotted}."))
        else:
            out.append((dotted, value))
    return out


@dataclass
class Collector:
    """Accumulates figure values, notes and lineage (as row positions) while computing."""

    figures: dict[str, Any] = field(default_factory=dict)
    notes: dict[str, str] = field(default_factory=dict)
    _keys: list[str] = field(default_factory=list)
    _positions: list[npt.NDArray[np.int64]] = field(default_factory=list)

    def put(
        self, key: str, value: Any, rows: npt.NDArray[Any] | None = None, note: str | None = None
    ) -> None:
        """Set ``key``; ``rows`` is a boolean mask or an array of positions of the complaints behind it."""
        set_nested(self.figures, key, value)
        if note is not None and value is None:
            self.notes[key] = note
        if rows is not None:
            self.trace(key, rows)

    def note(self, key: str, why: str) -> None:
        """Say why ``key`` is absent (a figure or block left out rather than set to null)."""
        self.notes[key] = why

    def trace(self, key: str, rows: npt.NDArray[Any]) -> None:
        arr = np.asarray(rows)
        positions = np.flatnonzero(arr) if arr.dtype == bool else arr.astype(np.int64)
        if positions.size:
            self._keys.append(key)
            self._positions.append(positions)

    def lineage(self, ids: pd.Series) -> pd.DataFrame:
        keys = (
            pd.Categorical.from_codes(
                np.repeat(np.arange(len(self._keys), dtype=np.int32), [len(p) for p in self._positions]),
                categories=pd.Index(self._keys, dtype=object).unique(),
            )
            if self._keys
            else pd.Categorical([], categories=pd.Index([], dtype=object))
        )
        if self._keys and len(set(self._keys)) != len(self._keys):  # a key traced twice: map codes by name
            keys = pd.Categorical(
                np.repeat(np.array(self._keys, dtype=object), [len(p) for p in self._positions])
            )
        positions = np.concatenate(self._positions) if self._positions else np.array([], dtype=np.int64)
        complaint = pd.Series(ids.array.take(positions), name=ids.name)  # no index to take (8M rows at 1M)
        return pd.DataFrame({"figure": keys, "complaint_id": complaint})
