"""The source kinds and the source files (``config/sources/*.yaml``).

:data:`READERS` maps a source file's ``kind`` (default ``sql``) to its reader, which carries the
kind's mapping model. Adding a source kind is one module (its model and a
:class:`~tasks.sources.base.SourceReader`) and one line here. The kinds today:

- ``sql``: an operational database (:mod:`tasks.sources.sql`);
- ``branch_spreadsheets``: a folder of filled branch intake templates
  (:mod:`tasks.sources.branch_spreadsheets`);
- ``ledger_files``: canonical ledger / exposure / events files, CSV, XLSX or Parquet with the LEDGER.md
  column names (:mod:`tasks.sources.ledger_files`).

Paths in file sources are relative to the run's working directory, or absolute.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError

from tasks.config_files import Loaded, read_yaml
from tasks.sources.base import SourceConfigError, SourceModel, SourceReader
from tasks.sources.branch_spreadsheets import BranchSpreadsheetsReader
from tasks.sources.ledger_files import LedgerFilesReader
from tasks.sources.sql import SourceMapping, SqlReader

READERS: dict[str, SourceReader] = {
    "sql": SqlReader(),
    "branch_spreadsheets": BranchSpreadsheetsReader(),
    "ledger_files": LedgerFilesReader(),
}


class Source(BaseModel):
    """A validated source file and the path it came from."""

    model_config = ConfigDict(frozen=True)
    mapping: SourceModel
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
        return READERS[self.kind].location(self, workdir)

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


def load_source(path: str | Path) -> Source:
    """Read and validate one mapping file."""
    p = Path(path).resolve()
    data = read_yaml(p)
    if not isinstance(data, dict):
        raise SourceConfigError(f"{p}: expected a mapping at the top level")
    kind = data.get("kind", "sql")
    reader = READERS.get(kind) if isinstance(kind, str) else None
    if reader is None:
        raise SourceConfigError(f"{p}: kind: unknown source kind {kind!r} (one of {', '.join(READERS)})")
    try:
        mapping = reader.model.model_validate(data)
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
    reader.check(p, mapping)
    return Source(mapping=mapping, path=p)


def load_sources(loaded: Loaded) -> list[Source]:
    """Every mapping listed in ``settings.sources`` (resolved against the config directory)."""
    sources = [load_source(loaded.resolve(rel)) for rel in loaded.settings.sources]
    names = [s.name for s in sources]
    dup = {n for n in names if names.count(n) > 1}
    if dup:
        raise SourceConfigError(f"{loaded.path}: sources: two mappings share the name {sorted(dup)[0]!r}")
    return sources
