"""The quality gate: catalogue ↔ suites, pure conditions, GX traps, quarantine, the gate, outputs."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import numpy as np
import openpyxl
import pandas as pd
import pytest

from complaints import checks as C
from complaints import ledger as L
from complaints.masking import mask_text
from complaints.periods import Period
from tasks import quality as V
from tasks.quality import frames, partitioning, runner, suites
from tasks.sources import InputError, read_table

CORPUS = Path(__file__).resolve().parents[1] / "bad_inputs"
AS_OF = dt.datetime(2026, 10, 8, 9, 0)
Q3 = Period.parse("2026Q3")


@pytest.fixture(scope="module")
def clean() -> dict[str, pd.DataFrame]:
    return {t: read_table(CORPUS / f"clean_{t}.csv", t) for t in ("ledger", "exposure", "events")}


# ---- catalogue and suites (no GX run) ----


def test_catalogue_ids_are_unique_and_described() -> None:
    ids = [c.id for c in C.CATALOGUE]
    assert len(ids) == len(set(ids))
    prefix = {"ledger": "L", "exposure": "X", "events": "E"}
    for c in C.CATALOGUE:
        assert c.id[0] == prefix[c.table] and len(c.id) == 4
        assert c.severity in ("blocking", "warning") and c.level in ("row", "table")
        assert c.description_zh and c.description_en
        assert (c.engine == "gx") == (c.gx_type is not None)
        if c.gx_type == C.CUSTOM_EXPECTATION:
            assert c.id in C.CONDITIONS


def test_committed_suites_match_the_catalogue() -> None:
    for table in V.TABLES:
        on_disk = json.loads((suites.EXPECTATIONS_DIR / f"{table}.json").read_text(encoding="utf-8"))
        assert on_disk == json.loads(json.dumps(C.suite_dict(table))), (
            f"run python -m tasks.quality.suites ({table})"
        )
        for exp in on_disk["expectations"]:
            assert {"check_id", "severity", "description_zh", "description_en"} <= set(exp["meta"])


def test_a_suite_losing_an_unknown_expectation_is_refused(tmp_path: Path) -> None:
    suite = C.suite_dict("events")
    suite["expectations"].append(
        {
            "type": "expect_something_nobody_registered",
            "kwargs": {"column": "at"},
            "meta": {"check_id": "E001"},
        }
    )
    (tmp_path / "events.json").write_text(json.dumps(suite), encoding="utf-8")
    with pytest.raises(V.SuiteError, match="dropped|cannot build"):
        V.load_suite("events", tmp_path)


def test_every_ledger_rule_has_a_check() -> None:
    kwargs = [(c.gx_type, json.dumps(c.gx_kwargs, sort_keys=True)) for c in C.checks_for("ledger")]
    text = " ".join(k for _, k in kwargs)
    for early, late in [
        ("received_at", "acknowledged_at"),
        ("received_at", "decided_at"),
        ("decided_at", "closed_at"),
        ("decided_at", "review_requested_at"),
        ("review_requested_at", "review_decided_at"),
        ("forwarded_at", "received_at"),
    ]:
        assert f'"column_A": "{late}", "column_B": "{early}"' in text, (early, late)
    for col in [c.name for c in L.LEDGER_COLUMNS if c.kind == "datetime"]:
        assert any(
            t == "expect_column_values_to_be_between" and f'"column": "{col}"' in k and "as_of" in k
            for t, k in kwargs
        ), col
    for col in [c.name for c in L.LEDGER_COLUMNS if c.kind == "code"]:
        assert any(t == "expect_column_values_to_be_in_set" and f'"column": "{col}"' in k for t, k in kwargs)


# ---- pure conditions ----


def _ledger(**cols: list[object]) -> pd.DataFrame:
    n = len(next(iter(cols.values())))
    base = {"complaint_id": [f"C{i}" for i in range(n)]}
    return L.normalize(pd.DataFrame({**base, **cols}), "ledger")


def test_circular_links_find_cycles_and_chains_into_them() -> None:
    f = _ledger(
        repeat_of=[None, "C0", "C3", "C4", "C2", "C4", "C6"],
        escalation_of=[None, None, None, None, None, None, None],
    )
    # C0 first; C1 → C0 ends; C2 → C3 → C4 → C2 cycle; C5 → C4 leads into it; C6 self-link (own check)
    assert C.circular_links(f).tolist() == [False, False, True, True, True, True, False]
    assert C.self_link(f, "repeat_of").tolist() == [False] * 6 + [True]


def test_dangling_links_and_membership() -> None:
    f = _ledger(repeat_of=[None, "C0", "C9"], escalation_of=[None, None, None])
    assert C.dangling_link(f, "repeat_of").tolist() == [False, False, True]
    assert C.is_member(pd.Series(["a", None, "c"], dtype="str"), pd.Series(["c", "a"])).tolist() == [
        True,
        False,
        True,
    ]


def test_personal_identifier_patterns() -> None:
    f = _ledger(
        summary=[
            "身份证 11010519491231002X",
            "电话 13812345678",
            "保单 20260701000012345678",
            "+86 139-1234-5678",
            "金额 13800元",
            None,
        ]
    )
    assert C.contains_pattern(f, C.RESIDENT_ID_PATTERN).tolist() == [True, False, False, False, False, False]
    assert C.contains_pattern(f, C.MOBILE_PATTERN).tolist() == [False, True, False, True, False, False]
    masked = mask_text(f["summary"]).tolist()
    assert "11010519491231002X" not in masked[0] and "13812345678" not in masked[1]
    assert masked[3] == "+86 139****5678"  # the gate's mobile pattern (with separators) is masked too
    assert not C.contains_pattern(_ledger(summary=masked), C.MOBILE_PATTERN).any()
    # the gate hands GX's categorical columns to the scans as they are: same rows, repeats included
    twice = pd.concat([f, f.iloc[::-1]], ignore_index=True)
    g = frames.for_gx(twice)
    assert isinstance(g["summary"].dtype, pd.CategoricalDtype)
    for pattern in (C.RESIDENT_ID_PATTERN, C.MOBILE_PATTERN):
        assert C.contains_pattern(g, pattern).tolist() == C.contains_pattern(twice, pattern).tolist()
        assert C.contains_pattern(g, pattern).sum() == 2 * C.contains_pattern(f, pattern).sum()


def test_exposure_gaps_by_period_kind() -> None:
    ledger = _ledger(
        entity_code=["B1", "B1", "B2"],
        business_line=["life", "property", "life"],
        received_at=["2026-02-01", "2026-08-01", "2026-08-02"],
    )
    quarters = pd.DataFrame(
        {"entity_code": "B1", "business_line": "life", "period": ["2026Q1", "2026Q2", "2026Q3", "2026Q4"]}
    )
    year = Period.parse("2026")
    assert C.exposure_gaps(ledger, quarters, year, ["B1"]) == ["B1/property"]
    assert C.exposure_gaps(ledger, quarters.iloc[:3], year, ["B1"]) == ["B1/life", "B1/property"]
    assert C.exposure_gaps(ledger, quarters, Q3, ["B1", "B2", "B3"]) == ["B1/property", "B2/life", "B3/*"]
    assert C.exposure_gaps(ledger, quarters, Period.parse("2026-08"), ["B1"]) == []


def test_frame_for_gx_keeps_values_and_order() -> None:
    f = _ledger(received_at=["2026-07-01T10:00", "2962-07-01", None], group_size=["1", None, "3"])
    g = frames.for_gx(f)
    assert str(g["received_at"].dtype) == "datetime64[ns]" and g["group_size"].dtype == "float64"
    assert g["received_at"].iloc[1] > pd.Timestamp(AS_OF) and pd.isna(g["received_at"].iloc[2])
    back = frames._from_gx(g[["complaint_id", "summary"]])
    assert back["complaint_id"].tolist() == f["complaint_id"].tolist() and back["summary"].isna().all()


# ---- the gate (real GX runs) ----


def test_metric_error_surfaces_as_failed_check(clean: dict[str, pd.DataFrame]) -> None:
    frame = L.normalize(clean["ledger"], "ledger").drop(columns=["summary", "policy_no"])
    results, _ = runner._run_gx({"ledger": frame}, AS_OF)
    broken = [r for r in results if r.error]
    assert {"L062", "L063"} <= {r.id for r in broken}
    assert all(not r.passed for r in broken)
    assert all(r.passed for r in results if not r.error)


def test_gate_quarantines_rows_blocks_on_table_failures_and_records_accepted_risk(
    clean: dict[str, pd.DataFrame], tmp_path: Path
) -> None:
    ledger = clean["ledger"].copy()
    ledger.loc[0, "decided_at"] = "2026-06-01T00:00:00"  # L026 row, blocking
    ledger.loc[1, "amount_involved"] = "a lot"  # L000 parse failure
    ledger.loc[3, "summary"] = "回电 13812345678"  # L063 warning
    ledger.loc[2, "complaint_id"] = "C005"  # L012 duplicate id, table-level
    ledger["source"] = "branch.xlsx"  # extra columns are kept
    kwargs: dict[str, Any] = dict(period=Q3, as_of=AS_OF)
    blocked = V.run_quality_gate(ledger, clean["exposure"], clean["events"], **kwargs)
    assert blocked.blocked and [r.id for r in blocked.blocking_failures] == ["L012"]
    assert blocked.exit_code == 1
    rec = blocked.reconciliation["ledger"]
    assert (rec["read"], rec["accepted"], rec["quarantined"]) == (5, 3, 2)
    assert rec["by_check"] == {"L000": 1, "L026": 1}
    assert "source" in blocked.ledger.columns and blocked.ledger["source"].eq("branch.xlsx").all()
    assert sorted(blocked.quarantine["ledger"]["failed_checks"]) == ["L000", "L026"]
    assert [r.id for r in blocked.warnings] == ["L063"]
    # events of quarantined complaints still belong to the ledger as read
    assert blocked.reconciliation["events"]["quarantined"] == 0

    accepted = V.run_quality_gate(
        ledger, clean["exposure"], clean["events"], accept_risk="  查明为系统重复导出 ", **kwargs
    )
    assert not accepted.blocked and accepted.accept_risk == "查明为系统重复导出"
    paths = V.write_quality_outputs(accepted, tmp_path)
    validation = json.loads(paths["validation"].read_text(encoding="utf-8"))
    assert validation["accept_risk"] == "查明为系统重复导出" and validation["blocking_failures"] == ["L012"]
    by_id = {r["id"]: r for r in validation["results"]}
    assert by_id["L026"]["failing_ids"] == ["C001"] and by_id["L012"]["failing_ids"] == ["C005"]
    recon = json.loads(paths["reconciliation"].read_text(encoding="utf-8"))
    assert recon["ledger"]["read"] == recon["ledger"]["accepted"] + recon["ledger"]["quarantined"]
    q = pd.read_parquet(paths["quarantine_parquet"])
    assert q["table"].tolist() == ["ledger", "ledger"] and q["row_number"].tolist() == [1, 2]
    wb = openpyxl.load_workbook(paths["quarantine_xlsx"], read_only=True)
    assert {"校验汇总", "记录核对", "L000", "L026"} <= set(wb.sheetnames)
    l000 = [row for row in wb["L000"].iter_rows(values_only=True)]
    # Chinese headers (issue 17): the ledger's labels, not its column names
    assert "涉及金额" in l000[0] and "amount_involved" not in l000[0] and "a lot" in l000[1]
    assert not [h for h in next(wb["校验汇总"].iter_rows(values_only=True)) if h.isascii()]
    wb.close()
    docs = paths["data_docs"]
    assert (docs / "index.html").is_file()
    pages = list(docs.rglob("*.html"))
    assert len(pages) >= 4
    html = " ".join(p.read_text(encoding="utf-8") for p in pages)
    assert "L063" in html and "13812345678" not in html


def test_typed_input_gives_the_same_results_as_text(clean: dict[str, pd.DataFrame]) -> None:
    typed = L.normalize(clean["ledger"], "ledger")
    typed.loc[1, "decided_at"] = pd.Timestamp("2026-11-01")  # after as-of: L039
    raw = clean["ledger"].copy()
    raw.loc[1, "decided_at"] = "2026-11-01"
    a = V.run_quality_gate(typed, clean["exposure"], None, period=Q3, as_of=AS_OF)
    b = V.run_quality_gate(raw, clean["exposure"], None, period=Q3, as_of=AS_OF)
    fa = {r.id: r.failing_ids for r in a.results if not r.passed}
    fb = {r.id: r.failing_ids for r in b.results if not r.passed}
    assert fa == fb == {"L027": ["C002"], "L039": ["C002"]}
    assert a.skipped == {"events": "no events table supplied; its checks were not run"}
    assert len(a.events) == 0 and list(a.events.columns) == L.column_names("events")


def test_missing_exposure_entity_blocks(clean: dict[str, pd.DataFrame]) -> None:
    r = V.run_quality_gate(
        clean["ledger"], clean["exposure"], None, period=Q3, as_of=AS_OF, entities_in_scope=["B01", "B09"]
    )
    x012 = next(c for c in r.results if c.id == "X012")
    assert not x012.passed and x012.failing_ids == ["B09/*"] and r.blocked


# ---- reader ----


def test_reader_maps_chinese_labels_and_normalises_headers(tmp_path: Path) -> None:
    wb = openpyxl.Workbook()
    ws = wb.active
    labels = [c.label for c in L.EXPOSURE_COLUMNS]
    ws.append(labels)
    ws.append(["B01", "2026Q3", "life", 1.5e8, 1000, 2000])
    wb.save(tmp_path / "x.xlsx")
    frame = read_table(tmp_path / "x.xlsx", "exposure")
    assert list(frame.columns) == L.column_names("exposure")
    assert frame.loc[0, "premium"] == "150000000" and frame.loc[0, "policies"] == "1000"
    (tmp_path / "l.csv").write_text(" Complaint_ID ,entity_code\nC1,B1\n", encoding="utf-8")
    with pytest.raises(InputError, match="received_at"):
        read_table(tmp_path / "l.csv")
    csv_frame = read_table(CORPUS / "clean_ledger.csv")
    assert len(csv_frame) == 5 and np.all(csv_frame.columns[:2] == ["complaint_id", "entity_code"])


# ---- big tables in partitions (same answer as whole) ----


def _events_with_faults() -> pd.DataFrame:
    """Events of C001..C005 with every kind of events failure, duplicates far apart in the table."""
    rng = np.random.default_rng(3)
    ids = rng.choice(["C001", "C002", "C003", "C004", "C005"], 60)
    at = pd.Timestamp("2026-09-02 09:00") + pd.to_timedelta(np.arange(60), unit="h")
    rows = pd.DataFrame({"complaint_id": ids, "at": at.astype(str), "kind": "note"}).astype(object)
    rows.loc[3, "complaint_id"] = None  # E001
    rows.loc[[4, 55], ["complaint_id", "at", "kind"]] = [None, "2026-09-03 01:00", "note"]  # E001 + E008
    rows.loc[5, "at"] = None  # E002
    rows.loc[6, "kind"] = "teleport"  # E004
    rows.loc[7, "at"] = "2026-12-01 00:00"  # E005
    rows.loc[8, "complaint_id"] = "C999"  # E006
    rows.loc[9, ["complaint_id", "at"]] = ["C005", "2026-08-01 00:00"]  # E007
    rows.loc[50] = rows.loc[10]  # E008, 40 rows apart
    rows.loc[58] = rows.loc[11]
    return rows


def test_partitions_keep_each_key_together_and_every_row_once() -> None:
    from tasks.quality.partitioning import partitionable, partitions

    events = L.normalize(_events_with_faults(), "events")
    suite = V.load_suite("events")
    parts = partitions(events, suite, "events", rows=7)
    assert len(parts) == 7  # nine cut, two left empty: only seven keys (C001-C005, C999, missing)
    assert np.array_equal(np.sort(np.concatenate(parts)), np.arange(len(events)))  # type: ignore[arg-type]
    homes = [set(events["complaint_id"].iloc[p].fillna("<missing>")) for p in parts if p is not None]
    assert all(not (a & b) for i, a in enumerate(homes) for b in homes[i + 1 :])
    assert partitions(events, suite, "events", rows=len(events)) == [None]  # small: whole
    ledger_suite = V.load_suite("ledger")
    assert not partitionable(ledger_suite, "complaint_id")  # cross-row checks: the ledger goes whole
    assert partitions(_ledger(complaint_id=["C1", "C2", "C3"]), ledger_suite, "ledger", rows=1) == [None]


def test_events_in_partitions_give_the_same_gate_as_whole(
    clean: dict[str, pd.DataFrame], monkeypatch: pytest.MonkeyPatch
) -> None:
    events = _events_with_faults()
    whole = V.run_quality_gate(clean["ledger"], clean["exposure"], events, period=Q3, as_of=AS_OF)
    seen: list[int] = []
    cut = partitioning.partitions

    def spy(*args: Any, **kwargs: Any) -> list[Any]:
        parts = cut(*args, **kwargs)
        seen.append(len(parts))
        return parts

    monkeypatch.setattr(partitioning, "PARTITION_ROWS", 7)
    monkeypatch.setattr(runner, "partitions", spy)
    parted = V.run_quality_gate(clean["ledger"], clean["exposure"], events, period=Q3, as_of=AS_OF)
    assert seen == [1, 1, 7]  # ledger and exposure whole, the events' seven keys apart

    def view(gate: V.GateResult) -> list[tuple[Any, ...]]:
        return [(r.id, r.passed, r.failing_rows, r.failing_ids, r.positions.tolist(), r.error)
                for r in gate.results]

    assert view(parted) == view(whole)
    failed = {r.id: r.positions.tolist() for r in whole.results if r.table == "events" and not r.passed}
    assert failed == {"E001": [3, 4, 55], "E002": [5], "E004": [6], "E005": [7], "E006": [8], "E007": [9],
                      "E008": [4, 10, 11, 50, 55, 58]}
    assert parted.reconciliation == whole.reconciliation
    assert parted.quarantine["events"].equals(whole.quarantine["events"])
    assert parted.events.equals(whole.events)
    a, b = whole.gx_results["events"], parted.gx_results["events"]
    assert b.success == a.success and b.statistics == a.statistics
    for ra, rb in zip(a.results, b.results, strict=True):
        assert rb.success == ra.success
        assert rb.result == ra.result, ra.expectation_config.meta["check_id"]
