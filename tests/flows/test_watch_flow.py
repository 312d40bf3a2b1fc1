"""The deadline watcher flow in-process (subflow launch, Prefect's ephemeral server): final states,
a failed filing run, a real quarterly bundle, and the webhook notification (local receiver). Filed
means submitted: the drafts the watcher starts leave the filings open or late until their submissions
are recorded, and the watcher does not start another draft meanwhile."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import yaml

from cli.demo import prepare_workdir  # first: sets Prefect's ephemeral startup timeout

pytestmark = pytest.mark.slow


@pytest.fixture
def hook() -> Iterator[tuple[str, list[dict[str, Any]]]]:
    got: list[dict[str, Any]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 (http.server API)
            got.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/hook/secret-token", got
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Path]:
    from tasks.demo_data import create_demo_source

    monkeypatch.setenv("COMPLAINTS_SIGNING_KEY_FILE", "")  # restored after the test
    monkeypatch.delenv("COMPLAINTS_DEMO_SOURCE_URL", raising=False)
    monkeypatch.delenv("COMPLAINTS_WATCHER_LAUNCH", raising=False)
    config = prepare_workdir(tmp_path, None)
    data = yaml.safe_load(config.read_text(encoding="utf-8"))
    dropped = [e for e in data["entities"] if e["code"] != "HO"]
    data["entities"] = [e for e in data["entities"] if e["code"] == "HO"]
    # only the head office files here; the other entities' cases still need their names in the documents
    # (the configuration refuses a code naming no entity or office): they become offices of the head office
    data["offices"] = [{"code": e["code"], "name": e["name"], "parent": "HO"} for e in dropped] + data.get(
        "offices", [])
    data["schedules"] = {"watcher_time": "08:30", "timezone": "Asia/Shanghai", "watch_from": "2026-10-01",
                         "notifier": {"webhook_url_env": "WATCH_HOOK_URL"}}
    config.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    create_demo_source(f"sqlite:///{tmp_path / 'demo_source.sqlite'}", complaints=1500)
    return tmp_path, config


def test_watcher_flow_states_runs_and_notifications(workdir: tuple[Path, Path], hook: tuple[str, list[Any]],
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    from flows.watch import deadline_watcher
    from tasks.archive.stores import LocalStore

    wd, config = workdir
    url, got = hook
    monkeypatch.setenv("WATCH_HOOK_URL", url)
    store = LocalStore(wd / "archive")
    common: dict[str, Any] = {"config": str(config), "workdir": str(wd), "return_state": True}

    # 1. a day after the head office's Q3 due date, nothing started: Failed, "late" notified (the
    # September monthly tables too: due 12 October; and the weekly publications of W40-W42, each due on the
    # first working day after its week: W40 after National Day on Thursday 10-08; W39, due 09-28, is before
    # watch_from)
    state = deadline_watcher(today="2026-10-21", start_runs=False, **common)
    assert state.is_failed() and state.message == "2026-10-21: 5 late"
    summary: Any = state.result(raise_on_failure=False)
    assert summary["problems"] == ["late: quarterly 2026Q3 HO (due 2026-10-20, no draft)",
                                   "late: monthly 2026-09 HO (due 2026-10-12, no draft)",
                                   "late: weekly 2026-W40 HO (due 2026-10-08, no draft)",
                                   "late: weekly 2026-W41 HO (due 2026-10-12, no draft)",
                                   "late: weekly 2026-W42 HO (due 2026-10-19, no draft)"]
    assert [r["period"] for r in got[-1]["late"]] == ["2026Q3", "2026-09", "2026-W40", "2026-W41",
                                                      "2026-W42"] and got[-1]["ok"] is False
    assert store.list() == []

    # 2. the source cannot be reached: the started run fails, so does the watcher
    monkeypatch.setenv("COMPLAINTS_DEMO_SOURCE_URL", f"sqlite:///{wd / 'missing-dir' / 'x.sqlite'}")
    state = deadline_watcher(today="2026-10-13", launch="subflow", **common)
    assert state.is_failed() and "4 started (4 failed)" in (state.message or "")
    failed = got[-1]["failed_runs"]
    assert [(r["filing"], r["period"], r["entity"], r["launched_as"]) for r in failed] == [
        ("quarterly", "2026Q3", "HO", "subflow"), ("monthly", "2026-09", "HO", "subflow"),
        ("weekly", "2026-W40", "HO", "subflow"), ("weekly", "2026-W41", "HO", "subflow")]
    assert all(r["state"] == "FAILED" and r["bundle"] is None for r in failed)
    assert store.list() == []

    # 3. source back, launch "auto" without a Prefect server → subflow; the drafts are committed, but a
    # draft is not a filing: the quarter stays open, the monthly tables (due yesterday) late. The weekly
    # publications are internal: their bundle is the publication (committed today in real time, after
    # their due dates: filed late), and their escalated units went to the notifier
    monkeypatch.delenv("COMPLAINTS_DEMO_SOURCE_URL")
    before = len(got)
    state = deadline_watcher(today="2026-10-13", **common)
    assert state.is_failed() and state.message == "2026-10-13: 1 late, 1 due, 4 started (0 failed)"
    (bundle,) = store.list("quarterly", "HO", "2026Q3")
    (monthly,) = store.list("monthly", "HO", "2026-09")
    weekly = {w: store.list("weekly", "HO", w) for w in ("2026-W40", "2026-W41")}
    assert all(len(ids) == 1 for ids in weekly.values())
    summary = state.result(raise_on_failure=False)
    run, run_monthly, *run_weekly = summary["runs"]
    assert [(r["period"], r["ok"], r["bundle"]) for r in run_weekly] == [
        (w, True, ids[0]) for w, ids in weekly.items()]
    for w, (weekly_id,) in weekly.items():
        row = next(d for d in summary["decisions"] if d["period"] == w)
        assert (row["state"], row["submission"], row["action"]) == ("filed_late", weekly_id, None)
    escalations = [p for p in got[before:] if p.get("kind") == "weekly_escalation"]
    for w, (weekly_id,) in weekly.items():
        figures = json.loads(store.read(weekly_id, "data/figures/figures.json"))
        assert figures["week"] == w and figures["publication_due"] == row_due(summary, w)
        escalated = sorted((k, c) for k in ("branch", "department")
                           for c, u in figures["units"][k].items() if u["escalated"])
        sent = [p for p in escalations if p["week"] == w]
        assert len(sent) == (1 if escalated else 0)
        if sent:
            assert sorted((u["unit_kind"], u["unit"]) for u in sent[0]["escalated"]) == escalated
        assert any("周公示" in name and name.endswith(".xlsx") for name in store.files(weekly_id))  # -vN
        # an auditor recomputes the publication from the bundle alone (`bundles reproduce`)
        from tasks.archive.bundle import diff_figures, load_figures
        from tasks.compute import figures_from_bundle

        bag = store.path(weekly_id)
        assert diff_figures(load_figures(bag), figures_from_bundle(bag / "data")) == []
    assert run["ok"] and run["launched_as"] == "subflow" and run["bundle"] == bundle
    assert run_monthly["ok"] and run_monthly["bundle"] == monthly
    assert got[-1]["runs"][0]["bundle"] == bundle
    row = next(d for d in summary["decisions"] if d["period"] == "2026Q3")
    assert (row["state"], row["bundle"], row["drafts"], row["action"]) == ("open", bundle, 1, None)
    row = next(d for d in summary["decisions"] if d["period"] == "2026-09")
    assert (row["state"], row["bundle"], row["submission"]) == ("late", monthly, None)
    assert summary["problems"] == ["late: monthly 2026-09 HO (due 2026-10-12, 1 draft(s) not submitted)"]

    # 4. the next day: no new draft for filings that have one (unless redraft is asked); still reported
    state = deadline_watcher(today="2026-10-14", **common)
    assert state.is_failed() and state.result(raise_on_failure=False)["runs"] == []
    assert store.list("quarterly", "HO", "2026Q3") == [bundle]
    assert [r["period"] for r in got[-1]["late"]] == ["2026-09"]

    # 5. both submissions recorded (as `complaints submit` does): filed, nothing to start, nothing to say
    from tasks.config_files import load_settings
    from tasks.submission import compare, load_draft, record_submission

    settings = load_settings(config).settings
    key = settings.archive.signing.public_key
    for draft_id in (bundle, monthly):
        draft = load_draft(store, draft_id, key)
        document = wd / "output" / "submitted" / draft.document_name
        document.parent.mkdir(parents=True, exist_ok=True)
        document.write_bytes(draft.document)
        assert compare(draft, document) == []
        record_submission(store, settings, draft, document, submitted_at=draft.finished_at,
                          channel="监管报送系统", by="张三", reference=None, approver=None,
                          accept_reason=None, drift=[], workdir=wd)
    before = len(got)
    state = deadline_watcher(today="2026-10-14", **common)
    assert state.is_completed(), state.message
    assert state.result()["runs"] == [] and len(got) == before
    states = {d["period"]: d["state"] for d in state.result()["decisions"]}
    assert states["2026Q3"] in ("filed", "filed_late") and states["2026-09"] == "filed_late"
    assert store.list("quarterly", "HO", "2026Q3") == [bundle]


def row_due(summary: dict[str, Any], period: str) -> str:
    """The due date the watcher decided for ``period``."""
    return str(next(d for d in summary["decisions"] if d["period"] == period)["due"])
