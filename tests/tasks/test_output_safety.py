"""Issue 22 items 5-8: outputs that cannot be weaponised, personal data and secrets that do not leak.

Every workbook the project writes is opened back with openpyxl: no cell is a formula and a hostile
value reads back as the original text. The Data Docs page escapes source values; the gate's files,
the run log and the Prefect artifacts carry no raw mobile number or password.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from pathlib import Path
from typing import Any

import openpyxl
import pandas as pd
import pytest

from complaints.periods import Period

HOSTILE = ['=HYPERLINK("http://evil.example","x")', "+1+cmd|' /C calc'!A0", "-2+3", "@SUM(1+1)", "\t=1",
           "\r=1"]
XSS = "<img src=x onerror=alert(1)>"


def assert_no_formulas(path: Path) -> list[Any]:
    """Every cell of every sheet: never a formula; returns all values read."""
    wb = openpyxl.load_workbook(path)
    values = []
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                assert cell.data_type != "f", (path.name, ws.title, cell.coordinate, cell.value)
                values.append(cell.value)
    return values


# ---- the helper -----------------------------------------------------------------------------------


def test_helper_keeps_text_and_numbers(tmp_path: Path) -> None:
    from tasks.xlsx_safe import write_frames_xlsx

    frame = pd.DataFrame({"text": HOSTILE + ["plain"], "amount": [-500.5, -1, 0, 1, 2, 3, 4]})
    path = write_frames_xlsx(tmp_path / "x.xlsx", {"s": frame})
    values = assert_no_formulas(path)
    assert all(v in values for v in HOSTILE)
    ws = openpyxl.load_workbook(path)["s"]
    assert ws["B2"].value == -500.5 and ws["B2"].data_type == "n"  # a negative number stays a number
    assert ws["A2"].quotePrefix and not ws["A8"].quotePrefix


# ---- the branch error lists and the intake template --------------------------------------------------


def test_branch_error_workbook_and_file_names(tmp_path: Path) -> None:
    from tasks.sources.branch_spreadsheets import (
        ERROR_COLUMNS,
        file_error_frame,
        write_errors_file,
        write_template,
    )

    errors = pd.DataFrame(
        [[HOSTILE[0], 2, "A", "channel", v, "代码不在代码表中"] for v in HOSTILE], columns=ERROR_COLUMNS
    )
    target = write_errors_file(tmp_path / "branch.xlsx", errors)
    assert target is not None
    values = assert_no_formulas(target)
    assert all(v in values for v in HOSTILE)
    named = tmp_path / '=HYPERLINK("http:evil","x").xlsx'
    target = write_errors_file(named, file_error_frame(named, "not a workbook"))
    assert target is not None and named.name in assert_no_formulas(target)
    assert_no_formulas(write_template(tmp_path / "template.xlsx", rows=5))


# ---- the quality gate's files ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def gate_outputs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    from tasks import quality as V
    from tasks.sources import read_table

    corpus = Path(__file__).resolve().parents[1] / "bad_inputs"
    clean = {t: read_table(corpus / f"clean_{t}.csv", t) for t in ("ledger", "exposure", "events")}
    ledger = clean["ledger"].copy()
    ledger.loc[0, "channel"] = XSS  # unknown code: quarantined, shown in the docs' samples
    ledger.loc[1, "amount_involved"] = HOSTILE[0]  # parse failure: its value in the quarantine sheet
    ledger.loc[2, "group_size"] = "138.1234.5678"  # a mobile in a numeric column
    ledger.loc[3, "summary"] = "回电 138 1234 5678，客户张伟来电"
    result = V.run_quality_gate(
        ledger, clean["exposure"], clean["events"], period=Period.parse("2026Q3"),
        as_of=dt.datetime(2026, 10, 8, 9, 0),
    )
    return V.write_quality_outputs(result, tmp_path_factory.mktemp("gate"))


def test_data_docs_escape_source_values(gate_outputs: dict[str, Path]) -> None:
    pages = list(gate_outputs["data_docs"].rglob("*.html"))
    html = " ".join(p.read_text(encoding="utf-8") for p in pages)
    assert "&lt;img src=x onerror=alert(1)&gt;" in html  # shown as text
    assert "<img src=x" not in html and "onerror=alert(1)>" not in html.replace("&gt;", "")


def test_gate_files_carry_no_mobile_and_no_formula(gate_outputs: dict[str, Path]) -> None:
    texts = [
        gate_outputs["validation"].read_text(encoding="utf-8"),
        " ".join(p.read_text(encoding="utf-8") for p in gate_outputs["data_docs"].rglob("*.html")),
    ]
    values = assert_no_formulas(gate_outputs["quarantine_xlsx"])
    assert HOSTILE[0] in values  # read back as the original text
    texts.append(" ".join(str(v) for v in values))
    for text in texts:
        for raw in ("13812345678", "138.1234.5678", "138 1234 5678", "张伟"):
            assert raw not in text


# ---- the monthly publication tables are in tests/tasks/render/test_xlsx_injection.py ---------------------


# ---- secrets ---------------------------------------------------------------------------------------------

URLS = [
    ("postgresql://user:p@ss@w0rd@db.example:5432/complaints", ["p@ss@w0rd", "ss@w0rd", "w0rd"]),
    ("postgresql://user@db.example/complaints?password=s3cret&sslmode=require", ["s3cret"]),
    ("postgresql+psycopg://db.example/c?user=u&PASSWORD=s3cret", ["s3cret"]),
    ("mysql+pymysql://user:s3cret@db.example/c?ssl_key=/k&sslpassword=k3y", ["s3cret", "k3y"]),
    ("postgresql://:s3cret@db.example/c", ["s3cret"]),
    ("postgresql://user:s3cret@db.example/c", ["s3cret"]),
]


@pytest.mark.parametrize(("url", "secrets"), URLS, ids=[u for u, _ in URLS])
def test_urls_are_redacted_in_every_form(url: str, secrets: list[str]) -> None:
    from complaints.settings import redact, redact_text
    from tasks.sources.sql import redact_url

    for out in (redact_url(url), redact_text(url), redact({"sources": [{"url": url}]})["sources"][0]["url"],
                redact_text(f"connection to {url} failed")):
        assert not any(s in out for s in secrets), out
        assert "db.example" in out or "?" in url  # the host stays visible when it can be told apart
    assert redact_text(redact_text(url)) == redact_text(url)
    assert redact_url("sqlite:///data/demo.db") == "sqlite:///data/demo.db"


def test_run_log_and_every_handler_see_redacted_records(tmp_path: Path) -> None:
    from tasks.runs import install_log_redaction

    install_log_redaction()
    seen: list[str] = []

    class Grab(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            seen.append(self.format(record))

    for name in ("complaints.run", "prefect.flow_runs"):
        lg = logging.getLogger(name)
        h = Grab()
        lg.addHandler(h)
        lg.setLevel(logging.INFO)
        try:
            lg.info("reading %s for %s", "postgresql://u:p@ss@h/db?password=q", "电话 138 1234 5678")
        finally:
            lg.removeHandler(h)
    assert len(seen) == 2
    for line in seen:
        assert "p@ss" not in line and "password=q" not in line and "1234 5678" not in line
        assert "<removed>" in line and "138****5678" in line


def test_prefect_artifacts_are_masked(monkeypatch: pytest.MonkeyPatch) -> None:
    import flows.filing as F

    captured: dict[str, Any] = {}
    monkeypatch.setattr(F, "create_table_artifact", lambda **kw: captured.update(table=kw["table"]))
    monkeypatch.setattr(F, "create_markdown_artifact", lambda **kw: captured.update(md=kw["markdown"]))
    summary: Any = {
        "filing": "quarterly", "entity": "HO", "period": "2026Q3", "bundle": "b",
        "rows": {"read": 1, "accepted": 1, "quarantined": 0}, "due": None, "due_error": None,
        "headline": {"cases": 1, "valid_cases": 1, "contacts": 1, "timeliness_rate": None},
        "incomplete": ["source s: 13812345678.xlsx could not be read (postgresql://u:pw@h/db)"],
    }
    F.publish(summary, {"by_channel": {"13812345678": 1, "phone": 2}})
    text = json.dumps(captured, ensure_ascii=False)
    assert "13812345678" not in text and "pw@h" not in text and "138****5678" in text
