"""The readers where the bad-input corpus cannot say it: the work a workbook costs is bounded by its real
cells, and the filing run keeps rows whose year was typed wrong (issue 22.9, 22.11)."""

from __future__ import annotations

import re
import resource
import time
import zipfile
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from complaints.ledger import normalize
from tasks.sources.files import InputError, read_table


def _far_cell_workbook(path: Path) -> None:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["complaint_id", "at", "kind"])
    ws.append(["C001", "2026-07-01T10:00:00", "logged"])
    wb.save(path)
    with zipfile.ZipFile(path) as zf:
        parts = {i.filename: zf.read(i) for i in zf.infolist()}
    sheet = parts["xl/worksheets/sheet1.xml"]
    sheet = sheet.replace(
        b"</sheetData>",
        b'<row r="1048576"><c r="XFD1048576" t="inlineStr"><is><t>x</t></is></c></row></sheetData>',
    )
    dimension = b'<dimension ref="A1:XFD1048576"/>'
    parts["xl/worksheets/sheet1.xml"] = re.sub(rb'<dimension ref="[^"]*"/>', dimension, sheet)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in parts.items():
            zf.writestr(name, data)


def test_a_lone_cell_at_xfd1048576_costs_its_real_content(tmp_path: Path) -> None:
    path = tmp_path / "far.xlsx"
    _far_cell_workbook(path)
    assert path.stat().st_size < 20_000
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    start = time.monotonic()
    with pytest.raises(InputError, match="XFD1048576") as err:
        read_table(path, "events")
    assert "\n" not in str(err.value) and str(path) in str(err.value)
    assert time.monotonic() - start < 10
    grown_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    assert grown_mb < 200, f"peak RSS grew by {grown_mb:.0f} MB"


def test_integers_and_amounts_parse_exactly() -> None:
    raw = pd.DataFrame(
        {
            "group_size": ["19.6", "20", "20.0", "99999999999999999999", "-9223372036854775809"],
            "amount_involved": ["inf", "1e400", "5", "NaN", "-Infinity"],
        }
    )
    norm = normalize(raw)
    assert norm["group_size"].tolist()[1:3] == [20, 20]
    assert norm["group_size"].isna().tolist() == [True, False, False, True, True]
    assert norm["amount_involved"].isna().tolist() == [True, True, False, True, True]


def test_text_keeps_inner_line_breaks_and_quotes(tmp_path: Path) -> None:
    from tests.bad_inputs.make_corpus import _csv_text, _edit

    path = tmp_path / "t.csv"
    summary = '客户说"太慢"\r\n第二行'
    path.write_text(_csv_text("ledger", _edit("ledger", 0, summary=summary)), encoding="utf-8", newline="")
    assert normalize(read_table(path, "ledger"))["summary"][0] == summary


def test_the_filing_run_keeps_rows_received_after_as_of() -> None:
    import datetime as dt

    from complaints.periods import Period
    from tasks.sources.base import Scope
    from tasks.sources.ledger_files import _take

    norm = normalize(
        pd.DataFrame(
            {
                "complaint_id": ["A", "B", "C"],
                "entity_code": ["B01"] * 3,
                "received_at": ["2026-07-05", "2062-07-05", "2026-03-01"],
                "decided_at": [None, None, "2026-03-05"],
            }
        )
    )
    sc = Scope(
        windows=[Period.parse("2026Q3")],
        codes={"2026Q3"},
        as_of=dt.datetime(2026, 10, 8, 9, tzinfo=dt.timezone(dt.timedelta(hours=8))),
        entity=None,
        workdir=Path("."),
        progress=False,
        sleep=lambda s: None,
    )
    assert _take(norm, sc).tolist() == [True, True, False]
