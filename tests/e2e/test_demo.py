"""The README's first command, end to end: `complaints demo` in a fresh directory, as a new user runs it."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
from pathlib import Path

import docx
import pytest

COMPLAINTS = str(Path(sys.executable).parent / "complaints")
AS_OF = "2026-11-20T09:00:00+08:00"


def run_demo(workdir: Path, *extra: str) -> dict:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    env.pop("COMPLAINTS_DEMO_SOURCE_URL", None)
    proc = subprocess.run([COMPLAINTS, "demo", "--workdir", str(workdir), "--complaints", "3000",
                           "--as-of", AS_OF, "--json", *extra],
                          capture_output=True, text=True, env=env, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "Traceback" not in proc.stderr
    return json.loads(proc.stdout[proc.stdout.index("{"):])


def bundle_figures(workdir: Path, bundle_id: str) -> dict:
    path = workdir / "archive" / bundle_id / "data" / "figures" / "figures.json"
    return json.loads(path.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def sqlite_demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    workdir = tmp_path_factory.mktemp("demo")
    return workdir, run_demo(workdir)


@pytest.mark.slow
def test_demo_produces_docx_and_bundle_with_the_printed_numbers(sqlite_demo: tuple[Path, dict]) -> None:
    workdir, summary = sqlite_demo
    rows = summary["rows"]
    assert rows["read"] == rows["accepted"] + rows["quarantined"] and rows["read"] > 0
    figures = bundle_figures(workdir, summary["bundle"])
    h = summary["headline"]
    assert h["cases"] == figures["counts"]["cases"] > 0
    assert h["valid_cases"] == figures["counts"]["valid_cases"]
    assert h["timeliness_rate"] == figures["timeliness"]["rate"]
    assert figures["rows"] == rows
    # the demo source's defective rows are quarantined with their reasons, not dropped or guessed:
    # L000 is the unparseable forward date, kept as read in the bundled extract
    quality = workdir / "archive" / summary["bundle"] / "data" / "quality"
    by_check = json.loads((quality / "reconciliation.json").read_text(encoding="utf-8"))["ledger"]["by_check"]
    assert {"L000", "L026"} <= set(by_check) and rows["quarantined"] >= 2
    # no personal identifiers in the bundle unless configured: the demo source has an unmasked mobile
    # number in one summary (warning L063); the bundled extract and quarantine carry it masked
    import pandas as pd

    from complaints.masking import contains_identifier

    data = workdir / "archive" / summary["bundle"] / "data"
    assert "L063" in {r["id"] for r in json.loads((quality / "validation.json").read_text())["results"]
                      if not r["passed"]}
    for path in (data / "extract" / "ledger.parquet", quality / "quarantine.parquet"):
        frame = pd.read_parquet(path)
        text = "\n".join(frame[c].dropna().astype(str).str.cat(sep="\n")
                         for c in ("summary", "policy_no") if c in frame)
        assert not contains_identifier(text), path
    assert summary["period"] == "2026Q3" and summary["due"] == "2026-10-20"

    document = docx.Document(summary["document"])
    text = "\n".join(p.text for p in document.paragraphs)
    c = figures["counts"]
    assert f"共接收保险消费投诉{c['cases']}件（{c['contacts']}次），其中有效投诉{c['valid_cases']}件" in text
    assert f"投诉处理及时率为{figures['timeliness']['rate'] * 100:.2f}%" in text
    overview = {row.cells[0].text: row.cells[1].text for row in document.tables[0].rows}
    assert overview["投诉件数"] == str(c["cases"])
    assert overview["有效投诉件数"] == str(c["valid_cases"])
    # the DOCX in the bundle is byte-for-byte the officer's
    bundled = workdir / "archive" / summary["bundle"] / "data" / "filings" / Path(summary["document"]).name
    assert bundled.read_bytes() == Path(summary["document"]).read_bytes()


@pytest.mark.slow
def test_demo_report_compares_with_the_bulletins_as_its_figures_say(sqlite_demo: tuple[Path, dict]) -> None:
    """Issue 18: the demo (a life insurer) prints 与行业对比 and every cell equals its figures.json."""
    workdir, summary = sqlite_demo
    figures = bundle_figures(workdir, summary["bundle"])
    life, ours = figures["benchmark"]["life"], figures["regulator_basis"]["life"]
    assert ours["forwarded"] > 0 and figures["regulator_basis"]["property"]["forwarded"] == 0
    document = docx.Document(summary["document"])
    table = next(t for t in document.tables if t.rows[0].cells[0].text == "业务条线")
    assert [c.text for c in table.rows[0].cells] == ["业务条线", "指标", "本公司", "行业中位数", "中位数期别",
                                                     "比值", "是否高于"]
    rows = {r.cells[1].text: [c.text for c in r.cells] for r in table.rows[1:]}
    labels = {"per_100m_premium": "亿元保费投诉量", "per_10k_policies": "万张保单投诉量",
              "per_10k_insured": "万人次投诉量"}
    assert set(rows) == set(labels.values())  # a life insurer: no property line is printed
    for rate, name in labels.items():
        b = life[rate]
        year, q = b["median_period"][:4], "一二三四"[int(b["median_period"][-1]) - 1]
        period = f"{year}年第{q}季度"
        assert rows[name] == ["人身保险", name, f"{ours[rate]:.2f}", f"{b['median']:.2f}", period,
                              f"{b['ratio']:.2f}", "是" if b["above_median"] else "否"]
    text = "\n".join(p.text for p in document.paragraphs)
    assert f"人身保险：本期监管转送投诉{ours['forwarded']}件" in text
    assert "财产保险" not in text[text.index("与行业对比"):text.index("存在的问题")]
    # plausible for a reader of the bulletins: the demo sits near the life medians, not at 15x
    assert all(0.5 < life[rate]["ratio"] < 3 for rate in labels)


@pytest.mark.slow
def test_demo_bundle_verifies_and_reproduces(sqlite_demo: tuple[Path, dict]) -> None:
    workdir, summary = sqlite_demo
    args = ["--config", str(workdir / "complaints.yaml"), "--workdir", str(workdir)]
    verify = subprocess.run([COMPLAINTS, "bundles", "verify", summary["bundle"], *args],
                            capture_output=True, text=True, timeout=120)
    assert verify.returncode == 0, verify.stdout + verify.stderr
    reproduce = subprocess.run([COMPLAINTS, "bundles", "reproduce", summary["bundle"], *args],
                               capture_output=True, text=True, timeout=300)
    assert reproduce.returncode == 0, reproduce.stdout + reproduce.stderr
    assert "reproduced exactly" in reproduce.stdout


SERVERS = {
    "postgresql": ("postgresql+psycopg://postgres@127.0.0.1:5432/{db}", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"),
    "mariadb": ("mysql+pymysql://root@127.0.0.1:3306/{db}", "mysql+pymysql://root@127.0.0.1:3306/"),
}


@pytest.mark.slow
@pytest.mark.db
@pytest.mark.parametrize("server", sorted(SERVERS))
def test_demo_on_a_server_gives_the_sqlite_figures(server: str, sqlite_demo: tuple[Path, dict],
                                                   tmp_path: Path) -> None:
    import sqlalchemy as sa

    url_tpl, admin_url = SERVERS[server]
    db = f"complaints_e2e_{os.getpid()}"
    admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f"DROP DATABASE IF EXISTS {db}"))
        conn.execute(sa.text(f"CREATE DATABASE {db}"))
    try:
        summary = run_demo(tmp_path, "--source-url", url_tpl.format(db=db))
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f"DROP DATABASE IF EXISTS {db}"))
        admin.dispose()
    sqlite_dir, sqlite_summary = sqlite_demo
    ours = bundle_figures(tmp_path, summary["bundle"])
    theirs = bundle_figures(sqlite_dir, sqlite_summary["bundle"])
    assert ours == theirs
    assert summary["rows"] == sqlite_summary["rows"]


@pytest.mark.slow
def test_monthly_tables_are_filed_archived_and_reproduced(sqlite_demo: tuple[Path, dict]) -> None:
    """`complaints run monthly` on the demo: the XLSX is in the bundle byte for byte, its totals are the
    bundled figures, which equal a count over the bundled extract, and the bundle reproduces."""
    import openpyxl
    import pandas as pd

    from complaints.masking import contains_identifier

    workdir, _ = sqlite_demo
    args = ["--config", str(workdir / "complaints.yaml"), "--workdir", str(workdir)]
    env = {**os.environ, "COMPLAINTS_SIGNING_KEY_FILE": str(workdir / "keys" / "signing-key.pem")}
    env.pop("COMPLAINTS_DEMO_SOURCE_URL", None)
    proc = subprocess.run([COMPLAINTS, "run", "monthly", "--month", "2026-10", "--as-of", AS_OF, "--json",
                           *args], capture_output=True, text=True, env=env, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    summary = json.loads(proc.stdout[proc.stdout.index("{"):])
    assert summary["filing"] == "monthly" and summary["bundle"].startswith("monthly/HO/2026-10/")
    assert summary["due"] == "2026-11-05" and summary["signed"]  # before the 5th working day of November
    data = workdir / "archive" / summary["bundle"] / "data"
    document = Path(summary["document"])
    assert (data / "filings" / document.name).read_bytes() == document.read_bytes()

    figures = json.loads((data / "figures" / "figures.json").read_text(encoding="utf-8"))
    ledger = pd.read_parquet(data / "extract" / "ledger.parquet")
    recv = pd.to_datetime(ledger["received_at"])
    quarantine = pd.read_parquet(data / "quality" / "quarantine.parquet")  # ids masked: rows by number
    accepted = ~ledger.index.isin(quarantine.loc[quarantine["table"] == "ledger", "row_number"] - 1)
    october = ledger[(recv >= "2026-10-01") & (recv < "2026-11-01") & accepted]
    assert figures["counts"]["contacts"] == len(october) > 0  # the accepted rows of October
    assert figures["counts"]["cases"] == int(october["repeat_of"].isna().sum())

    book = openpyxl.load_workbook(document, read_only=True)
    summary_rows = list(book["投诉处理汇总表"].iter_rows(min_row=2, values_only=True))
    head, total = summary_rows[0], summary_rows[-1]
    assert total[0] == "合计"
    assert total[head.index("投诉件数")] == figures["counts"]["cases"]
    assert total[head.index("投诉次数")] == figures["counts"]["contacts"]
    detail = list(book["案件处理明细表"].iter_rows(min_row=2, values_only=True))
    assert len(detail) - 1 == figures["counts"]["contacts"]
    free_text = [detail[0].index(c) for c in ("投诉人标识", "保单号", "投诉摘要")]  # masked unless configured
    assert not contains_identifier("\n".join(str(row[i]) for row in detail[1:] for i in free_text if row[i]))

    reproduce = subprocess.run([COMPLAINTS, "bundles", "reproduce", summary["bundle"], *args],
                               capture_output=True, text=True, timeout=300)
    assert reproduce.returncode == 0 and "reproduced exactly" in reproduce.stdout, reproduce.stderr


# -- the clock past the known working-day calendars (issue 23) ---------------------------------------
def last_known_year() -> int:
    """The last year the package and config/calendar/ know (2026 with chinesecalendar 1.11)."""
    from tasks.calendar_files import load_calendar

    return max(load_calendar().years)


def demo_at(workdir: Path, as_of: str, *extra: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    env.pop("COMPLAINTS_DEMO_SOURCE_URL", None)
    proc = subprocess.run([COMPLAINTS, "demo", "--workdir", str(workdir), "--complaints", "3000",
                           "--as-of", as_of, *extra], capture_output=True, text=True, env=env, timeout=600)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert "Traceback" not in proc.stdout + proc.stderr
    return proc


def calendar_note(text: str) -> str:
    """The one line saying which quarter the demo filed and why."""
    lines = [ln for ln in text.splitlines() if ln.startswith("demo: filing ")]
    assert len(lines) == 1, text[-3000:]
    return lines[0]


@pytest.fixture(scope="module")
def next_january_demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict, str]:
    """The README's first command on 15 January after the last known calendar year, as JSON."""
    workdir = tmp_path_factory.mktemp("demo-next-january")
    proc = demo_at(workdir, f"{last_known_year() + 1}-01-15T10:00:00+08:00", "--json")
    return workdir, json.loads(proc.stdout[proc.stdout.index("{"):]), proc.stderr


@pytest.mark.slow
def test_demo_in_january_after_the_known_calendar_files_q3(next_january_demo: tuple[Path, dict, str]) -> None:
    """Q4's reports, and a 31 December complaint's acknowledgement, need next year's calendar: the demo
    files Q3 as of its due date (the end of its run window) and says so in one line, naming the year
    and the file to add; its data end the day before, so every "as of" figure is true at that time."""
    year = last_known_year()
    workdir, summary, stderr = next_january_demo
    note = calendar_note(stderr)
    assert note == summary["calendar_note"]
    assert note.startswith(f"demo: filing {year}Q3 as of ")
    assert f"not {year}Q4 as of {year + 1}-01-15" in note
    assert f"the working-day calendar for {year + 1} is not known" in note
    assert f"config/calendar/{year + 1}.yaml" in note and "config/calendar/README.md" in note
    assert summary["period"] == f"{year}Q3" and summary["signed"]
    assert summary["as_of"] == f"{summary['due']}T09:00:00+08:00"
    assert summary["due"] in note
    if year == 2026:
        assert summary["due"] == "2026-10-20"
    figures = bundle_figures(workdir, summary["bundle"])
    assert figures["as_of"] == summary["as_of"] and figures["counts"]["cases"] > 0
    # the demo's data describe the system as of that day: its source ends the day before
    import sqlite3

    with contextlib.closing(sqlite3.connect(workdir / "demo_source.sqlite")) as db:
        (last_received,) = db.execute("SELECT max(slsj) FROM kf_tsgd").fetchone()
    assert str(last_received) < summary["due"]
    # the bundle archives the calendar it used: the known years only, nothing made up
    calendar = json.loads((workdir / "archive" / summary["bundle"] / "data" / "calendar" / "calendar.json")
                          .read_text(encoding="utf-8"))
    assert max(y["year"] for y in calendar["years"]) == year


@pytest.mark.slow
def test_demo_two_years_past_the_known_calendar(tmp_path: Path) -> None:
    """As a newcomer sees it (no --json): completes, files Q3 of the last known year, names both missing
    years and their files in one line, and the re-run command it prints keeps that as-of."""
    year = last_known_year()
    proc = demo_at(tmp_path, f"{year + 2}-06-15T10:00:00+08:00")
    note = calendar_note(proc.stdout)
    assert note.startswith(f"demo: filing {year}Q3 as of ")
    assert f"not {year + 2}Q1 as of {year + 2}-06-15" in note
    assert f"the working-day calendars for {year + 1} and {year + 2} are not known" in note
    assert f"config/calendar/{year + 1}.yaml" in note and f"config/calendar/{year + 2}.yaml" in note
    assert f"{year}Q4's due date and clocks need {year + 1}" in note
    assert f"run quarterly --period {year}Q3 --entity GD --as-of " in proc.stdout


@pytest.mark.slow
def test_real_q4_filing_without_next_year_is_still_refused(next_january_demo: tuple[Path, dict, str],
                                                            tmp_path: Path) -> None:
    """The demo's fallback is the demo's only: a real Q4 filing, whose 31 December complaints need
    next year's calendar, stops with one message naming the year; no traceback, nothing guessed."""
    year = last_known_year()
    workdir, _, _ = next_january_demo
    url = f"sqlite:///{tmp_path / 'through-january.sqlite'}"
    data = subprocess.run([COMPLAINTS, "demo-data", "--url", url, "--complaints", "3000",
                           "--start", f"{year}-07-01", "--end", f"{year + 1}-01-14"],
                          capture_output=True, text=True, timeout=300)
    assert data.returncode == 0, data.stderr[-3000:]
    env = {**os.environ, "COMPLAINTS_DEMO_SOURCE_URL": url,
           "COMPLAINTS_SIGNING_KEY_FILE": str(workdir / "keys" / "signing-key.pem")}
    proc = subprocess.run([COMPLAINTS, "run", "quarterly", "--period", f"{year}Q4",
                           "--as-of", f"{year + 1}-01-15T10:00:00+08:00",
                           "--config", str(workdir / "complaints.yaml"), "--workdir", str(workdir)],
                          capture_output=True, text=True, env=env, timeout=600)
    assert proc.returncode != 0, proc.stdout[-3000:]
    assert "Traceback" not in proc.stdout + proc.stderr, proc.stderr[-4000:]
    errors = [ln for ln in proc.stderr.splitlines() if ln.startswith("error:")]
    assert len(errors) == 1, proc.stderr[-4000:]
    assert errors[0].startswith(f"error: the working-day calendar for {year + 1} is not known")
    assert f"config/calendar/{year + 1}.yaml" in errors[0]
