"""The ``ledger_files`` source kind: canonical ledger / exposure / events files (CSV, XLSX, Parquet with
the LEDGER.md column names, read by :mod:`tasks.sources.files`).

The ledger rows are windowed like the SQL source's; the events of the ledger rows taken and the exposure
rows of the extraction's periods are kept. Each file is recorded (path, size, SHA-256, rows read and
extracted); an unreadable file stops the extraction naming it, or (``on_unreadable: skip``) is left
out and listed in the extract summary.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pandas as pd
from pydantic import field_validator, model_validator

from complaints.checks import is_member
from complaints.ledger import TABLES, normalize
from tasks.sources.base import ExtractError, Part, Scope, _local
from tasks.sources.file_sources import (
    _check_path,
    _file_error,
    _file_record,
    _FileSourceBase,
    _ledger_mask,
    _stable,
)
from tasks.sources.files import InputError, read_table
from tasks.sources.mapping import _canonical

if TYPE_CHECKING:  # type only: the registry imports every kind module, which imports this one
    from tasks.sources.registry import Source


LEDGER_FILE_SUFFIXES = (".csv", ".txt", ".xlsx", ".xlsm", ".parquet")


def _take(norm: pd.DataFrame, sc: Scope) -> np.ndarray:
    """The rows of the extraction's windows (:func:`_ledger_mask`), plus every row received after as-of
    in the entity's scope: a year typed wrong (2062 for 2026) is quarantined by the quality gate (L035)
    instead of vanishing from the filing run. (Times before 1990 do not parse and are kept as such.)"""
    take = _ledger_mask(norm, sc)
    as_of = pd.Timestamp(_local(sc.as_of).replace(tzinfo=None))
    late = (norm["received_at"] > as_of).to_numpy()
    if sc.entity is not None:
        ent = norm["entity_code"]
        late = late & ((ent == sc.entity) | ent.isna()).to_numpy()  # to_numpy() may be read-only
    return take | late


class LedgerFilesSource(_FileSourceBase):
    """Canonical ledger / exposure / events files (LEDGER.md column names; ``tasks/sources/files.py``)."""

    kind: Literal["ledger_files"]
    ledger: tuple[str, ...]
    exposure: tuple[str, ...] = ()
    events: tuple[str, ...] = ()

    @field_validator("ledger", "exposure", "events", mode="before")
    @classmethod
    def _one_or_many(cls, v: Any) -> Any:
        return () if v is None else (v,) if isinstance(v, str) else v

    @field_validator("ledger", "exposure", "events")
    @classmethod
    def _paths(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        for p in v:
            _check_path(p)
            if not p.lower().endswith(LEDGER_FILE_SUFFIXES):
                raise ValueError(f"{p!r}: expected a .csv, .xlsx or .parquet file")
        return tuple(p.strip() for p in v)

    @model_validator(mode="after")
    def _some_ledger(self) -> LedgerFilesSource:
        if not self.ledger:
            raise ValueError("ledger: give at least one ledger file")
        return self

    def files(self) -> dict[str, tuple[str, ...]]:
        return {"ledger": self.ledger, "exposure": self.exposure, "events": self.events}


class LedgerFilesReader:
    """Reads a :class:`LedgerFilesSource` (see the module doc)."""

    model = LedgerFilesSource

    def check(self, path: Path, mapping: Any) -> None:
        """Nothing beyond the model's validators: the files' columns are checked when they are read."""

    def location(self, source: Source, workdir: Path | None = None) -> str:
        m = source.mapping
        assert isinstance(m, LedgerFilesSource)
        return ", ".join(str(source.resolve(p, workdir)) for ps in m.files().values() for p in ps)

    def read(self, src: Source, sc: Scope) -> Part:
        m = src.mapping
        assert isinstance(m, LedgerFilesSource)
        records: list[dict[str, Any]] = []
        frames: dict[str, list[pd.DataFrame]] = {}
        for table, paths in m.files().items():
            known = [c.name for c in TABLES[table]]
            for rel in paths:
                path = src.resolve(rel, sc.workdir)
                rec: dict[str, Any] = {"source": m.name, "table": table, "file": str(path), "name": path.name}
                for _attempt in range(3):
                    try:
                        before = _stable(path)
                        rec = {**_file_record(path), "source": m.name, "table": table}
                        frame: pd.DataFrame | None = read_table(path, table)
                    except (InputError, OSError) as exc:
                        if m.on_unreadable == "fail":
                            raise _file_error(src, path, exc) from exc
                        frame = None
                        rec.update(rows=0, rows_extracted=0, error=str(exc))
                        break
                    if _stable(path) == before:
                        break
                else:
                    raise ExtractError(f"source {m.name}: {path} kept changing while it was read; try again")
                if frame is not None:
                    ignored = [str(c) for c in frame.columns if c not in known]
                    if ignored:
                        rec["ignored_columns"] = ignored
                    frame = frame[[c for c in frame.columns if c in known]]
                    rec["rows"] = len(frame)
                    frame = frame.assign(_file=len(records))
                    frames.setdefault(table, []).append(frame)
                records.append(rec)

        def stacked(table: str) -> pd.DataFrame:
            parts = frames.get(table, [])
            return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame({"_file": []}, dtype=object)

        def finish(
            table: str, raw: pd.DataFrame, take: np.ndarray, sort: list[str]
        ) -> tuple[pd.DataFrame, Any]:
            for i, n in pd.Series(raw["_file"][take]).value_counts().items():
                records[int(i)]["rows_extracted"] = int(n)
            for rec in records:
                if rec["table"] == table and "error" not in rec:
                    rec.setdefault("rows_extracted", 0)
            kept = raw[take].drop(columns="_file").reset_index(drop=True)
            out, bad = _canonical(kept, table, m.name)
            return out.sort_values(sort, kind="stable").reset_index(drop=True), bad

        bad = []
        raw_led = stacked("ledger")
        norm = normalize(raw_led.drop(columns="_file"), "ledger")
        take = _take(norm, sc)
        led, b = finish("ledger", raw_led, take, ["complaint_id"])
        bad.append(b)
        rows = {"ledger": len(led)}
        events = exposure = None
        if m.events:
            raw_ev = stacked("events")
            ev_ids = normalize(raw_ev.drop(columns="_file"), "events")["complaint_id"]
            take_ev = is_member(ev_ids, led["complaint_id"]) | ev_ids.isna().to_numpy()
            events, b = finish("events", raw_ev, take_ev, ["complaint_id", "at", "kind"])
            bad.append(b)
            rows["events"] = len(events)
        if m.exposure:
            raw_ex = stacked("exposure")
            nx = normalize(raw_ex.drop(columns="_file"), "exposure")
            in_scope = nx["entity_code"].isna() | (sc.entity is None) | (nx["entity_code"] == sc.entity)
            take_ex = ((nx["period"].isin(sc.codes) | nx["period"].isna()) & in_scope).to_numpy()
            exposure, b = finish("exposure", raw_ex, take_ex, ["entity_code", "period", "business_line"])
            bad.append(b)
            rows["exposure"] = len(exposure)
        meta = {
            "name": m.name,
            "kind": m.kind,
            "file": str(src.path),
            "rows": rows,
            "unreadable": [r["name"] for r in records if "error" in r],
        }
        return Part(led, events, exposure, bad, records, meta)
