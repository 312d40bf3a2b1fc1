"""Extraction: read a period's complaints from the configured sources into the ledger (LEDGER.md).

Every source is read by its kind's reader (:data:`~tasks.sources.registry.READERS`, the
:class:`~tasks.sources.base.SourceReader` protocol: the source's rows in the extraction's windows,
mapped onto the ledger, what was read, and the values that did not parse):

- ``sql``: an operational database, read in one consistent snapshot (:mod:`tasks.sources.sql`);
- ``branch_spreadsheets``: a folder of filled intake templates. Row errors go back to the branch
  (``<file>_errors.xlsx``) and into the extract summary, and the rows with errors are extracted with
  their values as filled in, so the quality gate quarantines them: no row read is lost;
- ``ledger_files``: canonical ledger / exposure / events files (CSV, XLSX, Parquet).

File sources are windowed like the SQL source and recorded per file (path, size, SHA-256, rows read
and extracted) in ``Extract.queries``, where SQL sources keep their query text.

The windows are the period, the previous period (QoQ) and the same period a year earlier (YoY), plus
earlier cases still undecided at as-of. Several sources are merged with a ``source`` tag; the same
complaint found in two sources is reported in ``Extract.duplicates`` and kept once (the first source
listed wins).
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from complaints.ledger import TABLES, normalize
from complaints.periods import Period
from tasks.config_files import Loaded
from tasks.sources.base import SHANGHAI, Scope
from tasks.sources.branch_spreadsheets import ERROR_COLUMNS
from tasks.sources.mapping import _as_text, _source_tag
from tasks.sources.registry import READERS, load_sources


@dataclass
class Extract:
    ledger: pd.DataFrame
    exposure: pd.DataFrame
    events: pd.DataFrame
    queries: list[dict[str, Any]]
    started_at: dt.datetime
    finished_at: dt.datetime
    sources: list[dict[str, Any]] = field(default_factory=list)
    duplicates: pd.DataFrame = field(default_factory=pd.DataFrame)
    unparsed: pd.DataFrame = field(default_factory=pd.DataFrame)  # source, table, key, column, value
    # branch spreadsheets: every row-level error (文件, 行号, 列, 字段, 填写值, 问题, source), as sent back
    branch_errors: pd.DataFrame = field(default_factory=pd.DataFrame)
    # the optional penalties side table (投诉罚单); None when no source has one
    penalties: pd.DataFrame | None = None

    def summary(self) -> dict[str, Any]:
        """JSON-ready metadata for ``extract/extract.json``."""
        return {
            "sources": self.sources,
            "queries": self.queries,
            "rows": {"ledger": len(self.ledger), "exposure": len(self.exposure), "events": len(self.events)},
            "duplicates": self.duplicates.to_dict("records"),
            "unparsed": len(self.unparsed),
            "branch_errors": len(self.branch_errors),
            "started_at": self.started_at.isoformat(),
            "finished_at": self.finished_at.isoformat(),
        }


def _windows(period: Period) -> list[Period]:
    """The periods to read: P first, then back to the same period a year earlier without gaps, so that
    QoQ, YoY and the filing's multi-quarter trend chart all come from this one snapshot. A month (the
    monthly publication tables) compares with nothing: the month alone. A week (the weekly overdue
    publication) needs the cases still open at its end: the quarter of its last day and the four quarters
    before (a case open longer than that is read only by a quarterly filing)."""
    if period.kind == "year":
        return [period, period.previous()]
    if period.kind == "month":
        return [period]
    if period.kind == "week":  # the cases still open at its end: its quarter and the four before it
        last = period.last_day
        quarter = Period("quarter", last.year, (last.month - 1) // 3 + 1)
        return [quarter.shift(-k) for k in range(5)]
    return [period.shift(-k) for k in range(5)]


def _period_codes(windows: Iterable[Period]) -> set[str]:
    codes: set[str] = set()
    for w in windows:
        codes.add(w.code)
        if w.kind != "month":
            codes.update(q.code for q in w.quarters())
        else:
            codes.add(f"{w.year}Q{(w.index - 1) // 3 + 1}")
    return codes


def extract_period(
    loaded: Loaded,
    period: Period,
    as_of: dt.datetime,
    *,
    entity: str | None = None,
    workdir: Path = Path.cwd(),  # noqa: B008 - the signature the pipeline calls
    progress: bool = True,
    sleep: Callable[[float], None] = time.sleep,
) -> Extract:
    """Read the period's ledger, exposure and events from every configured source (see module doc)."""
    started = dt.datetime.now(SHANGHAI).replace(microsecond=0)
    settings = loaded.settings
    ent = settings.entity(entity) if entity is not None else None
    scope = None if ent is None or ent.level == "head_office" else ent.code
    sources = load_sources(loaded)
    windows = _windows(period)
    sc = Scope(windows, _period_codes(windows), as_of, scope, workdir, progress, sleep)
    ledgers, exposures, events, bad, queries, meta, errors = [], [], [], [], [], [], []
    penalties: list[pd.DataFrame] = []
    for src in sources:
        part = READERS[src.kind].read(src, sc)
        ledgers.append(part.ledger)
        if part.events is not None:
            events.append(part.events)
        if part.exposure is not None:
            exposures.append(part.exposure)
        bad.extend(part.unparsed)
        queries.extend(part.queries)
        meta.append(part.meta)
        if part.errors is not None:
            errors.append(part.errors)
        if part.penalties is not None:
            penalties.append(part.penalties)
    ledger = _concat(ledgers, "ledger")
    event_frame = _concat(events, "events")
    exposure = _concat(exposures, "exposure")
    ledger, event_frame, exposure, dups = merge_sources(ledger, event_frame, exposure)
    return Extract(
        ledger=ledger,
        exposure=exposure,
        events=event_frame,
        queries=queries,
        started_at=started,
        finished_at=dt.datetime.now(SHANGHAI).replace(microsecond=0),
        sources=meta,
        duplicates=dups,
        unparsed=pd.concat(bad, ignore_index=True) if bad else pd.DataFrame(),
        branch_errors=(
            pd.concat(errors, ignore_index=True)
            if errors
            else pd.DataFrame(columns=[*ERROR_COLUMNS, "source"])
        ),
        penalties=_concat(penalties, "penalties") if penalties else None,
    )


def _concat(parts: list[pd.DataFrame], table: str) -> pd.DataFrame:
    """Stack the sources' frames. A column that is text in one source (values kept as read) becomes
    text in all of them, so the extract stays one typed table (Parquet) and the gate sees every value."""
    if not parts:
        return _empty(table)
    if len(parts) > 1:
        for col in parts[0].columns:
            dtypes = {str(p[col].dtype) for p in parts if col in p}
            if len(dtypes) > 1 and any(pd.api.types.is_string_dtype(p[col].dtype) for p in parts if col in p):
                parts = [p.assign(**{col: _as_text(p[col])}) if col in p else p for p in parts]
    out = pd.concat(parts, ignore_index=True)
    if len(parts) > 1 and "source" in out:  # the sources' categories, in the order they are listed
        listed = pd.Index(list(dict.fromkeys(c for p in parts for c in p["source"].astype("category")
                                             .cat.categories)), dtype="str")
        out["source"] = pd.Categorical(out["source"], categories=listed)
    return out


def _empty(table: str) -> pd.DataFrame:
    out = normalize(pd.DataFrame({c.name: pd.Series([], dtype=object) for c in TABLES[table]}), table)
    out["source"] = _source_tag("", 0)
    return out


NATURAL_KEY = ("complainant_ref", "policy_no", "received_at", "category")


def merge_sources(
    ledger: pd.DataFrame, events: pd.DataFrame, exposure: pd.DataFrame
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Drop cross-source duplicates (same complaint_id, or the same natural key — complainant, policy,
    received time, category — in another source); the first source wins. Returns the report too."""
    cols = ["match", "kept_source", "kept_id", "dropped_source", "dropped_id"]
    if ledger.empty or ledger["source"].nunique() < 2:
        return ledger, events, exposure, pd.DataFrame(columns=cols)
    order = {s: i for i, s in enumerate(dict.fromkeys(ledger["source"]))}
    rank = ledger["source"].map(order).astype("int64")
    reports = []
    drop = pd.Series(False, index=ledger.index)
    for match, key in (("complaint_id", ["complaint_id"]), ("natural_key", list(NATURAL_KEY))):
        usable = ledger[key].notna().all(axis=1) & ~drop
        sub = ledger[usable].assign(_r=rank[usable]).sort_values("_r", kind="stable")
        first = sub.drop_duplicates(key, keep="first")
        cand = sub[sub.duplicated(key, keep="first")]
        if cand.empty:
            continue
        joined = cand.reset_index().merge(
            first[list(dict.fromkeys([*key, "source", "complaint_id"]))], on=key, suffixes=("", "_kept")
        )
        if match == "complaint_id":
            joined["complaint_id_kept"] = joined["complaint_id"]
        joined = joined[joined["source"] != joined["source_kept"]]
        drop.loc[joined["index"]] = True
        reports.append(
            pd.DataFrame(
                {
                    "match": match,
                    "kept_source": joined["source_kept"],
                    "kept_id": joined["complaint_id_kept"],
                    "dropped_source": joined["source"],
                    "dropped_id": joined["complaint_id"],
                }
            )
        )
    dropped_pairs = set(zip(ledger.loc[drop, "source"], ledger.loc[drop, "complaint_id"], strict=True))
    if dropped_pairs and len(events):
        ev_pairs = pd.Series(
            list(zip(events["source"], events["complaint_id"], strict=True)), index=events.index
        )
        events = events[~ev_pairs.isin(dropped_pairs)].reset_index(drop=True)
    if len(exposure) and exposure["source"].nunique() > 1:
        exposure = (
            exposure.assign(_r=exposure["source"].map(order).fillna(len(order)))
            .sort_values("_r", kind="stable")
            .drop_duplicates(["entity_code", "period", "business_line"])
            .drop(columns="_r")
            .reset_index(drop=True)
        )
    report = pd.concat(reports, ignore_index=True) if reports else pd.DataFrame(columns=cols)
    kept = [ledger[~drop].reset_index(drop=True), events, exposure]
    for frame in kept:  # a source whose every row was a duplicate is not a category left over
        if "source" in frame and isinstance(frame["source"].dtype, pd.CategoricalDtype):
            frame["source"] = frame["source"].cat.remove_unused_categories()
    return kept[0], kept[1], kept[2], report
