"""Object Lock as a real S3 server enforces it, through the project's store and CLI, and
``complaints archive check``.

The Object Lock tests need Ceph RGW (``$COMPLAINTS_TEST_S3_URL``, ``scripts/rgw.sh``): moto neither
refuses shortening a COMPLIANCE retention nor is a reliable ``get_object_retention`` (the spec saw 500s),
so under moto they are skipped, saying why. ``archive check`` runs on whichever server the run has
(the test id says which).
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError
from typer.testing import CliRunner

from cli import app
from complaints.settings import S3Store as S3Config
from complaints.settings import Signing
from tasks.archive.bundle import archive_bundle, generate_keypair
from tasks.archive.stores import S3Store, new_bundle_id

pytestmark = pytest.mark.s3

AT = dt.datetime(2026, 11, 21, 13, 0, 0, tzinfo=dt.UTC)
RUN = {"run_id": "5c0ffee0-1111-4222-8333-000000000004", "filing": "quarterly", "period": "2026Q3",
       "entity": "HO", "as_of": "2026-10-09T18:00:00+08:00", "trigger": "schedule", "code_version": "0.1.0",
       "package_versions": {"boto3": "1.44.5"}}
needs_rgw = pytest.mark.usefixtures("rgw_only")


@pytest.fixture()
def rgw_only(s3_server: Any) -> None:
    if s3_server.kind != "rgw":
        pytest.skip("needs a server that refuses shortening COMPLIANCE retention (Ceph RGW: "
                    "eval \"$(scripts/rgw.sh start)\"); moto does not")


@pytest.fixture()
def keys(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    private, public = generate_keypair(tmp_path / "keys")
    monkeypatch.delenv("COMPLAINTS_SIGNING_KEY", raising=False)
    monkeypatch.setenv("COMPLAINTS_SIGNING_KEY_FILE", str(private))
    return public


def settings(s3_server: Any, request: pytest.FixtureRequest, **kw: Any) -> S3Config:
    values: dict[str, Any] = {"endpoint_url": s3_server.url, "bucket": s3_server.bucket,
                              "prefix": f"lock/{request.node.name}/", "object_lock_mode": "COMPLIANCE",
                              "retention_days": 1, "multipart_threshold_mb": 5, **kw}
    return S3Config(**values)


def archived(store: S3Store, tmp_path: Path, public_key: str) -> str:
    stage = tmp_path / "stage"
    (stage / "figures").mkdir(parents=True)
    (stage / "run.json").write_text(json.dumps(RUN), encoding="utf-8")
    (stage / "figures" / "figures.json").write_text(json.dumps({"counts": {"cases": 7}}), encoding="utf-8")
    bundle = new_bundle_id("quarterly", "HO", "2026Q3", RUN["run_id"], AT)
    archive_bundle(stage, bundle, store, {}, Signing(public_key=public_key))
    return bundle


def config_file(tmp_path: Path, s3: S3Config, public_key: str | None = None) -> Path:
    data = {"company": {"name": "示例人寿保险股份有限公司"},
            "entities": [{"code": "HO", "name": "总公司", "level": "head_office"}],
            "archive": {"store": "s3", "s3": s3.model_dump(), "signing": {"public_key": public_key}}}
    path = tmp_path / "complaints.yaml"
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return path


def verify(config: Path, bundle: str) -> Any:
    return CliRunner().invoke(app, ["bundles", "verify", bundle, "--config", str(config)])


def versions(store: S3Store, bundle: str) -> dict[str, str]:
    """Every committed object's key -> committed version id (the marker's too)."""
    marker_key = f"{store.prefix}committed/{bundle}.json"
    marker = json.loads(store.client.get_object(Bucket=store.bucket, Key=marker_key)["Body"].read())
    out = {o["key"]: o["version_id"] for o in marker["objects"].values()}
    out[marker_key] = store.client.head_object(Bucket=store.bucket, Key=marker_key)["VersionId"]
    return out


def code(err: pytest.ExceptionInfo[ClientError]) -> str:
    return str(err.value.response["Error"]["Code"])


@needs_rgw
def test_compliance_cannot_be_shortened_or_deleted(s3_server: Any, request: pytest.FixtureRequest,
                                                   tmp_path: Path, keys: str) -> None:
    s3 = settings(s3_server, request)
    store = S3Store(s3)
    bundle = archived(store, tmp_path, keys)
    config = config_file(tmp_path, s3, keys)
    before = verify(config, bundle)
    assert before.exit_code == 0, before.output
    shorter = dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)
    for key, version in versions(store, bundle).items():
        with pytest.raises(ClientError) as err:  # shortening, even asking to bypass governance
            store.client.put_object_retention(Bucket=store.bucket, Key=key, VersionId=version,
                                              Retention={"Mode": "COMPLIANCE", "RetainUntilDate": shorter},
                                              BypassGovernanceRetention=True)
        assert code(err) == "AccessDenied"
        with pytest.raises(ClientError) as err:  # switching to GOVERNANCE to then bypass it
            store.client.put_object_retention(Bucket=store.bucket, Key=key, VersionId=version,
                                              Retention={"Mode": "GOVERNANCE", "RetainUntilDate": shorter})
        assert code(err) == "AccessDenied"
        with pytest.raises(ClientError) as err:
            store.client.delete_object(Bucket=store.bucket, Key=key, VersionId=version,
                                       BypassGovernanceRetention=True)
        assert code(err) == "AccessDenied"
    # the project has no way to delete a bundle: the CLI offers none, the store has no such method
    assert not any(hasattr(store, name) for name in ("delete", "remove", "purge", "set_retention"))
    commands = CliRunner().invoke(app, ["bundles", "--help"]).output
    assert "delete" not in commands and "remove" not in commands
    # and nothing changed: verify passes, with the retention read back from the server
    after = verify(config, bundle)
    assert after.exit_code == 0, after.output
    assert "lock: object lock: COMPLIANCE until" in after.output
    assert "read back with get_object_retention" in after.output


@needs_rgw
def test_verify_reads_retention_back(s3_server: Any, request: pytest.FixtureRequest, tmp_path: Path,
                                     keys: str) -> None:
    s3 = settings(s3_server, request, retention_days=3)
    store = S3Store(s3)
    bundle = archived(store, tmp_path, keys)
    result = verify(config_file(tmp_path, s3, keys), bundle)
    assert result.exit_code == 0, result.output
    marker = json.loads(store.client.get_object(Bucket=store.bucket,
                                                Key=f"{store.prefix}committed/{bundle}.json")["Body"].read())
    until = dt.datetime.fromisoformat(marker["lock"]["retain_until"])
    n = len(marker["objects"])
    assert f"lock: object lock: COMPLIANCE until {until:%Y-%m-%d} on {n} objects, read back with " \
           "get_object_retention" in result.output
    assert "store: integrity at commit: Content-MD5 sent on every PUT and part; the store refuses a wrong " \
           f"one: yes; ETag = MD5 of the bytes sent on {n} of {n} objects" in result.output
    assert "store: integrity now: this store returns no SHA-256 checksums" in result.output
    assert "sha256: null" not in result.output


@needs_rgw
def test_governance_can_be_bypassed_and_verify_says_so(s3_server: Any, request: pytest.FixtureRequest,
                                                        tmp_path: Path, keys: str) -> None:
    s3 = settings(s3_server, request, object_lock_mode="GOVERNANCE")
    store = S3Store(s3)
    bundle = archived(store, tmp_path, keys)
    config = config_file(tmp_path, s3, keys)
    ok = verify(config, bundle)
    assert ok.exit_code == 0 and "lock: object lock: GOVERNANCE until" in ok.output, ok.output
    objs = versions(store, bundle)
    figures = next(k for k in objs if k.endswith("figures/figures.json"))
    run_json = next(k for k in objs if k.endswith("data/run.json"))
    shorter = dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)
    # without the bypass header GOVERNANCE holds like COMPLIANCE ...
    with pytest.raises(ClientError) as err:
        store.client.delete_object(Bucket=store.bucket, Key=figures, VersionId=objs[figures])
    assert code(err) == "AccessDenied"
    with pytest.raises(ClientError) as err:
        store.client.put_object_retention(Bucket=store.bucket, Key=run_json, VersionId=objs[run_json],
                                          Retention={"Mode": "GOVERNANCE", "RetainUntilDate": shorter})
    assert code(err) == "AccessDenied"
    # ... with it (and the permission, which the bucket owner has) retention is shortened, versions deleted
    store.client.put_object_retention(Bucket=store.bucket, Key=run_json, VersionId=objs[run_json],
                                      Retention={"Mode": "GOVERNANCE", "RetainUntilDate": shorter},
                                      BypassGovernanceRetention=True)
    shortened = verify(config, bundle)
    assert shortened.exit_code == 1
    assert "PROBLEM: store: data/run.json: retention shortened to" in shortened.output, shortened.output
    store.client.delete_object(Bucket=store.bucket, Key=figures, VersionId=objs[figures],
                               BypassGovernanceRetention=True)
    deleted = verify(config, bundle)
    assert deleted.exit_code != 0 and "figures.json" in deleted.output, deleted.output
    check = CliRunner().invoke(app, ["archive", "check", "--config", str(config)])
    assert check.exit_code == 0, check.output
    assert "warning: GOVERNANCE mode: users with s3:BypassGovernanceRetention can still" in check.output


@needs_rgw
def test_legal_hold_outlasts_retention_and_bypass(s3_server: Any, request: pytest.FixtureRequest,
                                                  tmp_path: Path, keys: str) -> None:
    s3 = settings(s3_server, request, object_lock_mode="GOVERNANCE")
    store = S3Store(s3)
    bundle = archived(store, tmp_path, keys)
    objs = versions(store, bundle)
    key = next(k for k in objs if k.endswith("bag-info.txt"))
    store.client.put_object_legal_hold(Bucket=store.bucket, Key=key, VersionId=objs[key],
                                       LegalHold={"Status": "ON"})
    hold = store.client.get_object_legal_hold(Bucket=store.bucket, Key=key, VersionId=objs[key])
    assert hold["LegalHold"]["Status"] == "ON"
    # the hold stops even a GOVERNANCE bypass, and is shown by verify
    store.client.put_object_retention(Bucket=store.bucket, Key=key, VersionId=objs[key],
                                      Retention={"Mode": "GOVERNANCE",
                                                 "RetainUntilDate": dt.datetime.now(dt.UTC)
                                                 + dt.timedelta(seconds=2)},
                                      BypassGovernanceRetention=True)
    with pytest.raises(ClientError) as err:
        store.client.delete_object(Bucket=store.bucket, Key=key, VersionId=objs[key],
                                   BypassGovernanceRetention=True)
    assert code(err) == "AccessDenied"
    result = verify(config_file(tmp_path, s3, keys), bundle)
    assert "lock: bag-info.txt: legal hold on" in result.output
    # released, the version can go (GOVERNANCE bypass): verify then reports it unreadable
    store.client.put_object_legal_hold(Bucket=store.bucket, Key=key, VersionId=objs[key],
                                       LegalHold={"Status": "OFF"})
    store.client.delete_object(Bucket=store.bucket, Key=key, VersionId=objs[key],
                               BypassGovernanceRetention=True)
    gone = verify(config_file(tmp_path, s3, keys), bundle)
    assert gone.exit_code != 0


# ------------------------------------------------------------------------------------- archive check


def check(tmp_path: Path, s3: S3Config) -> Any:
    return CliRunner().invoke(app, ["archive", "check", "--config", str(config_file(tmp_path, s3))])


def test_archive_check_write_once_bucket(s3_server: Any, request: pytest.FixtureRequest,
                                         tmp_path: Path) -> None:
    result = check(tmp_path, settings(s3_server, request))
    assert result.exit_code == 0, result.output
    out = result.output
    for line in (f"bucket: {s3_server.bucket} exists", "versioning: Enabled", "object lock: enabled",
                 "default retention: none", "configured retention (archive.s3): COMPLIANCE 1 days",
                 "locked version deletable: no", "integrity: a wrong Content-MD5 refused:",
                 "OK: the archive is write-once"):
        assert line in out, out
    assert len(out.splitlines()) <= 24  # one screen
    if s3_server.kind == "rgw":
        assert "a wrong Content-MD5 refused: yes; SHA-256 checksums returned: no" in out
        assert "conditional put (If-None-Match: *): ignored" in out and "SSE-S3: unavailable" in out


def test_archive_check_default_retention_is_enough(s3_server: Any, request: pytest.FixtureRequest,
                                                   tmp_path: Path) -> None:
    bucket = s3_server.new_bucket("complaints-default", default_retention={"Mode": "COMPLIANCE", "Days": 1})
    result = check(tmp_path, settings(s3_server, request, bucket=bucket, object_lock_mode=None))
    assert result.exit_code == 0, result.output
    assert "default retention: COMPLIANCE 1 days" in result.output
    assert "configured retention (archive.s3): none" in result.output


@pytest.mark.parametrize("case", ["missing", "no-lock", "no-lock-versioned", "no-retention"])
def test_archive_check_refuses_what_is_not_write_once(case: str, s3_server: Any,
                                                      request: pytest.FixtureRequest, tmp_path: Path) -> None:
    s3 = settings(s3_server, request)
    if case == "missing":
        s3 = settings(s3_server, request, bucket=f"complaints-absent-{s3_server.kind}-{tmp_path.name[-8:]}"
                      .lower().replace("_", "-"))
        reason = "does not exist (create it with Object Lock enabled)"
    elif case == "no-lock":
        s3 = settings(s3_server, request, bucket=s3_server.new_bucket("complaints-nolock", object_lock=False))
        reason = "versioning is never enabled: objects can be overwritten"
    elif case == "no-lock-versioned":
        s3 = settings(s3_server, request, bucket=s3_server.new_bucket("complaints-vers", object_lock=False,
                                                                       versioning=True))
        reason = "Object Lock is not enabled on bucket"
    else:
        s3 = settings(s3_server, request, object_lock_mode=None)
        reason = "no retention applies: set archive.s3.object_lock_mode"
    result = check(tmp_path, s3)
    assert result.exit_code == 1, result.output
    assert "NOT WRITE-ONCE: " in result.output and reason in result.output, result.output


def test_archive_check_local_store_is_not_write_once(tmp_path: Path) -> None:
    path = tmp_path / "complaints.yaml"
    path.write_text(json.dumps({"company": {"name": "示例人寿保险股份有限公司"},
                                "entities": [{"code": "HO", "name": "总公司", "level": "head_office"}]},
                               ensure_ascii=False), encoding="utf-8")
    result = CliRunner().invoke(app, ["archive", "check", "--config", str(path), "--workdir", str(tmp_path)])
    assert result.exit_code == 1 and "NOT WRITE-ONCE: the local store" in result.output
