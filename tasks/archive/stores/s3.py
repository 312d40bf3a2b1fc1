"""The S3 bundle store (AWS, MinIO, Alibaba OSS, Ceph RGW) with Object Lock, and the archive check.

A bundle is a BagIt directory stored under its id (``new_bundle_id``). It becomes visible only once
complete: the local store copies into a hidden ``.incoming/`` directory and renames it into place
(atomic); the S3 store uploads every object under ``<prefix>data/<id>/`` and then, last, a commit
marker ``<prefix>committed/<id>.json`` that names each object's version. Listings read markers only,
so an interrupted upload leaves nothing visible (stale objects may remain; they are never listed).
"""

from __future__ import annotations

import base64
import contextlib
import datetime as dt
import hashlib
import json
import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from complaints import settings as cfg

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client  # pragma: no cover
else:
    S3Client = Any

from tasks.archive.stores.base import (
    BundleDamaged,
    BundleExists,
    BundleNotFound,
    LockStatus,
    MiB,
    StoreError,
    _check_dest,
    _matches,
    bag_files,
    parse_bundle_id,
)


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
    # deferred: would import botocore (only the S3 store needs it) at every start-up
    from botocore.config import Config

    retries: dict[str, Any] = {"mode": os.environ.get("AWS_RETRY_MODE") or "standard"}
    if not os.environ.get("AWS_MAX_ATTEMPTS"):
        retries["max_attempts"] = 5
    return Config(connect_timeout=_env_seconds("COMPLAINTS_S3_CONNECT_TIMEOUT", settings.connect_timeout_s),
                  read_timeout=_env_seconds("COMPLAINTS_S3_READ_TIMEOUT", settings.read_timeout_s),
                  retries=retries)


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


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
        # deferred: would import boto3 (only the S3 store needs it) at every start-up
        import boto3

        # deferred: would import boto3 (only the S3 store needs it) at every start-up
        from boto3.s3.transfer import TransferConfig

        self.settings = settings
        self.bucket = settings.bucket
        prefix = settings.prefix
        self.prefix = prefix if not prefix or prefix.endswith("/") else prefix + "/"
        self._own_client = client is None
        self._probe: S3Client | None = None
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

    @property
    def _etag_is_md5(self) -> bool:
        """S3 ETags are the MD5 of the bytes (of the part MD5s for multipart) except under SSE-KMS."""
        return self.settings.server_side_encryption != "aws:kms"

    def _upload(self, key: str, path: Path, extra: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
        """Upload one file with ``Content-MD5`` on the PUT or on every part (the store refuses bytes that
        do not match it), then check what the store gives back: the ETag against the MD5 of what was
        sent and, where the store returns one, its SHA-256 against ours. Returns the object's record."""
        size = path.stat().st_size
        chunk = self.transfer.multipart_chunksize
        sha256 = hashlib.sha256()
        base = {"Bucket": self.bucket, "Key": key}
        if size < self.transfer.multipart_threshold:
            data = path.read_bytes()
            sha256.update(data)
            md5 = hashlib.md5(data, usedforsecurity=False).digest()
            resp = self.client.put_object(**base, Body=data, ContentMD5=_b64(md5), **extra)
            want_etag, want_sha = md5.hex(), _b64(sha256.digest())
            parts = 1
        else:
            upload_id = self.client.create_multipart_upload(**base, **extra)["UploadId"]
            done: list[dict[str, Any]] = []
            md5s: list[bytes] = []
            part_shas: list[bytes] = []
            try:
                with open(path, "rb") as fh:
                    while block := fh.read(chunk):
                        n = len(done) + 1
                        sha256.update(block)
                        md5 = hashlib.md5(block, usedforsecurity=False).digest()
                        part_sha = hashlib.sha256(block).digest()
                        args: dict[str, Any] = {**base, "UploadId": upload_id, "PartNumber": n, "Body": block,
                                                "ContentMD5": _b64(md5)}
                        if extra.get("ChecksumAlgorithm"):
                            args["ChecksumAlgorithm"] = extra["ChecksumAlgorithm"]
                        got = self.client.upload_part(**args)
                        if self._etag_is_md5 and got["ETag"].strip('"') != md5.hex():
                            raise StoreError(f"{key}: part {n}: the store's ETag {got['ETag']} is not the "
                                             "MD5 "
                                             "of the bytes sent (corrupted in transit or in the store)")
                        part = {"PartNumber": n, "ETag": got["ETag"]}
                        if got.get("ChecksumSHA256"):
                            part["ChecksumSHA256"] = got["ChecksumSHA256"]
                        done.append(part)
                        md5s.append(md5)
                        part_shas.append(part_sha)
                resp = self.client.complete_multipart_upload(**base, UploadId=upload_id,
                                                             MultipartUpload={"Parts": done})
            except BaseException:
                with contextlib.suppress(Exception):
                    self.client.abort_multipart_upload(**base, UploadId=upload_id)
                raise
            parts = len(done)
            want_etag = hashlib.md5(b"".join(md5s), usedforsecurity=False).hexdigest() + f"-{parts}"
            want_sha = _b64(hashlib.sha256(b"".join(part_shas)).digest()) + f"-{parts}"
        # what the store gives back: the PUT's answer, else a HEAD of the version (RGW's multipart
        # completion has no ETag; moto's has no checksum)
        head = self._head(key, resp.get("VersionId"))
        etag = str(resp.get("ETag") or head.get("ETag") or "").strip('"')
        if self._etag_is_md5 and etag and etag != want_etag:
            raise StoreError(f"{key}: the store's ETag {etag} is not the MD5 of the bytes sent "
                             f"({want_etag}): "
                             "corrupted in transit or in the store")
        store_sha = resp.get("ChecksumSHA256") or head.get("ChecksumSHA256")
        # multipart: a checksum of the parts' checksums, with or without "-<parts>"
        if store_sha and store_sha.split("-")[0] != want_sha.split("-")[0]:
            raise StoreError(f"{key}: the store's SHA-256 {store_sha} differs from the bytes sent "
                             f"({want_sha})")
        record = {"key": key, "version_id": resp.get("VersionId") or head.get("VersionId"), "size": size,
                  "parts": parts, "md5": want_etag, "etag": etag or None, "sha256": _b64(sha256.digest()),
                  "store_sha256": store_sha or None}
        return record, head

    def _probe_client(self) -> S3Client:
        """A client without retries for probes whose refusals are expected (and moto's 500s)."""
        if self._probe is None:
            if not self._own_client:
                self._probe = self.client
            else:
                # deferred: would import boto3 (only the S3 store needs it) at every start-up
                import boto3

                # deferred: would import botocore (only the S3 store needs it) at every start-up
                from botocore.config import Config

                self._probe = boto3.client(
                    "s3", endpoint_url=self.settings.endpoint_url, region_name=self.settings.region,
                    config=_client_config(self.settings).merge(Config(retries={"max_attempts": 1,
                                                                               "mode": "standard"})))
        return self._probe

    def probe(self, where: str) -> dict[str, Any]:
        """What this store honours, found by trying it on small objects under ``<prefix>probe/<where>/``:
        a wrong Content-MD5 refused? SHA-256 checksums returned? a wrong SHA-256 refused? a conditional
        put (``If-None-Match: *``) refused over an existing object? SSE-S3 accepted? (``None``: unknown).
        The probe objects stay (bucket default retention may lock them); they are never listed."""
        c = self._probe_client()
        base = f"{self.prefix}probe/{where}/"
        body = b"complaints store probe\n"
        md5, sha = hashlib.md5(body, usedforsecurity=False).digest(), hashlib.sha256(body).digest()
        out: dict[str, Any] = {"probed_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds")}

        def refused(**kw: Any) -> bool | None:
            try:
                c.put_object(Bucket=self.bucket, Body=body, **kw)
            except Exception as exc:
                code = _client_error_code(exc)
                if not code:
                    return None
                out.setdefault("errors", {})[kw["Key"].rsplit("/", 1)[1]] = code
                return True
            return False

        first = c.put_object(Bucket=self.bucket, Key=base + "plain", Body=body, ContentMD5=_b64(md5),
                             ChecksumAlgorithm="SHA256")
        out["server"] = first.get("ResponseMetadata", {}).get("HTTPHeaders", {}).get("server")
        out["wrong_md5_refused"] = refused(Key=base + "bad-md5", ContentMD5=_b64(b"\0" * 16))
        try:
            head = c.head_object(Bucket=self.bucket, Key=base + "plain", ChecksumMode="ENABLED")
            out["sha256_returned"] = head.get("ChecksumSHA256") == _b64(sha) or \
                first.get("ChecksumSHA256") == _b64(sha)
        except Exception:
            out["sha256_returned"] = None
        out["wrong_sha256_refused"] = refused(Key=base + "bad-sha256", ChecksumSHA256=_b64(b"\0" * 32))
        cond = refused(Key=base + "plain", IfNoneMatch="*")
        out["conditional_put"] = cond if cond is None or out.get("errors", {}).get("plain") in (
            None, "PreconditionFailed", "412", "ConditionalRequestConflict") else None
        sse = refused(Key=base + "sse", ServerSideEncryption="AES256")
        out["sse_s3"] = None if sse is None else not sse
        return out

    def put(self, bundle_id: str, bag_dir: Path) -> str:
        parse_bundle_id(bundle_id)
        if self.exists(bundle_id):
            raise BundleExists(f"bundle {bundle_id!r} exists already in {self.describe()}; bundles are "
                               "write-once (a re-run makes a new bundle id)")
        features = self.probe(bundle_id)
        if self.settings.server_side_encryption == "AES256" and features.get("sse_s3") is False:
            raise StoreError(f"{self.describe()} refuses server-side encryption AES256 "
                             f"({features.get('errors', {}).get('sse')}); archive.s3.server_side_encryption "
                             "cannot be met by this store")
        now = dt.datetime.now(dt.UTC)
        days = self.settings.preview_retention_days if parse_bundle_id(bundle_id).preview \
            else self.settings.retention_days  # a preview is never submitted: a short lock
        until = now + dt.timedelta(days=days) if self.settings.object_lock_mode else None
        extra = self._extra_args(until)
        objects: dict[str, dict[str, Any]] = {}
        for rel in bag_files(Path(bag_dir)):
            key = self._data_key(bundle_id, rel)
            record, head = self._upload(key, Path(bag_dir) / rel, extra)
            head = self._ensure_lock(key, head, until)
            if head["ContentLength"] != record["size"]:
                raise StoreError(f"{key}: the store holds {head['ContentLength']} bytes, "
                                 f"{record['size']} were sent")
            objects[rel] = record
        marker = {"bundle_id": bundle_id, "committed_at": dt.datetime.now(dt.UTC).isoformat(),
                  "lock": {"mode": self.settings.object_lock_mode,
                           "retain_until": until.isoformat() if until else None},
                  "store": {"where": self.describe(), "features": features,
                            "sent": "Content-MD5 on every PUT and every multipart part",
                            "etag_checked": sum(1 for o in objects.values()
                                                if o["etag"] and self._etag_is_md5),
                            "sha256_checked": sum(1 for o in objects.values() if o["store_sha256"])},
                  "objects": objects}
        body = json.dumps(marker, ensure_ascii=False, indent=1, sort_keys=True).encode()
        args: dict[str, Any] = {"Bucket": self.bucket, "Key": self._marker_key(bundle_id), "Body": body,
                                "ContentType": "application/json",
                                "ContentMD5": _b64(hashlib.md5(body, usedforsecurity=False).digest()),
                                **extra}
        try:  # the commit: last, and never over an existing marker
            resp = self.client.put_object(IfNoneMatch="*", **args)
        except Exception as exc:
            code = _client_error_code(exc)
            if code in ("PreconditionFailed", "412", "ConditionalRequestConflict"):
                raise BundleExists(f"bundle {bundle_id!r} was committed concurrently") from exc
            if code not in ("NotImplemented", "501"):
                raise
            resp = self.client.put_object(**args)  # endpoint without conditional writes: checked below
        self._check_first_commit(bundle_id, resp.get("VersionId"))
        return f"s3://{self.bucket}/{self._data_key(bundle_id)}"

    def _check_first_commit(self, bundle_id: str, mine: str | None) -> None:
        """Stores that ignore ``If-None-Match: *`` on versioned buckets (Ceph RGW 16) write a second
        marker version instead of refusing it: list the versions; only the first commit counts."""
        if not mine or mine == "null":
            return
        versions, _ = self._marker_versions(bundle_id)
        if len(versions) > 1 and versions[0].get("VersionId") != mine:
            raise BundleExists(
                f"bundle {bundle_id!r} was committed first by another writer: the commit marker has "
                f"{len(versions)} versions and this run's ({mine}) is not the first. The first commit stands "
                "(readers use it); this upload is not part of it. Re-run to make a new bundle id.")

    # -- reading

    def _marker_versions(self, bundle_id: str) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        key = self._marker_key(bundle_id)
        resp = self.client.list_object_versions(Bucket=self.bucket, Prefix=key)
        # listed newest first; reversed, then a stable sort keeps that order within one second
        versions = [v for v in reversed(resp.get("Versions", [])) if v["Key"] == key]
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
        return self._check_marker(bundle_id, body)

    def _check_marker(self, bundle_id: str, body: bytes) -> dict[str, Any]:
        """The marker if it is well-formed: a JSON object naming this bundle whose objects all lie under
        ``<prefix>data/<id>/`` (a forged marker cannot borrow another bundle's locked objects)."""
        def damaged(why: str) -> BundleDamaged:
            return BundleDamaged(f"bundle {bundle_id!r}: the commit marker is not well-formed: {why}")

        try:
            marker = json.loads(body)
        except ValueError as exc:
            raise damaged(f"not JSON ({exc})") from None
        if not isinstance(marker, dict):
            raise damaged("not a JSON object")
        if marker.get("bundle_id") != bundle_id:
            raise damaged(f"it names bundle {marker.get('bundle_id')!r}")
        objects = marker.get("objects")
        if not isinstance(objects, dict) or not objects:
            raise damaged("it lists no objects")
        base = self._data_key(bundle_id)
        for rel, obj in objects.items():
            if not isinstance(obj, dict) or not isinstance(obj.get("key"), str) \
                    or not isinstance(obj.get("size"), int):
                raise damaged(f"object {rel!r} has no key and size")
            if obj["key"] != base + rel:
                raise damaged(f"{rel} points at {obj['key']}, outside {base} (another bundle's objects)")
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
            try:
                self.client.download_file(self.bucket, obj["key"], str(target), ExtraArgs=extra,
                                          Config=self.transfer)
            except Exception as exc:
                code = _client_error_code(exc)
                if code not in ("404", "NoSuchKey", "NoSuchVersion", "NotFound", "403", "AccessDenied"):
                    raise
                raise StoreError(f"bundle {bundle_id!r}: {rel}: the committed version "
                                 f"{obj.get('version_id')} cannot be read from the store ({code}): deleted "
                                 "or hidden after commit") from exc
        return dest

    def lock_status(self, bundle_id: str) -> LockStatus:
        """Object Lock of each committed version, read back with ``get_object_retention`` (``head_object``
        where the store cannot answer it), the checks the store supported at commit, plus tampering the
        store can see: rewritten marker, newer versions, objects outside the marker."""
        marker = self._marker(bundle_id)
        mode = self.settings.object_lock_mode
        status = LockStatus(reported=True)
        versions, deletes = self._marker_versions(bundle_id)
        if len(versions) > 1:
            status.problems.append(f"store: the commit marker has {len(versions)} versions (a second commit "
                                   "or a rewrite after commit; the first is used)")
        if deletes:
            status.problems.append("store: the commit marker has a delete marker")
        now = dt.datetime.now(dt.UTC)
        recorded = marker.get("lock") or {}
        recorded_until = dt.datetime.fromisoformat(recorded["retain_until"]) \
            if recorded.get("retain_until") else None
        modes: set[str] = set()
        until_min: dt.datetime | None = None
        read_back: str | None = "get_object_retention"
        etags = sha_checked = 0
        for rel, obj in sorted(marker["objects"].items()):
            version = self._get_args(obj).get("VersionId")
            try:
                head = self._head(obj["key"], version)
            except Exception as exc:
                status.problems.append(f"store: {rel}: committed version unreadable "
                                       f"({_client_error_code(exc) or exc})")
                continue
            if head.get("ContentLength") != obj["size"]:
                status.problems.append(f"store: {rel}: size {head.get('ContentLength')} differs from the "
                                       f"committed {obj['size']}")
            if obj.get("etag") and str(head.get("ETag", "")).strip('"') != obj["etag"]:
                status.problems.append(f"store: {rel}: ETag differs from the committed one")
            elif obj.get("etag"):
                etags += 1
            store_sha = head.get("ChecksumSHA256")
            want_sha = obj.get("store_sha256") or (obj.get("sha256") if obj.get("parts", 1) == 1 else None)
            if store_sha and want_sha:
                if store_sha != want_sha:
                    status.problems.append(f"store: {rel}: SHA-256 differs from the committed one")
                else:
                    sha_checked += 1
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
            got_mode, until = head.get("ObjectLockMode"), head.get("ObjectLockRetainUntilDate")
            if read_back:
                try:
                    args = {"Bucket": self.bucket, "Key": obj["key"],
                            **({"VersionId": version} if version else {})}
                    retention = self._probe_client().get_object_retention(**args).get("Retention", {})
                    got_mode, until = retention.get("Mode"), retention.get("RetainUntilDate")
                except Exception as exc:
                    code = _client_error_code(exc)
                    if code in ("NoSuchObjectLockConfiguration", "ObjectLockConfigurationNotFoundError"):
                        got_mode = until = None
                    else:  # moto answers 500: say so, and use head_object's headers
                        read_back = None
                        status.lines.append(f"retention: get_object_retention unavailable ({code or exc}); "
                                            "read from head_object instead")
            if got_mode:
                modes.add(str(got_mode))
                if until is not None:
                    until_min = until if until_min is None else min(until_min, until)
                if recorded.get("mode") and got_mode != recorded["mode"]:
                    status.problems.append(f"store: {rel}: lock mode {got_mode}, committed with "
                                           f"{recorded['mode']}")
                if recorded_until and until is not None and until < recorded_until - dt.timedelta(seconds=1):
                    status.problems.append(f"store: {rel}: retention shortened to {until:%Y-%m-%d %H:%M} "
                                           f"(committed until {recorded_until:%Y-%m-%d %H:%M})")
            elif mode or recorded.get("mode"):
                status.problems.append(f"store: {rel}: no object lock (configured: "
                                       f"{recorded.get('mode') or mode})")
            if head.get("ObjectLockLegalHoldStatus") == "ON":
                status.lines.append(f"{rel}: legal hold on")
        n = len(marker["objects"])
        if modes:
            when = f" until {until_min:%Y-%m-%d}" if until_min else ""
            expired = " (retention has ended)" if until_min and until_min < now else ""
            how = f", read back with {read_back}" if read_back else ""
            status.lines.insert(0, f"object lock: {', '.join(sorted(modes))}{when}{expired} on {n} "
                                f"objects{how}")
        elif not mode:
            status.lines.insert(0, "object lock: not configured for this store")
        status.lines += _integrity_lines(marker, n, etags, sha_checked)
        listed = set(self._keys(self._data_key(bundle_id)))
        for key in sorted(listed - {o["key"] for o in marker["objects"].values()}):
            status.problems.append(f"store: object {key} is not part of the committed bundle")
        return status


def _yes(value: Any, yes: str = "yes", no: str = "NO") -> str:
    return "unknown" if value is None else yes if value else no


def _integrity_lines(marker: dict[str, Any], n: int, etags: int, sha_checked: int) -> list[str]:
    """What the store checked and what was checked against it, from the marker's store record: which
    checks the store supported is said outright, never a silent skip."""
    record = marker.get("store")
    if not record:
        return [f"integrity: no store record (committed before stores were probed); SHA-256 checked on "
                f"{sha_checked} of {n} objects, the bag's SHA-512 manifest covers the rest"]
    f = record.get("features", {})
    lines = [f"integrity at commit: Content-MD5 sent on every PUT and part; the store refuses a wrong one: "
             f"{_yes(f.get('wrong_md5_refused'))}; ETag = MD5 of the bytes sent on "
             f"{record.get('etag_checked', 0)} of {n} objects"]
    if f.get("sha256_returned"):
        lines.append(f"integrity now: SHA-256 returned by the store and matching on {sha_checked} of {n} "
                     f"objects; ETags matching on {etags}; a wrong SHA-256 refused: "
                     f"{_yes(f.get('wrong_sha256_refused'))}")
    else:
        lines.append(f"integrity now: this store returns no SHA-256 checksums (not checked by the store; the "
                     f"bag's SHA-512 manifest and signature cover content); ETags matching on {etags} of {n} "
                     f"objects; a wrong SHA-256 refused: {_yes(f.get('wrong_sha256_refused'))}")
    cond = f.get("conditional_put")
    lines.append("store features: conditional put (If-None-Match) "
                 + _yes(cond, "honoured", "NOT honoured (a second commit is caught by listing the "
                        "marker's versions)")
                 + f"; SSE-S3 {_yes(f.get('sse_s3'), 'available', 'unavailable')}"
                 + (f"; server {f['server']}" if f.get("server") else "")
                 + (f"; probed {f['probed_at']}" if f.get("probed_at") else ""))
    return lines


# ------------------------------------------------------------------------------------- archive check


@dataclass
class ArchiveCheck:
    """``complaints archive check``: ``lines`` to show; ``problems`` make the archive not write-once."""

    where: str
    lines: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def check_s3_archive(store: S3Store) -> ArchiveCheck:
    """Whether the configured bucket would keep bundles write-once: it exists, versioning is on, Object
    Lock is enabled, a retention applies (configured per object or the bucket's default), and a locked
    version really cannot be deleted (tried on a probe object locked in GOVERNANCE mode for a day);
    plus the integrity features the server honours (``S3Store.probe``)."""
    c, bucket, s = store._probe_client(), store.bucket, store.settings
    out = ArchiveCheck(where=store.describe())
    try:
        c.head_bucket(Bucket=bucket)
    except Exception as exc:
        code = _client_error_code(exc)
        if code in ("404", "NoSuchBucket", "NotFound"):
            out.lines.append(f"bucket: {bucket} does not exist")
            out.problems.append(f"bucket {bucket} does not exist (create it with Object Lock enabled)")
            return out
        raise StoreError(f"{store.describe()}: cannot reach the bucket ({code or exc})") from exc
    out.lines.append(f"bucket: {bucket} exists")
    versioning = c.get_bucket_versioning(Bucket=bucket).get("Status") or "never enabled"
    out.lines.append(f"versioning: {versioning}")
    if versioning != "Enabled":
        out.problems.append(f"versioning is {versioning}: objects can be overwritten (Object Lock needs it)")
    try:
        lock = c.get_object_lock_configuration(Bucket=bucket).get("ObjectLockConfiguration", {})
    except Exception as exc:
        if _client_error_code(exc) not in ("ObjectLockConfigurationNotFoundError", "404",
                                           "InvalidRequest", "NoSuchObjectLockConfiguration"):
            raise
        lock = {}
    enabled = lock.get("ObjectLockEnabled") == "Enabled"
    default = lock.get("Rule", {}).get("DefaultRetention", {})
    out.lines.append(f"object lock: {'enabled' if enabled else 'NOT enabled'}")
    if default:
        span = f"{default['Days']} days" if default.get("Days") else f"{default.get('Years')} years"
        out.lines.append(f"default retention: {default.get('Mode')} {span}")
    else:
        out.lines.append("default retention: none")
    configured = f"{s.object_lock_mode} {s.retention_days} days" if s.object_lock_mode else "none"
    out.lines.append(f"configured retention (archive.s3): {configured}")
    if not enabled:
        out.problems.append(f"Object Lock is not enabled on bucket {bucket}: bundles could be deleted or "
                            "overwritten (it can only be enabled when the bucket is created)")
    elif not s.object_lock_mode and not default:
        out.problems.append("no retention applies: set archive.s3.object_lock_mode (COMPLIANCE) or a bucket "
                            "default retention")
    if "GOVERNANCE" in (s.object_lock_mode, default.get("Mode")) and "COMPLIANCE" not in (
            s.object_lock_mode, default.get("Mode")):
        out.warnings.append("GOVERNANCE mode: users with s3:BypassGovernanceRetention can still delete or "
                            "shorten; use COMPLIANCE for write-once against everyone")
    where = f"check-{dt.datetime.now(dt.UTC):%Y%m%dT%H%M%SZ}-{uuid.uuid4().hex[:8]}"
    if enabled:
        key = f"{store.prefix}probe/{where}/locked"
        until = dt.datetime.now(dt.UTC) + dt.timedelta(days=1)
        put = c.put_object(Bucket=bucket, Key=key, Body=b"lock probe\n", ObjectLockMode="GOVERNANCE",
                           ObjectLockRetainUntilDate=until,
                           ContentMD5=_b64(hashlib.md5(b"lock probe\n", usedforsecurity=False).digest()))
        try:
            c.delete_object(Bucket=bucket, Key=key, VersionId=put["VersionId"])
        except Exception as exc:
            out.lines.append(f"locked version deletable: no ({_client_error_code(exc) or exc})")
        else:
            out.lines.append("locked version deletable: YES")
            out.problems.append("the store deleted a version under Object Lock retention")
        with contextlib.suppress(Exception):  # tidy up where allowed (GOVERNANCE bypass)
            c.delete_object(Bucket=bucket, Key=key, VersionId=put["VersionId"],
                            BypassGovernanceRetention=True)
    f = store.probe(where)
    out.lines.append(f"integrity: a wrong Content-MD5 refused: {_yes(f.get('wrong_md5_refused'))}; "
                     f"SHA-256 checksums returned: {_yes(f.get('sha256_returned'), no='no')}; "
                     f"a wrong SHA-256 refused: {_yes(f.get('wrong_sha256_refused'), no='no')}")
    ignored = "ignored (second commits are caught by listing versions)"
    out.lines.append("conditional put (If-None-Match: *): "
                     f"{_yes(f.get('conditional_put'), 'honoured', ignored)}; "
                     f"SSE-S3: {_yes(f.get('sse_s3'), 'available', 'unavailable')}")
    if f.get("server"):
        out.lines.append(f"server: {f['server']}")
    if f.get("wrong_md5_refused") is False:
        out.warnings.append("the store accepts a wrong Content-MD5: corruption in transit would not be "
                            "refused")
    if s.server_side_encryption == "AES256" and f.get("sse_s3") is False:
        out.problems.append("archive.s3.server_side_encryption is AES256 but the store refuses SSE-S3")
    return out
