"""Submissions on the S3 store (Object Lock, commit markers): the draft is fetched and verified, the
submission committed write-once beside it, listed with its link, counted by status, and verified
(``bundles verify``) against the store like any bundle."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import docx
import pytest
from typer.testing import CliRunner

from cli import app
from complaints.settings import S3Store as S3Config
from complaints.settings import Signing
from tasks.archive.bundle import archive_bundle, generate_keypair
from tasks.archive.stores import S3Store, parse_bundle_id

pytestmark = pytest.mark.s3

DRAFT = "quarterly/HO/2026Q3/20261021T020000Z-ab12cd34"


def make_docx(path: Path, cases: str = "1320") -> Path:
    d = docx.Document()
    d.add_paragraph(f"2026年第三季度，我公司共接收保险消费投诉{cases}件，投诉处理及时率为96.50%。")
    table = d.add_table(rows=2, cols=2)
    for (r, c), text in {(0, 0): "指标", (0, 1): "本季度", (1, 0): "投诉件数", (1, 1): cases}.items():
        table.cell(r, c).text = text
    d.save(str(path))
    return path


def test_submission_on_s3(s3_server: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                          request: pytest.FixtureRequest) -> None:
    private, public = generate_keypair(tmp_path / "keys")
    monkeypatch.delenv("COMPLAINTS_SIGNING_KEY", raising=False)
    monkeypatch.setenv("COMPLAINTS_SIGNING_KEY_FILE", str(private))
    s3 = {"endpoint_url": s3_server.url, "bucket": s3_server.bucket, "prefix": f"t/{request.node.name}/",
          "object_lock_mode": "COMPLIANCE", "retention_days": 1}
    store = S3Store(S3Config(**s3))
    b = parse_bundle_id(DRAFT)
    staging = tmp_path / "staging"
    (staging / "filings").mkdir(parents=True)
    make_docx(staging / "filings" / "季度报告.docx")
    (staging / "run.json").write_text(json.dumps({
        "run_id": f"{b.run}-0000-4000", "filing": b.filing, "entity": b.entity, "period": b.period,
        "as_of": "2026-10-21T09:00:00+08:00", "trigger": "cli", "code_version": "0.1.0",
        "package_versions": {"bagit": "1.9.0"}, "started_at": "2026-10-21T09:59:00+08:00",
        "finished_at": "2026-10-21T10:00:00+08:00"}), encoding="utf-8")
    archive_bundle(staging, DRAFT, store, {}, Signing())
    config = tmp_path / "complaints.yaml"
    config.write_text("company: {name: 测试人寿}\n"
                      "entities:\n  - {code: HO, name: 总公司, level: head_office}\n"
                      "archive: " + json.dumps({"store": "s3", "s3": s3, "signing": {"public_key": public}})
                      + "\n", encoding="utf-8")

    def cli(*args: str) -> Any:
        result = CliRunner().invoke(app, [*args, "--config", str(config), "--workdir", str(tmp_path)],
                                    env={"COLUMNS": "200"})
        assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
        return result

    changed = cli("submit", DRAFT, "--document", str(make_docx(tmp_path / "changed.docx", "1321")),
                  "--channel", "电子邮件", "--by", "张三")
    assert changed.exit_code == 1 and "draft 1320, submitted 1321" in changed.stderr
    assert store.list() == [DRAFT]
    ok = cli("submit", DRAFT, "--document", str(make_docx(tmp_path / "same.docx")), "--channel", "电子邮件",
             "--by", "张三", "--reference", "S3-0001", "--at", "2026-10-21T15:00:00+08:00", "--json")
    assert ok.exit_code == 0, ok.stderr
    sub_id = json.loads(ok.stdout)["submission_id"]
    assert sorted(store.list()) == sorted([DRAFT, sub_id])
    verified = cli("bundles", "verify", sub_id)
    assert verified.exit_code == 0, verified.stdout + verified.stderr
    listed = {r["id"]: r for r in json.loads(cli("bundles", "list", "--json").stdout)}
    assert listed[sub_id]["draft"] == DRAFT and listed[sub_id]["kind"] == "submission"
    status = json.loads(cli("status", "--year", "2026", "--today", "2026-10-22", "--json").stdout)
    row = next(r for r in status if (r["filing"], r["period"], r["entity"]) == ("quarterly", "2026Q3", "HO"))
    # the head office's Q3 was due 20 Oct; submitted on the 21st
    assert (row["state"], row["submission"], row["reference"], row["drafts"]) == \
        ("filed_late", sub_id, "S3-0001", 1)
    assert row["submitted_at"] == dt.datetime(2026, 10, 21, 15, tzinfo=dt.timezone(dt.timedelta(hours=8))
                                              ).isoformat()
