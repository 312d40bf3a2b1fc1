"""The filing's life on the demo (FILINGS.md): a run makes a draft (status still late, ``drafts: 1``); the
officer edits the wording and submits it (status ``filed_late`` with the reference); a document with one
table number changed is refused naming that figure; ``bundles verify`` passes on the submission and
fails once a byte of the archived submitted file changes. Real DOCX, real signed local store."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import docx
import pytest

COMPLAINTS = str(Path(sys.executable).parent / "complaints")
AS_OF = "2026-11-20T09:00:00+08:00"
TODAY = "2026-11-20"


def complaints(workdir: Path, *args: str, by: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "COLUMNS": "200",
           "COMPLAINTS_SIGNING_KEY_FILE": str(workdir / "keys" / "signing-key.pem")}
    env.pop("COMPLAINTS_DEMO_SOURCE_URL", None)
    env.pop("COMPLAINTS_BY", None)
    if by:
        env["COMPLAINTS_BY"] = by
    return subprocess.run([COMPLAINTS, *args], capture_output=True, text=True, env=env, timeout=600,
                          cwd=workdir)


def config_args(workdir: Path) -> list[str]:
    return ["--config", str(workdir / "complaints.yaml"), "--workdir", str(workdir)]


def status_of(workdir: Path, filing: str, period: str, entity: str) -> dict:
    proc = complaints(workdir, "status", "--year", period[:4], "--today", TODAY, "--json",
                      *config_args(workdir))
    assert proc.returncode == 0, proc.stderr
    rows = json.loads(proc.stdout)
    return next(r for r in rows if (r["filing"], r["period"], r["entity"]) == (filing, period, entity))


def set_text(paragraph: docx.text.paragraph.Paragraph, text: str) -> None:
    for run in paragraph.runs[1:]:
        run.text = ""
    paragraph.runs[0].text = text


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    workdir = tmp_path_factory.mktemp("submit-demo")
    proc = complaints(workdir, "demo", "--workdir", str(workdir), "--complaints", "3000", "--as-of", AS_OF,
                      "--json", by="王五")
    assert proc.returncode == 0, proc.stderr[-3000:]
    return workdir, json.loads(proc.stdout[proc.stdout.index("{"):])


@pytest.mark.slow
def test_draft_submit_refuse_verify(demo: tuple[Path, dict], tmp_path: Path) -> None:
    workdir, summary = demo
    draft_id = summary["bundle"]
    assert (summary["period"], summary["entity"], summary["due"]) == ("2026Q3", "HO", "2026-10-20")
    # who did it: the person is recorded in run.json and the signed bag-info
    bag = workdir / "archive" / draft_id
    assert json.loads((bag / "data" / "run.json").read_text(encoding="utf-8"))["by"] == "王五"
    assert "Run-By: 王五" in (bag / "bag-info.txt").read_text(encoding="utf-8")

    # a draft is not a filing: due 20 Oct, drafted after it, nothing submitted → late, one draft
    row = status_of(workdir, "quarterly", "2026Q3", "HO")
    assert (row["state"], row["drafts"], row["bundle"], row["submission"], row["submitted_at"]) == \
        ("late", 1, draft_id, None, None)

    # the officer edits the wording (a sentence re-worded around its figures, the closing line, a new
    # paragraph) and submits that version
    from complaints.submission import is_figure_sentence

    cases = str(summary["headline"]["cases"])
    document = docx.Document(summary["document"])
    overview = next(p for p in document.paragraphs if f"{cases}件" in p.text)  # the overview sentence
    original_overview = overview.text
    set_text(overview, "经统计，" + overview.text.replace("我公司", "本公司", 1))
    wording = [p for p in document.paragraphs if p.text.strip() and p.runs and not is_figure_sentence(p.text)]
    closing = next((p for p in wording if p.text.startswith("特此报告")), wording[-1])
    set_text(closing, closing.text + "请予审阅。")
    closing.insert_paragraph_before("本报告经公司消费者权益保护委员会审议通过。")
    edited = tmp_path / "报送版-2026Q3.docx"
    document.save(str(edited))

    # a time before the draft was made is refused in one line (exit 2), nothing recorded
    early = complaints(workdir, "submit", draft_id, "--document", str(edited), "--channel", "监管报送系统",
                       "--by", "张三", "--at", "2026-10-19T10:00:00+08:00", *config_args(workdir))
    assert early.returncode == 2 and "before the draft was made" in early.stderr
    assert "Traceback" not in early.stderr and len(early.stderr.strip().splitlines()) == 1
    bad_channel = complaints(workdir, "submit", draft_id, "--document", str(edited), "--channel", "传真",
                             "--by", "张三", *config_args(workdir))
    assert bad_channel.returncode == 2 and "监管报送系统" in bad_channel.stderr

    # a placeholder left unfilled is refused (exit 1), naming where it is
    unfinished = docx.Document(str(edited))
    unfinished.add_paragraph("联系人：【待补充】")
    unfinished_path = tmp_path / "未完成.docx"
    unfinished.save(str(unfinished_path))
    left = complaints(workdir, "submit", draft_id, "--document", str(unfinished_path),
                      "--channel", "电子邮件", "--by", "张三", *config_args(workdir))
    assert left.returncode == 1 and "still to be completed: paragraph 「联系人：【待补充】」" in left.stderr

    ok = complaints(workdir, "submit", draft_id, "--document", str(edited), "--channel", "监管报送系统",
                    "--by", "张三", "--reference", "监管受理-2026-0042", "--approved-by", "李四",
                    "--approver-role", "消费者权益保护工作分管负责人", "--json", *config_args(workdir))
    assert ok.returncode == 0, ok.stderr
    record = json.loads(ok.stdout)
    submission_id = record["submission_id"]
    assert submission_id.startswith("submission-quarterly/HO/2026Q3/")
    assert (record["draft_bundle"], record["by"], record["channel"], record["drift"]) == \
        (draft_id, "张三", "监管报送系统", [])
    assert record["approver"] == {"name": "李四", "role": "消费者权益保护工作分管负责人"}
    import hashlib
    assert record["document"]["sha512"] == hashlib.sha512(edited.read_bytes()).hexdigest()

    # filed means submitted: after the due date → filed_late, with the reference
    row = status_of(workdir, "quarterly", "2026Q3", "HO")
    assert (row["state"], row["drafts"], row["bundle"], row["submission"], row["reference"]) == \
        ("filed_late", 1, draft_id, submission_id, "监管受理-2026-0042")
    assert row["submitted_at"] == record["submitted_at"]
    table = complaints(workdir, "status", "--year", "2026", "--today", TODAY, *config_args(workdir))
    assert "监管受理-2026-0042" in table.stdout and "逾期报送" in table.stdout

    # one table number changed → refused (exit 1), naming the figure, its place and both values
    changed = docx.Document(str(edited))
    t, r, c, cell = next((t, r, c, cell) for t, table in enumerate(changed.tables)
                         for r, row in enumerate(table.rows) for c, cell in enumerate(row.cells)
                         if c > 0 and cell.text == cases)  # the first table cell printing the case count
    row_label, column_label = changed.tables[t].rows[r].cells[0].text, changed.tables[t].rows[0].cells[c].text
    set_text(cell.paragraphs[0], str(int(cases) + 1))
    changed_path = tmp_path / "改错一个数.docx"
    changed.save(str(changed_path))
    refused = complaints(workdir, "submit", draft_id, "--document", str(changed_path),
                         "--channel", "电子邮件", "--by", "张三", *config_args(workdir))
    assert refused.returncode == 1, refused.stderr
    where_cell = f"table {t + 1}, row {r + 1} 「{row_label}」, column 「{column_label}」"
    assert f"{where_cell}: draft {cases}, submitted {int(cases) + 1}" in refused.stderr
    assert "1 figure(s) differ" in refused.stderr and "Traceback" not in refused.stderr
    # a figure sentence changed is named by its opening words
    sentence = docx.Document(str(edited))
    p = next(p for p in sentence.paragraphs if p.text.startswith("经统计，"))
    set_text(p, p.text.replace(f"{cases}件", f"{int(cases) - 1}件", 1))
    sentence_path = tmp_path / "改错句中数.docx"
    sentence.save(str(sentence_path))
    refused = complaints(workdir, "submit", draft_id, "--document", str(sentence_path), "--channel", "邮寄",
                         "--by", "张三", *config_args(workdir))
    assert refused.returncode == 1
    where = f"paragraph 「{original_overview[:18]}…」"
    assert f"{where}: draft {cases}, submitted {int(cases) - 1}" in refused.stderr
    # ... unless a reason is given: then it is recorded with the differences
    accepted = complaints(workdir, "submit", draft_id, "--document", str(changed_path),
                          "--channel", "电子邮件", "--by", "张三",
                          "--accept-changes", "监管要求按更正后口径报送", "--json", *config_args(workdir))
    assert accepted.returncode == 0, accepted.stderr
    second = json.loads(accepted.stdout)
    assert second["accepted_changes"] is True and second["accept_reason"] == "监管要求按更正后口径报送"
    assert second["drift"] == [{"where": where_cell, "draft": cases, "submitted": str(int(cases) + 1)}]
    assert status_of(workdir, "quarterly", "2026Q3", "HO")["submission"] == submission_id  # the first counts

    # listed with the link to its draft
    listed = complaints(workdir, "bundles", "list", "--json", *config_args(workdir))
    rows = {r["id"]: r for r in json.loads(listed.stdout)}
    assert rows[submission_id]["kind"] == "submission" and rows[submission_id]["draft"] == draft_id
    assert rows[submission_id]["filing"] == "quarterly" and rows[draft_id]["kind"] == "draft"

    # verify passes on the submission, and fails once a byte of the archived submitted file changes
    verified = complaints(workdir, "bundles", "verify", submission_id, *config_args(workdir))
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert "signature valid" in verified.stdout
    stored = workdir / "archive" / submission_id / "data" / "submitted" / edited.name
    assert stored.read_bytes() == edited.read_bytes()
    os.chmod(stored, stat.S_IRUSR | stat.S_IWUSR)
    data = bytearray(stored.read_bytes())
    data[len(data) // 2] ^= 0x01
    stored.write_bytes(bytes(data))
    os.chmod(stored, stat.S_IRUSR | stat.S_IRGRP | stat.S_IROTH)
    broken = complaints(workdir, "bundles", "verify", submission_id, *config_args(workdir))
    assert broken.returncode == 1
    assert f"data/submitted/{edited.name} was changed" in broken.stdout + broken.stderr


@pytest.mark.slow
def test_a_changed_submission_record_fails_verify(demo: tuple[Path, dict], tmp_path: Path) -> None:
    workdir, summary = demo
    document = tmp_path / "as-drafted.docx"
    document.write_bytes(Path(summary["document"]).read_bytes())
    ok = complaints(workdir, "submit", summary["bundle"], "--document", str(document),
                    "--channel", "现场报送", "--json", *config_args(workdir), by="赵六")
    assert ok.returncode == 0, ok.stderr
    record = json.loads(ok.stdout)
    assert record["by"] == "赵六"  # no --by: the person from $COMPLAINTS_BY (else the OS user)
    path = workdir / "archive" / record["submission_id"] / "data" / "submission.json"
    os.chmod(path, stat.S_IRUSR | stat.S_IWUSR)
    path.write_text(path.read_text(encoding="utf-8").replace("现场报送", "监管报送系统"), encoding="utf-8")
    broken = complaints(workdir, "bundles", "verify", record["submission_id"], *config_args(workdir))
    assert broken.returncode == 1 and "data/submission.json was changed" in broken.stdout + broken.stderr
