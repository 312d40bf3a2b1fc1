"""Generate the bad-input corpus: one small file per defect, and ``expected.yaml``.

    .venv/bin/python tests/bad_inputs/make_corpus.py

Each case is the clean base tables (``clean_*.csv``) with exactly one defect in one table. A case
expects either a read error (``read_error``: words the message must contain) or the exact set of
checks that fail (``fails``), the CLI exit code, and the number of quarantined rows. Run by
``tests/bad_inputs/test_bad_inputs.py``. Commit the script together with its outputs.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import openpyxl
import pandas as pd
import yaml

HERE = Path(__file__).resolve().parent
PERIOD = "2026Q3"
AS_OF = "2026-10-08T09:00:00+08:00"

LEDGER: list[dict[str, str]] = [
    dict(
        complaint_id="C001",
        entity_code="B01",
        branch_code="B01",
        province="北京",
        received_at="2026-07-01T09:30:00",
        channel="phone",
        business_line="life",
        product_line="health",
        category="claims",
        extra_categories="sales",
        severity="general",
        amount_involved="5000",
        group_size="1",
        media_exposed="false",
        regulator_forwarded="false",
        acknowledged_at="2026-07-01T15:00:00",
        accepted="true",
        complexity="simple",
        decided_at="2026-07-10T10:00:00",
        closed_at="2026-07-12T10:00:00",
        outcome="customer_accepted",
        valid="true",
        upheld="true",
        redress_amount="1200",
        responsible_dept="claims",
        satisfaction="satisfied",
        revisited_at="2026-07-15T10:00:00",
        complainant_ref="P-0001",
        policy_no="PL2026000001",
        summary="客户反映理赔进度慢",
    ),
    dict(
        complaint_id="C002",
        entity_code="B01",
        branch_code="B01-SZ",
        province="广东",
        received_at="2026-07-03T11:00:00",
        channel="regulator",
        business_line="property",
        product_line="motor",
        category="claims",
        severity="major",
        amount_involved="30000",
        regulator_forwarded="true",
        forwarded_at="2026-07-02T17:00:00",
        forward_ref="JG-2026-0701",
        acknowledged_at="2026-07-03T16:00:00",
        accepted="true",
        complexity="complex",
        decided_at="2026-07-28T10:00:00",
        closed_at="2026-07-30T10:00:00",
        outcome="upheld_by_law",
        valid="true",
        upheld="false",
        responsible_dept="claims",
        complainant_ref="P-0002",
        policy_no="PL2026000002",
        summary="车险定损金额争议",
    ),
    dict(
        complaint_id="C003",
        entity_code="B01",
        branch_code="B01",
        province="北京",
        received_at="2026-07-05T09:00:00",
        channel="online",
        business_line="life",
        product_line="health",
        category="claims",
        severity="general",
        regulator_forwarded="false",
        valid="true",
        repeat_of="C001",
        complainant_ref="P-0001",
        summary="再次反映理赔进度",
    ),
    dict(
        complaint_id="C004",
        entity_code="B01",
        branch_code="B01-SZ",
        province="广东",
        received_at="2026-08-20T10:00:00",
        channel="visit",
        business_line="property",
        product_line="motor",
        category="claims",
        severity="general",
        regulator_forwarded="false",
        valid="true",
        escalation_of="C002",
        acknowledged_at="2026-08-20T11:00:00",
        complainant_ref="P-0002",
        summary="对处理结果不满，升级投诉",
    ),
    dict(
        complaint_id="C005",
        entity_code="B01",
        branch_code="B01",
        province="北京",
        received_at="2026-09-01T14:00:00",
        channel="letter",
        business_line="life",
        product_line="annuity",
        category="sales",
        severity="general",
        regulator_forwarded="false",
        accepted="false",
        rejection_reason="not_consumer",
        decided_at="2026-09-02T10:00:00",
        review_requested_at="2026-09-05T10:00:00",
        review_decided_at="2026-09-15T10:00:00",
        valid="false",
        complainant_ref="P-0005",
        summary="非消费者投诉",
    ),
]
LEDGER_COLUMNS = [
    "complaint_id",
    "entity_code",
    "branch_code",
    "province",
    "received_at",
    "channel",
    "business_line",
    "product_line",
    "category",
    "extra_categories",
    "severity",
    "amount_involved",
    "group_size",
    "media_exposed",
    "regulator_forwarded",
    "forwarded_at",
    "forward_ref",
    "acknowledged_at",
    "accepted",
    "rejection_reason",
    "complexity",
    "clock_paused_days",
    "clock_restarted_at",
    "decided_at",
    "closed_at",
    "outcome",
    "valid",
    "upheld",
    "redress_amount",
    "responsible_dept",
    "repeat_of",
    "escalation_of",
    "review_requested_at",
    "review_decided_at",
    "satisfaction",
    "revisited_at",
    "complainant_ref",
    "policy_no",
    "summary",
]
EXPOSURE: list[dict[str, str]] = [
    dict(
        entity_code="B01",
        period="2026Q3",
        business_line="life",
        premium="350000000",
        policies="120000",
        insured_persons="180000",
    ),
    dict(
        entity_code="B01",
        period="2026Q3",
        business_line="property",
        premium="520000000",
        policies="260000",
        insured_persons="",
    ),
    dict(
        entity_code="B02",
        period="2026Q3",
        business_line="life",
        premium="90000000",
        policies="30000",
        insured_persons="41000",
    ),
]
EVENTS: list[dict[str, str]] = [
    dict(complaint_id="C001", at="2026-07-01T10:00:00", kind="logged"),
    dict(complaint_id="C001", at="2026-07-02T09:00:00", kind="contacted"),
    dict(complaint_id="C002", at="2026-07-03T12:00:00", kind="logged"),
    dict(complaint_id="C004", at="2026-08-21T09:00:00", kind="progress_notice"),
]
COLUMNS = {"ledger": LEDGER_COLUMNS, "exposure": list(EXPOSURE[0]), "events": list(EVENTS[0])}
BASE = {"ledger": LEDGER, "exposure": EXPOSURE, "events": EVENTS}

Rows = list[dict[str, str]]


def _frame(table: str, rows: Rows) -> pd.DataFrame:
    cols = list(COLUMNS[table])
    for r in rows:
        cols += [k for k in r if k not in cols]
    return pd.DataFrame([{c: r.get(c, "") for c in cols} for r in rows], columns=cols)


def _csv_text(table: str, rows: Rows, sep: str = ",") -> str:
    buf = io.StringIO()
    _frame(table, rows).to_csv(buf, index=False, sep=sep, lineterminator="\n")
    return buf.getvalue()


def _edit(table: str, row: int, **changes: str) -> Rows:
    rows = [dict(r) for r in BASE[table]]
    rows[row].update(changes)
    return rows


CASES: dict[str, dict[str, Any]] = {}


def case(name: str, table: str, expect: dict[str, Any]) -> Callable[[Callable[[Path], None]], None]:
    def register(write: Callable[[Path], None]) -> None:
        CASES[name] = {"table": table, "write": write, **expect}

    return register


def rows_case(
    name: str,
    table: str,
    rows: Rows,
    fails: list[str],
    exit_code: int,
    quarantined: int = 0,
    blocked: bool = False,
) -> None:
    def write(path: Path) -> None:
        path.write_text(_csv_text(table, rows), encoding="utf-8")

    CASES[name] = {
        "table": table,
        "write": write,
        "fails": sorted(fails),
        "exit": exit_code,
        "quarantined": quarantined,
        "blocked": blocked,
        "rows": len(rows),
    }


def read_error(name: str, table: str, words: list[str], write: Callable[[Path], object]) -> None:
    CASES[name] = {"table": table, "write": write, "read_error": words, "exit": 2}


def _xlsx(
    path: Path,
    rows: Rows,
    table: str = "ledger",
    labels: bool = False,
    tweak: Callable[[Any], None] | None = None,
) -> None:
    from complaints.ledger import TABLES

    frame = _frame(table, rows)
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "台账"
    names = {c.name: c.label for c in TABLES[table]}
    ws.append([names.get(c, c) if labels else c for c in frame.columns])
    for rec in frame.itertuples(index=False):
        ws.append([v if v != "" else None for v in rec])
    if tweak:
        tweak(ws)
    wb.save(path)
    wb.close()


def _patch_part(path: Path, part: str, edit: Callable[[bytes], bytes]) -> None:
    """Rewrite one part of a saved workbook (what a damaged or hand-made file holds)."""
    import zipfile

    with zipfile.ZipFile(path) as zf:
        parts = {i.filename: zf.read(i) for i in zf.infolist()}
    parts[part] = edit(parts[part])
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in parts.items():
            zf.writestr(name, data)


def _patch_sheet(path: Path, edit: Callable[[bytes], bytes]) -> None:
    _patch_part(path, "xl/worksheets/sheet1.xml", edit)


def build() -> None:
    L, X, E = "ledger", "exposure", "events"
    # ---- inputs that cannot be read at all (exit 2) ----
    read_error(
        "utf16_encoding.csv",
        L,
        ["UTF-16", "UTF-8"],
        lambda p: p.write_bytes(_csv_text(L, LEDGER).encode("utf-16")),
    )
    read_error(
        "gbk_encoding.csv",
        L,
        ["not valid UTF-8", "GBK", "line 2"],
        lambda p: p.write_bytes(_csv_text(L, LEDGER).encode("gb18030")),
    )
    read_error(
        "no_header.csv",
        L,
        ["looks like data", "header"],
        lambda p: p.write_text(_csv_text(L, LEDGER).split("\n", 1)[1], encoding="utf-8"),
    )
    read_error(
        "semicolon_delimiter.csv",
        L,
        ["semicolons", "comma"],
        lambda p: p.write_text(_csv_text(L, LEDGER, sep=";"), encoding="utf-8"),
    )
    read_error(
        "tab_delimiter.csv",
        L,
        ["tabs", "comma"],
        lambda p: p.write_text(_csv_text(L, LEDGER, sep="\t"), encoding="utf-8"),
    )
    read_error("empty_file.csv", L, ["empty"], lambda p: p.write_bytes(b""))
    read_error("whitespace_only.csv", L, ["empty"], lambda p: p.write_text("\n  \n", encoding="utf-8"))
    read_error(
        "missing_required_column.csv",
        L,
        ["received_at", "missing"],
        lambda p: p.write_text(
            _frame(L, LEDGER).drop(columns=["received_at"]).to_csv(index=False), encoding="utf-8"
        ),
    )
    read_error(
        "duplicate_column.csv",
        L,
        ["appears twice", "province"],
        lambda p: p.write_text(
            _csv_text(L, LEDGER).replace("branch_code,province", "province,province", 1), encoding="utf-8"
        ),
    )

    def ragged(p: Path) -> None:
        lines = _csv_text(L, LEDGER).splitlines()
        lines[2] = lines[2] + ",extra,values"
        p.write_text("\n".join(lines) + "\n", encoding="utf-8")

    read_error("ragged_row.csv", L, ["line 3", "fields"], ragged)

    def blank_header(p: Path) -> None:
        lines = _csv_text(L, LEDGER).splitlines()
        lines = [lines[0] + ","] + [ln + ",x" for ln in lines[1:]]
        p.write_text("\n".join(lines) + "\n", encoding="utf-8")

    read_error("blank_header_cell.csv", L, ["no header", "column 40"], blank_header)

    def merged(ws: Any) -> None:
        ws.insert_rows(1)
        ws["A1"] = "投诉台账"
        ws.merge_cells("A1:E1")

    read_error(
        "merged_header.xlsx", L, ["merged", "A1:E1"], lambda p: _xlsx(p, LEDGER, labels=True, tweak=merged)
    )

    def formula(ws: Any) -> None:
        ws["L3"] = "=L2*2"

    read_error("formula_cell.xlsx", L, ["formula", "L3", "Values"], lambda p: _xlsx(p, LEDGER, tweak=formula))
    read_error(
        "corrupt_workbook.xlsx",
        L,
        ["not a readable .xlsx"],
        lambda p: p.write_bytes(b"PK\x03\x04 this is not really a workbook"),
    )
    read_error(
        "empty_sheet.xlsx", L, ["sheet", "empty"], lambda p: _xlsx(p, [], tweak=lambda ws: ws.delete_rows(1))
    )
    read_error(
        "unsupported_type.json", L, ["unsupported file type"], lambda p: p.write_text("[]", encoding="utf-8")
    )
    read_error(
        "old_format.xls", L, [".xls", "save it as .xlsx"], lambda p: p.write_bytes(b"\xd0\xcf\x11\xe0")
    )
    read_error("corrupt_parquet.parquet", L, ["not a readable Parquet"], lambda p: p.write_bytes(b"PAR1junk"))
    read_error(
        "exposure_missing_premium_column.csv",
        X,
        ["premium", "missing"],
        lambda p: p.write_text(
            _frame(X, EXPOSURE).drop(columns=["premium"]).to_csv(index=False), encoding="utf-8"
        ),
    )
    read_error(
        "events_no_header.csv",
        E,
        ["looks like data"],
        lambda p: p.write_text(_csv_text(E, EVENTS).split("\n", 1)[1], encoding="utf-8"),
    )
    read_error(
        "unknown_headers.csv",
        L,
        ["no column", "recognised"],
        lambda p: p.write_text("编号,名称,金额\n甲,乙,丙\n", encoding="utf-8"),
    )

    # ---- table-level blocking failures (exit 1, blocked) ----
    rows_case("duplicate_id.csv", L, _edit(L, 4, complaint_id="C001"), ["L012"], 1, blocked=True)
    rows_case("dangling_repeat_of.csv", L, _edit(L, 2, repeat_of="C999"), ["L059"], 1, blocked=True)
    rows_case("dangling_escalation_of.csv", L, _edit(L, 3, escalation_of="C998"), ["L060"], 1, blocked=True)
    circular = _edit(L, 0, repeat_of="C003")
    rows_case("circular_repeat.csv", L, circular, ["L061"], 1, blocked=True)
    rows_case(
        "exposure_missing_line.csv",
        X,
        [r for r in EXPOSURE if r["business_line"] != "life"],
        ["X012"],
        1,
        blocked=True,
    )
    rows_case("exposure_duplicate_row.csv", X, EXPOSURE + [dict(EXPOSURE[0])], ["X011"], 1, blocked=True)
    rows_case(
        "exposure_wrong_period.csv",
        X,
        [dict(r, period="2026Q2") for r in EXPOSURE],
        ["X012"],
        1,
        blocked=True,
    )

    # ---- blocking row-level failures: rows quarantined (exit 1, not blocked) ----
    def row(name: str, table: str, idx: int, fails: list[str], **changes: str) -> None:
        rows_case(name, table, _edit(table, idx, **changes), fails, 1, quarantined=1)

    row("decided_before_received.csv", L, 0, ["L026"], decided_at="2026-06-30T10:00:00")
    row("bad_date.csv", L, 0, ["L000"], decided_at="2026-13-45")
    row("non_numeric_amount.csv", L, 0, ["L000"], amount_involved="五千元")
    row("bad_bool.csv", L, 0, ["L000", "L011"], valid="maybe")
    row("missing_received_at.csv", L, 1, ["L005"], received_at="")
    row("missing_entity_code.csv", L, 4, ["L002"], entity_code="")
    row("unknown_channel.csv", L, 0, ["L013"], channel="pigeon")
    row("unknown_category.csv", L, 0, ["L016"], category="weather")
    row("unknown_severity.csv", L, 0, ["L017"], severity="urgent")
    row("bad_extra_categories.csv", L, 0, ["L023"], extra_categories="sales;lottery")
    row("bad_root_cause.csv", L, 0, ["L064"], root_cause="systems;bad_luck")
    row("acknowledged_before_received.csv", L, 0, ["L025"], acknowledged_at="2026-06-30T09:00:00")
    row("closed_before_decided.csv", L, 0, ["L027"], closed_at="2026-07-09T10:00:00")
    row("review_before_decision.csv", L, 4, ["L028"], review_requested_at="2026-09-01T18:00:00")
    row("review_decided_before_requested.csv", L, 4, ["L029"], review_decided_at="2026-09-04T10:00:00")
    row("forwarded_after_received.csv", L, 1, ["L030"], forwarded_at="2026-07-04T10:00:00")
    row("restarted_before_received.csv", L, 0, ["L032"], clock_restarted_at="2026-06-01T10:00:00")
    row("future_received.csv", L, 2, ["L035"], received_at="2026-12-01T09:00:00")
    row(
        "future_decided.csv",
        L,
        1,
        ["L039", "L040"],
        decided_at="2026-11-01T10:00:00",
        closed_at="2026-11-02T10:00:00",
    )
    row("closed_without_outcome.csv", L, 0, ["L044"], outcome="")
    row("rejected_without_reason.csv", L, 4, ["L045"], rejection_reason="")
    row("forwarded_without_date.csv", L, 1, ["L046"], forwarded_at="")
    row("forwarded_without_ref.csv", L, 1, ["L047"], forward_ref="")
    row("negative_amount.csv", L, 0, ["L051"], amount_involved="-5000")
    row("negative_redress.csv", L, 0, ["L052"], redress_amount="-1")
    row("zero_group_size.csv", L, 0, ["L053"], group_size="0")
    row("negative_paused_days.csv", L, 0, ["L054"], clock_paused_days="-3")
    row("repeat_of_self.csv", L, 2, ["L056"], repeat_of="C003")
    row("escalation_of_self.csv", L, 3, ["L057"], escalation_of="C004")
    row("repeat_and_escalation.csv", L, 2, ["L058"], escalation_of="C002")
    row("exposure_negative_premium.csv", X, 2, ["X008", "X014"], premium="-1")
    row("exposure_bad_period.csv", X, 2, ["X007"], period="2026-Q3")
    row("exposure_non_numeric_policies.csv", X, 2, ["X000", "X005"], policies="三万")
    row("exposure_unknown_line.csv", X, 2, ["X006"], business_line="health")
    row("events_unknown_complaint.csv", E, 1, ["E006"], complaint_id="C404")
    row("events_bad_kind.csv", E, 1, ["E004"], kind="phoned")
    row("events_future.csv", E, 1, ["E005"], at="2027-01-01T09:00:00")
    row("events_bad_time.csv", E, 1, ["E000", "E002"], at="yesterday")

    def xlsx_case(p: Path) -> None:
        _xlsx(p, _edit(L, 0, severity="urgent"), labels=True)

    CASES["xlsx_unknown_severity.xlsx"] = {
        "table": L,
        "write": xlsx_case,
        "fails": ["L017"],
        "exit": 1,
        "quarantined": 1,
        "blocked": False,
        "rows": len(LEDGER),
    }

    # ---- values that do not parse exactly: quarantined, never rounded, wrapped or lost (issue 22.9) ----
    row("fractional_group_size.csv", L, 0, ["L000"], group_size="19.6")
    row("overflow_group_size.csv", L, 0, ["L000"], group_size="99999999999999999999")
    row("infinite_amount.csv", L, 0, ["L000"], amount_involved="inf")
    row("overflow_amount.csv", L, 0, ["L000"], amount_involved="1e400")
    row("exposure_infinite_premium.csv", X, 2, ["X000", "X004"], premium="1e400")
    row("exposure_fractional_policies.csv", X, 2, ["X000", "X005"], policies="30000.5")
    row("year_typo_future.csv", L, 2, ["L035"], received_at="2062-07-05T09:00:00")
    row("year_typo_1900.csv", L, 2, ["L000", "L005"], received_at="1900-07-05T09:00:00")

    def quoted_header_break(p: Path) -> None:
        text = _csv_text(L, _edit(L, 0, summary='客户说""太慢""\r\n第二行'))
        p.write_text(text.replace("summary", '"sum\nmary"', 1), encoding="utf-8")

    rows_case("header_quoted_line_break.csv", L, LEDGER, [], 0)
    CASES["header_quoted_line_break.csv"]["write"] = quoted_header_break

    def invisible_headers(p: Path) -> None:
        text = _csv_text(L, LEDGER)
        head, rest = text.split("\n", 1)
        head = head.replace("complaint_id", "\ufeffcomplaint_id\u200b", 1).replace("province", "\u00a0province ", 1)  # noqa: E501
        p.write_text(head + "\n" + rest, encoding="utf-8")

    rows_case("header_invisible_characters.csv", L, LEDGER, [], 0)
    CASES["header_invisible_characters.csv"]["write"] = invisible_headers

    def parquet(p: Path, frame: pd.DataFrame) -> None:
        frame.to_parquet(p, index=False)

    def parquet_case(name: str, write: Callable[[Path], None], fails: list[str], quarantined: int) -> None:
        CASES[name] = {"table": L, "write": write, "fails": sorted(fails), "exit": 1 if quarantined else 0,
                       "quarantined": quarantined, "blocked": False, "rows": len(LEDGER)}

    def epoch_dates(p: Path) -> None:
        f = _frame(L, LEDGER)
        f["acknowledged_at"] = [1782871200, None, None, None, None]
        f["acknowledged_at"] = f["acknowledged_at"].astype("Int64")
        parquet(p, f)

    parquet_case("parquet_epoch_dates.parquet", epoch_dates, ["L000"], 1)

    def typed_numbers(p: Path) -> None:
        f = _frame(L, LEDGER)
        f["group_size"] = [19.6, None, None, None, None]
        f["amount_involved"] = [float("inf"), 30000.0, None, None, None]
        parquet(p, f)

    parquet_case("parquet_typed_inf_fraction.parquet", typed_numbers, ["L000"], 1)

    def far_timestamps(p: Path) -> None:
        import pyarrow as pa
        import pyarrow.parquet as pq

        t = pa.Table.from_pandas(_frame(L, LEDGER).drop(columns=["revisited_at"]), preserve_index=False)
        secs = pa.array([10**13, None, None, None, None], type=pa.int64()).cast(pa.timestamp("s"))
        pq.write_table(t.append_column("revisited_at", secs), p)

    parquet_case("parquet_out_of_range_timestamp.parquet", far_timestamps, ["L000"], 1)

    def bad_utf8(p: Path) -> None:
        import pyarrow as pa
        import pyarrow.parquet as pq

        t = pa.Table.from_pandas(_frame(L, LEDGER).drop(columns=["summary"]), preserve_index=False)
        raw = pa.array([b"ok", b"\xff\xfe bad", None, None, None], type=pa.binary())
        text = pa.Array.from_buffers(pa.string(), len(raw), raw.buffers(), raw.null_count)  # not validated
        pq.write_table(t.append_column("summary", text), p)

    read_error("parquet_invalid_utf8.parquet", L, ["not valid UTF-8", "summary", "row 2"], bad_utf8)

    # ---- workbooks: the designated sheet, formulas, hostile XML, real content (issue 22.10, 22.11) ----
    def two_sheets(p: Path) -> None:
        _xlsx(p, LEDGER[:3])
        wb = openpyxl.load_workbook(p)
        ws = wb.create_sheet("续表")
        for rec in _frame(L, LEDGER[3:]).itertuples(index=False):
            ws.append([v if v != "" else None for v in rec])
        wb.save(p)

    read_error("xlsx_continued_on_second_sheet.xlsx", L, ["续表", "台账", "sheets"], two_sheets)

    def hidden_stale(p: Path) -> None:
        _xlsx(p, _edit(L, 0, severity="urgent"))
        wb = openpyxl.load_workbook(p)
        stale = wb.active
        stale.title = "旧台账"
        fresh = wb.create_sheet("台账")
        fresh.append(LEDGER_COLUMNS)
        for rec in _frame(L, LEDGER).itertuples(index=False):
            fresh.append([v if v != "" else None for v in rec])
        stale.sheet_state = "hidden"
        wb.active = 1
        wb.save(p)

    CASES["xlsx_hidden_stale_sheet.xlsx"] = {"table": L, "write": hidden_stale, "fails": [], "exit": 0,
                                            "quarantined": 0, "blocked": False, "rows": len(LEDGER)}

    def cached_formula(p: Path) -> None:
        _xlsx(p, LEDGER)
        _patch_sheet(p, lambda xml: re.sub(rb'<c r="L3"[^>]*>.*?</c>',
                                           b'<c r="L3" t="str"><f>L2*6</f><v>30000</v></c>', xml))

    CASES["xlsx_formula_with_saved_value.xlsx"] = {"table": L, "write": cached_formula, "fails": [], "exit": 0,  # noqa: E501
                                                  "quarantined": 0, "blocked": False, "rows": len(LEDGER)}

    def truncated(p: Path) -> None:
        _xlsx(p, LEDGER)
        _patch_sheet(p, lambda xml: xml[: len(xml) // 2])

    read_error("xlsx_truncated_sheet.xlsx", L, ["sheet", "cannot be read"], truncated)

    xxe = b'<?xml version="1.0"?><!DOCTYPE w [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
    bomb = (b'<?xml version="1.0"?><!DOCTYPE w [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;'
            b'&a;&a;"><!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;"><!ENTITY d "&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;">]>')  # noqa: E501

    def entity(prolog: bytes) -> Callable[[Path], None]:
        def write(p: Path) -> None:
            _xlsx(p, LEDGER)
            _patch_part(p, "xl/workbook.xml", lambda xml: prolog + (xml.split(b"?>", 1)[1] if b"?>" in xml else xml))  # noqa: E501
        return write

    read_error("xlsx_external_entity.xlsx", L, ["DOCTYPE", "entit", "xl/workbook.xml"], entity(xxe))
    read_error("xlsx_entity_expansion.xlsx", L, ["DOCTYPE", "entit"], entity(bomb))

    far = b'<row r="1048576"><c r="XFD1048576" t="inlineStr"><is><t>x</t></is></c></row></sheetData>'

    def far_cell(p: Path) -> None:
        _xlsx(p, LEDGER)
        _patch_sheet(p, lambda xml: re.sub(
            rb'<dimension ref="[^"]*"/>', b'<dimension ref="A1:XFD1048576"/>', xml.replace(b"</sheetData>", far)  # noqa: E501
        ))

    read_error("xlsx_cell_at_xfd1048576.xlsx", L, ["XFD1048576", "no header"], far_cell)

    def text_cells(p: Path) -> None:
        _xlsx(p, _edit(L, 0, summary='客户说"太慢"\n第二行'))

    CASES["xlsx_text_with_line_break.xlsx"] = {"table": L, "write": text_cells, "fails": [], "exit": 0,
                                              "quarantined": 0, "blocked": False, "rows": len(LEDGER)}

    # ---- warnings only: never stop the run (exit 0) ----
    def warn(name: str, table: str, idx: int, fails: list[str], **changes: str) -> None:
        rows_case(name, table, _edit(table, idx, **changes), fails, 0)

    warn("resident_id_in_summary.csv", L, 0, ["L062"], summary="客户身份证号11010519491231002X，要求回电")
    warn("mobile_in_summary.csv", L, 0, ["L063"], summary="请回拨 138-1234-5678")
    warn("product_line_mismatch.csv", L, 0, ["L024"], product_line="motor")
    warn("revisited_before_received.csv", L, 0, ["L033"], revisited_at="2026-06-15T10:00:00")
    warn("outcome_without_closed_at.csv", L, 0, ["L048"], closed_at="")
    warn("regulator_channel_not_forwarded.csv", L, 0, ["L055"], channel="regulator")
    warn("exposure_zero_policies.csv", X, 2, ["X015"], policies="0")
    warn("exposure_life_without_insured.csv", X, 0, ["X013"], insured_persons="")
    warn("events_before_received.csv", E, 0, ["E007"], at="2026-06-30T10:00:00")
    rows_case("events_duplicate.csv", E, EVENTS + [dict(EVENTS[0])], ["E008"], 0)


def main() -> None:
    build()
    for table, rows in BASE.items():
        (HERE / f"clean_{table}.csv").write_text(_csv_text(table, rows), encoding="utf-8")
    expected: dict[str, Any] = {
        "_about": "one defect per file; run by tests/bad_inputs/test_bad_inputs.py; "
                  "regenerate with make_corpus.py",
        "_defaults": {
            "period": PERIOD,
            "as_of": AS_OF,
            "ledger": "clean_ledger.csv",
            "exposure": "clean_exposure.csv",
            "events": "clean_events.csv",
        },
    }
    for name, spec in sorted(CASES.items()):
        spec["write"](HERE / name)
        expected[name] = {k: v for k, v in spec.items() if k != "write"}
    with (HERE / "expected.yaml").open("w", encoding="utf-8") as fh:
        yaml.safe_dump(expected, fh, allow_unicode=True, sort_keys=False, width=110)
    print(f"{len(CASES)} cases written to {HERE}")


if __name__ == "__main__":
    main()
