"""What the file source kinds share: their base model, what is recorded of each file read (size,
SHA-256), the check that a file did not change while it was read, and the rows of a period a file
source takes (windowed like the SQL source)."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pandas as pd
from pydantic import field_validator

from tasks.sources.base import ExtractError, Scope, SourceModel, _local, check_identifier

if TYPE_CHECKING:  # type only: the registry imports every kind module, which imports this one
    from tasks.sources.registry import Source


class _FileSourceBase(SourceModel):
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


def _ledger_mask(norm: pd.DataFrame, sc: Scope) -> np.ndarray:
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
