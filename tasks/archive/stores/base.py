"""What every bundle store shares: bundle ids, the store interface, lock status and the store errors."""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import re
import shutil
import socket
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple, Protocol, runtime_checkable

from complaints.errors import InfraError
from complaints.times import SHANGHAI

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client  # pragma: no cover
else:
    S3Client = Any

_PART = r"[A-Za-z0-9_\-]{1,64}"
_STAMP = r"\d{8}T\d{6}Z"
BUNDLE_ID = re.compile(rf"^(?P<filing>{_PART})/(?P<entity>{_PART})/(?P<period>{_PART})/"
                       rf"(?P<stamp>{_STAMP})-(?P<run>[a-z0-9]{{1,8}})$")
MiB = 1024 * 1024


class StoreError(InfraError):
    """The store cannot do what was asked (message names the bundle and the reason)."""


class BundleExists(StoreError):
    """A committed bundle with this id exists already; bundles are write-once."""


class BundleDamaged(StoreError):
    """A listed bundle cannot be trusted as committed: its commit marker or bag is not well-formed (the
    message names the bundle and what is wrong). Never counted as filed."""


class BundleNotFound(StoreError):
    """No committed bundle has this id."""

    exit_code = 2  # a wrong id, not a failing store


#: the first part of a preview's bundle id is ``<filing>-preview``: previews live under their own prefix,
#: apart from the drafts that can be submitted (a listing by filing never returns them)
PREVIEW_SUFFIX = "-preview"


class BundleId(NamedTuple):
    filing: str  # the filing kind ("quarterly"), also for a preview
    entity: str
    period: str
    created: dt.datetime  # UTC
    run: str
    preview: bool = False  # a preview of a period not yet ended: never a draft, never filed

    @property
    def kind(self) -> str:
        """The first part of the id: the filing, or ``<filing>-preview`` for a preview."""
        return self.filing + (PREVIEW_SUFFIX if self.preview else "")

    def __str__(self) -> str:
        return f"{self.kind}/{self.entity}/{self.period}/{self.created:%Y%m%dT%H%M%SZ}-{self.run}"


def new_bundle_id(filing: str, entity: str, period: str, run_id: str, at: dt.datetime,
                  preview: bool = False) -> str:
    """``<filing>/<entity>/<period>/<UTC yyyymmddThhmmssZ>-<first 8 of run id>``: sorts by time per period;
    a preview's first part is ``<filing>-preview``.

    A naive ``at`` is read as Asia/Shanghai (the project's convention for naive times).
    """
    if at.tzinfo is None:
        at = at.replace(tzinfo=SHANGHAI)
    kind = filing + (PREVIEW_SUFFIX if preview else "")
    bundle_id = f"{kind}/{entity}/{period}/{at.astimezone(dt.UTC):%Y%m%dT%H%M%SZ}-{run_part(run_id)}"
    parse_bundle_id(bundle_id)  # validates every part
    return bundle_id


def run_part(run_id: str) -> str:
    """The run part of a bundle id: the first 8 letters or digits of the run id, lower case."""
    return re.sub(r"[^A-Za-z0-9]", "", run_id).lower()[:8]


def parse_bundle_id(bundle_id: str) -> BundleId:
    """Split and validate a bundle id; ``ValueError`` names what is wrong (also guards path traversal)."""
    m = BUNDLE_ID.match(bundle_id)
    if not m:
        raise ValueError(
            f"{bundle_id!r} is not a bundle id (expected filing/entity/period/YYYYMMDDTHHMMSSZ-run, "
            "e.g. quarterly/HO/2026Q3/20261121T210405Z-1a2b3c4d)"
        )
    created = dt.datetime.strptime(m["stamp"], "%Y%m%dT%H%M%SZ").replace(tzinfo=dt.UTC)
    filing, preview = m["filing"], m["filing"].endswith(PREVIEW_SUFFIX)
    if preview:
        filing = filing[: -len(PREVIEW_SUFFIX)]
    return BundleId(filing, m["entity"], m["period"], created, m["run"], preview)


def _matches(bundle_id: str, filing: str | None, entity: str | None, period: str | None) -> bool:
    """``filing`` is matched against the id's first part: ``quarterly`` lists drafts, never previews
    (``quarterly-preview`` lists those)."""
    try:
        b = parse_bundle_id(bundle_id)
    except ValueError:
        return False
    return all(want is None or want == got for want, got in
               ((filing, b.kind), (entity, b.entity), (period, b.period)))


def bag_files(bag_dir: Path) -> list[str]:
    """Every regular file of a bag, as sorted POSIX paths relative to ``bag_dir``."""
    if not bag_dir.is_dir():
        raise StoreError(f"{bag_dir}: not a directory")
    return sorted(p.relative_to(bag_dir).as_posix() for p in bag_dir.rglob("*") if p.is_file())


@dataclass
class LockStatus:
    """What the store says about a bundle's protection: ``lines`` to show, ``problems`` that fail verify."""

    reported: bool
    lines: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


@runtime_checkable
class Store(Protocol):
    """A write-once store of bundles (BagIt directories) keyed by bundle id."""

    def describe(self) -> str:
        """Where the store is, for messages (no secrets)."""
        ...

    def put(self, bundle_id: str, bag_dir: Path) -> str:
        """Store a complete bag; visible only when complete. Raises ``BundleExists``. Returns its location."""
        ...

    def exists(self, bundle_id: str) -> bool:
        """Whether a committed bundle has this id."""
        ...

    def list(self, filing: str | None = None, entity: str | None = None,
             period: str | None = None) -> list[str]:
        """Committed bundle ids, sorted; uncommitted objects are never listed."""
        ...

    def files(self, bundle_id: str) -> dict[str, int]:
        """The committed bundle's files (relative path -> size in bytes)."""
        ...

    def read(self, bundle_id: str, relpath: str) -> bytes:
        """One committed file's bytes."""
        ...

    def get(self, bundle_id: str, dest: Path) -> Path:
        """Copy the committed bundle into ``dest`` (absent or empty); returns ``dest``."""
        ...

    def lock_status(self, bundle_id: str) -> LockStatus:
        """The store's own report on the bundle's protection (locks, read-only files, tampering)."""
        ...


_HOST = re.sub(r"[^A-Za-z0-9_.]", "_", socket.gethostname()) or "host"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _remove_tree(path: Path) -> None:
    """Best-effort removal of an uncommitted copy (its files were made read-only)."""
    if not path.exists():
        return
    for p in [path, *path.rglob("*")]:
        with contextlib.suppress(OSError):
            os.chmod(p, 0o755 if p.is_dir() else 0o644)
    shutil.rmtree(path, ignore_errors=True)


def _check_dest(dest: Path) -> None:
    if dest.exists() and (not dest.is_dir() or any(dest.iterdir())):
        raise StoreError(f"{dest}: destination exists and is not an empty directory")
    dest.mkdir(parents=True, exist_ok=True)


