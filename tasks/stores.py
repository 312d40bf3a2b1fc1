"""Write-once bundle stores behind one interface: a local directory (the default) and S3 (Object Lock).

A bundle is a BagIt directory stored under its id (``new_bundle_id``). It becomes visible only once
complete: the local store copies into a hidden ``.incoming/`` directory and renames it into place
(atomic); the S3 store uploads every object under ``<prefix>data/<id>/`` and then, last, a commit
marker ``<prefix>committed/<id>.json`` that names each object's version. Listings read markers only,
so an interrupted upload leaves nothing visible (stale objects may remain; they are never listed).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import re
import shutil
import socket
import stat
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple, Protocol, runtime_checkable
from zoneinfo import ZoneInfo

from complaints import settings as cfg
from complaints.errors import InfraError

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client  # pragma: no cover
else:
    S3Client = Any

SHANGHAI = ZoneInfo("Asia/Shanghai")
_PART = r"[A-Za-z0-9_\-]{1,64}"
_STAMP = r"\d{8}T\d{6}Z"
BUNDLE_ID = re.compile(rf"^(?P<filing>{_PART})/(?P<entity>{_PART})/(?P<period>{_PART})/"
                       rf"(?P<stamp>{_STAMP})-(?P<run>[a-z0-9]{{1,8}})$")
MiB = 1024 * 1024


class StoreError(InfraError):
    """The store cannot do what was asked (message names the bundle and the reason)."""


class BundleExists(StoreError):
    """A committed bundle with this id exists already; bundles are write-once."""


class BundleNotFound(StoreError):
    """No committed bundle has this id."""

    exit_code = 2  # a wrong id, not a failing store


class BundleId(NamedTuple):
    filing: str
    entity: str
    period: str
    created: dt.datetime  # UTC
    run: str

    def __str__(self) -> str:
        return f"{self.filing}/{self.entity}/{self.period}/{self.created:%Y%m%dT%H%M%SZ}-{self.run}"


def new_bundle_id(filing: str, entity: str, period: str, run_id: str, at: dt.datetime) -> str:
    """``<filing>/<entity>/<period>/<UTC yyyymmddThhmmssZ>-<first 8 of run id>``: sorts by time per period.

    A naive ``at`` is read as Asia/Shanghai (the project's convention for naive times).
    """
    if at.tzinfo is None:
        at = at.replace(tzinfo=SHANGHAI)
    run8 = re.sub(r"[^A-Za-z0-9]", "", run_id).lower()[:8]
    bundle_id = f"{filing}/{entity}/{period}/{at.astimezone(dt.UTC):%Y%m%dT%H%M%SZ}-{run8}"
    parse_bundle_id(bundle_id)  # validates every part
    return bundle_id


def parse_bundle_id(bundle_id: str) -> BundleId:
    """Split and validate a bundle id; ``ValueError`` names what is wrong (also guards path traversal)."""
    m = BUNDLE_ID.match(bundle_id)
    if not m:
        raise ValueError(
            f"{bundle_id!r} is not a bundle id (expected filing/entity/period/YYYYMMDDTHHMMSSZ-run, "
            "e.g. quarterly/HO/2026Q3/20261121T210405Z-1a2b3c4d)"
        )
    created = dt.datetime.strptime(m["stamp"], "%Y%m%dT%H%M%SZ").replace(tzinfo=dt.UTC)
    return BundleId(m["filing"], m["entity"], m["period"], created, m["run"])


def _matches(bundle_id: str, filing: str | None, entity: str | None, period: str | None) -> bool:
    try:
        b = parse_bundle_id(bundle_id)
    except ValueError:
        return False
    return all(want is None or want == got for want, got in
               ((filing, b.filing), (entity, b.entity), (period, b.period)))


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


# ---------------------------------------------------------------------------------------------- local


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


# ------------------------------------------------------------------------------------------------- S3


def _env_seconds(name: str, default: float) -> float:
    raw = os.environ.get(name, "").strip()
    try:
        value = float(raw) if raw else default
    except ValueError as exc:
        raise StoreError(f"${name}={raw!r} is not a number of seconds") from exc
    if value <= 0:
        raise StoreError(f"${name} must be a positive number of seconds")
    return value


def _client_config(settings: cfg.S3Store) -> Any:
    """Timeouts and retries for the S3 client: a hung endpoint fails the request after the read
    timeout (``archive.s3.read_timeout_s`` or ``$COMPLAINTS_S3_READ_TIMEOUT``; connect
    ``connect_timeout_s`` or ``$COMPLAINTS_S3_CONNECT_TIMEOUT``) and 5xx / throttling / timeouts are
    retried with backoff (botocore's "standard" mode; ``$AWS_MAX_ATTEMPTS`` / ``$AWS_RETRY_MODE``
    override as usual)."""
    from botocore.config import Config

    retries: dict[str, Any] = {"mode": os.environ.get("AWS_RETRY_MODE") or "standard"}
    if not os.environ.get("AWS_MAX_ATTEMPTS"):
        retries["max_attempts"] = 5
    return Config(connect_timeout=_env_seconds("COMPLAINTS_S3_CONNECT_TIMEOUT", settings.connect_timeout_s),
                  read_timeout=_env_seconds("COMPLAINTS_S3_READ_TIMEOUT", settings.read_timeout_s),
                  retries=retries)


def _client_error_code(exc: Exception) -> str:
    response = getattr(exc, "response", None) or {}
    return str(response.get("Error", {}).get("Code", ""))


class S3Store:
    """Bundles in an S3-compatible bucket (AWS, MinIO, Alibaba OSS ...), Object Lock where configured.

    Layout: ``<prefix>data/<id>/<file>`` for the bag's files, then ``<prefix>committed/<id>.json``
    (the commit marker: each file's key, version id, size and SHA-256). Credentials come from the
    environment (boto3's chain: ``AWS_ACCESS_KEY_ID`` ..., profiles, instance roles).
    """

    def __init__(self, settings: cfg.S3Store, client: S3Client | None = None) -> None:
        import boto3
        from boto3.s3.transfer import TransferConfig

        self.settings = settings
        self.bucket = settings.bucket
        prefix = settings.prefix
        self.prefix = prefix if not prefix or prefix.endswith("/") else prefix + "/"
        self.client: S3Client = client or boto3.client(
            "s3", endpoint_url=settings.endpoint_url, region_name=settings.region,
            config=_client_config(settings))
        threshold = max(settings.multipart_threshold_mb, 5) * MiB  # S3 parts are at least 5 MiB
        self.transfer = TransferConfig(multipart_threshold=threshold, multipart_chunksize=threshold)

    def describe(self) -> str:
        where = self.settings.endpoint_url or f"AWS {self.settings.region}"
        return f"s3://{self.bucket}/{self.prefix} at {where}"

    def _data_key(self, bundle_id: str, rel: str = "") -> str:
        return f"{self.prefix}data/{bundle_id}/{rel}"

    def _marker_key(self, bundle_id: str) -> str:
        return f"{self.prefix}committed/{bundle_id}.json"

    # -- writing

    def _extra_args(self, until: dt.datetime | None) -> dict[str, Any]:
        s = self.settings
        extra: dict[str, Any] = {"ChecksumAlgorithm": "SHA256"}
        if s.object_lock_mode and until is not None:
            extra.update(ObjectLockMode=s.object_lock_mode, ObjectLockRetainUntilDate=until)
        if s.server_side_encryption:
            extra["ServerSideEncryption"] = s.server_side_encryption
            if s.server_side_encryption == "aws:kms" and s.kms_key_id:
                extra["SSEKMSKeyId"] = s.kms_key_id
        return extra

    def _ensure_lock(self, key: str, head: dict[str, Any], until: dt.datetime | None) -> dict[str, Any]:
        """Some endpoints drop lock headers on multipart uploads: set retention on the version then."""
        mode = self.settings.object_lock_mode
        if not mode or until is None or head.get("ObjectLockMode"):
            return head
        args: dict[str, Any] = {"Bucket": self.bucket, "Key": key,
                                "Retention": {"Mode": mode, "RetainUntilDate": until},
                                "ChecksumAlgorithm": "SHA256"}
        if head.get("VersionId"):
            args["VersionId"] = head["VersionId"]
        self.client.put_object_retention(**args)
        return self._head(key, head.get("VersionId"))

    def _head(self, key: str, version_id: str | None = None) -> dict[str, Any]:
        args: dict[str, Any] = {"Bucket": self.bucket, "Key": key, "ChecksumMode": "ENABLED"}
        if version_id:
            args["VersionId"] = version_id
        return dict(self.client.head_object(**args))

    def put(self, bundle_id: str, bag_dir: Path) -> str:
        parse_bundle_id(bundle_id)
        if self.exists(bundle_id):
            raise BundleExists(f"bundle {bundle_id!r} exists already in {self.describe()}; bundles are "
                               "write-once (a re-run makes a new bundle id)")
        now = dt.datetime.now(dt.UTC)
        until = now + dt.timedelta(days=self.settings.retention_days) if self.settings.object_lock_mode \
            else None
        extra = self._extra_args(until)
        objects: dict[str, dict[str, Any]] = {}
        for rel in bag_files(Path(bag_dir)):
            key = self._data_key(bundle_id, rel)
            self.client.upload_file(str(Path(bag_dir) / rel), self.bucket, key, ExtraArgs=extra,
                                    Config=self.transfer)
            head = self._ensure_lock(key, self._head(key), until)
            objects[rel] = {"key": key, "version_id": head.get("VersionId"),
                            "size": head["ContentLength"], "sha256": head.get("ChecksumSHA256")}
        marker = {"bundle_id": bundle_id, "committed_at": dt.datetime.now(dt.UTC).isoformat(),
                  "lock": {"mode": self.settings.object_lock_mode,
                           "retain_until": until.isoformat() if until else None},
                  "objects": objects}
        body = json.dumps(marker, ensure_ascii=False, indent=1, sort_keys=True).encode()
        args: dict[str, Any] = {"Bucket": self.bucket, "Key": self._marker_key(bundle_id), "Body": body,
                                "ContentType": "application/json", **extra}
        try:  # the commit: last, and never over an existing marker
            self.client.put_object(IfNoneMatch="*", **args)
        except Exception as exc:
            code = _client_error_code(exc)
            if code in ("PreconditionFailed", "412", "ConditionalRequestConflict"):
                raise BundleExists(f"bundle {bundle_id!r} was committed concurrently") from exc
            if code not in ("NotImplemented", "501"):
                raise
            self.client.put_object(**args)  # endpoint without conditional writes: checked by exists()
        return f"s3://{self.bucket}/{self._data_key(bundle_id)}"

    # -- reading

    def _marker_versions(self, bundle_id: str) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        key = self._marker_key(bundle_id)
        resp = self.client.list_object_versions(Bucket=self.bucket, Prefix=key)
        versions = [v for v in resp.get("Versions", []) if v["Key"] == key]
        deletes = [v for v in resp.get("DeleteMarkers", []) if v["Key"] == key]
        return sorted(versions, key=lambda v: v["LastModified"]), deletes

    def _marker(self, bundle_id: str) -> dict[str, Any]:
        """The first (original) version of the commit marker: later versions cannot redefine a bundle."""
        parse_bundle_id(bundle_id)
        try:
            versions, _ = self._marker_versions(bundle_id)
        except Exception as exc:  # endpoints without versioning support
            if _client_error_code(exc) not in ("NotImplemented", "501"):
                raise
            versions = []
        args: dict[str, Any] = {"Bucket": self.bucket, "Key": self._marker_key(bundle_id)}
        if versions and versions[0].get("VersionId") not in (None, "null"):
            args["VersionId"] = versions[0]["VersionId"]
        try:
            body = self.client.get_object(**args)["Body"].read()
        except Exception as exc:
            if _client_error_code(exc) in ("NoSuchKey", "404", "NoSuchVersion"):
                raise BundleNotFound(f"no committed bundle {bundle_id!r} in {self.describe()}") from exc
            raise
        marker: dict[str, Any] = json.loads(body)
        return marker

    def exists(self, bundle_id: str) -> bool:
        parse_bundle_id(bundle_id)
        try:
            self.client.head_object(Bucket=self.bucket, Key=self._marker_key(bundle_id))
        except Exception as exc:
            if _client_error_code(exc) in ("404", "NoSuchKey", "NotFound"):
                return False
            raise
        return True

    def _keys(self, prefix: str) -> Iterator[str]:
        for page in self.client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=prefix):
            for obj in page.get("Contents", []):
                yield obj["Key"]

    def list(self, filing: str | None = None, entity: str | None = None,
             period: str | None = None) -> list[str]:
        narrow = ""
        for part in (filing, entity, period):
            if part is None:
                break
            narrow += part + "/"
        base = f"{self.prefix}committed/"
        ids = (k[len(base):-len(".json")] for k in self._keys(base + narrow) if k.endswith(".json"))
        return sorted(i for i in ids if _matches(i, filing, entity, period))

    def files(self, bundle_id: str) -> dict[str, int]:
        return {rel: int(o["size"]) for rel, o in sorted(self._marker(bundle_id)["objects"].items())}

    def _get_args(self, obj: dict[str, Any]) -> dict[str, Any]:
        args: dict[str, Any] = {"Bucket": self.bucket, "Key": obj["key"]}
        if obj.get("version_id") not in (None, "null"):
            args["VersionId"] = obj["version_id"]
        return args

    def read(self, bundle_id: str, relpath: str) -> bytes:
        obj = self._marker(bundle_id)["objects"].get(relpath)
        if obj is None:
            raise StoreError(f"bundle {bundle_id!r} has no file {relpath!r}")
        data: bytes = self.client.get_object(**self._get_args(obj))["Body"].read()
        return data

    def get(self, bundle_id: str, dest: Path) -> Path:
        marker = self._marker(bundle_id)
        _check_dest(dest)
        for rel, obj in sorted(marker["objects"].items()):
            target = (dest / rel).resolve()
            if not target.is_relative_to(dest.resolve()):
                raise StoreError(f"bundle {bundle_id!r}: unsafe path {rel!r} in the commit marker")
            target.parent.mkdir(parents=True, exist_ok=True)
            args = self._get_args(obj)
            extra = {"VersionId": args["VersionId"]} if "VersionId" in args else None
            self.client.download_file(self.bucket, obj["key"], str(target), ExtraArgs=extra,
                                      Config=self.transfer)
        return dest

    def lock_status(self, bundle_id: str) -> LockStatus:
        """Object Lock from ``head_object`` of each committed version (not ``get_object_retention``),
        plus tampering the store can see: rewritten marker, newer versions, objects outside the marker."""
        marker = self._marker(bundle_id)
        mode = self.settings.object_lock_mode
        status = LockStatus(reported=True)
        versions, deletes = self._marker_versions(bundle_id)
        if len(versions) > 1:
            status.problems.append(f"store: the commit marker has {len(versions)} versions (rewritten after "
                                   "commit; the first is used)")
        if deletes:
            status.problems.append("store: the commit marker has a delete marker")
        now = dt.datetime.now(dt.UTC)
        modes: set[str] = set()
        until_min: dt.datetime | None = None
        for rel, obj in sorted(marker["objects"].items()):
            try:
                head = self._head(obj["key"], self._get_args(obj).get("VersionId"))
            except Exception as exc:
                status.problems.append(f"store: {rel}: committed version unreadable "
                                       f"({_client_error_code(exc) or exc})")
                continue
            if head.get("ContentLength") != obj["size"]:
                status.problems.append(f"store: {rel}: size {head.get('ContentLength')} differs from the "
                                       f"committed {obj['size']}")
            if obj.get("sha256") and head.get("ChecksumSHA256") and head["ChecksumSHA256"] != obj["sha256"]:
                status.problems.append(f"store: {rel}: SHA-256 differs from the committed one")
            try:
                current: dict[str, Any] | None = self._head(obj["key"])
            except Exception as exc:
                if _client_error_code(exc) not in ("404", "NoSuchKey", "NotFound", "405"):
                    raise
                current = None
            if current is None:
                status.problems.append(f"store: {rel}: deleted after commit (a delete marker hides the "
                                       "committed version, which remains)")
            elif obj.get("version_id") and current.get("VersionId") != obj["version_id"]:
                status.problems.append(f"store: {rel}: a newer version was written over the committed one")
            got_mode = head.get("ObjectLockMode")
            until = head.get("ObjectLockRetainUntilDate")
            if got_mode:
                modes.add(str(got_mode))
                if until is not None:
                    until_min = until if until_min is None else min(until_min, until)
            elif mode:
                status.problems.append(f"store: {rel}: no object lock (configured: {mode})")
            if head.get("ObjectLockLegalHoldStatus") == "ON":
                status.lines.append(f"{rel}: legal hold on")
        if modes:
            when = f" until {until_min:%Y-%m-%d}" if until_min else ""
            expired = " (retention has ended)" if until_min and until_min < now else ""
            status.lines.insert(0, f"object lock: {', '.join(sorted(modes))}{when}{expired} "
                                f"on {len(marker['objects'])} objects")
        elif not mode:
            status.lines.insert(0, "object lock: not configured for this store")
        listed = set(self._keys(self._data_key(bundle_id)))
        for key in sorted(listed - {o["key"] for o in marker["objects"].values()}):
            status.problems.append(f"store: object {key} is not part of the committed bundle")
        return status


def open_store(archive: cfg.Archive, workdir: Path) -> Store:
    """The configured store; a relative local root is resolved against ``workdir``."""
    if archive.store == "s3":
        return S3Store(archive.s3)
    root = Path(archive.local.root)
    return LocalStore(root if root.is_absolute() else Path(workdir) / root)
