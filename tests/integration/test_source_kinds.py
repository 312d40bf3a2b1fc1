"""Source kinds behind one interface: branch spreadsheet folders and canonical ledger files are windowed
like the SQL source, every row read reaches the quality gate (rows read = accepted + quarantined), what
was read is recorded (file, size, SHA-256, rows), and SQL + spreadsheets merge with duplicates reported."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import yaml

from complaints.ledger import label_to_name
from complaints.periods import Period
from tasks.config_files import CONFIG_DIR, load_settings
from tasks.demo_data import create_demo_source
from tasks.quality import run_quality_gate
from tasks.sources import DATA_SHEET, Extract, ExtractError, extract_period

PERIOD = Period.parse("2026Q3")
AS_OF = dt.datetime(2026, 11, 21, 9, 0)
LABEL = {name: label for label, name in label_to_name("ledger").items()}


def _row(cid: str, received: str, **kw: Any) -> dict[str, Any]:
    row = {
        "complaint_id": cid,
        "entity_code": "GD",
        "branch_code": "GD01",
        "province": "广东",
        "received_at": received,
        "channel": "phone",
        "business_line": "人身险",  # a Chinese label: the template accepts codes or labels
        "category": "理赔",
        "severity": "general",
        "regulator_forwarded": "否",
        "valid": "是",
    }
    row.update(kw)
    return row


def _branch_file(path: Path, rows: list[dict[str, Any]]) -> Path:
    frame = pd.DataFrame(rows).rename(columns=LABEL)
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.to_excel(path, sheet_name=DATA_SHEET, index=False)
    return path


def _config(tmp_path: Path, sources: list[dict[str, Any] | Path]) -> Path:
    paths = []
    for i, src in enumerate(sources):
        if isinstance(src, Path):
            paths.append(str(src))
            continue
        p = tmp_path / f"source_{i}.yaml"
        p.write_text(yaml.safe_dump(src, allow_unicode=True), encoding="utf-8")
        paths.append(str(p))
    settings = yaml.safe_load((CONFIG_DIR / "complaints.yaml").read_text(encoding="utf-8"))
    settings["sources"] = paths
    cfg = tmp_path / "complaints.yaml"
    cfg.write_text(yaml.safe_dump(settings, allow_unicode=True), encoding="utf-8")
    return cfg


def _extract(cfg: Path, workdir: Path, **kw: Any) -> Extract:
    return extract_period(load_settings(cfg), PERIOD, AS_OF, workdir=workdir, progress=False, **kw)


def _gate(x: Extract) -> tuple[dict[str, Any], set[str]]:
    gate = run_quality_gate(x.ledger, None, None, period=PERIOD, as_of=AS_OF)
    rec = gate.reconciliation["ledger"]
    return rec, set(gate.quarantine["ledger"]["complaint_id"])


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def branch_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "intake"
    _branch_file(
        folder / "gd_good.xlsx",
        [
            _row("GD-001", "2026-07-03 10:00", repeat_of="GD-LINKED"),
            _row("GD-002", "2026-05-10 09:30", decided_at="2026-05-20 09:00"),
            _row("GD-OLD", "2024-03-01 09:00", decided_at="2024-03-05 09:00"),  # outside every window
            _row("GD-BACK", "2025-01-10 09:00"),  # earlier, still undecided at as-of: the backlog
            _row("GD-LINKED", "2024-06-01 09:00", decided_at="2024-06-10 09:00"),  # GD-001 repeats it
        ],
    )
    _branch_file(
        folder / "gd_errors.xlsx",
        [
            _row("GD-101", "2026-08-01 11:00"),
            _row("GD-102", "2026-13-40"),  # not a date
            _row("GD-103", "2026-08-02 11:00", category="赔款"),  # not a category
            _row("GD-104", "2026-08-03 11:00", province=None),  # required value missing
            _row("GD-105", "2023-01-01 11:00", decided_at="2023-01-02", category="赔款"),  # old, bad
        ],
    )
    (folder / "js_damaged.xlsx").write_bytes(b"PK\x03\x04 this is not really a workbook")
    return folder


SPREADSHEETS = {"kind": "branch_spreadsheets", "name": "branch_xlsx", "path": "intake"}


def test_branch_folder_every_row_accounted_for(tmp_path: Path, branch_folder: Path) -> None:
    cfg = _config(tmp_path, [dict(SPREADSHEETS, on_unreadable="skip")])
    x = _extract(cfg, tmp_path)  # `path: intake` is relative to the working directory
    led = x.ledger
    assert sorted(led["complaint_id"]) == sorted(
        ["GD-001", "GD-002", "GD-BACK", "GD-LINKED", "GD-101", "GD-102", "GD-103", "GD-104"]
    )
    assert (led["source"] == "branch_xlsx").all() and set(led["business_line"]) == {"life"}
    # the unparseable date stays as read, so the gate sees it (and a bundle reproduces it)
    by_id = led.set_index("complaint_id")
    assert by_id.loc["GD-102", "received_at"] == "2026-13-40"
    assert by_id.loc["GD-001", "received_at"] == "2026-07-03T10:00:00.000000"
    assert by_id.loc["GD-103", "category"] == "赔款"
    assert x.unparsed[["key", "column", "value"]].values.tolist() == [["GD-102", "received_at", "2026-13-40"]]
    rec, quarantined = _gate(x)
    assert rec["read"] == len(led) == rec["accepted"] + rec["quarantined"]
    assert quarantined == {"GD-102", "GD-103", "GD-104"}

    # what was read: every file with its size, SHA-256 and row counts
    files = {q["name"]: q for q in x.queries}
    assert set(files) == {"gd_good.xlsx", "gd_errors.xlsx", "js_damaged.xlsx"}
    for name, q in files.items():
        path = branch_folder / name
        assert q["sha256"] == _sha(path) and q["bytes"] == path.stat().st_size and q["table"] == "ledger"
    assert (files["gd_good.xlsx"]["rows"], files["gd_good.xlsx"]["rows_extracted"]) == (5, 4)
    assert (files["gd_errors.xlsx"]["rows"], files["gd_errors.xlsx"]["rows_extracted"]) == (5, 4)
    assert files["gd_errors.xlsx"]["rows_with_errors"] == 4
    assert (
        files["js_damaged.xlsx"]["rows"] == 0 and "not a readable .xlsx" in files["js_damaged.xlsx"]["error"]
    )
    # the row errors go back to the branch (including the old row outside the windows) and into the summary
    rows_with_errors = {(e["row"], e["column"]) for e in files["gd_errors.xlsx"]["errors"]}
    assert rows_with_errors == {(3, "received_at"), (4, "category"), (5, "province"), (6, "category")}
    back = pd.read_excel(branch_folder / "gd_errors_errors.xlsx")
    assert len(back) == 4 and set(back["文件"]) == {"gd_errors.xlsx"}
    assert (branch_folder / "js_damaged_errors.xlsx").exists()
    assert not (branch_folder / "gd_good_errors.xlsx").exists()
    assert len(x.branch_errors) == 5 and set(x.branch_errors["source"]) == {"branch_xlsx"}
    meta = x.sources[0]
    assert meta["kind"] == "branch_spreadsheets" and meta["rows_read"] == 10
    assert meta["unreadable"] == ["js_damaged.xlsx"]
    json.dumps(x.summary(), ensure_ascii=False)  # extract.json stays JSON
    x.ledger.to_parquet(tmp_path / "ledger.parquet")  # the text column keeps the extract one table

    # a branch's run sees its own rows (and rows whose entity is unknown), not the others'
    _branch_file(branch_folder / "js.xlsx", [_row("JS-001", "2026-07-09 10:00", entity_code="JS")])
    gd = _extract(cfg, tmp_path, entity="GD")
    assert "JS-001" not in set(gd.ledger["complaint_id"]) and "GD-001" in set(gd.ledger["complaint_id"])


def test_damaged_branch_file_stops_the_run_by_default(tmp_path: Path, branch_folder: Path) -> None:
    cfg = _config(tmp_path, [SPREADSHEETS])
    with pytest.raises(ExtractError, match=r"branch_xlsx.*js_damaged\.xlsx.*on_unreadable: skip"):
        _extract(cfg, tmp_path)
    # an error list whose branch file is gone is not read as a template
    (branch_folder / "js_damaged.xlsx").unlink()
    pd.DataFrame({"文件": ["old.xlsx"]}).to_excel(branch_folder / "old_errors.xlsx", sheet_name="错误清单")
    with pytest.raises(ExtractError, match=r"old_errors\.xlsx: is an error list"):
        _extract(cfg, tmp_path)
    (branch_folder / "old.xlsx").write_bytes((branch_folder / "gd_good.xlsx").read_bytes())
    x = _extract(cfg, tmp_path)  # now it is old.xlsx's error list, and old.xlsx is read
    assert {q["name"] for q in x.queries} == {"gd_good.xlsx", "gd_errors.xlsx", "old.xlsx"}
    missing = _config(tmp_path, [dict(SPREADSHEETS, path=str(tmp_path / "nowhere"))])
    with pytest.raises(ExtractError, match="nowhere does not exist"):
        _extract(missing, tmp_path)


def test_ledger_files_source(tmp_path: Path) -> None:
    files = tmp_path / "exports"
    files.mkdir()
    rows = [
        _row("L-1", "2026-07-05 10:00", business_line="life", category="claims", escalation_of="L-0"),
        _row("L-0", "2024-02-01 10:00", business_line="life", category="claims", decided_at="2024-02-03"),
        _row("L-2", "2025-08-05 10:00", business_line="life", category="sales", amount_involved="12,5"),
        _row("L-3", "2024-08-05 10:00", business_line="life", category="sales", decided_at="2024-08-06"),
        _row("L-4", "2026-09-05 10:00", business_line="life", category="sales", entity_code="JS"),
    ]
    for r in rows:
        r.update(regulator_forwarded="false", valid="true")
    pd.DataFrame(rows).to_csv(files / "ledger.csv", index=False)
    pd.DataFrame(
        {
            "entity_code": ["GD", "GD", "JS"],
            "period": ["2026Q3", "2024Q1", "2026Q3"],
            "business_line": ["life"] * 3,
            "premium": ["1000000", "5", "2000000"],
            "policies": ["100", "1", "200"],
        }
    ).to_csv(files / "exposure.csv", index=False)
    pd.DataFrame(
        {
            "complaint_id": ["L-1", "L-3", "L-2"],
            "at": pd.to_datetime(["2026-07-05 11:00", "2024-08-05 11:00", "2025-08-06 09:00"]),
            "kind": ["logged", "logged", "contacted"],
        }
    ).to_parquet(files / "events.parquet")
    src = {
        "kind": "ledger_files",
        "name": "legacy_export",
        "ledger": str(files / "ledger.csv"),  # absolute
        "exposure": "exports/exposure.csv",  # relative to the working directory
        "events": ["exports/events.parquet"],
    }
    x = _extract(_config(tmp_path, [src]), tmp_path)
    assert list(x.ledger["complaint_id"]) == ["L-0", "L-1", "L-2", "L-4"]  # L-3 is outside the windows
    assert str(x.ledger["received_at"].dtype) == "datetime64[us]"
    assert x.ledger.set_index("complaint_id").loc["L-2", "amount_involved"] == "12,5"  # kept as read
    assert list(x.events["complaint_id"]) == ["L-1", "L-2"]
    assert list(zip(x.exposure["entity_code"], x.exposure["period"], strict=True)) == [
        ("GD", "2026Q3"),
        ("JS", "2026Q3"),
    ]
    rec = {Path(q["file"]).name: q for q in x.queries}
    assert rec["ledger.csv"]["sha256"] == _sha(files / "ledger.csv")
    assert (rec["ledger.csv"]["rows"], rec["ledger.csv"]["rows_extracted"]) == (5, 4)
    assert rec["events.parquet"]["table"] == "events" and rec["events.parquet"]["rows_extracted"] == 2
    assert rec["exposure.csv"]["bytes"] == (files / "exposure.csv").stat().st_size
    assert x.sources[0]["rows"] == {"ledger": 4, "events": 2, "exposure": 2}
    gate_rec, quarantined = _gate(x)
    assert quarantined == {"L-2"} and gate_rec["read"] == 4
    scoped = _extract(_config(tmp_path, [src]), tmp_path, entity="JS")
    assert list(scoped.ledger["complaint_id"]) == ["L-4"] and list(scoped.exposure["entity_code"]) == ["JS"]

    (files / "ledger.csv").write_text("complaint_id;entity_code;received_at\nX;GD;2026-07-01\n")
    with pytest.raises(ExtractError, match="legacy_export.*ledger.csv.*semicolons"):
        _extract(_config(tmp_path, [src]), tmp_path)


def test_sql_and_spreadsheets_in_one_extract(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    url = f"sqlite:///{tmp_path / 'demo_source.sqlite'}"
    create_demo_source(url, seed=7, complaints=300, start=dt.date(2025, 7, 1), end=dt.date(2026, 11, 20))
    monkeypatch.setenv("COMPLAINTS_DEMO_SOURCE_URL", url)
    demo = CONFIG_DIR / "sources" / "demo_callcenter.yaml"
    sql_only = _extract(_config(tmp_path, [demo]), tmp_path)
    led = sql_only.ledger
    in_q = led[
        (led["received_at"] >= pd.Timestamp("2026-07-01"))
        & led["complainant_ref"].notna()
        & led["policy_no"].notna()
        & (led["entity_code"] == "GD")
    ]
    same_id, same_case = in_q.iloc[0], in_q.iloc[1]

    def copy(r: pd.Series, cid: str) -> dict[str, Any]:
        return _row(
            cid,
            r["received_at"].strftime("%Y-%m-%d %H:%M:%S"),
            category=r["category"],
            complainant_ref=r["complainant_ref"],
            policy_no=r["policy_no"],
        )

    _branch_file(
        tmp_path / "intake" / "gd.xlsx",
        [
            copy(same_id, same_id["complaint_id"]),  # the same complaint id as in the database
            copy(same_case, "GD-XLSX-7"),  # the same case (complainant, policy, time, category)
            _row("GD-XLSX-8", "2026-08-08 08:00"),
            _row("GD-XLSX-9", "2026-08-32 08:00"),  # not a date
        ],
    )
    x = _extract(_config(tmp_path, [demo, SPREADSHEETS]), tmp_path)
    assert [s["name"] for s in x.sources] == ["demo_callcenter", "branch_xlsx"]
    dups = {(d["match"], d["kept_id"], d["dropped_id"]) for d in x.duplicates.to_dict("records")}
    assert dups == {
        ("complaint_id", same_id["complaint_id"], same_id["complaint_id"]),
        ("natural_key", same_case["complaint_id"], "GD-XLSX-7"),
    }
    assert (x.duplicates["kept_source"] == "demo_callcenter").all()
    assert len(x.ledger) == len(led) + 2
    from_xlsx = x.ledger[x.ledger["source"] == "branch_xlsx"]
    assert sorted(from_xlsx["complaint_id"]) == ["GD-XLSX-8", "GD-XLSX-9"]
    # one source's unparseable date makes the column text for all of them, in the same ISO form
    assert x.ledger.set_index("complaint_id").loc["GD-XLSX-9", "received_at"] == "2026-08-32 08:00"
    first = led.iloc[0]
    assert x.ledger.iloc[0]["received_at"] == first["received_at"].strftime("%Y-%m-%dT%H:%M:%S.%f")
    x.ledger.to_parquet(tmp_path / "ledger.parquet")
    assert any("sql" in q for q in x.queries) and any(q.get("name") == "gd.xlsx" for q in x.queries)
    rec, quarantined = _gate(x)
    assert rec["read"] == len(x.ledger) == rec["accepted"] + rec["quarantined"]
    assert "GD-XLSX-9" in quarantined and "GD-XLSX-8" not in quarantined
    pd.testing.assert_frame_equal(x.events, sql_only.events)
