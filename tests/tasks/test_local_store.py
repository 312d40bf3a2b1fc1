"""The local directory store: write-once, read-only, visible only when complete; bundle ids; the CLI."""

from __future__ import annotations

import datetime as dt
import json
import shutil
import stat
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cli import app
from complaints.settings import Archive, Signing
from complaints.settings import LocalStore as LocalStoreConfig
from tasks.archive.bundle import archive_bundle, make_bag, verify_bag
from tasks.archive.stores import (
    BundleExists,
    BundleNotFound,
    LocalStore,
    Store,
    StoreError,
    new_bundle_id,
    open_store,
    parse_bundle_id,
)

RUN: dict[str, object] = {
       "run_id": "7d1e2f3a-aaaa-4bbb-8ccc-000000000002", "filing": "quarterly", "period": "2026Q3",
       "entity": "HO", "as_of": "2026-10-09T18:00:00+08:00", "trigger": "cli", "code_version": "0.1.0",
       "package_versions": {"pandas": "3.1.1"}}
AT = dt.datetime(2026, 11, 21, 21, 4, 5, tzinfo=dt.UTC)
RUN_ID = str(RUN["run_id"])  # a bundle id's run part must be its bag's Run-Id


def staging(path: Path, cases: int = 120) -> Path:
    (path / "figures").mkdir(parents=True)
    (path / "extract").mkdir()
    (path / "run.json").write_text(json.dumps(RUN), encoding="utf-8")
    (path / "figures" / "figures.json").write_text(json.dumps({"counts": {"cases": cases}}), encoding="utf-8")
    (path / "extract" / "ledger.parquet").write_bytes(b"PAR1" * 500)
    return path


@pytest.fixture()
def keys(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    from tasks.archive.bundle import generate_keypair

    private, public = generate_keypair(tmp_path / "keys")
    monkeypatch.delenv("COMPLAINTS_SIGNING_KEY", raising=False)
    monkeypatch.setenv("COMPLAINTS_SIGNING_KEY_FILE", str(private))
    return public


def bag(tmp_path: Path, name: str, cases: int = 120) -> Path:
    return make_bag(staging(tmp_path / name, cases), {}, Signing())


# ------------------------------------------------------------------------------------------ bundle ids


def test_new_bundle_id_names_filing_entity_period_and_sorts_by_time() -> None:
    bid = new_bundle_id("quarterly", "HO", "2026Q3", "3F2A9C1E-0000-4000", AT)
    assert bid == "quarterly/HO/2026Q3/20261121T210405Z-3f2a9c1e"
    later = new_bundle_id("quarterly", "HO", "2026Q3", "00000000-x", AT + dt.timedelta(seconds=1))
    assert sorted([later, bid]) == [bid, later]
    naive = new_bundle_id("annual", "GD", "2026", "abc", dt.datetime(2026, 11, 22, 5, 4, 5))  # Shanghai
    assert naive == "annual/GD/2026/20261121T210405Z-abc"
    p = parse_bundle_id(bid)
    assert (p.filing, p.entity, p.period, p.run, p.created) == ("quarterly", "HO", "2026Q3", "3f2a9c1e", AT)
    assert str(p) == bid


@pytest.mark.parametrize("bad", ["quarterly/HO/2026Q3", "../HO/2026Q3/20261121T210405Z-abc",
                                 "quarterly/HO/2026Q3/20261121T210405Z-abc/x",
                                 "q/H O/2026/20261121T210405Z-a"])
def test_bad_bundle_ids_are_refused(bad: str) -> None:
    with pytest.raises(ValueError, match="not a bundle id"):
        parse_bundle_id(bad)


def test_run_id_without_letters_or_digits_is_refused() -> None:
    with pytest.raises(ValueError):
        new_bundle_id("quarterly", "HO", "2026Q3", "---", AT)


# ---------------------------------------------------------------------------------------- local store


def test_put_list_read_get_and_protocol(tmp_path: Path, keys: str) -> None:
    store = LocalStore(tmp_path / "archive")
    assert isinstance(store, Store)
    assert store.list() == []
    bid = new_bundle_id("quarterly", "HO", "2026Q3", RUN_ID, AT)
    location = store.put(bid, bag(tmp_path, "s1"))
    assert Path(location) == tmp_path / "archive" / bid
    assert store.exists(bid) and store.list() == [bid]
    assert store.list(entity="HO", period="2026Q3", filing="quarterly") == [bid]
    assert store.list(entity="GD") == [] and store.list(period="2026Q2") == []
    files = store.files(bid)
    assert {"bagit.txt", "bag-info.txt", "manifest-sha512.txt", "tagmanifest-sha512.txt",
            "signature.ed25519", "data/run.json", "data/extract/ledger.parquet"} <= set(files)
    assert files["data/extract/ledger.parquet"] == 2000
    assert b"Period: 2026Q3" in store.read(bid, "bag-info.txt")
    with pytest.raises(StoreError):
        store.read(bid, "../../etc/passwd")
    out = store.get(bid, tmp_path / "copy")
    assert verify_bag(out, keys) == [] and verify_bag(store.path(bid), keys) == []
    with pytest.raises(StoreError, match="not an empty directory"):
        store.get(bid, tmp_path / "copy")
    with pytest.raises(BundleNotFound):
        store.files("quarterly/HO/2026Q3/20200101T000000Z-none")


def test_write_once_and_read_only(tmp_path: Path, keys: str) -> None:
    store = LocalStore(tmp_path / "archive")
    bid = new_bundle_id("quarterly", "HO", "2026Q3", RUN_ID, AT)
    store.put(bid, bag(tmp_path, "s1"))
    before = store.read(bid, "data/figures/figures.json")
    with pytest.raises(BundleExists, match="write-once"):
        store.put(bid, bag(tmp_path, "s2", cases=999))
    assert store.read(bid, "data/figures/figures.json") == before
    root = store.path(bid)
    modes = [p.stat().st_mode for p in [root, *root.rglob("*")]]
    assert modes and all(m & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH) == 0 for m in modes)
    status = store.lock_status(bid)
    assert status.reported and status.problems == [] and "read-only" in status.lines[0]
    (root / "data" / "run.json").chmod(0o644)
    assert store.lock_status(bid).problems == ["store: data/run.json is writable (local bundles must be "
                                               "read-only)"]


def test_rerun_makes_a_new_version_beside_the_old(tmp_path: Path, keys: str) -> None:
    store = LocalStore(tmp_path / "archive")
    first = archive_bundle(staging(tmp_path / "s1"), new_bundle_id("quarterly", "HO", "2026Q3", RUN_ID, AT),
                           store, {}, Signing(public_key=keys))
    second = archive_bundle(staging(tmp_path / "s2", cases=121),
                            new_bundle_id("quarterly", "HO", "2026Q3", RUN_ID, AT + dt.timedelta(hours=1)),
                            store, {}, Signing(public_key=keys))
    assert first.signed and second.signed and first.files == second.files == 8
    assert store.list(period="2026Q3") == [first.bundle_id, second.bundle_id]
    assert json.loads(store.read(first.bundle_id, "data/figures/figures.json")) == {"counts": {"cases": 120}}
    assert json.loads(store.read(second.bundle_id, "data/figures/figures.json")) == {"counts": {"cases": 121}}


def test_interrupted_copy_leaves_nothing_visible_and_the_rerun_succeeds(
        tmp_path: Path, keys: str, monkeypatch: pytest.MonkeyPatch) -> None:
    store = LocalStore(tmp_path / "archive")
    bid = new_bundle_id("quarterly", "HO", "2026Q3", RUN_ID, AT)
    real_copy = shutil.copyfile
    calls = {"n": 0}

    def copy_then_fail(src, dst, *args, **kwargs):  # type: ignore[no-untyped-def]
        calls["n"] += 1
        if calls["n"] > 3:
            raise OSError("disk full (injected)")
        return real_copy(src, dst, *args, **kwargs)

    monkeypatch.setattr("tasks.archive.stores.local.shutil.copyfile", copy_then_fail)
    with pytest.raises(OSError, match="injected"):
        store.put(bid, bag(tmp_path, "s1"))
    assert calls["n"] == 4
    assert store.list() == [] and not store.exists(bid)
    assert any((tmp_path / "archive" / ".incoming").rglob("*"))  # the stale part stays, unlisted
    monkeypatch.setattr("tasks.archive.stores.local.shutil.copyfile", real_copy)
    store.put(bid, bag(tmp_path, "s2"))  # the same id can still be committed
    rerun = new_bundle_id("quarterly", "HO", "2026Q3", RUN_ID, AT + dt.timedelta(minutes=5))
    store.put(rerun, bag(tmp_path, "s3"))
    assert store.list() == [bid, rerun]
    assert verify_bag(store.path(bid), keys) == []


def test_open_store_resolves_the_local_root_against_workdir(tmp_path: Path) -> None:
    store = open_store(Archive(local=LocalStoreConfig(root="arch")), tmp_path)
    assert isinstance(store, LocalStore) and store.root == tmp_path / "arch"
    absolute = open_store(Archive(local=LocalStoreConfig(root=str(tmp_path / "abs"))), Path("/elsewhere"))
    assert isinstance(absolute, LocalStore) and absolute.root == tmp_path / "abs"


# ------------------------------------------------------------------------------------------------ CLI


def _config(tmp_path: Path, public_key: str) -> Path:
    cfg = {"company": {"name": "示例人寿保险股份有限公司"},
           "entities": [{"code": "HO", "name": "总公司", "level": "head_office"}],
           "archive": {"store": "local", "local": {"root": "arch"}, "signing": {"public_key": public_key}}}
    path = tmp_path / "complaints.yaml"
    path.write_text(json.dumps(cfg, ensure_ascii=False), encoding="utf-8")
    return path


def test_cli_against_the_local_store(tmp_path: Path, keys: str) -> None:
    config = _config(tmp_path, keys)
    work = tmp_path / "work"
    store = LocalStore(work / "arch")
    a = archive_bundle(staging(tmp_path / "s1"), new_bundle_id("quarterly", "HO", "2026Q3", RUN_ID, AT),
                       store, {}, Signing(public_key=keys)).bundle_id
    b = archive_bundle(staging(tmp_path / "s2", cases=121),
                       new_bundle_id("quarterly", "HO", "2026Q3", RUN_ID, AT + dt.timedelta(days=1)),
                       store, {}, Signing(public_key=keys)).bundle_id
    opts = ["--config", str(config), "--workdir", str(work)]
    run = CliRunner().invoke

    listed = run(app, ["bundles", "list", "--json", "--period", "2026Q3", *opts])
    assert listed.exit_code == 0, listed.output
    rows = json.loads(listed.output)
    assert [r["id"] for r in rows] == [a, b] and rows[0]["created"] == "2026-11-22T05:04:05+08:00"
    assert json.loads(run(app, ["bundles", "list", "--json", "--entity", "GD", *opts]).output) == []

    shown = run(app, ["bundles", "show", a, *opts])
    assert shown.exit_code == 0 and f"Run-Id: {RUN['run_id']}" in shown.output and "read-only" in shown.output

    ok = run(app, ["bundles", "verify", a, *opts])
    assert ok.exit_code == 0, ok.output
    assert "lock status reported" in ok.output

    got = run(app, ["bundles", "get", a, "--to", str(tmp_path / "out"), *opts])
    assert got.exit_code == 0 and verify_bag(tmp_path / "out", keys) == []

    diff = run(app, ["bundles", "diff", a, b, *opts])
    assert diff.exit_code == 1 and "figure counts.cases: 120 → 121" in diff.output

    target = store.path(a) / "data" / "figures" / "figures.json"
    target.chmod(0o644)  # an owner (or root) can still change a local bundle: verify catches it
    target.write_text(json.dumps({"counts": {"cases": 1}}))
    bad = run(app, ["bundles", "verify", a, *opts])
    assert bad.exit_code == 1
    assert "PROBLEM: checksum mismatch (sha512): data/figures/figures.json was changed" in bad.output
    assert "PROBLEM: store: data/figures/figures.json is writable" in bad.output

    missing = run(app, ["bundles", "show", "quarterly/HO/2026Q3/20200101T000000Z-none", *opts])
    assert missing.exit_code == 2 and "no committed bundle" in missing.output
