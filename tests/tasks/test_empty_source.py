"""A source that yields no complaint for the period stops the filing run (issue 22 item 14): a signed
filing of 0 cases with rates of 0.00 is made only on the officer's acknowledgement (``--accept-empty``),
which is recorded in the bundle's run.json and the document's data-quality annex."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import docx
import pytest
import yaml

from complaints.errors import Refused
from flows.filing import make_context
from tasks import stages
from tasks.config_files import CONFIG_DIR

LEDGER_HEADER = ("complaint_id,entity_code,branch_code,province,received_at,channel,business_line,category,"
                 "severity,regulator_forwarded,valid\n")
AS_OF = "2026-10-09T18:00:00+08:00"


def empty_source_config(tmp_path: Path) -> Path:
    """The shipped configuration with one ``ledger_files`` source whose ledger CSV has a header only."""
    exports = tmp_path / "exports"
    exports.mkdir()
    (exports / "ledger.csv").write_text(LEDGER_HEADER, encoding="utf-8")
    source = {"kind": "ledger_files", "name": "legacy_export", "ledger": str(exports / "ledger.csv")}
    (tmp_path / "legacy_export.yaml").write_text(yaml.safe_dump(source), encoding="utf-8")
    settings = yaml.safe_load((CONFIG_DIR / "complaints.yaml").read_text(encoding="utf-8"))
    settings["sources"] = [str(tmp_path / "legacy_export.yaml")]
    for key, default in (("calendar_dir", "calendar"), ("rulebooks_dir", "rulebooks")):
        settings[key] = str(CONFIG_DIR / settings.get(key, default))
    cfg = tmp_path / "complaints.yaml"
    cfg.write_text(yaml.safe_dump(settings, allow_unicode=True), encoding="utf-8")
    return cfg


@pytest.fixture()
def unsigned(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("COMPLAINTS_SIGNING_KEY", raising=False)
    monkeypatch.delenv("COMPLAINTS_SIGNING_KEY_FILE", raising=False)


def _context(tmp_path: Path) -> stages.RunContext:
    return make_context("quarterly", "2026Q3", None, AS_OF, str(empty_source_config(tmp_path)), tmp_path,
                        "test", None)


def test_empty_source_stops_the_run_naming_period_and_source(tmp_path: Path, unsigned: None) -> None:
    ctx = _context(tmp_path)
    data = stages.extract(ctx)
    with pytest.raises(Refused) as caught:
        stages.validate(ctx, data)
    message = str(caught.value)
    assert "2026Q3" in message and "legacy_export" in message and "--accept-empty" in message
    assert caught.value.exit_code == 1


def test_acknowledged_empty_source_is_recorded(tmp_path: Path, unsigned: None) -> None:
    ctx = _context(tmp_path)
    reason = "本季度该机构确无投诉（已与客服中心核对）"
    gate = stages.validate(ctx, stages.extract(ctx), accept_empty=f"  {reason} ")
    computed = stages.compute(ctx, gate, accept_empty=reason)
    assert computed.accept_empty == reason and computed.figures["counts"]["cases"] == 0
    rendered = stages.render(ctx, gate, computed)
    ref = stages.archive(ctx, gate, computed, rendered)
    run = json.loads((tmp_path / "archive" / ref.bundle_id / "data" / "run.json").read_text(encoding="utf-8"))
    assert run["accept_empty"] == reason and run["rows"] == {"read": 0, "accepted": 0, "quarantined": 0}
    document = docx.Document(str(rendered.path))
    text = "\n".join(p.text for p in document.paragraphs)
    assert reason in text and "0件" in text


def test_period_complaints_counts_accepted_rows_received_in_the_period(tmp_path: Path) -> None:
    """What decides "empty": accepted ledger rows received in ``[start, end)`` of the period."""
    import pandas as pd

    ctx = _context(tmp_path)
    gate = stages.validate(ctx, stages.extract(ctx), accept_empty="x")
    gate.ledger = pd.DataFrame({"received_at": pd.to_datetime(
        ["2026-06-30 23:59", "2026-07-01 00:00", "2026-09-30 23:59", "2026-10-01 00:00"])})
    assert stages.period_complaints(gate, ctx.period) == 2


@pytest.mark.slow
def test_cli_run_on_an_empty_source(tmp_path: Path, unsigned: None) -> None:
    """``complaints run quarterly`` (a real process and flow run): exit 1 with one ``error:`` line naming
    the period and the source; with --accept-empty the filing is made and says so."""
    cfg = empty_source_config(tmp_path)
    exe = str(Path(sys.executable).parent / "complaints")
    base = [exe, "run", "quarterly", "--period", "2026Q3", "--as-of", AS_OF, "--config", str(cfg),
            "--workdir", str(tmp_path)]
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    refused = subprocess.run(base, capture_output=True, text=True, env=env, timeout=600)
    assert refused.returncode == 1, refused.stderr[-3000:]
    errors = [line for line in refused.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "2026Q3" in errors[0] and "legacy_export" in errors[0], refused.stderr[-3000:]
    assert "Traceback" not in refused.stderr
    filed = subprocess.run([*base, "--accept-empty", "no complaints this quarter", "--json"],
                           capture_output=True, text=True, env=env, timeout=600)
    assert filed.returncode == 0, filed.stderr[-3000:]
    summary = json.loads(filed.stdout[filed.stdout.index("{"):])
    assert summary["accept_empty"] == "no complaints this quarter" and summary["headline"]["cases"] == 0
