"""Source files (``config/sources/*.yaml``): where the ledger comes from and how it maps onto LEDGER.md.

Every source file has a ``kind`` (default ``sql``):

- ``sql``: an operational database (:class:`SourceMapping`, below);
- ``branch_spreadsheets``: a folder of filled branch intake templates (:class:`SpreadsheetSource`);
- ``ledger_files``: canonical ledger / exposure / events files, CSV, XLSX or Parquet with the LEDGER.md
  column names (:class:`LedgerFilesSource`).

Paths in file sources are relative to the run's working directory, or absolute.

An SQL mapping names the environment variable holding the SQLAlchemy URL (never the password itself), the
source's tables (or a read-only query), a column mapping onto the ledger, exposure and events tables
(LEDGER.md column names) with value translations (「理赔」 → ``claims``), the source's time zone and
defaults. Every identifier is validated against :data:`IDENTIFIER` and quoted through SQLAlchemy; every
error names the file, the key and the ledger column.
"""

from __future__ import annotations

import os
import re
import string
import zoneinfo
from pathlib import Path
from typing import Any, Literal

import sqlalchemy as sa
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from complaints.errors import ConfigError
from complaints.ledger import CODE_LISTS, TABLES
from tasks.config_files import Loaded, read_yaml

# A table or column name: letters (any script, e.g. Chinese), digits and '_', not starting with a digit.
IDENTIFIER = re.compile(r"^[^\W\d]\w{0,62}$")
_PASSWORD_IN_URL = re.compile(r"://[^/@:]*:[^@/]+@")


class SourceConfigError(ConfigError):
    """A source mapping is invalid; the message names file, key and ledger column."""


def check_identifier(name: str, what: str = "identifier") -> str:
    """Return ``name`` if it is a plain identifier (or ``schema.name``); raise ``ValueError`` otherwise."""
    parts = name.split(".")
    if len(parts) > 2 or not all(IDENTIFIER.match(p) for p in parts):
        raise ValueError(f"{what} {name!r} is not a plain identifier (letters, digits and '_' only)")
    return name


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


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


class SourceMapping(_Model):
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


class _FileSourceBase(_Model):
    name: str
    description: str = ""
    # an unreadable file (damaged, not a workbook, wrong table): stop the extraction naming the file
    # (`fail`), or leave it out, record the problem in the extract summary and go on (`skip`)
    on_unreadable: Literal["fail", "skip"] = "fail"

    @field_validator("name")
    @classmethod
    def _name(cls, v: str) -> str:
        return check_identifier(v, "source name")


def _check_path(v: str) -> str:
    if not str(v).strip():
        raise ValueError("empty path")
    return str(v).strip()


class SpreadsheetSource(_FileSourceBase):
    """A folder of filled branch intake templates (``tasks/spreadsheets.py``)."""

    kind: Literal["branch_spreadsheets"]
    path: str  # the folder
    pattern: str = "*.xlsx"  # which files in the folder are templates (``*_errors.xlsx`` never are)
    write_errors: bool = True  # write ``<file>_errors.xlsx`` next to each file with row errors

    @field_validator("path")
    @classmethod
    def _path(cls, v: str) -> str:
        return _check_path(v)

    @field_validator("pattern")
    @classmethod
    def _pattern(cls, v: str) -> str:
        if "/" in v or "\\" in v or not v.lower().endswith((".xlsx", ".xlsm")):
            raise ValueError("pattern must be a file name pattern ending in .xlsx, e.g. '*.xlsx'")
        return v


LEDGER_FILE_SUFFIXES = (".csv", ".txt", ".xlsx", ".xlsm", ".parquet")


class LedgerFilesSource(_FileSourceBase):
    """Canonical ledger / exposure / events files (LEDGER.md column names; ``tasks/read_files.py``)."""

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


AnyMapping = SourceMapping | SpreadsheetSource | LedgerFilesSource
KINDS: dict[str, type[BaseModel]] = {
    "sql": SourceMapping,
    "branch_spreadsheets": SpreadsheetSource,
    "ledger_files": LedgerFilesSource,
}


class Source(BaseModel):
    """A validated source file and the path it came from."""

    model_config = ConfigDict(frozen=True)
    mapping: AnyMapping
    path: Path

    @property
    def name(self) -> str:
        return self.mapping.name

    @property
    def kind(self) -> str:
        return self.mapping.kind

    def sql(self) -> SourceMapping:
        """The SQL mapping (raises ``TypeError`` for file sources)."""
        if not isinstance(self.mapping, SourceMapping):
            raise TypeError(f"source {self.name} is of kind {self.kind}, not sql")
        return self.mapping

    def resolve(self, path: str, workdir: Path | None = None) -> Path:
        """A path from the source file: absolute, or relative to the working directory."""
        p = Path(path).expanduser()
        return p if p.is_absolute() else (workdir or Path.cwd()).resolve() / p

    def location(self, workdir: Path | None = None) -> str:
        """Where the source is read from, safe to record: the redacted URL, or the folder / files."""
        m = self.mapping
        if isinstance(m, SourceMapping):
            return redact_url(self.url(workdir))
        if isinstance(m, SpreadsheetSource):
            return str(self.resolve(m.path, workdir) / m.pattern)
        return ", ".join(str(self.resolve(p, workdir)) for ps in m.files().values() for p in ps)

    def url(self, workdir: Path | None = None) -> str:
        """The SQLAlchemy URL: ``$url_env``, else ``default_url`` with ``{workdir}`` filled in."""
        m = self.sql()
        env = os.environ.get(m.url_env, "").strip()
        if env:
            return env
        if m.default_url:
            return m.default_url.replace("{workdir}", str((workdir or Path.cwd()).resolve()))
        raise SourceConfigError(
            f"{self.path}: url_env: environment variable {m.url_env} is not set and the mapping "
            f"has no default_url; set {m.url_env} to the source's SQLAlchemy URL"
        )


_TABLE_KEYS = {"ledger": "ledger", "exposure": "exposure", "events": "events"}


def _ledger_column_of(loc: tuple[Any, ...]) -> str | None:
    for i, part in enumerate(loc[:-1]):
        if part in ("columns", "defaults") and i > 0 and loc[i - 1] in _TABLE_KEYS:
            return str(loc[i + 1])
    return None


def _error(path: Path, key: str, problem: str, column: str | None = None) -> SourceConfigError:
    tail = f" (ledger column {column})" if column else ""
    return SourceConfigError(f"{path}: {key}: {problem}{tail}")


def _check_semantics(path: Path, m: SourceMapping) -> None:
    """Ledger column names, required columns, translation targets and lookups."""
    for tkey, tmap in (("ledger", m.ledger), ("exposure", m.exposure), ("events", m.events)):
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
            elif name == "extra_categories":
                for src, tgt in cm.values.items():
                    if tgt is not None and str(tgt) not in CODE_LISTS["category"]:
                        raise _error(path, f"{key}.values.{src}", f"{tgt!r} is not a category code", name)
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


def load_source(path: str | Path) -> Source:
    """Read and validate one mapping file."""
    p = Path(path).resolve()
    data = read_yaml(p)
    if not isinstance(data, dict):
        raise SourceConfigError(f"{p}: expected a mapping at the top level")
    kind = data.get("kind", "sql")
    model = KINDS.get(kind) if isinstance(kind, str) else None
    if model is None:
        raise SourceConfigError(f"{p}: kind: unknown source kind {kind!r} (one of {', '.join(KINDS)})")
    try:
        mapping: AnyMapping = model.model_validate(data)  # type: ignore[assignment]
    except ValidationError as exc:
        lines = [f"{p}: invalid source mapping"]
        for err in exc.errors():
            loc = tuple(err["loc"])
            key = ".".join(str(x) for x in loc) or "(top level)"
            col = _ledger_column_of(loc)
            tail = f" (ledger column {col})" if col else ""
            msg = err["msg"].removeprefix("Value error, ")
            lines.append(f"  {key}: {msg}{tail}")
        raise SourceConfigError("\n".join(lines)) from exc
    if isinstance(mapping, SourceMapping):
        _check_semantics(p, mapping)
    return Source(mapping=mapping, path=p)


def load_sources(loaded: Loaded) -> list[Source]:
    """Every mapping listed in ``settings.sources`` (resolved against the config directory)."""
    sources = [load_source(loaded.resolve(rel)) for rel in loaded.settings.sources]
    names = [s.name for s in sources]
    dup = {n for n in names if names.count(n) > 1}
    if dup:
        raise SourceConfigError(f"{loaded.path}: sources: two mappings share the name {sorted(dup)[0]!r}")
    return sources


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
    try:
        return sa.make_url(url).render_as_string(hide_password=True)
    except Exception:  # noqa: BLE001 - an unparseable URL is shown without its credentials
        return _PASSWORD_IN_URL.sub("://***@", url)
