"""Write-once bundle stores behind one interface (``Store``): a local directory (the default, ``local``)
and S3 with Object Lock (``s3``); ``open_store`` picks the configured one.

A bundle is a BagIt directory stored under its id (``new_bundle_id``). It becomes visible only once
complete: the local store copies into a hidden ``.incoming/`` directory and renames it into place
(atomic); the S3 store uploads every object under ``<prefix>data/<id>/`` and then, last, a commit
marker ``<prefix>committed/<id>.json`` that names each object's version. Listings read markers only,
so an interrupted upload leaves nothing visible (stale objects may remain; they are never listed).
"""

from __future__ import annotations

from pathlib import Path

from complaints import settings as cfg
from tasks.archive.stores.base import (
    BundleDamaged,
    BundleExists,
    BundleId,
    BundleNotFound,
    LockStatus,
    Store,
    StoreError,
    bag_files,
    new_bundle_id,
    parse_bundle_id,
    run_part,
)
from tasks.archive.stores.local import LocalStore
from tasks.archive.stores.s3 import ArchiveCheck, S3Store, check_s3_archive

__all__ = [
    "ArchiveCheck", "BundleDamaged", "BundleExists", "BundleId", "BundleNotFound", "LocalStore", "LockStatus",
    "S3Store", "Store", "StoreError", "bag_files", "check_s3_archive", "new_bundle_id", "open_store",
    "parse_bundle_id", "run_part",
]


def open_store(archive: cfg.Archive, workdir: Path) -> Store:
    """The configured store; a relative local root is resolved against ``workdir``."""
    if archive.store == "s3":
        return S3Store(archive.s3)
    root = Path(archive.local.root)
    return LocalStore(root if root.is_absolute() else Path(workdir) / root)


