"""Evidence bundles: BagIt bag, Ed25519 signature, verification of tampering, figure and bag diffs."""

from __future__ import annotations

import base64
import json
import os
import sys
import types
from pathlib import Path

import bagit
import numpy as np
import pytest
from cryptography.hazmat.primitives import serialization
from typer.testing import CliRunner

from cli import app
from complaints.settings import Signing
from tasks.archive.bundle import (
    SIGNATURE_FILE,
    BundleError,
    bag_info_from_run,
    diff_bags,
    diff_figures,
    generate_keypair,
    load_public_key,
    make_bag,
    verify_bag,
)

RUN = {"run_id": "3f2a9c1e-0000-4000-8000-000000000001", "filing": "quarterly", "period": "2026Q3",
       "entity": "HO", "as_of": "2026-10-09T18:00:00+08:00", "trigger": "cli", "code_version": "0.1.0",
       "package_versions": {"pandas": "3.1.1", "bagit": "1.9.0"}, "started_at": "2026-10-09T18:00:00+08:00"}
FIGURES = {"period": "2026Q3", "counts": {"cases": 120, "valid": 118}, "timeliness": {"rate": 0.9576271186},
           "top5": [{"category": "理赔", "cases": 40}, {"category": "销售", "cases": 30}]}


def staging(path: Path, figures: dict | None = None, run: dict | None = None) -> Path:
    """A staging directory shaped like BUNDLE_LAYOUT.md (small files only)."""
    (path / "figures").mkdir(parents=True)
    (path / "extract").mkdir()
    (path / "filings").mkdir()
    (path / "run.json").write_text(json.dumps(run or RUN, ensure_ascii=False), encoding="utf-8")
    (path / "figures" / "figures.json").write_text(json.dumps(figures or FIGURES, ensure_ascii=False),
                                                   encoding="utf-8")
    (path / "figures" / "figures.csv").write_text("key,value\ncounts.cases,120\n", encoding="utf-8")
    (path / "extract" / "ledger.parquet").write_bytes(bytes(range(256)) * 40)
    (path / "filings" / "季度报告.docx").write_bytes(b"PK\x03\x04 not really a docx")
    return path


@pytest.fixture()
def keys(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, str]:
    private, public = generate_keypair(tmp_path / "keys")
    monkeypatch.delenv("COMPLAINTS_SIGNING_KEY", raising=False)
    monkeypatch.setenv("COMPLAINTS_SIGNING_KEY_FILE", str(private))
    return private, public


@pytest.fixture()
def bag(tmp_path: Path, keys: tuple[Path, str]) -> Path:
    return make_bag(staging(tmp_path / "stage"), {}, Signing(public_key=keys[1]))


def test_bag_is_valid_bagit_with_sha512_and_run_metadata(bag: Path, keys: tuple[Path, str]) -> None:
    b = bagit.Bag(str(bag))
    b.validate()  # the standard library agrees
    assert b.algorithms == ["sha512"]
    assert (bag / "manifest-sha512.txt").is_file() and (bag / "tagmanifest-sha512.txt").is_file()
    assert (bag / "bagit.txt").read_text().startswith("BagIt-Version: 1.0")
    assert "data/filings/季度报告.docx" in b.payload_entries()
    assert b.info["Period"] == "2026Q3" and b.info["Entity"] == "HO" and b.info["Filing"] == "quarterly"
    assert b.info["Run-Id"] == RUN["run_id"] and b.info["As-Of"] == RUN["as_of"]
    assert b.info["Trigger"] == "cli" and b.info["Code-Version"] == "0.1.0"
    assert b.info["Package-Versions"] == "bagit==1.9.0, pandas==3.1.1"
    payload = [p for p in (bag / "data").rglob("*") if p.is_file()]
    assert len(payload) == 5
    assert b.info["Payload-Oxum"] == f"{sum(p.stat().st_size for p in payload)}.{len(payload)}"
    assert b.info["Bagging-Date"]
    assert b.info["Signing-Key-Fingerprint"].startswith("sha256:")
    assert (bag / SIGNATURE_FILE).is_file() and not (bag / "data" / SIGNATURE_FILE).exists()
    key_text = keys[0].read_bytes()
    assert all(key_text not in p.read_bytes() for p in bag.rglob("*") if p.is_file())  # no private key
    assert verify_bag(bag, keys[1]) == []


def test_explicit_info_overrides_run_json_and_missing_fields_are_refused(tmp_path: Path, keys) -> None:
    b = make_bag(staging(tmp_path / "a"), {"trigger": "schedule", "Entity": "GD"}, Signing())
    info = bagit.Bag(str(b)).info
    assert info["Trigger"] == "schedule" and info["Entity"] == "GD"
    run = {k: v for k, v in RUN.items() if k not in ("code_version", "trigger")}
    with pytest.raises(BundleError, match="Trigger, Code-Version"):
        make_bag(staging(tmp_path / "b", run=run), {}, Signing())
    assert bag_info_from_run({"as_of": "x\ny", "package_versions": {"b": "2", "a": "1"}}) == {
        "As-Of": "x y", "Package-Versions": "a==1, b==2"}


def test_refuses_to_bag_twice(bag: Path) -> None:
    with pytest.raises(BundleError, match="already a bag"):
        make_bag(bag, {}, Signing())


def test_private_key_from_env_pem_text(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    private, public = generate_keypair(tmp_path / "k")
    monkeypatch.delenv("COMPLAINTS_SIGNING_KEY_FILE", raising=False)
    monkeypatch.setenv("MY_KEY", private.read_text())
    b = make_bag(staging(tmp_path / "s"), {}, Signing(private_key_env="MY_KEY"))
    assert verify_bag(b, public) == []
    raw = load_public_key(public).public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    assert verify_bag(b, base64.b64encode(raw).decode()) == []  # raw base64 public keys work too
    assert oct(private.stat().st_mode & 0o777) == "0o600"


def test_key_not_matching_configured_public_key_is_refused(tmp_path: Path, keys) -> None:
    _, other_public = generate_keypair(tmp_path / "other")
    with pytest.raises(BundleError, match="does not match"):
        make_bag(staging(tmp_path / "s"), {}, Signing(public_key=other_public))


def test_unsigned_bundle_and_missing_public_key_are_problems(tmp_path: Path, monkeypatch) -> None:
    for var in ("COMPLAINTS_SIGNING_KEY", "COMPLAINTS_SIGNING_KEY_FILE"):
        monkeypatch.delenv(var, raising=False)
    b = make_bag(staging(tmp_path / "s"), {}, Signing())
    assert not (b / SIGNATURE_FILE).exists()
    _, public = generate_keypair(tmp_path / "k")
    problems = verify_bag(b, public)
    assert len(problems) == 1 and problems[0].startswith("unsigned bundle")
    bagit.Bag(str(b)).validate()  # still a valid bag: only the signature is missing


def test_no_public_key_is_a_problem(bag: Path) -> None:
    assert [p for p in verify_bag(bag, None) if p.startswith("signature not checked")]


def test_changed_byte_is_caught(bag: Path, keys) -> None:
    p = bag / "data" / "extract" / "ledger.parquet"
    data = bytearray(p.read_bytes())
    data[1000] ^= 1
    p.write_bytes(bytes(data))
    assert verify_bag(bag, keys[1]) == ["checksum mismatch (sha512): data/extract/ledger.parquet was changed"]


def test_removed_added_and_changed_files_are_all_named(bag: Path, keys) -> None:
    (bag / "data" / "figures" / "figures.csv").unlink()
    (bag / "data" / "figures" / "extra.json").write_text("{}")
    (bag / "notes.txt").write_text("added at the top")
    (bag / "data" / "run.json").write_text("{}")
    problems = verify_bag(bag, keys[1])
    assert "missing payload file: data/figures/figures.csv" in problems
    assert "file not in the manifests (added): data/figures/extra.json" in problems
    assert "file not in the manifests (added): notes.txt" in problems
    assert "checksum mismatch (sha512): data/run.json was changed" in problems
    assert any(p.startswith("Payload-Oxum") for p in problems)


def test_tampered_bag_info_is_caught(bag: Path, keys) -> None:
    info = bag / "bag-info.txt"
    info.write_text(info.read_text().replace("Period: 2026Q3", "Period: 2026Q2"))
    assert verify_bag(bag, keys[1]) == ["checksum mismatch (sha512): bag-info.txt was changed"]


def test_bad_signature_is_caught(bag: Path, keys, tmp_path: Path) -> None:
    _, other = generate_keypair(tmp_path / "other")
    problems = verify_bag(bag, other)
    assert len(problems) == 1 and problems[0].startswith("bad signature")
    assert "bundle names key" in problems[0]
    sig = base64.b64decode((bag / SIGNATURE_FILE).read_text())
    (bag / SIGNATURE_FILE).write_text(base64.b64encode(bytes([sig[0] ^ 1]) + sig[1:]).decode())
    assert verify_bag(bag, keys[1])[0].startswith("bad signature")
    (bag / SIGNATURE_FILE).write_text("not base64!!")
    assert verify_bag(bag, keys[1]) == [f"bad signature: {SIGNATURE_FILE} is not base64"]


def test_rewritten_manifests_break_the_signature(bag: Path, keys) -> None:
    """An attacker who changes a file and regenerates the manifests still fails the signature."""
    (bag / "data" / "run.json").write_text("{}")
    b = bagit.Bag(str(bag))
    cwd = os.getcwd()
    try:
        b.save(manifests=True)
    finally:
        os.chdir(cwd)
    b.validate()  # a valid bag again for bagit …
    problems = verify_bag(bag, keys[1])
    assert len(problems) == 1 and problems[0].startswith("bad signature")  # … but not for us


def test_archive_retry_reuses_an_intact_bag_and_refuses_a_damaged_one(tmp_path: Path, keys) -> None:
    from tasks.archive.bundle import archive_bundle, check_bag_contents
    from tasks.archive.stores import LocalStore

    stage = make_bag(staging(tmp_path / "s"), {}, Signing())  # as left by an interrupted attempt
    assert check_bag_contents(stage) == []
    store = LocalStore(tmp_path / "archive")
    ref = archive_bundle(stage, "quarterly/HO/2026Q3/20261121T210405Z-abc", store, {}, Signing())
    assert ref.signed and store.list() == [ref.bundle_id]
    (stage / "data" / "run.json").write_text("{}")
    with pytest.raises(BundleError, match="no longer intact"):
        archive_bundle(stage, "quarterly/HO/2026Q3/20261121T210406Z-abd", store, {}, Signing())


def test_not_a_bag(tmp_path: Path) -> None:
    assert verify_bag(tmp_path, None)[0].endswith("not a bag (no bagit.txt)")


# --------------------------------------------------------------------------------------------- diffs


def test_diff_figures_equal_and_exact() -> None:
    assert diff_figures(FIGURES, json.loads(json.dumps(FIGURES))) == []
    assert diff_figures({"a": 1, "b": float("nan")}, {"a": 1.0, "b": float("nan")}) == []
    assert diff_figures({"a": np.int64(3), "r": np.float64(0.5)}, {"a": 3, "r": 0.5}) == []
    assert diff_figures({"r": 0.1 + 0.2}, {"r": 0.3}) == ["r: 0.30000000000000004 → 0.3"]


def test_diff_figures_names_every_difference() -> None:
    b = json.loads(json.dumps(FIGURES))
    b["counts"]["cases"] = 121
    del b["counts"]["valid"]
    b["counts"]["major"] = 2
    b["top5"][1]["cases"] = 31
    b["top5"].append({"category": "其他", "cases": 1})
    b["period"] = None
    assert diff_figures(FIGURES, b) == [
        "counts.cases: 120 → 121",
        "counts.major: added (2)",
        "counts.valid: removed (was 118)",
        'period: "2026Q3" → null',
        "top5[1].cases: 30 → 31",
        'top5[2]: added ({"category": "其他", "cases": 1})',
    ]


def test_diff_figures_types_matter() -> None:
    assert diff_figures({"flag": True}, {"flag": 1}) == ["flag: true → 1"]
    assert diff_figures({"x": "1"}, {"x": 1}) == ['x: "1" → 1']
    assert diff_figures({"x": None}, {"x": float("nan")}) == ["x: null → NaN"]
    assert diff_figures({"x": {"y": 1}}, {"x": [1]}) == ['x: {"y": 1} → [1]']
    assert diff_figures([1, 2], [1]) == ["[1]: removed (was 2)"]


def test_diff_bags_names_files_and_figures(tmp_path: Path, keys) -> None:
    a = make_bag(staging(tmp_path / "a"), {}, Signing())
    changed = json.loads(json.dumps(FIGURES))
    changed["counts"]["cases"] = 119
    b_stage = staging(tmp_path / "b", figures=changed)
    (b_stage / "filings" / "季度报告.docx").unlink()
    (b_stage / "logs").mkdir()
    (b_stage / "logs" / "run.log").write_text("log")
    b = make_bag(b_stage, {}, Signing())
    assert diff_bags(a, b) == [
        "file removed: data/filings/季度报告.docx",
        "file added: data/logs/run.log",
        "file changed: data/figures/figures.json",
        "figure counts.cases: 120 → 119",
    ]
    assert diff_bags(a, a) == []


# ----------------------------------------------------------------------------------------------- CLI


def test_cli_verify_directory(bag: Path, keys, tmp_path: Path) -> None:
    runner = CliRunner()
    key_file = tmp_path / "pub.pem"
    key_file.write_text(keys[1])
    ok = runner.invoke(app, ["bundles", "verify", str(bag), "--public-key", str(key_file)])
    assert ok.exit_code == 0, ok.output
    assert ok.output.startswith("OK:")
    (bag / "data" / "run.json").write_text("{}")
    (bag / "data" / "figures" / "figures.csv").unlink()
    bad = runner.invoke(app, ["bundles", "verify", str(bag), "--public-key", str(key_file)])
    assert bad.exit_code == 1
    assert "PROBLEM: checksum mismatch (sha512): data/run.json was changed" in bad.output
    assert "PROBLEM: missing payload file: data/figures/figures.csv" in bad.output


def test_cli_reproduce_compares_exactly(bag: Path, keys, monkeypatch: pytest.MonkeyPatch) -> None:
    """``reproduce`` calls tasks.compute.figures_from_bundle(data_dir) and compares exactly."""
    seen: list[Path] = []
    recomputed = json.loads(json.dumps(FIGURES))

    def figures_from_bundle(data_dir: Path) -> dict:
        seen.append(data_dir)
        return recomputed

    module = types.ModuleType("tasks.compute")
    module.figures_from_bundle = figures_from_bundle  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "tasks.compute", module)
    runner = CliRunner()
    key_file = bag.parent / "pub.pem"  # reproduce verifies first
    key_file.write_text(keys[1])
    key = ["--public-key", str(key_file)]
    ok = runner.invoke(app, ["bundles", "reproduce", str(bag), *key])
    assert ok.exit_code == 0, ok.output
    assert "reproduced exactly" in ok.output and seen == [bag / "data"]
    recomputed["timeliness"]["rate"] = 0.9576271187
    bad = runner.invoke(app, ["bundles", "reproduce", str(bag), *key])
    assert bad.exit_code == 1
    assert "timeliness.rate: 0.9576271186 → 0.9576271187" in bad.output


def test_cli_diff_directories(tmp_path: Path, keys) -> None:
    a = make_bag(staging(tmp_path / "a"), {}, Signing())
    b = make_bag(staging(tmp_path / "b", figures={**FIGURES, "period": "2026Q4"}), {}, Signing())
    result = CliRunner().invoke(app, ["bundles", "diff", str(a), str(b)])
    assert result.exit_code == 1
    assert 'figure period: "2026Q3" → "2026Q4"' in result.output
    assert "file changed: data/figures/figures.json" in result.output


def test_cli_unknown_target_is_one_message(tmp_path: Path) -> None:
    key = tmp_path / "pub.pem"
    key.write_text("unused")
    result = CliRunner().invoke(app, ["bundles", "verify", str(tmp_path / "nope"), "--public-key", str(key)])
    assert result.exit_code == 2
    assert "neither a bundle id nor a directory" in result.output
