"""``complaints status``: JSON keys and states from a real local archive (filed only by a recorded
submission; drafts alone leave a filing open, at risk or late), an unknown calendar year noted without
failing the command, table."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from cli.status import register
from tasks.archive.stores import LocalStore

KEYS = {"filing", "period", "entity", "level", "due", "state", "bundle", "drafts", "submission",
        "submitted_at", "reference", "reason"}
GD_Q3 = "quarterly/GD/2026Q3/20261012T020000Z-ab12cd34"  # 10:00 Shanghai on 12 Oct, before its due day
HO_Q3_LATE = "quarterly/HO/2026Q3/20261021T020000Z-cd34ef56"  # the day after the head office's due day
JS_Q3_DRAFT = "quarterly/JS/2026Q3/20261012T030000Z-ef56ab78"  # drafted in time, never submitted

FIXTURE_2027 = """\
year: 2027
source: test fixture, not the State Council notice
holidays: [2027-01-01, 2027-01-02, 2027-01-03]
workdays: [2027-01-09]
"""


@pytest.fixture
def cli() -> typer.Typer:
    app = typer.Typer(pretty_exceptions_enable=False)

    @app.callback()
    def main() -> None:
        """test root (keeps `status` a subcommand)"""

    register(app)
    return app


def signed_bundle(staging: Path, bundle_id: str, store: LocalStore) -> None:
    """A real signed bundle committed under ``bundle_id`` (its run.json says what the id says)."""
    from complaints.settings import Signing
    from tasks.archive.bundle import archive_bundle
    from tasks.archive.stores import parse_bundle_id

    b = parse_bundle_id(bundle_id)
    staging.mkdir()
    (staging / "run.json").write_text(json.dumps({
        "run_id": f"{b.run}-0000-4000", "filing": b.filing, "entity": b.entity, "period": b.period,
        "as_of": "2026-10-09T18:00:00+08:00", "trigger": "cli", "code_version": "0.1.0",
        "package_versions": {"bagit": "1.9.0"}}), encoding="utf-8")
    archive_bundle(staging, bundle_id, store, {}, Signing())


def signed_submission(workdir: Path, bundle_id: str, at: str, store: LocalStore,
                      reference: str | None = None) -> str:
    """A real signed submission of the draft ``bundle_id``, submitted at ``at`` (the record as
    ``complaints submit`` writes it; the document comparison is the CLI's job, not status's)."""
    import datetime as dt

    from tasks.config_files import load_settings
    from tasks.submission import Draft, record_submission

    run = json.loads((store.path(bundle_id) / "data" / "run.json").read_text(encoding="utf-8"))
    settings = load_settings(workdir / "complaints.yaml").settings
    document = workdir / "submitted.docx"
    document.write_bytes(b"the file as submitted")
    done = record_submission(store, settings, Draft(bundle_id, run, "draft.docx", b"draft"), document,
                             submitted_at=dt.datetime.fromisoformat(at), channel="监管报送系统", by="张三",
                             reference=reference, approver=None, accept_reason=None, drift=[],
                             workdir=workdir)
    return done.ref.bundle_id


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    from tasks.archive.bundle import generate_keypair

    private, public = generate_keypair(tmp_path / "keys")
    monkeypatch.delenv("COMPLAINTS_SIGNING_KEY", raising=False)
    monkeypatch.setenv("COMPLAINTS_SIGNING_KEY_FILE", str(private))
    (tmp_path / "cal").mkdir()
    (tmp_path / "complaints.yaml").write_text(
        "company: {name: 测试人寿}\n"
        "entities:\n"
        "  - {code: HO, name: 总公司, level: head_office}\n"
        "  - {code: GD, name: 广东分公司, level: branch}\n"
        "  - {code: JS, name: 江苏分公司, level: branch}\n"
        "calendar_dir: cal\n"
        "archive: " + json.dumps({"store": "local", "local": {"root": "archive"},
                                  "signing": {"public_key": public}}) + "\n",
        encoding="utf-8",
    )
    store = LocalStore(tmp_path / "archive")
    for n, bundle_id in enumerate((GD_Q3, HO_Q3_LATE, JS_Q3_DRAFT)):
        signed_bundle(tmp_path / f"bag{n}", bundle_id, store)
    signed_submission(tmp_path, GD_Q3, "2026-10-12T15:00:00", store, reference="粤银保监投诉〔2026〕17号")
    signed_submission(tmp_path, HO_Q3_LATE, "2026-10-21T09:30:00", store)
    return tmp_path


def run(app: typer.Typer, workdir: Path, *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, ["status", "--config", str(workdir / "complaints.yaml"),
                                      "--workdir", str(workdir), *args], env={"COLUMNS": "220"})
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.stdout, result.stderr


def test_json_keys_and_states(cli: typer.Typer, workdir: Path) -> None:
    code, out, err = run(cli, workdir, "--year", "2026", "--today", "2026-10-13", "--json")
    rows = json.loads(out)
    assert all(set(r) == KEYS for r in rows)
    # quarterly and annual per entity, monthly and weekly (53 ISO weeks in 2026) for the head office
    assert len(rows) == 4 * 3 + 3 + 12 + 53
    by = {(r["filing"], r["period"], r["entity"]): r for r in rows}
    gd = by[("quarterly", "2026Q3", "GD")]
    assert gd["submission"].startswith("submission-quarterly/GD/2026Q3/")
    assert gd == {
        "filing": "quarterly", "period": "2026Q3", "entity": "GD", "level": "branch",
        "due": "2026-10-15", "state": "filed", "bundle": GD_Q3, "drafts": 1,
        "submission": gd["submission"], "submitted_at": "2026-10-12T15:00:00+08:00",
        "reference": "粤银保监投诉〔2026〕17号", "reason": None}
    # a draft alone does not file: JS drafted on 12 Oct, never submitted
    js = by[("quarterly", "2026Q3", "JS")]
    assert (js["state"], js["drafts"], js["bundle"], js["submission"]) == ("at_risk", 1, JS_Q3_DRAFT, None)
    assert by[("quarterly", "2026Q3", "HO")]["bundle"] == HO_Q3_LATE
    assert by[("quarterly", "2026Q3", "HO")]["state"] == "filed_late"
    assert by[("monthly", "2026-09", "HO")]["state"] == "late"
    assert by[("monthly", "2026-09", "HO")]["drafts"] == 0
    # Q4 2026 needs the 2027 calendar: due null (never a guess) with the reason; the command does not
    # fail for it (it used to exit 3, turning the whole of Q4 into an error): a note on stderr
    q4 = by[("quarterly", "2026Q4", "HO")]
    assert q4["due"] is None and q4["state"] == "not_open" and "2027" in q4["reason"]
    assert code == 0 and "2027" in err and "note:" in err


def test_supplied_year_and_past_year(cli: typer.Typer, workdir: Path) -> None:
    (workdir / "cal" / "2027.yaml").write_text(FIXTURE_2027, encoding="utf-8")
    code, out, _ = run(cli, workdir, "--today", "2027-01-12", "--year", "2026", "--json")
    by = {(r["filing"], r["period"], r["entity"]): r for r in json.loads(out)}
    assert code == 0
    assert by[("quarterly", "2026Q4", "HO")] == {
        "filing": "quarterly", "period": "2026Q4", "entity": "HO", "level": "head_office",
        "due": "2027-01-14", "state": "at_risk", "bundle": None, "drafts": 0, "submission": None,
        "submitted_at": None, "reference": None, "reason": None}
    assert by[("quarterly", "2026Q4", "GD")]["state"] == "late"  # branch: 7th working day, 11 Jan

    code, out, _ = run(cli, workdir, "--today", "2026-10-13", "--year", "2025", "--json")
    rows = json.loads(out)
    assert code == 0 and {r["state"] for r in rows} == {"late"}
    assert {r["period"][:4] for r in rows} == {"2025"}


def test_table_and_errors(cli: typer.Typer, workdir: Path) -> None:
    code, out, _ = run(cli, workdir, "--year", "2026", "--today", "2026-10-13")
    assert code == 0 and "at_risk" in out and "filed_late" in out and "2026Q3" in out
    assert "粤银保监投诉" in out  # the reference of the recorded submission
    code, _, err = run(cli, workdir, "--today", "13/10/2026")
    assert code == 2 and "YYYY-MM-DD" in err
    result = CliRunner().invoke(cli, ["status", "--config", str(workdir / "missing.yaml")])
    assert result.exit_code == 2 and "file not found" in result.stderr


def test_fines_summary_tracked_where_a_source_has_penalties(cli: typer.Typer, workdir: Path) -> None:
    """With a source mapping the penalties table, each month's fines summary is a due item (the 1st of the
    next month, a natural day) filed by the month's first committed monthly publication."""
    from tasks.archive.stores import LocalStore
    from tasks.config_files import CONFIG_DIR

    config = workdir / "complaints.yaml"
    source = CONFIG_DIR / "sources" / "demo_callcenter.yaml"
    config.write_text(config.read_text(encoding="utf-8") + f"sources: [{json.dumps(str(source))}]\n",
                      encoding="utf-8")
    monthly = "monthly/HO/2026-08/20260901T010000Z-ab12cd34"  # committed 09-01 09:00 Shanghai: on time
    signed_bundle(workdir / "bag-m", monthly, LocalStore(workdir / "archive"))
    code, out, _ = run(cli, workdir, "--year", "2026", "--today", "2026-10-13", "--json")
    assert code == 0
    fines = {r["period"]: r for r in json.loads(out) if r["filing"] == "fines"}
    assert len(fines) == 12
    assert (fines["2026-08"]["due"], fines["2026-08"]["state"], fines["2026-08"]["bundle"]) == (
        "2026-09-01", "filed", monthly)
    assert (fines["2026-09"]["due"], fines["2026-09"]["state"]) == ("2026-10-01", "late")  # National Day
    assert fines["2026-10"]["state"] == "not_open"
    code, out, _ = run(cli, workdir, "--year", "2026", "--today", "2026-11-01")
    assert code == 0 and "投诉罚单汇总" in out


ITEMS = """rectification_items:
  - {id: RC-1, title: 理赔条款解释整改, finding: 季度投诉分析, root_cause: contract_terms, owner: 理赔部,
     opened: 2026-04-10, due: 2026-09-30, status: in_progress}
  - {id: RC-2, title: 柜面服务整改, requirement: 粤金消保函〔2026〕41号, category: counter_service,
     owner: 运营部, opened: 2026-04-10, due: 2026-09-01, status: done}
"""


def test_overdue_rectification_items(cli: typer.Typer, workdir: Path) -> None:
    """Issue 19: an item past its due date and not done is listed (JSON row and its own table); a done
    item and one not yet due are not; a bad item is a configuration error (exit 2)."""
    config = workdir / "complaints.yaml"
    config.write_text(config.read_text(encoding="utf-8") + ITEMS, encoding="utf-8")
    code, out, _ = run(cli, workdir, "--year", "2026", "--today", "2026-10-13", "--json")
    rows = [r for r in json.loads(out) if r["filing"] == "rectification_item"]
    assert code == 0 and rows == [{"filing": "rectification_item", "period": "RC-1", "entity": "HO",
                                   "state": "overdue", "id": "RC-1",
                                   "title": "理赔条款解释整改", "owner": "理赔部", "due": "2026-09-30",
                                   "status": "in_progress", "days_overdue": 13}]
    code, out, _ = run(cli, workdir, "--year", "2026", "--today", "2026-10-13")
    assert code == 0 and "整改事项已逾期" in out and "RC-1" in out and "RC-2" not in out
    code, out, _ = run(cli, workdir, "--year", "2026", "--today", "2026-09-30", "--json")
    assert not [r for r in json.loads(out) if r["filing"] == "rectification_item"]
    config.write_text(config.read_text(encoding="utf-8").replace("root_cause: contract_terms",
                                                                 "root_cause: bad_luck"), encoding="utf-8")
    code, _, err = run(cli, workdir, "--year", "2026", "--today", "2026-10-13")
    assert code == 2 and "bad_luck" in err and "Traceback" not in err
