"""Forwarded-case and rectification reports as filings (issue 16 item 3): `report` archives a signed draft
bundle, never overwrites an earlier draft, and `status` tracks the item with its due date."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cli import app
from complaints.times import now_local
from tasks.archive.bundle import generate_keypair

FIXTURES = Path(__file__).parents[1] / "tasks" / "render" / "fixtures"
LEDGER = str(FIXTURES / "ledger_small.csv")
runner = CliRunner()


@pytest.fixture()
def signed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    private, public = generate_keypair(tmp_path / "keys")
    monkeypatch.delenv("COMPLAINTS_SIGNING_KEY", raising=False)
    monkeypatch.setenv("COMPLAINTS_SIGNING_KEY_FILE", str(private))
    (tmp_path / "public.pem").write_text(public, encoding="ascii")
    return tmp_path / "public.pem"


def _bundle(stderr: str) -> str:
    line = next(x for x in stderr.splitlines() if x.startswith("draft bundle "))
    return line.split()[2]


def test_forwarded_report_is_an_archived_tracked_draft(tmp_path: Path, signed: Path) -> None:
    work = tmp_path / "work"
    args = ["report", "forwarded", "--case", "C2026072203", "--ledger", LEDGER, "--events",
            str(FIXTURES / "events_small.csv"), "--workdir", str(work), "--generated-at", "2026-10-10T09:30",
            "--by", "张三"]
    first = runner.invoke(app, args)
    assert first.exit_code == 0, first.output
    doc = Path(first.stdout.strip().splitlines()[-1])
    assert doc.name.endswith("-v1.docx")
    assert doc.parent == work / "output" / "forwarded" / "HO" / "C2026072203"
    bundle = _bundle(first.stderr)
    assert bundle.startswith("forwarded/HO/C2026072203/")
    assert "complaints submit " + bundle in first.stderr

    from docx import Document

    officer = Document(str(doc))  # the officer edits the draft in Word
    officer.add_paragraph("联系人：李四，电话：020-12345678")
    officer.save(str(doc))
    edited = doc.read_bytes()
    second = runner.invoke(app, args)
    assert second.exit_code == 0, second.output
    again = Path(second.stdout.strip().splitlines()[-1])
    assert again.name.endswith("-v2.docx") and doc.read_bytes() == edited

    verify = runner.invoke(app, ["bundles", "verify", bundle, "--workdir", str(work),
                                 "--public-key", str(signed)])
    assert verify.exit_code == 0, verify.output
    store_dir = work / "archive" / bundle
    run = json.loads((store_dir / "data" / "run.json").read_text(encoding="utf-8"))
    assert run["filing"] == "forwarded" and run["period"] == "C2026072203" and run["by"] == "张三"
    assert run["due"] == "2026-08-06" and run["subject"]["addressee"] == "国家金融监督管理总局江苏监管局"
    assert (store_dir / "data" / "filings" / doc.name).read_bytes() != edited  # the draft as rendered
    assert (store_dir / "data" / "extract" / "case.parquet").exists()

    status = runner.invoke(app, ["status", "--workdir", str(work), "--today", "2026-10-12", "--json"])
    rows = [r for r in json.loads(status.stdout) if r["filing"] == "forwarded"]
    assert rows == [{**rows[0], "period": "C2026072203", "entity": "HO", "due": "2026-08-06", "state": "late",
                     "drafts": 2, "submitted_at": None}]
    assert rows[0]["bundle"] in {bundle, _bundle(second.stderr)}
    # the officer submits the edited draft: the item is filed (late: due 2026-08-06), with its submission
    submit = runner.invoke(app, ["submit", bundle, "--document", str(doc), "--channel", "电子邮件",
                                 "--by", "李四",
                                 "--reference", "苏金管投诉〔2026〕88号",
                                 "--workdir", str(work), "--public-key", str(signed)])
    assert submit.exit_code == 0, submit.output
    today = now_local().date().isoformat()  # the draft was made now: it is submitted now (no --at)
    status = runner.invoke(app, ["status", "--workdir", str(work), "--today", today, "--json"])
    rows = [r for r in json.loads(status.stdout) if r["filing"] == "forwarded"]
    assert [(r["state"], r["submitted_at"]) for r in rows] == [("filed_late", today)]


def test_rectification_requirement_is_tracked_before_and_after_its_draft(tmp_path: Path,
                                                                        signed: Path) -> None:
    work = tmp_path / "work"
    (work / "requirements").mkdir(parents=True)
    shutil.copy(FIXTURES / "rectification_2026.yaml", work / "requirements" / "gd-35.yaml")

    def rect_rows(today: str) -> list[dict[str, object]]:
        result = runner.invoke(app, ["status", "--workdir", str(work), "--today", today, "--json"])
        return [r for r in json.loads(result.stdout) if r["filing"] == "rectification"]

    before = rect_rows("2026-09-20")
    assert [(r["due"], r["state"], r["drafts"]) for r in before] == [("2026-10-15", "open", 0)]
    made = runner.invoke(app, ["report", "rectification", "--requirement",
                               str(work / "requirements" / "gd-35.yaml"),
                               "--baseline", str(FIXTURES / "figures_2026Q3.json"), "--workdir", str(work)])
    assert made.exit_code == 0, made.output
    bundle = _bundle(made.stderr)
    after = rect_rows("2026-10-14")
    assert [(r["period"], r["state"], r["drafts"], r["bundle"]) for r in after] == \
        [(before[0]["period"], "at_risk", 1, bundle)]
    assert bundle.split("/")[2] == before[0]["period"]
