"""Mapping a source's columns onto the ledger (LEDGER.md): the column-map models and the translation.

:class:`ColumnMap` says where one ledger column comes from (a source column, a template over columns, a
lookup's column or a constant) and how its values translate (「理赔」 → ``claims``); :class:`TableMap`
maps one table. :func:`_map_frame` applies a table map to the rows as read; :func:`_canonical`
normalises any kind's frame to the ledger's dtypes, keeps the values that do not parse as read (the
quality gate quarantines them) and reports them.
"""

from __future__ import annotations

import datetime as dt
import re
import string
from typing import Any

import numpy as np
import pandas as pd
from pydantic import field_validator, model_validator

from complaints.ledger import TABLES, TZ, coercion_failures, normalize
from tasks.memory import release_memory
from tasks.sources.base import _Model, check_identifier


class ColumnMap(_Model):
    """Where one ledger column comes from: a source column, a template over columns, a lookup's column
    or a constant; optionally translated through ``values`` (source value → ledger value)."""

    column: str | None = None
    template: str | None = None  # e.g. "{tjnd}Q{jd}"
    lookup: str | None = None  # name of a lookup table the column belongs to
    value: Any = None  # constant
    values: dict[str, Any] | None = None
    split: str | None = None  # list separator in the source (for `;`-joined code lists)

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, data: Any) -> Any:
        return {"column": data} if isinstance(data, str) else data

    @field_validator("column")
    @classmethod
    def _column(cls, v: str | None) -> str | None:
        return None if v is None else check_identifier(v, "column")

    @field_validator("template")
    @classmethod
    def _template(cls, v: str | None) -> str | None:
        if v is not None:
            for _, field, spec, conv in string.Formatter().parse(v):
                if field is not None:
                    check_identifier(field, "template column")
                    if spec or conv:
                        raise ValueError(f"template field {{{field}}} may not carry a format spec")
        return v

    @model_validator(mode="after")
    def _one_source(self) -> ColumnMap:
        given = [k for k in ("column", "template", "value") if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError("give exactly one of column, template or value")
        if self.lookup is not None and self.column is None:
            raise ValueError("a lookup column needs `column`")
        return self

    def source_columns(self) -> list[str]:
        if self.column is not None:
            return [self.column]
        if self.template is not None:
            return [f for _, f, _, _ in string.Formatter().parse(self.template) if f]
        return []


class TableMap(_Model):
    table: str | None = None
    query: str | None = None  # a read-only SELECT used as a derived table instead of `table`
    columns: dict[str, ColumnMap]
    defaults: dict[str, Any] = {}

    @field_validator("table")
    @classmethod
    def _table(cls, v: str | None) -> str | None:
        return None if v is None else check_identifier(v, "table")

    @field_validator("query")
    @classmethod
    def _query(cls, v: str | None) -> str | None:
        if v is not None and not re.match(r"^\s*(select|with)\b", v, re.I):
            raise ValueError("query must be a single SELECT statement")
        if v is not None and ";" in v.strip().rstrip(";"):
            raise ValueError("query must be a single statement (no ';')")
        return v

    @model_validator(mode="after")
    def _table_or_query(self) -> TableMap:
        if (self.table is None) == (self.query is None):
            raise ValueError("give exactly one of table or query")
        return self

    def source_columns(self) -> list[str]:
        out: list[str] = []
        for cm in self.columns.values():
            if cm.lookup is None:
                out.extend(c for c in cm.source_columns() if c not in out)
        return out


def _uniques(values: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Codes per row (-1: missing) and the distinct values as Python objects (dictionary encoding):
    per-value Python work then runs once per distinct value instead of once per row."""
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    return codes, np.asarray(uniques, dtype=object)


def _from_codes(codes: np.ndarray, mapped: list[Any], index: pd.Index, missing: Any) -> pd.Series:
    """Per-row values from per-distinct-value results: a ``str`` column when every result is text, a
    ``boolean`` column when every result is a bool (what :func:`normalize` makes of them), else objects."""
    present = [v for v in mapped if v is not None]
    if present and all(isinstance(v, str) for v in present):
        arr = pd.array([np.nan if v is None else v for v in mapped], dtype="str")
        return pd.Series(arr.take(codes, allow_fill=True), index=index)
    if present and all(isinstance(v, bool) for v in present):
        arr = pd.array(mapped, dtype="boolean")
        return pd.Series(arr.take(codes, allow_fill=True), index=index)
    table = np.empty(len(mapped) + 1, dtype=object)
    table[:-1] = mapped
    table[-1] = missing
    return pd.Series(table[codes], index=index, dtype=object)  # codes == -1 picks `missing`


def _translate(values: pd.Series, cm: ColumnMap) -> pd.Series:
    """Translate source values through ``cm.values`` (after stripping); values not in the table are kept
    (stripped) so the quality gate flags them. With ``split``, each listed item is translated and the
    list is joined with ``;``."""
    if not cm.values:
        return values
    table = {str(k): v for k, v in cm.values.items()}
    if values.dtype == object and pd.api.types.infer_dtype(values, skipna=True) not in ("string", "empty"):
        values = values.where(values.isna(), values.astype(str))  # 1 and 1.0 must not share a code
    codes, uniques = _uniques(values)
    texts = [str(u).strip() for u in uniques]
    if cm.split:
        sep = cm.split
        joined: list[Any] = []
        for t in texts:
            items = [table.get(i.strip(), i.strip()) for i in t.split(sep) if i.strip() != ""]
            items = [i for i in items if i is not None]
            joined.append(";".join(map(str, items)) if items else None)
        return _from_codes(codes, joined, values.index, None)
    return _from_codes(codes, [table.get(t, t) for t in texts], values.index, np.nan)


def _as_template_text(v: Any) -> str:
    return str(int(v)) if isinstance(v, float) and v == int(v) else str(v)


def _column(raw: pd.DataFrame, cm: ColumnMap, lookups: dict[str, pd.DataFrame]) -> pd.Series:
    if cm.value is not None:
        return pd.Series([cm.value] * len(raw), index=raw.index, dtype=object)
    if cm.template is not None:
        out = pd.Series("", index=raw.index, dtype=object)
        missing = pd.Series(False, index=raw.index)
        for literal, name, _, _ in string.Formatter().parse(cm.template):
            out = out + literal
            if name:
                col = raw[name]
                missing |= col.isna()
                codes, uniques = _uniques(col)
                out = out + _from_codes(codes, [_as_template_text(u) for u in uniques], raw.index, "")
        return out.where(~missing, None).astype(object)
    if cm.lookup is not None:
        return lookups[cm.lookup][str(cm.column)].reindex(raw.index)
    return raw[str(cm.column)]


def _map_frame(
    raw: pd.DataFrame,
    tmap: TableMap,
    table: str,
    tz: str,
    source: str,
    lookups: dict[str, pd.DataFrame] | None = None,
    *,
    consume: bool = False,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Mapped and normalised frame, plus the values that did not parse (source, table, row, column, value).

    ``consume``: empty ``raw`` (and ``lookups``) once the columns are mapped, so that the rows as read
    are freed before they are normalised, when the caller holds no other reference to them (the 1M
    tickets as read are 0.6 GB)."""
    cols = {c.name: c for c in TABLES[table]}
    mapped: dict[str, pd.Series] = {}
    for name, cm in tmap.columns.items():
        s = _translate(_column(raw, cm, lookups or {}), cm)
        if cols[name].kind == "datetime":
            s = _datetimes(s, tz)
        mapped[name] = s
    frame = pd.DataFrame(mapped, index=raw.index)
    del mapped, s
    if consume:
        raw.drop(columns=list(raw.columns), inplace=True)
        if lookups:
            lookups.clear()
        release_memory()
    for name, default in tmap.defaults.items():
        if name in frame:
            frame[name] = frame[name].astype(object).where(frame[name].notna(), default)
        else:
            frame[name] = default
    return _canonical(frame, table, source)


def _canonical(
    frame: pd.DataFrame, table: str, source: str, norm: pd.DataFrame | None = None
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Normalised frame tagged with ``source`` (values that do not parse stay as read, see
    :func:`_keep_unparsed_as_read`), plus those values (source, table, key, column, value)."""
    out = normalize(frame, table) if norm is None else norm.copy()
    out["source"] = _source_tag(source, len(out))
    # typed columns too: a float 19.6 or inf in an integer column, an integer in a date column
    fails = coercion_failures(frame.reset_index(drop=True), out, table)
    unparsed = []
    key = "complaint_id" if "complaint_id" in out else "entity_code"
    for col in fails.columns:
        rows = np.flatnonzero(fails[col].to_numpy())
        if len(rows):
            unparsed.append(
                pd.DataFrame(
                    {
                        "source": source,
                        "table": table,
                        "key": out[key].to_numpy()[rows],
                        "column": col,
                        "value": frame[col].iloc[rows].astype(str).to_numpy(),
                    }
                )
            )
    _keep_unparsed_as_read(out, frame.reset_index(drop=True), fails)
    bad = (
        pd.concat(unparsed, ignore_index=True)
        if unparsed
        else pd.DataFrame(columns=["source", "table", "key", "column", "value"])
    )
    return out, bad


def _keep_unparsed_as_read(out: pd.DataFrame, mapped: pd.DataFrame, fails: pd.DataFrame) -> None:
    """A column with values that did not parse stays text in the extract: the parsed values as ISO text,
    the others exactly as read. The quality gate then quarantines those rows (nothing silently becomes
    missing), and the bundled extract reproduces the same quarantine."""
    for col in fails.columns:
        rows = np.flatnonzero(fails[col].to_numpy())
        if not len(rows):
            continue
        text = _as_text(out[col]).astype("str")
        text.iloc[rows] = mapped[col].iloc[rows].astype(str).to_numpy()  # only these rows as read
        out[col] = text


def _as_text(values: pd.Series) -> pd.Series:
    """Canonical values as the text the extract keeps when a column also holds values as read."""
    if pd.api.types.is_string_dtype(values.dtype) or values.dtype == object:
        return values
    if pd.api.types.is_datetime64_any_dtype(values.dtype):
        text = _iso_text(values)
    else:
        text = values.astype("string").astype("str")
    return text.where(values.notna(), None).astype("str")


def _iso_text(values: pd.Series) -> pd.Series:
    """``strftime("%Y-%m-%dT%H:%M:%S.%f")`` of the times; numpy's ISO text where it is the same (naive
    times with four-digit years), in C: 1M times in 0.1 s instead of 0.5 s."""
    if not isinstance(values.dtype, pd.DatetimeTZDtype):
        times = values.to_numpy(dtype="datetime64[us]")
        present = times[~np.isnat(times)]
        if not len(present) or (present.min() >= np.datetime64("1000-01-01")
                                and present.max() < np.datetime64("10000-01-01")):
            return pd.Series(np.datetime_as_string(times, unit="us"), index=values.index, dtype="str")
    return values.dt.strftime("%Y-%m-%dT%H:%M:%S.%f").astype("str")


def _source_tag(source: str, n: int) -> pd.Categorical:
    """The ``source`` column: one category, not the name repeated per row (110 MB for 5M events)."""
    return pd.Categorical.from_codes(np.zeros(n, dtype=np.int8), categories=pd.Index([source], dtype="str"))


def _datetimes(s: pd.Series, tz: str) -> pd.Series:
    """Source times → tz-naive Asia/Shanghai; naive values are in the source's time zone. Values that
    are not datetimes are left for :func:`normalize` (ISO strings parse; others are reported)."""
    if isinstance(s.dtype, pd.DatetimeTZDtype) or tz == TZ:
        return s
    if s.dtype == object or pd.api.types.is_string_dtype(s.dtype):
        kind = pd.api.types.infer_dtype(s, skipna=True)
        if kind == "datetime":  # every present value is a datetime
            s = pd.to_datetime(s, errors="coerce")
        elif kind in ("string", "date", "empty") or s.isna().all():
            return s if kind != "empty" else _shift_tz(pd.to_datetime(s, errors="coerce"), tz)
        else:  # mixed: shift the datetimes, leave the rest as read
            codes, uniques = _uniques(s)
            is_dt = np.append([isinstance(u, dt.datetime) for u in uniques], False)[codes]
            parsed = pd.to_datetime(s.where(is_dt, None), errors="coerce")
            return s.where(~is_dt, _shift_tz(parsed, tz).astype(object))
    return _shift_tz(s, tz) if pd.api.types.is_datetime64_any_dtype(s.dtype) else s


def _shift_tz(s: pd.Series, tz: str) -> pd.Series:
    if isinstance(s.dtype, pd.DatetimeTZDtype):
        return s.dt.tz_convert(TZ).dt.tz_localize(None)
    return s.dt.tz_localize(tz, ambiguous="NaT", nonexistent="NaT").dt.tz_convert(TZ).dt.tz_localize(None)
