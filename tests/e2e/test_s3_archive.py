"""A filing archived to a real S3 endpoint on loopback (Ceph RGW with ``$COMPLAINTS_TEST_S3_URL``, else
moto's server; the test id says which), fetched back, verified, reproduced."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from cli.demo import prepare_workdir
from tasks.demo_data import create_demo_source, default_span

COMPLAINTS = str(Path(sys.executable).parent / "complaints")
AS_OF = "2026-11-20T09:00:00+08:00"

pytestmark = [pytest.mark.slow, pytest.mark.s3]


def cli(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([COMPLAINTS, *args], capture_output=True, text=True, env=env, timeout=600)


def test_demo_filing_in_s3_verifies_and_reproduces(s3_server: Any, tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    import datetime as dt

    monkeypatch.delenv("COMPLAINTS_DEMO_SOURCE_URL", raising=False)
    config = prepare_workdir(tmp_path, None)  # demo config + signing key (sets COMPLAINTS_SIGNING_KEY_FILE)
    data = yaml.safe_load(config.read_text(encoding="utf-8"))
    data["archive"]["store"] = "s3"
    data["archive"]["s3"].update(endpoint_url=s3_server.url, bucket=s3_server.bucket, prefix="e2e/bundles/",
                                 object_lock_mode="COMPLIANCE", retention_days=1)
    config.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    start, end = default_span(dt.date(2026, 11, 20))
    create_demo_source(f"sqlite:///{tmp_path / 'demo_source.sqlite'}", complaints=2000, start=start, end=end)
    env = {**os.environ}
    common = ["--config", str(config), "--workdir", str(tmp_path)]

    check = cli("archive", "check", *common, env=env)
    assert check.returncode == 0, check.stdout + check.stderr
    assert "object lock: enabled" in check.stdout and "OK: the archive is write-once" in check.stdout

    run = cli("run", "quarterly", "--period", "2026Q3", "--entity", "GD", "--as-of", AS_OF, "--json", *common,
              env=env)
    assert run.returncode == 0, run.stderr[-3000:]
    import json

    summary = json.loads(run.stdout[run.stdout.index("{"):])
    assert summary["bundle_location"].startswith("s3://") and summary["signed"]
    assert not (tmp_path / "archive").exists()  # nothing went to the local store

    listed = cli("bundles", "list", "--json", *common, env=env)
    assert listed.returncode == 0 and summary["bundle"] in listed.stdout

    verify = cli("bundles", "verify", summary["bundle"], *common, env=env)
    assert verify.returncode == 0, verify.stdout + verify.stderr
    assert "COMPLIANCE" in verify.stdout  # the store reports the object lock
    assert "integrity at commit: Content-MD5 sent on every PUT and part" in verify.stdout
    if s3_server.kind == "rgw":  # read back from the server, and the checksums it does not keep said so
        assert "read back with get_object_retention" in verify.stdout
        assert "this store returns no SHA-256 checksums" in verify.stdout

    reproduce = cli("bundles", "reproduce", summary["bundle"], *common, env=env)
    assert reproduce.returncode == 0, reproduce.stdout + reproduce.stderr
    assert "reproduced exactly" in reproduce.stdout

    fetched = tmp_path / "fetched"
    got = cli("bundles", "get", summary["bundle"], "--to", str(fetched), *common, env=env)
    assert got.returncode == 0, got.stderr
    again = cli("bundles", "reproduce", str(fetched), *common, env=env)
    assert again.returncode == 0 and "reproduced exactly" in again.stdout
