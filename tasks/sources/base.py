"""What every source kind shares: the :class:`SourceReader` protocol, what a reader gets
(:class:`Scope`) and returns (:class:`Part`), the base of the mapping models and the errors.

A source kind is one module holding its mapping model (the ``config/sources/*.yaml`` file validated
against it) and its reader; :data:`tasks.sources.registry.READERS` maps the file's ``kind`` to the reader.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import pandas as pd
from pydantic import BaseModel, ConfigDict

from complaints.errors import ConfigError, InfraError
from complaints.periods import Period
from complaints.times import SHANGHAI

if TYPE_CHECKING:  # type only: the registry imports every kind module, which imports this one
    from tasks.sources.registry import Source


# A table or column name: letters (any script, e.g. Chinese), digits and '_', not starting with a digit.
IDENTIFIER = re.compile(r"^[^\W\d]\w{0,62}$")


class SourceConfigError(ConfigError):
    """A source mapping is invalid; the message names file, key and ledger column."""


class ExtractError(InfraError):
    """Extraction failed; nothing was returned. The message names the source and the cause."""


def check_identifier(name: str, what: str = "identifier") -> str:
    """Return ``name`` if it is a plain identifier (or ``schema.name``); raise ``ValueError`` otherwise."""
    parts = name.split(".")
    if len(parts) > 2 or not all(IDENTIFIER.match(p) for p in parts):
        raise ValueError(f"{what} {name!r} is not a plain identifier (letters, digits and '_' only)")
    return name


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class SourceModel(_Model):
    """The base of every kind's mapping model. Its fields are the kind's own (every kind has a ``kind``
    literal and a ``name``); declared here for the type checker only, so that each model keeps its
    fields in its own order."""

    if TYPE_CHECKING:
        kind: str
        name: str


def _local(value: dt.datetime | dt.date) -> dt.datetime:
    """Aware Asia/Shanghai datetime (naive input and dates are local)."""
    if not isinstance(value, dt.datetime):
        value = dt.datetime.combine(value, dt.time())
    return value.replace(tzinfo=SHANGHAI) if value.tzinfo is None else value.astimezone(SHANGHAI)


@dataclass
class Part:
    """What one source contributes, mapped onto the ledger (canonical columns plus ``source``)."""

    ledger: pd.DataFrame
    events: pd.DataFrame | None
    exposure: pd.DataFrame | None
    unparsed: list[pd.DataFrame]
    queries: list[dict[str, Any]]
    meta: dict[str, Any]
    errors: pd.DataFrame | None = None  # branch spreadsheets: row-level errors sent back to the branch
    penalties: pd.DataFrame | None = None  # the optional penalties side table (投诉罚单)


@dataclass
class Scope:
    """The windows of one extraction (the same for every kind of source)."""

    windows: list[Period]
    codes: set[str]
    as_of: dt.datetime
    entity: str | None  # branch scope; None for the head office
    workdir: Path
    progress: bool
    sleep: Callable[[float], None]


class SourceReader(Protocol):
    """One source kind: the model its file is validated against, and how it is read."""

    @property
    def model(self) -> type[SourceModel]:
        """The kind's mapping model (``config/sources/*.yaml`` with this ``kind``)."""
        ...

    def check(self, path: Path, mapping: Any) -> None:
        """Checks beyond the model's own validators; raises :class:`SourceConfigError` naming ``path``."""
        ...

    def location(self, source: Source, workdir: Path | None = None) -> str:
        """Where the source is read from, safe to record (no password)."""
        ...

    def read(self, source: Source, scope: Scope) -> Part:
        """The source's rows in ``scope``, mapped onto the ledger; raises :class:`ExtractError`."""
        ...
