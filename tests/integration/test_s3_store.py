"""The S3 store against a real S3 endpoint over HTTP on loopback: Ceph RGW when
``$COMPLAINTS_TEST_S3_URL`` is set (``scripts/rgw.sh``; test ids end in ``[rgw]``), else moto's server
(``[moto]``).

Both enforce Object Lock headers on upload, refusal to delete a locked version, versioning and
Content-MD5. Where they differ the tests say so: moto honours conditional writes and returns SHA-256
checksums; RGW 16 ignores ``If-None-Match: *`` on versioned buckets (a second marker version is written:
the commit catches it), returns no SHA-256 and refuses SSE-S3 over plain HTTP. What moto does not do
(COMPLIANCE shortening, ``get_object_retention``) is tested on RGW only (``test_s3_object_lock.py``).
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import os
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError
from typer.testing import CliRunner

from cli import app
from complaints.settings import Archive, Signing
from complaints.settings import S3Store as S3Config
from tasks.archive.bundle import archive_bundle, check_bag_contents, generate_keypair, make_bag, verify_bag
from tasks.archive.stores import BundleExists, S3Store, Store, StoreError, new_bundle_id, open_store

pytestmark = pytest.mark.s3

AT = dt.datetime(2026, 11, 21, 13, 0, 0, tzinfo=dt.UTC)
RUN = {"run_id": "5c0ffee0-1111-4222-8333-000000000003", "filing": "quarterly", "period": "2026Q3",
       "entity": "HO", "as_of": "2026-10-09T18:00:00+08:00", "trigger": "schedule", "code_version": "0.1.0",
       "package_versions": {"boto3": "1.44.5"}}


@pytest.fixture()
def settings(s3_server: Any, request: pytest.FixtureRequest) -> S3Config:
    # a prefix per test keeps tests independent in the run's bucket
    return S3Config(endpoint_url=s3_server.url, bucket=s3_server.bucket,
                    prefix=f"t/{request.node.name}/bundles/",
                    object_lock_mode="COMPLIANCE", retention_days=1, multipart_threshold_mb=5)


@pytest.fixture()
def store(settings: S3Config) -> S3Store:
    return S3Store(settings)


@pytest.fixture()
def keys(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    private, public = generate_keypair(tmp_path / "keys")
    monkeypatch.delenv("COMPLAINTS_SIGNING_KEY", raising=False)
    monkeypatch.setenv("COMPLAINTS_SIGNING_KEY_FILE", str(private))
    return public


def staging(path: Path, cases: int = 120, big: bool = False) -> Path:
    (path / "figures").mkdir(parents=True)
    (path / "extract").mkdir()
    (path / "run.json").write_text(json.dumps(RUN), encoding="utf-8")
    (path / "figures" / "figures.json").write_text(json.dumps({"counts": {"cases": cases}}), encoding="utf-8")
    (path / "extract" / "events.parquet").write_bytes(b"PAR1" * 1000)
    if big:  # above the 5 MiB multipart threshold
        (path / "extract" / "ledger.parquet").write_bytes(os.urandom(6 * 1024 * 1024))
    return path


def bid(run: str, minutes: int = 0, period: str = "2026Q3") -> str:
    """An id for ``RUN``'s bags (the id's run part must be RUN's run id); ``run`` only names it."""
    return new_bundle_id("quarterly", "HO", period, str(RUN["run_id"]), AT + dt.timedelta(minutes=minutes))


def test_upload_list_get_and_lock(store: S3Store, s3_server: Any, keys: str, tmp_path: Path) -> None:
    assert isinstance(store, Store) and store.list() == []
    b = bid("run1")
    ref = archive_bundle(staging(tmp_path / "s", big=True), b, store, {}, Signing(public_key=keys))
    assert ref.signed and ref.location == f"s3://{store.bucket}/{store.prefix}data/{b}/"
    assert store.exists(b) and store.list() == [b] and store.list(entity="HO", period="2026Q3") == [b]
    assert store.list(period="2026Q2") == [] and store.list(filing="annual") == []
    files = store.files(b)
    assert files["data/extract/ledger.parquet"] == 6 * 1024 * 1024 and "signature.ed25519" in files
    out = store.get(b, tmp_path / "copy")
    assert verify_bag(out, keys) == []
    assert (out / "data/extract/ledger.parquet").read_bytes() == \
        (tmp_path / "s" / "data/extract/ledger.parquet").read_bytes()

    head = store.client.head_object(Bucket=store.bucket,
                                    Key=f"{store.prefix}data/{b}/data/extract/ledger.parquet",
                                    ChecksumMode="ENABLED")
    assert head["ETag"].endswith('-2"')  # multipart above the configured threshold
    assert head["ObjectLockMode"] == "COMPLIANCE"  # set even where the endpoint drops it on multipart
    assert head["ObjectLockRetainUntilDate"] > dt.datetime.now(dt.UTC)
    small = store.client.head_object(Bucket=store.bucket, Key=f"{store.prefix}data/{b}/data/run.json",
                                     ChecksumMode="ENABLED")
    data = (tmp_path / "s" / "data" / "run.json").read_bytes()
    digest = base64.b64encode(hashlib.sha256(data).digest()).decode()
    assert small["ETag"] == f'"{hashlib.md5(data).hexdigest()}"'
    marker = json.loads(store.client.get_object(Bucket=store.bucket,
                                                Key=f"{store.prefix}committed/{b}.json")["Body"].read())
    run_json = marker["objects"]["data/run.json"]
    assert run_json["sha256"] == digest and run_json["etag"] == hashlib.md5(data).hexdigest()  # never null
    features = marker["store"]["features"]
    if s3_server.kind == "moto":  # moto keeps and returns SHA-256 checksums, but takes a wrong Content-MD5
        assert small["ChecksumSHA256"] == digest and run_json["store_sha256"] == digest
        assert features["sha256_returned"] and features["conditional_put"] and features["sse_s3"]
    else:  # RGW verifies Content-MD5 but keeps no SHA-256, ignores If-None-Match on versioned buckets
        assert "ChecksumSHA256" not in small and run_json["store_sha256"] is None
        assert features["wrong_md5_refused"] is True and features["sha256_returned"] is False
        assert features["conditional_put"] is False and features["sse_s3"] is False
    assert marker["store"]["etag_checked"] == len(marker["objects"])
    status = store.lock_status(b)
    assert status.problems == [] and status.lines[0].startswith("object lock: COMPLIANCE until ")
    shown = "\n".join(status.lines)
    assert "integrity at commit: Content-MD5 sent on every PUT and part" in shown
    n = len(marker["objects"])
    if s3_server.kind == "rgw":
        assert f"this store returns no SHA-256 checksums (not checked by the store; the bag's SHA-512 " \
               f"manifest and signature cover content); ETags matching on {n} of {n} objects" in shown
        assert "conditional put (If-None-Match) NOT honoured" in shown and "SSE-S3 unavailable" in shown
    else:
        assert f"SHA-256 returned by the store and matching on {n} of {n} objects" in shown


def test_locked_versions_cannot_be_deleted(store: S3Store, keys: str, tmp_path: Path) -> None:
    b = bid("run1")
    store.put(b, make_bag(staging(tmp_path / "s"), {}, Signing()))
    marker = store.client.head_object(Bucket=store.bucket, Key=f"{store.prefix}committed/{b}.json")
    for key, version in [(f"{store.prefix}data/{b}/data/run.json", None),
                         (f"{store.prefix}committed/{b}.json", marker["VersionId"])]:
        version = version or store.client.head_object(Bucket=store.bucket, Key=key)["VersionId"]
        with pytest.raises(ClientError) as err:
            store.client.delete_object(Bucket=store.bucket, Key=key, VersionId=version)
        assert err.value.response["Error"]["Code"] == "AccessDenied"
    # a plain delete only adds a delete marker; the committed version stays readable
    store.client.delete_object(Bucket=store.bucket, Key=f"{store.prefix}data/{b}/data/run.json")
    assert json.loads(store.read(b, "data/run.json"))["run_id"] == RUN["run_id"]
    assert store.lock_status(b).problems == ["store: data/run.json: deleted after commit (a delete marker "
                                             "hides the committed version, which remains)"]


def test_versions_are_written_beside_never_over(store: S3Store, keys: str, tmp_path: Path) -> None:
    first, second = bid("run1"), bid("run2", minutes=30)
    store.put(first, make_bag(staging(tmp_path / "a"), {}, Signing()))
    with pytest.raises(BundleExists):
        store.put(first, make_bag(staging(tmp_path / "b", cases=999), {}, Signing()))
    store.put(second, make_bag(staging(tmp_path / "c", cases=121), {}, Signing()))
    assert store.list(period="2026Q3") == [first, second]
    assert json.loads(store.read(first, "data/figures/figures.json")) == {"counts": {"cases": 120}}
    assert json.loads(store.read(second, "data/figures/figures.json")) == {"counts": {"cases": 121}}


def test_marker_cannot_be_overwritten(store: S3Store, s3_server: Any, tmp_path: Path, keys: str) -> None:
    b = bid("run1")
    store.put(b, make_bag(staging(tmp_path / "a"), {}, Signing()))
    key = f"{store.prefix}committed/{b}.json"
    if s3_server.kind == "moto":
        with pytest.raises(ClientError) as err:  # the conditional commit refuses a second marker
            store.client.put_object(Bucket=store.bucket, Key=key, Body=b"{}", IfNoneMatch="*",
                                    ChecksumAlgorithm="SHA256")
        assert err.value.response["Error"]["Code"] == "PreconditionFailed"
    else:  # RGW ignores If-None-Match: * on a versioned bucket: a second version is written ...
        store.client.put_object(Bucket=store.bucket, Key=key, Body=b"{}", IfNoneMatch="*")
        versions = store.client.list_object_versions(Bucket=store.bucket, Prefix=key)["Versions"]
        assert len(versions) == 2
        # ... which cannot redefine the bundle (the first version counts) and verify reports
        assert json.loads(store.read(b, "data/figures/figures.json")) == {"counts": {"cases": 120}}
        assert "store: the commit marker has 2 versions (a second commit or a rewrite after commit; the " \
               "first is used)" in store.lock_status(b).problems


def test_a_second_writer_of_the_same_bundle_fails_and_the_first_counts(
        settings: S3Config, s3_server: Any, tmp_path: Path, keys: str,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Two writers race past the ``exists`` check with the same bundle id: the commit of the later
    one fails cleanly (moto: the conditional put refuses; RGW: the put is ignored, so the commit lists
    the marker's versions and finds it is not the first)."""
    first, second = S3Store(settings), S3Store(settings)
    b = bid("run1")
    first.put(b, make_bag(staging(tmp_path / "a"), {}, Signing()))
    monkeypatch.setattr(second, "exists", lambda bundle_id: False)  # it checked before the first committed
    with pytest.raises(BundleExists) as err:
        second.put(b, make_bag(staging(tmp_path / "b", cases=999), {}, Signing()))
    if s3_server.kind == "rgw":
        assert "was committed first by another writer: the commit marker has 2 versions" in str(err.value)
        assert "The first commit stands" in str(err.value)
    else:
        assert "was committed concurrently" in str(err.value)
    assert first.list() == [b]
    assert json.loads(first.read(b, "data/figures/figures.json")) == {"counts": {"cases": 120}}
    assert check_bag_contents(first.get(b, tmp_path / "got")) == []  # complete and intact


def _fail_after(store: S3Store, n: int) -> dict[str, int]:
    """Make the n+1-th object upload fail, as a dropped connection would."""
    calls = {"n": 0}

    def handler(**_: Any) -> None:
        calls["n"] += 1
        if calls["n"] > n:
            raise ConnectionError("connection dropped (injected)")

    store.client.meta.events.register("before-call.s3.PutObject", handler, unique_id="fail-after")
    return calls


def test_interrupted_upload_is_invisible_and_the_rerun_succeeds(settings: S3Config, keys: str,
                                                                tmp_path: Path) -> None:
    broken = S3Store(settings)
    calls = _fail_after(broken, 3)
    b = bid("run1")
    with pytest.raises(ConnectionError, match="injected"):
        broken.put(b, make_bag(staging(tmp_path / "a"), {}, Signing()))
    assert calls["n"] == 4
    fresh = S3Store(settings)
    assert fresh.list() == [] and not fresh.exists(b)
    stale = fresh.client.list_objects_v2(Bucket=fresh.bucket, Prefix=f"{fresh.prefix}data/")["KeyCount"]
    assert stale == 3  # stale uncommitted objects remain, never listed
    rerun = bid("run2", minutes=10)
    fresh.put(rerun, make_bag(staging(tmp_path / "b"), {}, Signing()))
    fresh.put(b, make_bag(staging(tmp_path / "c"), {}, Signing()))  # even the same id completes now
    assert fresh.list() == [b, rerun]
    # a retried archive task reuses its already-bagged staging directory
    third = bid("run3", minutes=20)
    stage = staging(tmp_path / "d")
    broken_again = S3Store(settings)
    _fail_after(broken_again, 2)
    with pytest.raises(ConnectionError):
        archive_bundle(stage, third, broken_again, {}, Signing(public_key=keys))
    assert (stage / "bagit.txt").is_file() and not fresh.exists(third)
    ref = archive_bundle(stage, third, fresh, {}, Signing(public_key=keys))
    assert ref.signed and fresh.list() == [b, rerun, third]
    assert verify_bag(fresh.get(third, tmp_path / "third"), keys) == []
    assert verify_bag(fresh.get(b, tmp_path / "got"), keys) == []
    assert fresh.lock_status(b).problems == []


def test_verify_catches_tampering_in_a_downloaded_bundle(store: S3Store, keys: str, tmp_path: Path) -> None:
    b = bid("run1")
    store.put(b, make_bag(staging(tmp_path / "s"), {}, Signing()))
    cases = {
        "changed byte": lambda d: (d / "data/extract/events.parquet").write_bytes(b"PAR2" + b"PAR1" * 999),
        "removed file": lambda d: (d / "data/figures/figures.json").unlink(),
        "added file": lambda d: (d / "data/extract/extra.csv").write_text("x"),
        "bad signature": lambda d: (d / "signature.ed25519").write_text(
            base64.b64encode(b"\0" * 64).decode()),
    }
    expected = {"changed byte": "checksum mismatch (sha512): data/extract/events.parquet",
                "removed file": "missing payload file: data/figures/figures.json",
                "added file": "file not in the manifests (added): data/extract/extra.csv",
                "bad signature": "bad signature"}
    for name, tamper in cases.items():
        copy = store.get(b, tmp_path / name.replace(" ", "_"))
        assert verify_bag(copy, keys) == []
        tamper(copy)
        problems = verify_bag(copy, keys)
        assert any(p.startswith(expected[name]) for p in problems), (name, problems)


def _write_config(tmp_path: Path, settings: S3Config, public_key: str) -> Path:
    cfg = {"company": {"name": "示例人寿保险股份有限公司"},
           "entities": [{"code": "HO", "name": "总公司", "level": "head_office"}],
           "archive": {"store": "s3", "s3": settings.model_dump(), "signing": {"public_key": public_key}}}
    path = tmp_path / "complaints.yaml"
    path.write_text(json.dumps(cfg, ensure_ascii=False), encoding="utf-8")
    return path


def test_cli_verify_by_id_reports_lock_and_store_tampering(settings: S3Config, keys: str,
                                                           tmp_path: Path) -> None:
    config = _write_config(tmp_path, settings, keys)
    store = open_store(Archive(store="s3", s3=settings), tmp_path)
    assert isinstance(store, S3Store)
    b = bid("run1")
    store.put(b, make_bag(staging(tmp_path / "s"), {}, Signing()))
    opts = ["--config", str(config), "--workdir", str(tmp_path)]
    run = CliRunner().invoke

    listed = run(app, ["bundles", "list", "--json", *opts])
    assert listed.exit_code == 0, listed.output
    assert [r["id"] for r in json.loads(listed.output)] == [b]
    ok = run(app, ["bundles", "verify", b, *opts])
    assert ok.exit_code == 0, ok.output
    assert "lock: object lock: COMPLIANCE until" in ok.output
    shown = run(app, ["bundles", "show", b, *opts])
    assert shown.exit_code == 0 and "Period: 2026Q3" in shown.output

    # tampering the store allows despite the lock: a newer version over a committed object, an extra object
    store.client.put_object(Bucket=store.bucket, Key=f"{store.prefix}data/{b}/data/figures/figures.json",
                            Body=b'{"counts": {"cases": 1}}', ChecksumAlgorithm="SHA256")
    store.client.put_object(Bucket=store.bucket, Key=f"{store.prefix}data/{b}/data/extra.txt", Body=b"x",
                            ChecksumAlgorithm="SHA256")
    assert json.loads(store.read(b, "data/figures/figures.json")) == {"counts": {"cases": 120}}  # committed
    bad = run(app, ["bundles", "verify", b, *opts])
    assert bad.exit_code == 1
    assert "a newer version was written over the committed one" in bad.output
    assert f"object {store.prefix}data/{b}/data/extra.txt is not part of the committed bundle" in bad.output


def test_unsigned_bundle_fails_verify(settings: S3Config, tmp_path: Path, monkeypatch) -> None:
    for var in ("COMPLAINTS_SIGNING_KEY", "COMPLAINTS_SIGNING_KEY_FILE"):
        monkeypatch.delenv(var, raising=False)
    _, public = generate_keypair(tmp_path / "k")
    config = _write_config(tmp_path, settings, public)
    store = S3Store(settings)
    b = bid("run1")
    ref = archive_bundle(staging(tmp_path / "s"), b, store, {}, Signing())
    assert not ref.signed
    result = CliRunner().invoke(app, ["bundles", "verify", b, "--config", str(config)])
    assert result.exit_code == 1 and "PROBLEM: unsigned bundle" in result.output


def test_server_side_encryption_is_requested(settings: S3Config, s3_server: Any, tmp_path: Path,
                                             keys: str) -> None:
    store = S3Store(settings.model_copy(update={"server_side_encryption": "AES256"}))
    b = bid("run1")
    if s3_server.kind == "rgw":  # RGW refuses SSE-S3 over plain HTTP: said before anything is uploaded
        with pytest.raises(StoreError, match="refuses server-side encryption AES256"):
            store.put(b, make_bag(staging(tmp_path / "s"), {}, Signing()))
        assert not store.exists(b) and store.client.list_objects_v2(
            Bucket=store.bucket, Prefix=f"{store.prefix}data/")["KeyCount"] == 0
        return
    store.put(b, make_bag(staging(tmp_path / "s"), {}, Signing()))
    head = store.client.head_object(Bucket=store.bucket, Key=f"{store.prefix}data/{b}/data/run.json")
    assert head["ServerSideEncryption"] == "AES256"


def test_a_preview_is_listed_apart_and_locked_only_briefly(settings: S3Config, tmp_path: Path) -> None:
    """A preview (``<filing>-preview/…``) is never listed with the drafts and is locked for
    ``preview_retention_days`` (1 by default), not the drafts' ``retention_days``."""
    store = S3Store(settings.model_copy(update={"retention_days": 3}))  # short: test buckets are shared
    draft = bid("run1")
    preview = new_bundle_id("quarterly", "HO", "2026Q3", str(RUN["run_id"]), AT + dt.timedelta(minutes=1),
                            preview=True)
    store.put(draft, make_bag(staging(tmp_path / "d"), {}, Signing()))
    store.put(preview, make_bag(staging(tmp_path / "p"), {"Preview": "true"}, Signing()))
    assert store.list("quarterly") == [draft] and store.list("quarterly-preview") == [preview]

    def days(bundle_id: str) -> float:
        key = f"{store.prefix}data/{bundle_id}/data/run.json"
        head = store.client.head_object(Bucket=store.bucket, Key=key)
        return (head["ObjectLockRetainUntilDate"] - dt.datetime.now(dt.UTC)).total_seconds() / 86400

    assert 0.9 < days(preview) <= 1.0 and 2.9 < days(draft) <= 3.0
    assert store.lock_status(preview).problems == []
