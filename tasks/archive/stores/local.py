"""The local-directory bundle store (the embedded default): atomic rename into place, read-only files."""

from __future__ import annotations

import os
import shutil
import stat
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client  # pragma: no cover
else:
    S3Client = Any

from tasks.archive.stores.base import (
    _HOST,
    BundleExists,
    BundleNotFound,
    LockStatus,
    StoreError,
    _alive,
    _check_dest,
    _matches,
    _remove_tree,
    bag_files,
    parse_bundle_id,
)


class LocalStore:
    """Bundles as read-only directories ``<root>/<bundle id>/`` (the embedded default).

    Write-once by refusal (``put`` never replaces) and read-only permissions; that does not stop the
    directory's owner or root, so use the S3 store with Object Lock where tamper-proofing matters.
    """

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def describe(self) -> str:
        return f"local directory {self.root}"

    def path(self, bundle_id: str) -> Path:
        """The committed bundle's directory (the bag itself)."""
        parse_bundle_id(bundle_id)
        return self.root / bundle_id

    def exists(self, bundle_id: str) -> bool:
        return (self.path(bundle_id) / "bagit.txt").is_file()

    def _need(self, bundle_id: str) -> Path:
        if not self.exists(bundle_id):
            raise BundleNotFound(f"no committed bundle {bundle_id!r} in {self.describe()}")
        return self.path(bundle_id)

    def put(self, bundle_id: str, bag_dir: Path) -> str:
        target = self.path(bundle_id)
        if target.exists():
            raise BundleExists(f"bundle {bundle_id!r} exists already in {self.describe()}; bundles are "
                               "write-once (a re-run makes a new bundle id)")
        files = bag_files(Path(bag_dir))
        self._clean_incoming()
        incoming = self.root / ".incoming" / f"{_HOST}-{os.getpid()}-{uuid.uuid4().hex}"
        incoming.mkdir(parents=True)
        for rel in files:
            dst = incoming / rel
            dst.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(Path(bag_dir) / rel, dst)
            os.chmod(dst, 0o444)
        target.parent.mkdir(parents=True, exist_ok=True)
        if target.exists():  # lost a race with another writer
            raise BundleExists(f"bundle {bundle_id!r} appeared in {self.describe()} while copying")
        os.rename(incoming, target)  # the commit: atomic on one file system
        for d in sorted((p for p in target.rglob("*") if p.is_dir()), reverse=True):
            os.chmod(d, 0o555)
        os.chmod(target, 0o555)
        return str(target)

    def _clean_incoming(self) -> None:
        """Remove uncommitted copies left by writers on this host that died mid-copy (SIGKILL, power
        loss): ``.incoming/<host>-<pid>-<uuid>`` whose process is gone. Never listed in any case."""
        incoming = self.root / ".incoming"
        if not incoming.is_dir():
            return
        for entry in incoming.iterdir():
            host, _, rest = entry.name.rpartition("-")[0].rpartition("-")
            if host != _HOST or not rest.isdigit() or _alive(int(rest)):
                continue
            _remove_tree(entry)

    def list(self, filing: str | None = None, entity: str | None = None,
             period: str | None = None) -> list[str]:
        if not self.root.is_dir():
            return []
        pattern = "/".join([filing or "*", entity or "*", period or "*", "*", "bagit.txt"])
        ids = (p.parent.relative_to(self.root).as_posix() for p in self.root.glob(pattern))
        return sorted(i for i in ids if _matches(i, filing, entity, period))

    def files(self, bundle_id: str) -> dict[str, int]:
        root = self._need(bundle_id)
        return {rel: (root / rel).stat().st_size for rel in bag_files(root)}

    def read(self, bundle_id: str, relpath: str) -> bytes:
        root = self._need(bundle_id)
        p = (root / relpath).resolve()
        if not p.is_relative_to(root.resolve()) or not p.is_file():
            raise StoreError(f"bundle {bundle_id!r} has no file {relpath!r}")
        return p.read_bytes()

    def get(self, bundle_id: str, dest: Path) -> Path:
        root = self._need(bundle_id)
        if Path(dest).resolve().is_relative_to(self.root.resolve()):
            raise StoreError(f"{dest}: inside the store root {self.root}; a copy there could be listed as a "
                             "committed bundle. Choose a directory outside the store")
        _check_dest(dest)
        for rel in bag_files(root):
            (dest / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(root / rel, dest / rel)
        return dest

    def lock_status(self, bundle_id: str) -> LockStatus:
        root = self._need(bundle_id)
        writable = [p.relative_to(root).as_posix() or "." for p in [root, *root.rglob("*")]
                    if p.stat().st_mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH)]
        status = LockStatus(reported=True, lines=[
            "local store: files and directories read-only (protects against mistakes, not against the "
            "owner or root)"])
        status.problems += [f"store: {rel} is writable (local bundles must be read-only)" for rel in writable]
        return status


