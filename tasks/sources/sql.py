"""The ``sql`` source kind: an operational database, its mapping (:class:`SourceMapping`) and its reader.

A mapping names the environment variable holding the SQLAlchemy URL (never the password itself), the
source's tables (or a read-only query), a column mapping onto the ledger, exposure and events tables
(LEDGER.md column names) with value translations (「理赔」 → ``claims``), the source's time zone and
defaults. Every identifier is validated against :data:`~tasks.sources.base.IDENTIFIER` and quoted
through SQLAlchemy; every error names the file, the key and the ledger column.

The reader reads, in one consistent snapshot (one transaction at REPEATABLE READ or the database's
equivalent; SQLite: one read transaction):

- the records received in the period, the previous period (QoQ) and the same period a year earlier
  (YoY), and earlier cases still undecided at as-of (the backlog);
- the records those rows reference through ``repeat_of`` / ``escalation_of`` (no dangling links);
- the lookups (e.g. the latest call-back), the events of every extracted complaint, and the exposure
  rows of those periods.

PostgreSQL is read through ADBC (``adbc-driver-postgresql``: the result streams as COPY BINARY into Arrow
record batches, no Python object per value); every other database through SQLAlchemy, in chunks (a
server-side cursor where the driver has one). SQLite stays on SQLAlchemy on purpose: its columns have no
types, and ADBC's SQLite driver either stops at a column that mixes text and numbers or turns the mix into
text with numbers printed to 7 significant digits, which would round values silently. A tqdm bar shows
the rows read; a transient connection error re-reads the whole snapshot after a backoff; the exact SQL
text, its parameters, the reader and row counts are kept. Values are
translated through the mapping; codes that do not translate are kept as they are (the quality gate
flags them).
"""

from __future__ import annotations

import datetime as dt
import re
import time
import zoneinfo
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import adbc_driver_manager
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import sqlalchemy as sa
from pydantic import Field, field_validator
from sqlalchemy.dialects import postgresql
from tqdm import tqdm

from complaints.checks import is_member
from complaints.ledger import CODE_LISTS, TABLES
from complaints.periods import Period
from complaints.settings import redact_text
from tasks.memory import release_memory
from tasks.row_order import adjacent, sort_indexer
from tasks.sources.base import (
    ExtractError,
    Part,
    Scope,
    SourceConfigError,
    SourceModel,
    _local,
    _Model,
    check_identifier,
)
from tasks.sources.mapping import TableMap, _map_frame

if TYPE_CHECKING:  # type only: the registry imports every kind module, which imports this one
    from tasks.sources.registry import Source

# Text columns holding `;`-separated codes, and the code list their translations must land in.
_LIST_CODES = {"extra_categories": "category", "root_cause": "root_cause"}


IN_BATCH = 500  # ids per IN (...) list when following links
_PASSWORD_IN_URL = re.compile(r"://[^/@:]*:[^@/]+@")


class Lookup(_Model):
    """A side table joined on the ticket key; one row per key is picked (last/first by ``order_by``)."""

    table: str
    key: str
    order_by: str
    pick: Literal["last", "first"] = "last"

    @field_validator("table", "key", "order_by")
    @classmethod
    def _ident(cls, v: str) -> str:
        return check_identifier(v)


class LedgerMap(TableMap):
    key: str  # source column holding the complaint id
    received: str  # source column of the received time (period bounds)
    decided: str | None = None  # source column of the decision time (open-at-as-of test)
    entity: str | None = None  # source column of the reporting entity (branch scope filter)
    lookups: dict[str, Lookup] = {}

    @field_validator("key", "received", "decided", "entity")
    @classmethod
    def _ident(cls, v: str | None) -> str | None:
        return None if v is None else check_identifier(v)


class EventsMap(TableMap):
    key: str  # source column joining to the ledger key

    @field_validator("key")
    @classmethod
    def _ident(cls, v: str) -> str:
        return check_identifier(v)


class SourceMapping(SourceModel):
    kind: Literal["sql"] = "sql"
    name: str
    description: str = ""
    url_env: str = Field(description="environment variable holding the SQLAlchemy URL")
    default_url: str | None = None  # may use {workdir}; never a password
    timezone: str = "Asia/Shanghai"
    chunk_rows: int = Field(100000, ge=100)
    retries: int = Field(3, ge=0, le=10)
    retry_backoff_s: float = Field(1.0, ge=0)
    ledger: LedgerMap
    exposure: TableMap | None = None
    events: EventsMap | None = None
    penalties: TableMap | None = None  # optional: 投诉罚单 (LEDGER.md "Side table: penalties")

    @field_validator("name")
    @classmethod
    def _name(cls, v: str) -> str:
        return check_identifier(v, "source name")

    @field_validator("url_env")
    @classmethod
    def _env(cls, v: str) -> str:
        if not re.match(r"^[A-Z_][A-Z0-9_]*$", v):
            raise ValueError(f"{v!r} is not an environment variable name")
        return v

    @field_validator("default_url")
    @classmethod
    def _no_password(cls, v: str | None) -> str | None:
        if v is not None and _PASSWORD_IN_URL.search(v):
            raise ValueError(
                "a URL with a password does not belong in a file; put it in the environment "
                "variable named by url_env"
            )
        return v

    @field_validator("timezone")
    @classmethod
    def _tz(cls, v: str) -> str:
        try:
            zoneinfo.ZoneInfo(v)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {v!r}") from exc
        return v


def _error(path: Path, key: str, problem: str, column: str | None = None) -> SourceConfigError:
    tail = f" (ledger column {column})" if column else ""
    return SourceConfigError(f"{path}: {key}: {problem}{tail}")


def _check_semantics(path: Path, m: SourceMapping) -> None:
    """Ledger column names, required columns, translation targets and lookups."""
    for tkey, tmap in (("ledger", m.ledger), ("exposure", m.exposure), ("events", m.events),
                       ("penalties", m.penalties)):
        if tmap is None:
            continue
        known = {c.name: c for c in TABLES[tkey]}
        for section, names in (("columns", tmap.columns), ("defaults", tmap.defaults)):
            for cname in names:
                if cname not in known:
                    raise _error(
                        path,
                        f"{tkey}.{section}.{cname}",
                        f"{cname!r} is not a {tkey} column (see LEDGER.md)",
                        cname,
                    )
        for req in known.values():
            if req.required and req.name not in tmap.columns and req.name not in tmap.defaults:
                raise _error(
                    path, f"{tkey}.columns", f"required {tkey} column {req.name!r} is not mapped", req.name
                )
        for name, cm in tmap.columns.items():
            col = known[name]
            key = f"{tkey}.columns.{name}"
            if cm.lookup is not None and (tkey != "ledger" or cm.lookup not in m.ledger.lookups):
                raise _error(
                    path,
                    f"{key}.lookup",
                    f"lookup {cm.lookup!r} is not defined under ledger.lookups",
                    name,
                )
            if cm.values is None:
                continue
            targets = list(cm.values.values())
            if col.kind == "code" and col.codes:
                allowed = CODE_LISTS[col.codes]
                for src, tgt in cm.values.items():
                    if tgt is not None and str(tgt) not in allowed:
                        raise _error(
                            path,
                            f"{key}.values.{src}",
                            f"{tgt!r} is not a {col.codes} code ({', '.join(allowed)})",
                            name,
                        )
            elif name in _LIST_CODES:
                code_list = _LIST_CODES[name]
                for src, tgt in cm.values.items():
                    if tgt is not None and str(tgt) not in CODE_LISTS[code_list]:
                        raise _error(path, f"{key}.values.{src}", f"{tgt!r} is not a {code_list} code", name)
            elif col.kind == "bool":
                for src, tgt in cm.values.items():
                    if tgt is not None and not isinstance(tgt, bool):
                        raise _error(path, f"{key}.values.{src}", f"{tgt!r} must be true or false", name)
            elif not targets:
                raise _error(path, f"{key}.values", "empty translation table", name)
        for name, value in tmap.defaults.items():
            dcol = known[name]
            if dcol.kind == "code" and dcol.codes and str(value) not in CODE_LISTS[dcol.codes]:
                raise _error(path, f"{tkey}.defaults.{name}", f"{value!r} is not a {dcol.codes} code", name)
    if "complaint_id" not in m.ledger.columns:
        raise _error(path, "ledger.columns", "complaint_id must be mapped", "complaint_id")
    if m.events is not None and "complaint_id" not in m.events.columns:
        raise _error(path, "events.columns", "complaint_id must be mapped", "complaint_id")


def quoted_table(name: str, columns: list[str], types: dict[str, Any] | None = None) -> sa.TableClause:
    """A lightweight SQLAlchemy table whose (validated) names are always quoted."""
    check_identifier(name, "table")
    schema, _, table = name.rpartition(".")
    cols = [
        sa.column(sa.quoted_name(check_identifier(c, "column"), quote=True), (types or {}).get(c))
        for c in columns
    ]
    return sa.table(
        sa.quoted_name(table, quote=True),
        *cols,
        schema=sa.quoted_name(schema, quote=True) if schema else None,
    )


def redact_url(url: str) -> str:
    """The URL safe to print or store: no password in the user info (even with an unencoded ``@``) nor
    in a query parameter (``?password=``)."""
    url = redact_text(url)  # first: SQLAlchemy would split an unencoded @ and print the password's tail
    try:
        return redact_text(sa.make_url(url).render_as_string(hide_password=True))
    except Exception:  # noqa: BLE001 - an unparseable URL is shown without its credentials
        return _PASSWORD_IN_URL.sub("://***@", url)


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
    penalties: pd.DataFrame | None = None


def _to_source_tz(value: dt.datetime | dt.date, tz: str) -> dt.datetime:
    """Naive datetime in the source's time zone, to the second (bound parameter)."""
    return _local(value).astimezone(zoneinfo.ZoneInfo(tz)).replace(tzinfo=None, microsecond=0)


def _source_table(tmap: TableMap, columns: list[str], types: dict[str, Any]) -> sa.FromClause:
    if tmap.table is not None:
        return quoted_table(tmap.table, columns, types)
    cols = [sa.column(sa.quoted_name(c, quote=True), types.get(c)) for c in columns]
    return sa.text(str(tmap.query).strip().rstrip(";")).columns(*cols).subquery("src")


def _sql_record(dialect: sa.Dialect, source: str, table: str, stmt: Any, reader: str) -> dict[str, Any]:
    compiled = stmt.compile(dialect=dialect, compile_kwargs={"render_postcompile": True})
    params = {
        k: (v.isoformat() if isinstance(v, dt.date | dt.datetime) else v) for k, v in compiled.params.items()
    }
    return {"source": source, "table": table, "sql": str(compiled), "params": params, "rows": 0,
            "reader": reader}


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


# -- ADBC (PostgreSQL) -------------------------------------------------------------------------------
ADBC_READER = "adbc-postgresql"
_ADBC_DIALECT = postgresql.psycopg.dialect(paramstyle="numeric_dollar")  # compiles $1, $2, ... for ADBC
_PLAIN = re.compile(r"[\w.:+-]*", re.ASCII)  # a value that reads the same however a literal is escaped


def adbc_uri(url: str) -> str | None:
    """The libpq URI ADBC's PostgreSQL driver takes for a SQLAlchemy ``postgresql[+driver]://`` URL (the
    password, when the URL has one, stays in it: the URI is never printed); None for other databases."""
    parsed = sa.make_url(url)
    if parsed.get_backend_name() != "postgresql":
        return None
    return parsed.set(drivername="postgresql").render_as_string(hide_password=False)


def _literal_safe(value: Any) -> bool:
    if isinstance(value, dt.datetime):
        return value.tzinfo is None
    if isinstance(value, dt.date):
        return True
    if isinstance(value, int) and not isinstance(value, bool):
        return True
    return isinstance(value, str) and _PLAIN.fullmatch(value) is not None


def _adbc_statement(stmt: Any) -> tuple[str, list[Any]]:
    """The SQL text ADBC runs and its parameters. When every value is a naive datetime, a number or a
    plain code (letters, digits, ``_.:+-``: nothing a literal would have to escape), the values are
    written into the text: the driver then streams the result with ``COPY … TO STDOUT (FORMAT binary)``,
    which a parameterised query cannot use (1M tickets: 3.9 s against 6.0 s, measured). Any other value
    (a link id read from the source) stays a ``$n`` parameter."""
    compiled = stmt.compile(dialect=_ADBC_DIALECT, compile_kwargs={"render_postcompile": True})
    values = compiled.params
    if all(_literal_safe(v) for v in values.values()):
        literal = stmt.compile(dialect=_ADBC_DIALECT,
                               compile_kwargs={"render_postcompile": True, "literal_binds": True})
        return str(literal), []
    return str(compiled), [values[k] for k in compiled.positiontup or []]


def _adbc_execute(cursor: Any, sql: str, params: list[Any]) -> Any:
    """Run one statement; the Arrow record batch reader of its result."""
    cursor.execute(sql, params or None)
    return cursor.fetch_record_batch()


def _arrow_frame(table: pa.Table) -> pd.DataFrame:
    """pandas columns of an Arrow result, built once: text stays Arrow-backed (pandas' ``str``), numbers
    and times become numpy columns as ``read_sql`` gives them. PostgreSQL types Arrow has no type for
    (``numeric``: exact decimal text) arrive as an opaque extension and are read as their text."""
    for i, field in enumerate(table.schema):
        if isinstance(field.type, pa.ExtensionType | pa.BaseExtensionType):
            col = table.column(i)
            table = table.set_column(i, field.name, pa.chunked_array(
                [c.storage for c in col.chunks], type=field.type.storage_type))
    return table.to_pandas(split_blocks=True, self_destruct=True)


# read(source, table, statement) -> (frame, its record): one query on the snapshot's connection
_Read = Callable[[str, str, Any], tuple[pd.DataFrame, dict[str, Any]]]


@contextmanager
def _adbc_snapshot(uri: str, bar: tqdm | None) -> Iterator[_Read]:
    """One read-only REPEATABLE READ transaction on a PostgreSQL connection through ADBC; yields
    ``read(source, table, stmt) -> (frame, record)``."""
    import adbc_driver_postgresql.dbapi as adbc_pg

    with adbc_pg.connect(uri, autocommit=False) as conn, conn.cursor() as cur:
        cur.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")

        def read(source: str, table: str, stmt: Any) -> tuple[pd.DataFrame, dict[str, Any]]:
            rec = _sql_record(_ADBC_DIALECT, source, table, stmt, ADBC_READER)
            sql, params = _adbc_statement(stmt)
            rec["sql"] = sql
            batches = []
            reader = _adbc_execute(cur, sql, params)
            try:
                for batch in reader:
                    batches.append(batch)
                    if bar is not None:
                        bar.update(batch.num_rows)
            except (OSError, pa.ArrowException) as exc:  # the stream broke (pyarrow's error): the driver's
                raise adbc_driver_manager.OperationalError(  # kind, so retries see a lost connection
                    str(exc), status_code=adbc_driver_manager.AdbcStatusCode.IO) from exc
            frame = _arrow_frame(pa.Table.from_batches(batches, schema=reader.schema))
            del batches
            rec["rows"] = len(frame)
            return frame, rec

        yield read
        conn.rollback()  # read only: nothing to keep


@contextmanager
def _sa_snapshot(engine: sa.Engine, chunk: int, bar: tqdm | None) -> Iterator[_Read]:
    """One consistent read through SQLAlchemy (see :func:`_begin_snapshot`)."""
    with engine.connect() as raw_conn:
        conn = _isolation(raw_conn)
        with conn.begin():
            _begin_snapshot(conn)

            def read(source: str, table: str, stmt: Any) -> tuple[pd.DataFrame, dict[str, Any]]:
                rec = _sql_record(conn.dialect, source, table, stmt, "sqlalchemy")
                return _stream(conn, stmt, rec, chunk, bar), rec

            yield read


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
    adbc: str | None = None,
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
    snapshot = _adbc_snapshot(adbc, bar) if adbc is not None else _sa_snapshot(engine, chunk, bar)
    with bar, snapshot as read:

        def run(table: str, stmt: sa.Executable) -> pd.DataFrame:
            frame, rec = read(m.name, table, stmt)
            queries.append(rec)
            return frame

        label = lm.table or "query"
        main = run(label, sa.select(*[c[n] for n in ledger_cols]).where(where).order_by(c[lm.key]))
        # follow repeat_of / escalation_of until every link resolves (or the record is missing)
        link_cols = [
            lm.columns[k].column
            for k in ("repeat_of", "escalation_of")
            if k in lm.columns and lm.columns[k].column
        ]
        frames = [main]
        # compared in Arrow (is_member): a Python set of 1M ids took 0.8 s, pandas' isin on Arrow text ~4 s
        seen = main[lm.key].dropna().astype(str)
        extra_ids: list[str] = []
        for _ in range(10):
            links = pd.concat([frames[-1][col].dropna().astype(str) for col in link_cols]) \
                if link_cols else pd.Series([], dtype="str")
            ids = sorted(set(links[~is_member(links, seen)]))
            if not ids:
                break
            seen = pd.concat([seen, pd.Series(ids, dtype="str")], ignore_index=True)
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
            by = [tmap_table.c[o] for o in order]
            parts = [run(table, sa.select(*sel).where(kc.in_(keyset)).order_by(*by))]
            for i in range(0, len(extra_ids), IN_BATCH):
                parts.append(
                    run(
                        table,
                        sa.select(*sel)
                        .where(kc.in_(sa.bindparam("ids", extra_ids[i : i + IN_BATCH], expanding=True)))
                        .order_by(*by),
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

        def map_tickets(tickets: pd.DataFrame, lookups: dict[str, pd.DataFrame]
                        ) -> tuple[pd.DataFrame, pd.DataFrame]:
            aligned = _pick_lookups(tickets, lookups, lm)
            lookups.clear()
            return _map_frame(tickets, lm, "ledger", tz, m.name, aligned, consume=True)

        def read_events(em: EventsMap) -> pd.DataFrame:
            ecols = list(dict.fromkeys([em.key, *em.source_columns()]))
            et = _source_table(em, ecols, {})
            order = [
                em.key,
                *[cm.column for cm in em.columns.values() if cm.column and cm.column != em.key],
            ]
            return keyed(et, em.key, ecols, em.table or "query", order)

        # The tickets are mapped before the (larger) events are read, so the rows as read are freed
        # first. Through ADBC the events stream without the GIL (and PostgreSQL works on its own core):
        # the mapping runs in a thread meanwhile (1M complaints: ~4 s of the extract's 25 s).
        raw_events = None
        if adbc and m.events is not None:
            with ThreadPoolExecutor(max_workers=1, thread_name_prefix="map") as pool:  # waits, errors too
                mapped = pool.submit(map_tickets, all_tickets, lookups)
                del all_tickets, lookups
                raw_events = read_events(m.events)
            ledger, ledger_bad = mapped.result()  # the mapping's own error, if any, comes out here
        else:
            ledger, ledger_bad = map_tickets(all_tickets, lookups)
            del all_tickets, lookups
            release_memory()
            if m.events is not None:
                raw_events = read_events(m.events)

        events = events_bad = None
        if m.events is not None and raw_events is not None:  # (both or neither)
            events, events_bad = _map_frame(raw_events, m.events, "events", tz, m.name, consume=True)
            del raw_events
            release_memory()

        def whole(tmap: TableMap | None) -> pd.DataFrame | None:
            """A side table read whole (exposure, penalties), in a stable order."""
            if tmap is None:
                return None
            cols = tmap.source_columns()
            t = _source_table(tmap, cols, {})
            ordered = [t.c[n] for n in cols]
            return run(tmap.table or "query", sa.select(*ordered).order_by(*ordered))

        exposure, penalties = whole(m.exposure), whole(m.penalties)
    return _Raw(ledger, ledger_bad, events, events_bad, exposure, queries, penalties)


_TRANSIENT = re.compile(
    r"connection|connect to|server closed|terminat|gone away|lost|timed? ?out|timeout|reset by peer|"
    r"broken pipe|database is locked|deadlock|could not serialize|too many connections|shutdown",
    re.I,
)


def _transient(exc: BaseException) -> bool:
    """Connection-level failures worth a retry (not SQL errors such as a missing table)."""
    if isinstance(exc, adbc_driver_manager.Error):  # ADBC: libpq's message, SQLSTATE class 08 / 57P0x
        state = str(getattr(exc, "sqlstate", "") or "")
        return state.startswith(("08", "57P0")) or bool(_TRANSIENT.search(_short(exc)))
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
    adbc = adbc_uri(url)
    engine = sa.create_engine(url, pool_pre_ping=True)
    try:
        for attempt in range(1, attempts + 1):
            try:
                return _read_snapshot(engine, src, windows, as_of, entity, progress, adbc)
            except (sa.exc.SQLAlchemyError, adbc_driver_manager.Error) as exc:
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
    """The first line of the driver's message, without credentials (libpq may quote the URI)."""
    text = str(getattr(exc, "orig", None) or exc).strip().splitlines()
    return redact_text(text[0]) if text else type(exc).__name__


def _pick_lookups(tickets: pd.DataFrame, lookups: dict[str, pd.DataFrame], lm: LedgerMap,
                  align: Callable[[pd.Series, pd.DataFrame, Any], pd.DataFrame] | None = None
                  ) -> dict[str, pd.DataFrame]:
    """One row per ticket key per lookup (the last/first by ``order_by``), aligned to ``tickets``. Found
    by :func:`_align_arrow` (0.36 s instead of 1.5 s for 1M tickets and 0.8M call-backs); ``align``:
    another way (:func:`_align_pandas`, the reference)."""
    out = {}
    keys = tickets[lm.key].astype(str)
    for lname, lk in lm.lookups.items():
        f = lookups[lname]
        if len(f):
            aligned = (align or _align_arrow)(keys, f, lk)
        else:
            aligned = pd.DataFrame(columns=f.columns, index=keys.to_numpy())
        aligned.index = tickets.index
        out[lname] = aligned
    return out


def _align_arrow(keys: pd.Series, f: pd.DataFrame, lk: Any) -> pd.DataFrame:
    """The rows of ``f`` :func:`_align_pandas` picks, found in Arrow (sort, then one hash lookup of the
    tickets' keys); columns Arrow cannot sort or compare go the pandas way."""
    try:
        rows = _picked_rows(keys, f[lk.key].astype(str), f[lk.order_by], lk.pick)
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):
        return _align_pandas(keys, f, lk)
    return f.reset_index(drop=True).reindex(rows)  # -1: no row, missing values as reindex gives them


def _align_pandas(keys: pd.Series, f: pd.DataFrame, lk: Any) -> pd.DataFrame:
    """Sort ``f`` by key and ``order_by`` (stable), keep each key's last/first row, reindex by ``keys``."""
    f = f.assign(_k=f[lk.key].astype(str)).sort_values(["_k", lk.order_by], kind="stable")
    return f.drop_duplicates("_k", keep=lk.pick).set_index("_k").reindex(keys.to_numpy())


def _picked_rows(keys: pd.Series, lookup_keys: pd.Series, order_by: pd.Series, pick: str) -> np.ndarray:
    """For each of ``keys``, the position of the lookup row it takes (-1 for none): among the rows with
    its key, the last (or first) by ``order_by``, ties in the order read, missing values last; a missing
    key matches the missing keys, as pandas' ``reindex`` does."""
    k = pa.Array.from_pandas(lookup_keys)
    order = pc.sort_indices(pa.table({"k": k, "o": pa.Array.from_pandas(order_by)}),
                            sort_keys=[("k", "ascending", "at_end"), ("o", "ascending", "at_end")]).to_numpy()
    _, tied = adjacent(pa.table({"k": k.take(order)}))
    bounds = ~tied  # row i's key is not row i+1's (two missing keys are the same key)
    picked = order[np.append(bounds, True) if pick == "last" else np.insert(bounds, 0, True)]
    at = pc.index_in(pa.Array.from_pandas(keys), value_set=k.take(picked), skip_nulls=False)
    found = pc.fill_null(at, -1).to_numpy(zero_copy_only=False).astype(np.int64)
    return np.where(found >= 0, picked[np.maximum(found, 0)], -1)


def _own(col: pd.Series) -> pd.Series:
    """``col`` with its Arrow buffers copied into Arrow's memory pool (a memcpy: 5M ids in 0.07 s). A
    column read through ADBC lives in buffers the driver allocated with ``malloc``; kept for the rest of
    the run they pin the heap the other columns as read were freed from (1M complaints: +130 MB peak RSS
    in the quality gate). Numpy columns are left as they are."""
    arr = getattr(col.array, "_pa_array", None)
    if not isinstance(arr, pa.ChunkedArray):
        return col
    pool = pa.default_cpu_memory_manager()
    fresh = pa.chunked_array([chunk.copy_to(pool) for chunk in arr.chunks], type=arr.type)
    return pd.Series(pd.array(fresh, dtype=col.dtype), name=col.name, copy=False)


def _sorted(frame: pd.DataFrame, by: list[str]) -> pd.DataFrame:
    """``frame.sort_values(by, kind="stable").reset_index(drop=True)``, built one column at a time, taking
    the columns out of ``frame`` (which is left empty): the peak is the frame plus one column, not two
    frames. Rows already in order are not moved, nor a column whose values the moves leave where they
    were (5M events moved within their ties: 0.4 s instead of 1.1 s); such columns are copied
    (:func:`_own`) instead."""
    keys = pa.table({c: pa.Array.from_pandas(frame[c]) for c in by})  # Arrow sorts text without objects
    indexer = sort_indexer(keys)
    moved = np.flatnonzero(indexer != np.arange(len(frame))) if indexer is not None else None
    out: dict[str, Any] = {}
    for name in list(frame.columns):
        col = frame.pop(name).reset_index(drop=True)  # the source column is freed once replaced
        if indexer is None or moved is None or col.iloc[moved].reset_index(drop=True).equals(
                col.iloc[indexer[moved]].reset_index(drop=True)):
            out[name] = _own(col)  # the same values land in the same rows
        else:
            out[name] = col.take(indexer).reset_index(drop=True)
        del col
    return pd.DataFrame(out, copy=False)


class SqlReader:
    """Reads a :class:`SourceMapping` (see the module doc)."""

    model = SourceMapping

    def check(self, path: Path, mapping: Any) -> None:
        _check_semantics(path, mapping)

    def location(self, source: Source, workdir: Path | None = None) -> str:
        return redact_url(source.url(workdir))

    def read(self, src: Source, sc: Scope) -> Part:
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
        penalties = None
        if raw.penalties is not None and m.penalties is not None:
            pe, b = _map_frame(raw.penalties, m.penalties, "penalties", m.timezone, m.name)
            if sc.entity is not None:  # a branch's run: the penalties of its own complaints
                pe = pe[is_member(pe["complaint_id"], led["complaint_id"]) | (pe["unit"] == sc.entity)]
            penalties = _sorted(pe, ["issued_at", "complaint_id"]).reset_index(drop=True)
            bad.append(b)
            rows["penalties"] = len(penalties)
        meta = {
            "name": m.name,
            "kind": m.kind,
            "file": str(src.path),
            "url": redact_url(src.url(sc.workdir)),
            "timezone": m.timezone,
            "rows": rows,
        }
        return Part(led, events, exposure, bad, raw.queries, meta, penalties=penalties)
