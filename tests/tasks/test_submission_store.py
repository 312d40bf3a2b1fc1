"""Submissions in a real signed local store: the draft is verified first, previews are refused, the
approver switch, ``--at`` before the draft, and a submission's identity (its kind is signed: a
submission copied under a draft's id, or a draft under a submission's, does not verify or count)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import docx
import pytest
from typer.testing import CliRunner

from complaints.errors import Refused
from complaints.settings import Signing
from tasks.archive.bundle import archive_bundle, generate_keypair, verify_bag
from tasks.archive.stores import LocalStore, parse_bundle_id

DRAFT = "quarterly/HO/2026Q3/20261021T020000Z-ab12cd34"
PREVIEW = "quarterly-preview/HO/2026Q4/20261021T020000Z-cd34ef56"  # a preview of a quarter not ended


def make_docx(path: Path, cases: str = "1320") -> Path:
    d = docx.Document()
    d.add_paragraph(f"2026年第三季度，我公司共接收保险消费投诉{cases}件，投诉处理及时率为96.50%。")
    table = d.add_table(rows=2, cols=2)
    for (r, c), text in {(0, 0): "指标", (0, 1): "本季度", (1, 0): "投诉件数", (1, 1): cases}.items():
        table.cell(r, c).text = text
    d.add_paragraph("特此报告。")
    d.save(str(path))
    return path


def draft_bundle(tmp: Path, bundle_id: str, store: LocalStore, preview: bool = False) -> None:
    b = parse_bundle_id(bundle_id)
    staging = tmp / f"staging-{b.run}"
    (staging / "filings").mkdir(parents=True)
    make_docx(staging / "filings" / "示例人寿-HO-季度报告.docx")
    run = {"run_id": f"{b.run}-0000-4000", "filing": b.filing, "entity": b.entity, "period": b.period,
           "as_of": "2026-10-21T09:00:00+08:00", "trigger": "cli", "code_version": "0.1.0",
           "package_versions": {"bagit": "1.9.0"}, "started_at": "2026-10-21T09:59:00+08:00",
           "finished_at": "2026-10-21T10:00:00+08:00", "by": "王五"}
    if preview:
        run["preview"] = True
    (staging / "run.json").write_text(json.dumps(run), encoding="utf-8")
    archive_bundle(staging, bundle_id, store, {}, Signing())


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    private, public = generate_keypair(tmp_path / "keys")
    monkeypatch.delenv("COMPLAINTS_SIGNING_KEY", raising=False)
    monkeypatch.setenv("COMPLAINTS_SIGNING_KEY_FILE", str(private))
    (tmp_path / "complaints.yaml").write_text(
        "company: {name: 测试人寿}\n"
        "entities:\n  - {code: HO, name: 总公司, level: head_office}\n"
        "archive: " + json.dumps({"store": "local", "local": {"root": "archive"},
                                  "signing": {"public_key": public}}) + "\n"
        "submission: {require_approver: true, channels: [传真]}\n", encoding="utf-8")
    store = LocalStore(tmp_path / "archive")
    draft_bundle(tmp_path, DRAFT, store)
    draft_bundle(tmp_path, PREVIEW, store, preview=True)
    return tmp_path


def submit(workdir: Path, *args: str) -> tuple[int, str, str]:
    from cli import app

    result = CliRunner().invoke(app, ["submit", *args, "--config", str(workdir / "complaints.yaml"),
                                      "--workdir", str(workdir)])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.stdout, result.stderr


def test_approver_switch_at_and_preview(workdir: Path) -> None:
    document = make_docx(workdir / "submitted.docx")
    base = [DRAFT, "--document", str(document), "--channel", "传真", "--by", "张三"]  # a configured channel
    code, _, err = submit(workdir, *base)
    assert code == 2 and "require_approver" in err and "Traceback" not in err
    code, _, err = submit(workdir, *base, "--approved-by", "李四")
    assert code == 2 and "go together" in err
    approver = ["--approved-by", "李四", "--approver-role", "消费者权益保护工作分管负责人"]
    code, _, err = submit(workdir, *base, *approver, "--at", "2026-10-21T09:59:59+08:00")
    assert code == 2 and "before the draft was made" in err
    code, _, err = submit(workdir, PREVIEW, *base[1:], *approver)
    assert code == 1 and "preview" in err
    other_prefix = PREVIEW.replace("quarterly-preview/", "preview-quarterly/")
    code, _, err = submit(workdir, other_prefix, *base[1:], *approver)
    assert code == 1 and "preview" in err  # a preview under its own prefix
    code, out, err = submit(workdir, *base, *approver, "--at", "2026-10-21T10:00:00+08:00", "--json")
    assert code == 0, err
    record = json.loads(out)
    assert record["submitted_at"] == "2026-10-21T10:00:00+08:00" and record["channel"] == "传真"
    assert record["approver"]["name"] == "李四"
    assert LocalStore(workdir / "archive").list() == sorted([DRAFT, PREVIEW, record["submission_id"]])


def test_a_draft_that_does_not_verify_is_refused(workdir: Path) -> None:
    from tasks.submission import load_draft

    store = LocalStore(workdir / "archive")
    public = (workdir / "keys" / "signing-key.pub.pem").read_text(encoding="ascii")
    assert load_draft(store, DRAFT, public).run["by"] == "王五"
    run_json = store.path(DRAFT) / "data" / "run.json"
    run_json.chmod(0o644)
    run = json.loads(run_json.read_text(encoding="utf-8"))
    run_json.write_text(json.dumps({**run, "by": "赵六"}), encoding="utf-8")
    with pytest.raises(Refused, match="does not verify"):
        load_draft(store, DRAFT, public)


def test_submission_identity_is_signed(workdir: Path) -> None:
    from tasks.submission import read_archive

    document = make_docx(workdir / "submitted.docx")
    code, out, err = submit(workdir, DRAFT, "--document", str(document), "--channel", "邮寄", "--by", "张三",
                            "--approved-by", "李四", "--approver-role", "分管负责人", "--json")
    assert code == 0, err
    sub_id = json.loads(out)["submission_id"]
    store = LocalStore(workdir / "archive")
    public = (workdir / "keys" / "signing-key.pub.pem").read_text(encoding="ascii")
    assert verify_bag(store.path(sub_id), public, sub_id) == []
    from cli import app

    args = ["--config", str(workdir / "complaints.yaml"), "--workdir", str(workdir)]
    listed = CliRunner().invoke(app, ["bundles", "list", "--filing", "quarterly", "--json", *args])
    assert [(r["id"], r["kind"], r["draft"]) for r in json.loads(listed.stdout)] == [
        (DRAFT, "draft", None), (sub_id, "submission", DRAFT)]  # previews: --filing quarterly-preview
    shown = CliRunner().invoke(app, ["bundles", "show", DRAFT, *args])
    assert f"submissions: {sub_id}" in shown.stdout
    reproduced = CliRunner().invoke(app, ["bundles", "reproduce", sub_id, *args])
    assert reproduced.exit_code == 2 and "no figures to reproduce" in reproduced.stderr
    archive = read_archive(store, public)
    # a preview never counts as a draft
    assert archive.drafts == [DRAFT] and [s.submission_id for s in archive.submissions] == [sub_id]
    assert archive.submissions[0].draft_bundle == DRAFT
    # the submission copied under a draft's id (its kind is signed in bag-info) ...
    fake_draft = sub_id.replace("submission-quarterly", "quarterly")
    shutil.copytree(store.path(sub_id), store.path(fake_draft))
    problems = verify_bag(store.path(fake_draft), public, fake_draft)
    assert any("identity mismatch" in p and "filing" in p for p in problems)
    # ... and a draft copied under a submission's id: neither counts
    fake_sub = DRAFT.replace("quarterly/", "submission-quarterly/", 1)
    shutil.copytree(store.path(DRAFT), store.path(fake_sub))
    archive = read_archive(store, public)
    assert archive.drafts == [DRAFT] and [s.submission_id for s in archive.submissions] == [sub_id]
    assert {i for i, _ in archive.damaged} == {fake_draft, fake_sub}
