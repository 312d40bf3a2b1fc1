"""Extraction: read a period's complaints from the configured sources into the ledger (LEDGER.md).

Every source kind is read through one interface (:data:`READERS`: ``(Source, _Scope) -> _Part``, the
source's rows mapped onto the ledger, what was read, and the values that did not parse):

- ``sql``: an operational database (below);
- ``branch_spreadsheets``: a folder of filled intake templates. Row errors go back to the branch
  (``<file>_errors.xlsx``) and into the extract summary, and the rows with errors are extracted with
  their values as filled in, so the quality gate quarantines them: no row read is lost;
- ``ledger_files``: canonical ledger / exposure / events files (CSV, XLSX, Parquet).

File sources are windowed like the SQL source and recorded per file (path, size, SHA-256, rows read
and extracted) in ``Extract.queries``, where SQL sources keep their query text.

For an SQL source, ``extract_period`` reads, in one consistent snapshot (one transaction at REPEATABLE
READ or the database's equivalent; SQLite: one read transaction):

- the records received in the period, the previous period (QoQ) and the same period a year earlier
  (YoY), and earlier cases still undecided at as-of (the backlog);
- the records those rows reference through ``repeat_of`` / ``escalation_of`` (no dangling links);
- the lookups (e.g. the latest call-back), the events of every extracted complaint, and the exposure
  rows of those periods.

Rows are streamed in chunks (tqdm progress bar); a transient connection error re-reads the whole
snapshot after a backoff; the exact SQL text, its parameters and row counts are kept. Values are
translated through the mapping; codes that do not translate are kept as they are (the quality gate
flags them). Several sources are merged with a ``source`` tag; the same complaint found in two
sources is reported in ``Extract.duplicates`` and kept once (the first source listed wins).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import string
import time
import zoneinfo
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import sqlalchemy as sa
from tqdm import tqdm

from complaints.config import Loaded
from complaints.ledger import TABLES, TZ, coercion_failures, normalize
from complaints.periods import Period
from tasks.memory import release_memory
from tasks.read_files import InputError, read_table
from tasks.source_config import (
    ColumnMap,
    LedgerFilesSource,
    LedgerMap,
    Source,
    SpreadsheetSource,
    TableMap,
    load_sources,
    quoted_table,
    redact_url,
)
from tasks.spreadsheets import (
    ERROR_COLUMNS,
    BranchFileError,
    BranchRows,
    branch_files,
    file_error_frame,
    read_branch_rows,
    write_errors_file,
)

SHANGHAI = zoneinfo.ZoneInfo(TZ)
IN_BATCH = 500  # ids per IN (...) list when following links


class ExtractError(RuntimeError):
    """Extraction failed; nothing was returned. The message names the source and the cause."""


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


@dataclass
class _Raw:
    """What one snapshot read returns: the tickets and events already mapped onto the ledger (each
    with the values that did not parse), the exposure as read (source column names)."""

    ledger: pd.DataFrame
    ledger_unparsed: pd.DataFrame
    events: pd.DataFrame | None
    events_unparsed: pd.DataFrame | None
    exposure: pd.DataFrame | None
    queries: list[dict[str, Any]]


# -- time helpers ---------------------------------------------------------------------------------
def _local(value: dt.datetime | dt.date) -> dt.datetime:
    """Aware Asia/Shanghai datetime (naive input and dates are local)."""
    if not isinstance(value, dt.datetime):
        value = dt.datetime.combine(value, dt.time())
    return value.replace(tzinfo=SHANGHAI) if value.tzinfo is None else value.astimezone(SHANGHAI)


def _to_source_tz(value: dt.datetime | dt.date, tz: str) -> dt.datetime:
    """Naive datetime in the source's time zone, to the second (bound parameter)."""
    return _local(value).astimezone(zoneinfo.ZoneInfo(tz)).replace(tzinfo=None, microsecond=0)


def _windows(period: Period) -> list[Period]:
    """The periods to read: P first, then back to the same period a year earlier without gaps, so that
    QoQ, YoY and the filing's multi-quarter trend chart all come from this one snapshot. A month (the
    monthly publication tables) compares with nothing: the month alone."""
    if period.kind == "year":
        return [period, period.previous()]
    if period.kind == "month":
        return [period]
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


# -- SQL ------------------------------------------------------------------------------------------
def _source_table(tmap: TableMap, columns: list[str], types: dict[str, Any]) -> sa.FromClause:
    if tmap.table is not None:
        return quoted_table(tmap.table, columns, types)
    cols = [sa.column(sa.quoted_name(c, quote=True), types.get(c)) for c in columns]
    return sa.text(str(tmap.query).strip().rstrip(";")).columns(*cols).subquery("src")


def _sql_record(conn: sa.Connection, source: str, table: str, stmt: Any) -> dict[str, Any]:
    compiled = stmt.compile(dialect=conn.dialect, compile_kwargs={"render_postcompile": True})
    params = {
        k: (v.isoformat() if isinstance(v, dt.date | dt.datetime) else v) for k, v in compiled.params.items()
    }
    return {"source": source, "table": table, "sql": str(compiled), "params": params, "rows": 0}


def _stream(
    conn: sa.Connection, stmt: sa.Executable, record: dict[str, Any], chunk: int, bar: tqdm | None
) -> pd.DataFrame:
    """Run ``stmt`` on the snapshot connection, streaming ``chunk`` rows at a time (a server-side cursor
    where the driver has one). pandas builds each chunk's columns straight from the rows, the way a plain
    ``read_sql`` does, with no per-row Python here."""
    streaming = conn.execution_options(stream_results=True, yield_per=chunk)
    parts = []
    try:
        for part in pd.read_sql(stmt, streaming, coerce_float=False, chunksize=chunk):  # type: ignore[call-overload]
            parts.append(part)
            if bar is not None:
                bar.update(len(part))
    except pd.errors.DatabaseError as exc:  # pandas wraps the execute error: retries need SQLAlchemy's
        if isinstance(exc.__cause__, sa.exc.SQLAlchemyError):
            raise exc.__cause__ from None
        raise
    frame = pd.concat(parts, ignore_index=True) if len(parts) > 1 else parts[0]
    if len(parts) > 1:
        del parts
        release_memory()
    record["rows"] = len(frame)
    return frame


def _begin_snapshot(conn: sa.Connection) -> None:
    """Start the one consistent read of this connection (already inside ``conn.begin()``)."""
    name = conn.dialect.name
    if name == "sqlite":
        conn.exec_driver_sql("BEGIN")  # pysqlite does not BEGIN before SELECTs by itself
        conn.exec_driver_sql("SELECT 1 FROM sqlite_master LIMIT 1").all()  # take the read snapshot now
    elif name in ("mysql", "mariadb"):
        conn.exec_driver_sql("START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY")
    elif name == "postgresql":
        conn.exec_driver_sql("SET TRANSACTION READ ONLY")


def _isolation(conn: sa.Connection) -> sa.Connection:
    name = conn.dialect.name
    if name in ("postgresql", "mysql", "mariadb", "mssql", "oracle"):
        return conn.execution_options(
            isolation_level="REPEATABLE READ" if name != "oracle" else "SERIALIZABLE"
        )
    return conn


def _read_snapshot(
    engine: sa.Engine,
    src: Source,
    windows: list[Period],
    as_of: dt.datetime,
    entity: str | None,
    progress: bool,
) -> _Raw:
    m = src.sql()
    lm = m.ledger
    tz = m.timezone
    dtype = sa.DateTime()
    ledger_cols = list(
        dict.fromkeys(
            [
                lm.key,
                lm.received,
                *([lm.decided] if lm.decided else []),
                *([lm.entity] if lm.entity else []),
                *lm.source_columns(),
            ]
        )
    )
    types = {lm.received: dtype, **({lm.decided: dtype} if lm.decided else {})}
    tickets = _source_table(lm, ledger_cols, types)
    c = tickets.c
    recv = c[lm.received]
    bounds = []
    for i, w in enumerate(windows):
        bounds.append(
            sa.and_(
                recv >= sa.bindparam(f"w{i}_start", _to_source_tz(w.start, tz), type_=dtype),
                recv < sa.bindparam(f"w{i}_end", _to_source_tz(w.end, tz), type_=dtype),
            )
        )
    if lm.decided:
        as_of_p = sa.bindparam("as_of", _to_source_tz(as_of, tz), type_=dtype)
        bounds.append(
            sa.and_(
                recv < sa.bindparam("open_before", _to_source_tz(windows[0].start, tz), type_=dtype),
                sa.or_(c[lm.decided].is_(None), c[lm.decided] > as_of_p),
            )
        )
    where = sa.or_(*bounds)
    if entity is not None and lm.entity:
        where = sa.and_(where, c[lm.entity] == sa.bindparam("entity", entity))
    keyset = sa.select(c[lm.key]).where(where)

    queries: list[dict[str, Any]] = []
    chunk = m.chunk_rows
    # the bar is closed however the read ends: one left open shifts every later bar of this process a
    # line down (tqdm's positions), and their cursor-up codes land in front of the next error message
    bar = tqdm(desc=f"{m.name}: {lm.table or 'query'}", unit=" rows", disable=not progress, leave=False)
    with bar, engine.connect() as raw_conn:
        conn = _isolation(raw_conn)
        with conn.begin():
            _begin_snapshot(conn)

            def run(table: str, stmt: sa.Executable) -> pd.DataFrame:
                rec = _sql_record(conn, m.name, table, stmt)
                queries.append(rec)
                return _stream(conn, stmt, rec, chunk, bar)

            label = lm.table or "query"
            main = run(label, sa.select(*[c[n] for n in ledger_cols]).where(where).order_by(c[lm.key]))
            # follow repeat_of / escalation_of until every link resolves (or the record is missing)
            link_cols = [
                lm.columns[k].column
                for k in ("repeat_of", "escalation_of")
                if k in lm.columns and lm.columns[k].column
            ]
            frames = [main]
            seen = set(main[lm.key].astype(str))
            extra_ids: list[str] = []
            for _ in range(10):
                wanted = set()
                for col in link_cols:
                    wanted.update(frames[-1][col].dropna().astype(str))
                wanted -= seen
                if not wanted:
                    break
                ids = sorted(wanted)
                seen.update(ids)
                extra_ids.extend(ids)
                got = [
                    run(
                        label,
                        sa.select(*[c[n] for n in ledger_cols])
                        .where(c[lm.key].in_(sa.bindparam("ids", ids[i : i + IN_BATCH], expanding=True)))
                        .order_by(c[lm.key]),
                    )
                    for i in range(0, len(ids), IN_BATCH)
                ]
                frames.append(pd.concat(got, ignore_index=True))
            all_tickets = pd.concat(frames, ignore_index=True) if len(frames) > 1 else main
            del frames, main, seen  # nothing else may hold the rows as read

            def keyed(
                tmap_table: sa.FromClause, key: str, cols: list[str], table: str, order: list[str]
            ) -> pd.DataFrame:
                kc = tmap_table.c[key]
                sel = [tmap_table.c[n] for n in cols]
                parts = [
                    run(
                        table,
                        sa.select(*sel).where(kc.in_(keyset)).order_by(*[tmap_table.c[o] for o in order]),
                    )
                ]
                for i in range(0, len(extra_ids), IN_BATCH):
                    parts.append(
                        run(
                            table,
                            sa.select(*sel)
                            .where(kc.in_(sa.bindparam("ids", extra_ids[i : i + IN_BATCH], expanding=True)))
                            .order_by(*[tmap_table.c[o] for o in order]),
                        )
                    )
                return pd.concat(parts, ignore_index=True)

            lookups: dict[str, pd.DataFrame] = {}
            for lname, lk in lm.lookups.items():
                lcols = list(
                    dict.fromkeys(
                        [
                            lk.key,
                            lk.order_by,
                            *[cm.column for cm in lm.columns.values() if cm.lookup == lname and cm.column],
                        ]
                    )
                )
                lt = quoted_table(lk.table, lcols)
                lookups[lname] = keyed(lt, lk.key, lcols, lk.table, [lk.key, lk.order_by])
            # map the tickets now: the rows as read are freed before the (larger) events are read
            aligned = _pick_lookups(all_tickets, lookups, lm)
            del lookups
            ledger, ledger_bad = _map_frame(all_tickets, lm, "ledger", tz, m.name, aligned, consume=True)
            del all_tickets, aligned
            release_memory()

            events = events_bad = None
            if m.events is not None:
                em = m.events
                ecols = list(dict.fromkeys([em.key, *em.source_columns()]))
                et = _source_table(em, ecols, {})
                order = [
                    em.key,
                    *[cm.column for cm in em.columns.values() if cm.column and cm.column != em.key],
                ]
                raw_events = keyed(et, em.key, ecols, em.table or "query", order)
                events, events_bad = _map_frame(raw_events, em, "events", tz, m.name, consume=True)
                del raw_events
                release_memory()

            exposure = None
            if m.exposure is not None:
                xcols = m.exposure.source_columns()
                xt = _source_table(m.exposure, xcols, {})
                exposure = run(
                    m.exposure.table or "query",
                    sa.select(*[xt.c[n] for n in xcols]).order_by(*[xt.c[n] for n in xcols]),
                )
    return _Raw(ledger, ledger_bad, events, events_bad, exposure, queries)


_TRANSIENT = re.compile(
    r"connection|connect to|server closed|terminat|gone away|lost|timed? ?out|timeout|reset by peer|"
    r"broken pipe|database is locked|deadlock|could not serialize|too many connections|shutdown",
    re.I,
)


def _transient(exc: BaseException) -> bool:
    """Connection-level failures worth a retry (not SQL errors such as a missing table)."""
    if isinstance(exc, sa.exc.DBAPIError) and exc.connection_invalidated:
        return True
    if isinstance(exc, sa.exc.InterfaceError | sa.exc.DisconnectionError):
        return True
    return isinstance(exc, sa.exc.OperationalError) and bool(_TRANSIENT.search(_short(exc)))


def read_source(
    src: Source,
    windows: list[Period],
    as_of: dt.datetime,
    entity: str | None,
    workdir: Path,
    progress: bool = True,
    sleep: Callable[[float], None] = time.sleep,
) -> _Raw:
    """One snapshot read with retries; raises :class:`ExtractError` naming the source when it fails."""
    url = src.url(workdir)
    m = src.sql()
    attempts = m.retries + 1
    parsed = sa.engine.make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:") \
            and not Path(parsed.database).exists():
        # connecting would silently create an empty database file
        raise ExtractError(
            f"source {m.name} ({src.path.name}): the SQLite database {parsed.database} does not exist. Set "
            f"${m.url_env} to the source's URL, or create the demo source with `complaints demo-data --url "
            f"sqlite:///{parsed.database}` (or run `complaints demo`)."
        )
    engine = sa.create_engine(url, pool_pre_ping=True)
    try:
        for attempt in range(1, attempts + 1):
            try:
                return _read_snapshot(engine, src, windows, as_of, entity, progress)
            except sa.exc.SQLAlchemyError as exc:
                if not _transient(exc):
                    raise ExtractError(
                        f"source {m.name} ({src.path.name}, {redact_url(url)}): the query failed: "
                        f"{_short(exc)}; check the table and column names in the mapping"
                    ) from exc
                if attempt == attempts:
                    raise ExtractError(
                        f"source {m.name} ({redact_url(url)}): connection failed {attempts} time(s), last: "
                        f"{_short(exc)}; nothing was extracted"
                    ) from exc
                engine.dispose()
                sleep(m.retry_backoff_s * 2 ** (attempt - 1))
    finally:
        engine.dispose()
    raise AssertionError("unreachable")  # pragma: no cover


def _short(exc: BaseException) -> str:
    text = str(getattr(exc, "orig", None) or exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


# -- mapping onto the ledger ------------------------------------------------------------------------
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
    # typed columns (datetimes, numbers, bools) hold nothing unparseable: test only text/object columns
    texty = [c for c in frame.columns if frame[c].dtype == object or pd.api.types.is_string_dtype(frame[c])]
    fails = coercion_failures(frame[texty].reset_index(drop=True), out, table)
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
                        "value": frame[col].reset_index(drop=True).astype(str).to_numpy()[rows],
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
        bad = fails[col].to_numpy()
        if not bad.any():
            continue
        text = _as_text(out[col]).astype(object)
        text[bad] = mapped[col].astype(str).to_numpy()[bad]
        out[col] = pd.Series(text, index=out.index, dtype="str")


def _as_text(values: pd.Series) -> pd.Series:
    """Canonical values as the text the extract keeps when a column also holds values as read."""
    if pd.api.types.is_string_dtype(values.dtype) or values.dtype == object:
        return values
    if pd.api.types.is_datetime64_any_dtype(values.dtype):
        text = values.dt.strftime("%Y-%m-%dT%H:%M:%S.%f").astype("str")
    else:
        text = values.astype("string").astype("str")
    return text.where(values.notna(), None).astype("str")


def _source_tag(source: str, n: int) -> pd.Categorical:
    """The ``source`` column: one category, not the name repeated per row (110 MB for 5M events)."""
    return pd.Categorical.from_codes(np.zeros(n, dtype=np.int8), categories=pd.Index([source], dtype="str"))


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


def _pick_lookups(tickets: pd.DataFrame, lookups: dict[str, pd.DataFrame], lm: LedgerMap
                  ) -> dict[str, pd.DataFrame]:
    """One row per ticket key per lookup (the last/first by ``order_by``), aligned to ``tickets``."""
    out = {}
    keys = tickets[lm.key].astype(str)
    for lname, lk in lm.lookups.items():
        f = lookups[lname]
        if len(f):
            f = f.assign(_k=f[lk.key].astype(str)).sort_values(["_k", lk.order_by], kind="stable")
            f = f.drop_duplicates("_k", keep=lk.pick).set_index("_k")
            aligned = f.reindex(keys.to_numpy())
        else:
            aligned = pd.DataFrame(columns=f.columns, index=keys.to_numpy())
        aligned.index = tickets.index
        out[lname] = aligned
    return out


# -- one source interface ---------------------------------------------------------------------------
@dataclass
class _Part:
    """What one source contributes, mapped onto the ledger (canonical columns plus ``source``)."""

    ledger: pd.DataFrame
    events: pd.DataFrame | None
    exposure: pd.DataFrame | None
    unparsed: list[pd.DataFrame]
    queries: list[dict[str, Any]]
    meta: dict[str, Any]
    errors: pd.DataFrame | None = None  # branch spreadsheets: row-level errors sent back to the branch


@dataclass
class _Scope:
    """The windows of one extraction (the same for every kind of source)."""

    windows: list[Period]
    codes: set[str]
    as_of: dt.datetime
    entity: str | None  # branch scope; None for the head office
    workdir: Path
    progress: bool
    sleep: Callable[[float], None]


def _sorted(frame: pd.DataFrame, by: list[str]) -> pd.DataFrame:
    """``frame.sort_values(by, kind="stable").reset_index(drop=True)``, built one column at a time, taking
    the columns out of ``frame`` (which is left empty when the rows had to move): the peak is the frame
    plus one column, not two frames. No copy when the rows are in order already."""
    keys = pa.table({c: pa.Array.from_pandas(frame[c]) for c in by})  # Arrow sorts text without objects
    indexer = pc.sort_indices(keys, sort_keys=[(c, "ascending", "at_end") for c in by]).to_numpy()  # stable
    if np.array_equal(indexer, np.arange(len(frame))):
        return frame.reset_index(drop=True)
    out: dict[str, Any] = {}
    for name in list(frame.columns):
        out[name] = frame.pop(name).take(indexer).reset_index(drop=True)  # the source column is freed
    return pd.DataFrame(out, copy=False)


def _sql_part(src: Source, sc: _Scope) -> _Part:
    raw = read_source(src, sc.windows, sc.as_of, sc.entity, sc.workdir, sc.progress, sc.sleep)
    m = src.sql()
    led, raw.ledger = raw.ledger, pd.DataFrame()
    # database collations differ: order in Python so every backend gives the same frames
    if not led["complaint_id"].is_monotonic_increasing:
        led = _sorted(led, ["complaint_id"])
    bad = [raw.ledger_unparsed]
    rows = {"ledger": len(led)}
    events = exposure = None
    if raw.events is not None and raw.events_unparsed is not None:
        ev, raw.events = raw.events, None
        events = _sorted(ev, ["complaint_id", "at", "kind"])
        del ev
        release_memory()
        bad.append(raw.events_unparsed)
        rows["events"] = len(events)
    if raw.exposure is not None and m.exposure is not None:
        ex, b = _map_frame(raw.exposure, m.exposure, "exposure", m.timezone, m.name)
        ex = ex.sort_values(["entity_code", "period", "business_line"], kind="stable")
        ex = ex[ex["period"].isin(sc.codes) & ((sc.entity is None) | (ex["entity_code"] == sc.entity))]
        exposure = ex.reset_index(drop=True)
        bad.append(b)
        rows["exposure"] = len(exposure)
    meta = {
        "name": m.name,
        "kind": m.kind,
        "file": str(src.path),
        "url": redact_url(src.url(sc.workdir)),
        "timezone": m.timezone,
        "rows": rows,
    }
    return _Part(led, events, exposure, bad, raw.queries, meta)


def _read_bytes(path: Path) -> tuple[bytes, dict[str, Any]]:
    """The file's bytes and what the bundle records of them (name, size, SHA-256)."""
    data = path.read_bytes()
    return data, {
        "file": str(path),
        "name": path.name,
        "bytes": len(data),
        "sha256": hashlib.sha256(data).hexdigest(),
    }


def _file_record(path: Path) -> dict[str, Any]:
    """What the bundle records of a file read by path (name, size, SHA-256; hashed in blocks)."""
    with path.open("rb") as fh:
        digest = hashlib.file_digest(fh, "sha256").hexdigest()
    return {"file": str(path), "name": path.name, "bytes": path.stat().st_size, "sha256": digest}


def _stable(path: Path) -> tuple[int, int]:
    st = path.stat()
    return st.st_size, st.st_mtime_ns


def _ledger_mask(norm: pd.DataFrame, sc: _Scope) -> np.ndarray:
    """Rows of a file source this extraction takes: received in a window, or earlier and still undecided
    at as-of, in the entity's scope, plus every record they link to. Rows whose received time or entity
    is missing or unreadable are kept too: the quality gate quarantines them instead of losing them."""
    recv = norm["received_at"]
    decided = norm["decided_at"]
    as_of = pd.Timestamp(_local(sc.as_of).replace(tzinfo=None))
    take = np.zeros(len(norm), dtype=bool)
    for w in sc.windows:
        take |= ((recv >= pd.Timestamp(w.start)) & (recv < pd.Timestamp(w.end))).to_numpy()
    open_before = pd.Timestamp(sc.windows[0].start)
    take |= ((recv < open_before) & (decided.isna() | (decided > as_of))).to_numpy()
    take |= recv.isna().to_numpy()
    if sc.entity is not None:
        ent = norm["entity_code"]
        take &= ((ent == sc.entity) | ent.isna()).to_numpy()
    ids = norm["complaint_id"]
    seen = np.zeros(len(norm), dtype=bool)
    for _ in range(10):  # follow repeat_of / escalation_of as the SQL reader does
        new = take & ~seen
        seen |= take
        linked = pd.concat([norm.loc[new, "repeat_of"], norm.loc[new, "escalation_of"]]).dropna()
        more = ids.isin(linked).to_numpy() & ~take
        if not more.any():
            break
        take |= more
    return take


def _file_error(src: Source, path: Path, exc: Exception) -> ExtractError:
    return ExtractError(
        f"source {src.name} ({src.path.name}): {exc} (or set `on_unreadable: skip` in {src.path.name} "
        "to leave unreadable files out; they are then listed in the extract summary)"
    )


def _spreadsheet_part(src: Source, sc: _Scope) -> _Part:
    m = src.mapping
    assert isinstance(m, SpreadsheetSource)
    folder = src.resolve(m.path, sc.workdir)
    if not folder.is_dir():
        raise ExtractError(
            f"source {m.name} ({src.path.name}): path: the folder {folder} does not exist; create it or fix "
            "`path` (relative to the working directory, or absolute)"
        )
    files, records, frames, origin, errors = [], [], [], [], []
    for i, path in enumerate(branch_files(folder, m.pattern)):
        for _attempt in range(3):
            before = _stable(path)
            data, rec = _read_bytes(path)
            try:
                read: BranchRows | None = read_branch_rows(path, data, write_errors=False)
            except BranchFileError as exc:
                if m.on_unreadable == "fail":
                    raise _file_error(src, path, exc) from exc
                read, problem = None, str(exc)
            if _stable(path) == before:
                break
        else:
            raise ExtractError(f"source {m.name}: {path} kept changing while it was read; try again")
        rec.update(source=m.name, table="ledger")
        if read is None:
            err = file_error_frame(path, problem)
            rec.update(rows=0, rows_extracted=0, rows_with_errors=0, error=problem)
        else:
            err = read.errors
            frames.append(read.rows)
            origin.append(np.full(len(read.rows), i))
            rec.update(rows=len(read.rows), rows_with_errors=int(read.bad.sum()))
        if m.write_errors:
            write_errors_file(path, err)
        errors.append(err)
        rec["errors"] = _error_records(err)
        files.append(path)
        records.append(rec)
    rows = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=["complaint_id"])
    which = np.concatenate(origin) if origin else np.zeros(0, dtype=int)
    norm = normalize(rows, "ledger")
    take = _ledger_mask(norm, sc)
    led, bad = _canonical(
        rows[take].reset_index(drop=True), "ledger", m.name, norm[take].reset_index(drop=True)
    )
    led = led.sort_values("complaint_id", kind="stable").reset_index(drop=True)
    counts = np.bincount(which[take], minlength=len(files))
    for i, rec in enumerate(records):
        if "error" not in rec:
            rec["rows_extracted"] = int(counts[i])
    meta = {
        "name": m.name,
        "kind": m.kind,
        "file": str(src.path),
        "path": str(folder),
        "rows": {"ledger": len(led)},
        "rows_read": len(rows),
        "files": len(files),
        "unreadable": [r["name"] for r in records if "error" in r],
    }
    all_errors = pd.concat(errors, ignore_index=True) if errors else pd.DataFrame(columns=ERROR_COLUMNS)
    return _Part(led, None, None, [bad], records, meta, all_errors.assign(source=m.name))


def _error_records(errors: pd.DataFrame) -> list[dict[str, Any]]:
    names = dict(zip(ERROR_COLUMNS, ("file", "row", "column", "field", "value", "problem"), strict=True))
    return [
        {names[k]: (int(v) if k == "行号" else str(v)) for k, v in row.items()}
        for row in errors[ERROR_COLUMNS].to_dict("records")
    ]


def _ledger_files_part(src: Source, sc: _Scope) -> _Part:
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

    def finish(table: str, raw: pd.DataFrame, take: np.ndarray, sort: list[str]) -> tuple[pd.DataFrame, Any]:
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
    take = _ledger_mask(norm, sc)
    led, b = finish("ledger", raw_led, take, ["complaint_id"])
    bad.append(b)
    rows = {"ledger": len(led)}
    events = exposure = None
    if m.events:
        raw_ev = stacked("events")
        ev_ids = normalize(raw_ev.drop(columns="_file"), "events")["complaint_id"]
        take_ev = (ev_ids.isin(led["complaint_id"].dropna()) | ev_ids.isna()).to_numpy()
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
    return _Part(led, events, exposure, bad, records, meta)


READERS: dict[str, Callable[[Source, _Scope], _Part]] = {
    "sql": _sql_part,
    "branch_spreadsheets": _spreadsheet_part,
    "ledger_files": _ledger_files_part,
}


# -- the stage ------------------------------------------------------------------------------------
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
    sc = _Scope(windows, _period_codes(windows), as_of, scope, workdir, progress, sleep)
    ledgers, exposures, events, bad, queries, meta, errors = [], [], [], [], [], [], []
    for src in sources:
        part = READERS[src.kind](src, sc)
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
    )


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
