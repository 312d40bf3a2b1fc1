"""Evidence attacks (issue 22, items 1-4): one case per attack, each saying what an attacker does.

Every bundle here is real and validly signed; the attacks move, copy or plant files in the archive (or
objects in the bucket) the way someone with write access to the store, but not the signing key, can.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
import sys
import types
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from cli import app
from complaints.settings import S3Store as S3Config
from complaints.settings import Signing
from tasks.archive.bundle import archive_bundle, generate_keypair, list_committed
from tasks.archive.stores import LocalStore, S3Store, new_bundle_id

AT = dt.datetime(2026, 10, 15, 2, 0, 0, tzinfo=dt.UTC)  # 10:00 Shanghai, 15 Oct
FIGURES = {"counts": {"cases": 120}}


def run_json(entity: str, run_id: str, at: dt.datetime) -> dict[str, Any]:
    return {"run_id": run_id, "filing": "quarterly", "period": "2026Q3", "entity": entity,
            "as_of": "2026-10-09T18:00:00+08:00", "trigger": "cli", "code_version": "0.1.0",
            "package_versions": {"bagit": "1.9.0"}, "started_at": (at - dt.timedelta(minutes=2)).isoformat(),
            "finished_at": (at + dt.timedelta(seconds=30)).isoformat()}


def commit(tmp_path: Path, store: Any, entity: str, run_id: str, at: dt.datetime = AT) -> str:
    """A signed bundle as a filing run commits it (run.json, figures, extract)."""
    stage = tmp_path / f"stage-{entity}-{run_id}"
    (stage / "figures").mkdir(parents=True)
    (stage / "run.json").write_text(json.dumps(run_json(entity, run_id, at)), encoding="utf-8")
    (stage / "figures" / "figures.json").write_text(json.dumps(FIGURES), encoding="utf-8")
    bundle_id = new_bundle_id("quarterly", entity, "2026Q3", run_id, at)
    return archive_bundle(stage, bundle_id, store, {}, Signing()).bundle_id


@pytest.fixture()
def keys(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    private, public = generate_keypair(tmp_path / "keys")
    monkeypatch.delenv("COMPLAINTS_SIGNING_KEY", raising=False)
    monkeypatch.setenv("COMPLAINTS_SIGNING_KEY_FILE", str(private))
    return public


def config(tmp_path: Path, public_key: str, archive: dict[str, Any] | None = None) -> list[str]:
    """CLI options for a configuration with HO and branch B01, the given archive and the public key."""
    data = {"company": {"name": "示例人寿保险股份有限公司"},
            "entities": [{"code": "HO", "name": "总公司", "level": "head_office"},
                         {"code": "B01", "name": "广东分公司", "level": "branch"}],
            "archive": {**(archive or {"store": "local", "local": {"root": "arch"}}),
                        "signing": {"public_key": public_key}}}
    path = tmp_path / "complaints.yaml"
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return ["--config", str(path), "--workdir", str(tmp_path)]


def copy_bundle(store: LocalStore, source: str, target: str) -> None:
    """What an attacker with write access to the archive folder does: copy a bundle's directory."""
    shutil.copytree(store.path(source), store.path(target))


def invoke(*args: str) -> Any:
    return CliRunner().invoke(app, list(args))


def test_substitution_across_entity_fails_verify(tmp_path: Path, keys: str) -> None:
    """An attacker copies a validly signed bundle of branch B01 into the archive under a head-office id,
    so that the head office's quarterly filing looks filed with the branch's figures."""
    opts = config(tmp_path, keys)
    store = LocalStore(tmp_path / "arch")
    branch = commit(tmp_path, store, "B01", "b01b01b0-run")
    forged = branch.replace("/B01/", "/HO/")
    copy_bundle(store, branch, forged)

    result = invoke("bundles", "verify", forged, *opts)
    assert result.exit_code == 1
    assert (f"PROBLEM: identity mismatch: listed as {forged} but signed as Bundle-Id {branch} "
            "(a bundle copied under another id)") in result.output
    assert f"PROBLEM: identity mismatch: the id {forged} says entity HO but bag-info says Entity B01" \
        in result.output
    assert invoke("bundles", "verify", branch, *opts).exit_code == 0  # the original still verifies
    assert list_committed(store, keys).committed == [branch]


def test_replay_under_a_newer_id_fails_verify(tmp_path: Path, keys: str) -> None:
    """An attacker copies last quarter's run of an old HO bundle under a newer id (same run part, a later
    time), so that an old filing looks like a fresh re-run."""
    opts = config(tmp_path, keys)
    store = LocalStore(tmp_path / "arch")
    old = commit(tmp_path, store, "HO", "0123abcd-run")
    newer = new_bundle_id("quarterly", "HO", "2026Q3", "0123abcd-run", AT + dt.timedelta(days=3))
    copy_bundle(store, old, newer)

    result = invoke("bundles", "verify", newer, *opts)
    assert result.exit_code == 1
    assert f"PROBLEM: identity mismatch: listed as {newer} but signed as Bundle-Id {old}" in result.output
    assert "long after the run finished" in result.output
    assert "an older bundle under a newer id" in result.output


def test_planted_empty_bagit_txt_is_damaged_never_filed(tmp_path: Path, keys: str) -> None:
    """An attacker (or a careless copy) plants a 0-byte ``bagit.txt`` in the archive folder under a
    head-office id, hoping `status` shows the filing as filed and the deadline watcher stays silent."""
    from cli.status import status
    from flows.watch import read_archive

    opts = config(tmp_path, keys)
    store = LocalStore(tmp_path / "arch")
    planted = new_bundle_id("quarterly", "HO", "2026Q3", "deadbeef", AT)
    store.path(planted).mkdir(parents=True)
    (store.path(planted) / "bagit.txt").write_bytes(b"")
    assert store.list() == [planted]  # the raw listing sees it ...

    assert read_archive(store, keys) == {}  # ... the watcher does not count it
    listed = invoke("bundles", "list", *opts)
    assert listed.exit_code == 0
    assert f"  {planted}  not a complete bag: no tagmanifest-sha512.txt (the signed file)" in listed.output

    import typer
    cli = typer.Typer()
    cli.command("status")(status)
    cli.command("other")(lambda: None)  # keeps `status` a subcommand
    year_2027 = tmp_path / "2027.yaml"  # the annual filing of 2026 is due in 2027
    year_2027.write_text("year: 2027\nsource: test fixture\nholidays: [2027-01-01]\nworkdays: []\n",
                         encoding="utf-8")
    result = CliRunner().invoke(cli, ["status", *opts, "--year", "2026", "--today", "2026-10-21", "--json",
                                      "--calendar", str(year_2027)])
    assert result.exit_code == 0, result.output
    row = next(r for r in json.loads(result.stdout)
               if (r["filing"], r["period"], r["entity"]) == ("quarterly", "2026Q3", "HO"))
    assert row["state"] == "late" and row["bundle"] is None
    assert f"damaged bundle (not counted as filed): {planted}: not a complete bag" in result.stderr


def s3_store(s3_server: Any, request: pytest.FixtureRequest) -> tuple[S3Store, dict[str, Any]]:
    settings = S3Config(endpoint_url=s3_server.url, bucket=s3_server.bucket,
                        prefix=f"attacks/{request.node.name}/", object_lock_mode="COMPLIANCE",
                        retention_days=1, multipart_threshold_mb=5)
    return S3Store(settings), {"store": "s3", "s3": settings.model_dump()}


@pytest.mark.s3
def test_bare_commit_marker_on_s3_is_damaged_never_filed(s3_server: Any, request: pytest.FixtureRequest,
                                                         tmp_path: Path, keys: str) -> None:
    """An attacker with write access to the bucket (not to locked objects) writes a bare ``{}`` commit
    marker ``committed/<HO id>.json``, hoping it counts as a committed head-office bundle."""
    from flows.watch import read_archive

    store, archive = s3_store(s3_server, request)
    opts = config(tmp_path, keys, archive)
    bare = new_bundle_id("quarterly", "HO", "2026Q3", "deadbeef", AT)
    store.client.put_object(Bucket=store.bucket, Key=f"{store.prefix}committed/{bare}.json", Body=b"{}")
    assert store.list() == [bare]

    assert read_archive(store, keys) == {}
    listing = list_committed(store, keys)
    why = f"bundle {bare!r}: the commit marker is not well-formed: it names bundle None"
    assert listing.committed == [] and listing.damaged == [(bare, why)]
    result = invoke("bundles", "verify", bare, *opts)
    assert result.exit_code == 1 and f"PROBLEM: {why}" in result.output


@pytest.mark.s3
def test_forged_marker_pointing_at_another_bundles_objects_fails_verify(
        s3_server: Any, request: pytest.FixtureRequest, tmp_path: Path, keys: str) -> None:
    """An attacker writes a commit marker for a new head-office id that points at another bundle's
    locked objects (a branch's), so the branch's signed bundle is served under the head-office id."""
    store, archive = s3_store(s3_server, request)
    opts = config(tmp_path, keys, archive)
    branch = commit(tmp_path, store, "B01", "b01b01b0-run")
    forged = branch.replace("/B01/", "/HO/")
    marker = json.loads(store.client.get_object(Bucket=store.bucket,
                                                Key=f"{store.prefix}committed/{branch}.json")["Body"].read())
    marker["bundle_id"] = forged
    store.client.put_object(Bucket=store.bucket, Key=f"{store.prefix}committed/{forged}.json",
                            Body=json.dumps(marker).encode())

    result = invoke("bundles", "verify", forged, *opts)
    assert result.exit_code == 1
    assert f"PROBLEM: bundle {forged!r}: the commit marker is not well-formed: " in result.output
    assert f"outside {store.prefix}data/{forged}/ (another bundle's objects)" in result.output
    assert list_committed(store, keys).committed == [branch]


def test_get_into_the_store_is_refused(tmp_path: Path, keys: str) -> None:
    """A user (or a script) runs `bundles get ID --to` a folder inside the archive, which would make the
    copy appear as another committed bundle."""
    opts = config(tmp_path, keys)
    store = LocalStore(tmp_path / "arch")
    bundle = commit(tmp_path, store, "HO", "0123abcd-run")
    later = new_bundle_id("quarterly", "HO", "2026Q3", "0123abcd-run", AT + dt.timedelta(hours=1))
    inside = store.path(later)

    result = invoke("bundles", "get", bundle, "--to", str(inside), *opts)
    assert result.exit_code == 2
    assert "inside the store root" in result.output
    assert "Choose a directory outside the store" in result.output
    assert not inside.exists() and store.list() == [bundle]


def test_reproduce_refuses_a_forged_bundle(tmp_path: Path, keys: str,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    """An attacker edits a bundle's figures and rewrites its manifests to match (they cannot re-sign),
    then shows an auditor that `bundles reproduce` reproduces the forged figures exactly."""
    import bagit

    opts = config(tmp_path, keys)
    store = LocalStore(tmp_path / "arch")
    bundle = commit(tmp_path, store, "HO", "0123abcd-run")
    root = store.path(bundle)
    for p in [root, *root.rglob("*")]:
        p.chmod(0o755 if p.is_dir() else 0o644)
    forged = {"counts": {"cases": 12}}
    (root / "data" / "figures" / "figures.json").write_text(json.dumps(forged), encoding="utf-8")
    bagit.Bag(str(root)).save(manifests=True)  # manifests match again; the signature cannot

    module = types.ModuleType("tasks.compute")
    module.figures_from_bundle = lambda data_dir: forged  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "tasks.compute", module)
    result = invoke("bundles", "reproduce", bundle, *opts)
    assert result.exit_code == 1
    first = result.output.splitlines()[0]
    assert first.startswith(f"error: {bundle}: integrity failed (") and first.endswith(
        "problem(s)); figures not reproduced from a bundle that does not verify")
    assert "PROBLEM: bad signature: signature.ed25519 does not match tagmanifest-sha512.txt" in result.output
    assert "reproduced exactly" not in result.output
