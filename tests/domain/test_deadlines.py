"""The filing calendar: hand-checked due dates per filing and level, unknown years reported per
filing, and the ``complaints deadlines`` command (JSON shape, exit status 3)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from cli.deadlines import register
from complaints.calendar import UnknownCalendarYear, WorkCalendar, build_calendar
from complaints.deadlines import (
    Filing,
    FilingDue,
    Level,
    annual_due,
    at_risk_from,
    due_date,
    filings_for_year,
    forwarded_report_due,
    latest_served_quarter,
    missing_years,
    rectification_due,
    window_opens,
)
from complaints.periods import Period
from complaints.settings import FilingRules
from tasks.calendar_files import load_calendar

D = dt.date
RULES = FilingRules()

# A made-up 2027 schedule for tests only (the real notice is not published): 1-3 January off,
# Saturday 9 January worked.
FIXTURE_2027 = """\
year: 2027
source: test fixture, not the State Council notice
holidays: [2027-01-01, 2027-01-02, 2027-01-03]
workdays: [2027-01-09]
"""


@pytest.fixture(scope="module")
def cal() -> WorkCalendar:
    return build_calendar()


@pytest.fixture
def year_2027(tmp_path: Path) -> Path:
    path = tmp_path / "2027.yaml"
    path.write_text(FIXTURE_2027, encoding="utf-8")
    return path


DUE = [
    # quarterly: N-th working day after quarter end (head office 10, branch 7)
    ("quarterly", "2026Q3", "head_office", D(2026, 10, 20)),  # 1-7 Oct off, Sat 10 Oct worked
    ("quarterly", "2026Q3", "branch", D(2026, 10, 15)),
    ("quarterly", "2026Q1", "head_office", D(2026, 4, 15)),  # 清明 Mon 6 Apr off
    ("quarterly", "2026Q1", "branch", D(2026, 4, 10)),
    ("quarterly", "2026Q2", "head_office", D(2026, 7, 14)),  # no holiday in July
    ("quarterly", "2026Q2", "branch", D(2026, 7, 9)),
    ("quarterly", "2025Q3", "head_office", D(2025, 10, 21)),  # 1-8 Oct 2025 off, Sat 11 Oct worked
    ("quarterly", "2025Q3", "branch", D(2025, 10, 16)),
    ("quarterly", "2025Q4", "head_office", D(2026, 1, 15)),  # New Year 2026: Sun 4 Jan worked
    ("quarterly", "2025Q4", "branch", D(2026, 1, 12)),
    # annual: before 1 March -> the last day of February
    ("annual", "2026", "head_office", D(2027, 2, 28)),
    ("annual", "2026", "branch", D(2027, 2, 28)),
    ("annual", "2025", "head_office", D(2026, 2, 28)),
    ("annual", "2027", "head_office", D(2028, 2, 29)),  # 2028 is a leap year
    ("annual", "2023", "branch", D(2024, 2, 29)),  # 2024 is a leap year
    ("annual", "2099", "head_office", D(2100, 2, 28)),  # 2100 is not
    # monthly: before the 5th working day of the next month -> its 4th working day
    ("monthly", "2026-01", "head_office", D(2026, 2, 5)),
    ("monthly", "2026-04", "head_office", D(2026, 5, 9)),  # 1-5 May off; Sat 9 May worked
    ("monthly", "2026-07", "head_office", D(2026, 8, 6)),
    ("monthly", "2026-09", "head_office", D(2026, 10, 12)),  # 8, 9, Sat 10, 12 October
    ("monthly", "2025-12", "head_office", D(2026, 1, 7)),  # 4, 5, 6, 7 January
    ("monthly", "2026-01", "branch", D(2026, 2, 5)),  # the rule does not depend on the level
]


@pytest.mark.parametrize(("filing", "period", "level", "expected"), DUE,
                         ids=[f"{f}-{p}-{lv}" for f, p, lv, _ in DUE])
def test_due_date(cal: WorkCalendar, filing: Filing, period: str, level: Level, expected: dt.date) -> None:
    assert due_date(filing, period, level, cal, RULES) == expected
    assert due_date(filing, Period.parse(period), level, cal, RULES) == expected


def test_annual_needs_no_calendar_year() -> None:
    tiny = load_calendar(Path("/nonexistent"))  # package only, 2004-2026
    assert due_date("annual", "2030", "branch", tiny, RULES) == D(2031, 2, 28)


@pytest.mark.parametrize(("filing", "period"), [("quarterly", "2026Q4"), ("monthly", "2026-12")])
def test_needs_next_year_calendar(cal: WorkCalendar, year_2027: Path, filing: Filing, period: str) -> None:
    with pytest.raises(UnknownCalendarYear) as info:
        due_date(filing, period, "head_office", cal, RULES)
    assert info.value.year == 2027
    with_2027 = load_calendar(year_2027.parent / "nothing", [year_2027])
    expected = {"quarterly": D(2027, 1, 14), "monthly": D(2027, 1, 7)}[filing]
    # 2027 fixture: 4, 5, 6, 7, 8, Sat 9, 11 (7th), 12, 13, 14 (10th) January
    assert due_date(filing, period, "head_office", with_2027, RULES) == expected


def test_q4_2026_branch_with_2027_file(year_2027: Path) -> None:
    with_2027 = load_calendar(year_2027.parent)
    assert due_date("quarterly", "2026Q4", "branch", with_2027, RULES) == D(2027, 1, 11)


def test_latest_served_quarter_is_the_asked_one_when_served(cal: WorkCalendar) -> None:
    assert latest_served_quarter(Period.parse("2026Q3"), cal, RULES, 3) == (
        Period.parse("2026Q3"), D(2026, 10, 20), None)


@pytest.mark.parametrize("asked", ["2026Q4", "2027Q4", "2028Q1"])
def test_latest_served_quarter_steps_back_to_the_known_year(cal: WorkCalendar, asked: str) -> None:
    """2026Q4's reports are due in January 2027 (and a 31 December complaint's acknowledgement is
    due there): without 2027, 2026Q3 is the latest quarter served, and 2027 is what blocked 2026Q4."""
    period, due, blocked = latest_served_quarter(Period.parse(asked), cal, RULES, 1)
    assert (period.code, due) == ("2026Q3", D(2026, 10, 20))
    assert blocked is not None and blocked.year == 2027


def test_latest_served_quarter_needs_the_clocks_too(cal: WorkCalendar) -> None:
    """A 60-working-day clock started on 2026Q3's due date (20 October) ends in 2027: not served."""
    period, due, blocked = latest_served_quarter(Period.parse("2026Q3"), cal, RULES, 60)
    assert (period.code, due) == ("2026Q2", D(2026, 7, 14))
    assert blocked is not None and blocked.year == 2027


def test_latest_served_quarter_with_the_next_year_file(year_2027: Path) -> None:
    with_2027 = load_calendar(year_2027.parent / "nothing", [year_2027])
    assert latest_served_quarter("2026Q4", with_2027, RULES, 3) == (
        Period.parse("2026Q4"), D(2027, 1, 14), None)


def test_latest_served_quarter_never_guesses_before_the_first_year(cal: WorkCalendar) -> None:
    with pytest.raises(UnknownCalendarYear) as info:
        latest_served_quarter("1990Q2", cal, RULES)
    assert info.value.year == 1990


CONFIGURED = [
    (FilingRules(quarterly_working_days={"head_office": 15, "branch": 5}), "quarterly", "2026Q3", "branch",
     D(2026, 10, 13)),
    (FilingRules(quarterly_working_days={"head_office": 15, "branch": 5}), "quarterly", "2026Q3",
     "head_office", D(2026, 10, 27)),
    (FilingRules(monthly_before_working_day=3), "monthly", "2026-07", "head_office", D(2026, 8, 4)),
    (FilingRules(annual_due_month_day="04-01"), "annual", "2026", "head_office", D(2027, 3, 31)),
    (FilingRules(annual_due_month_day="01-01"), "annual", "2026", "head_office", D(2026, 12, 31)),
]


@pytest.mark.parametrize(("rules", "filing", "period", "level", "expected"), CONFIGURED)
def test_rules_are_configurable(cal: WorkCalendar, rules: FilingRules, filing: Filing, period: str,
                                level: Level, expected: dt.date) -> None:
    assert due_date(filing, period, level, cal, rules) == expected


@pytest.mark.parametrize(("filing", "period", "level", "rules", "message"), [
    ("quarterly", "2026", "head_office", RULES, "reports on a quarter"),
    ("annual", "2026Q1", "head_office", RULES, "reports on a year"),
    ("monthly", "2026Q1", "head_office", RULES, "reports on a month"),
    ("weekly", "2026Q1", "head_office", RULES, "reports on a week"),
    ("fortnightly", "2026Q1", "head_office", RULES, "unknown filing"),
    ("quarterly", "2026Q1", "province", RULES, "unknown entity level"),
    ("monthly", "2026-07", "head_office", FilingRules(monthly_before_working_day=1), "at least 2"),
    ("annual", "2026", "head_office", FilingRules(annual_due_month_day="02-30"), "02-30"),
    ("quarterly", "2026Q1", "branch", FilingRules(quarterly_working_days={"head_office": 10}), "branch"),
])
def test_invalid_requests(cal: WorkCalendar, filing: Filing, period: str, level: Level, rules: FilingRules,
                          message: str) -> None:
    with pytest.raises(ValueError, match=message):
        due_date(filing, period, level, cal, rules)


def test_annual_due_29_february_rule_in_common_year() -> None:
    assert annual_due(2027, FilingRules(annual_due_month_day="03-01")) == D(2028, 2, 29)
    with pytest.raises(ValueError, match="02-29"):
        annual_due(2026, FilingRules(annual_due_month_day="02-29"))  # no 29 Feb 2027


# -- the whole year --------------------------------------------------------------------------------
def test_filings_for_2026_without_2027(cal: WorkCalendar) -> None:
    entries = filings_for_year(2026, None, cal, RULES)
    assert len(entries) == 8 + 2 + 12 + 53  # ISO 2026 has 53 weeks (W53: 12-28 … 2027-01-03)
    assert {e.level for e in entries if e.filing == "weekly"} == {"head_office"}
    assert [(e.filing, e.period, e.level) for e in entries[:3]] == [
        ("quarterly", "2026Q1", "head_office"), ("quarterly", "2026Q1", "branch"),
        ("quarterly", "2026Q2", "head_office")]
    assert {e.level for e in entries if e.filing == "monthly"} == {"head_office"}
    failed = [(e.filing, e.period, e.level) for e in entries if e.due is None]
    assert failed == [("quarterly", "2026Q4", "head_office"), ("quarterly", "2026Q4", "branch"),
                      ("monthly", "2026-12", "head_office"), ("weekly", "2026-W53", "head_office")]
    weekly = {e.period: e.due for e in entries if e.filing == "weekly"}
    # the first working day after the week: after National Day (10-01..10-07) the Thursday
    assert (weekly["2026-W40"], weekly["2026-W41"], weekly["2026-W52"]) == (D(2026, 10, 8), D(2026, 10, 12),
                                                                           D(2026, 12, 28))
    for e in entries:
        assert (e.error is None) == (e.due is not None)
        if e.error:
            assert "2027" in e.error and "config/calendar/2027.yaml" in e.error
    assert missing_years(entries) == [2027]
    q3 = {e.level: e.due for e in entries if e.period == "2026Q3"}
    assert q3 == {"head_office": D(2026, 10, 20), "branch": D(2026, 10, 15)}


def test_filings_for_2026_with_2027(year_2027: Path) -> None:
    entries = filings_for_year(2026, None, load_calendar(year_2027.parent), RULES)
    assert all(e.due is not None and e.error is None for e in entries)
    assert missing_years(entries) == []


@pytest.mark.parametrize(("level", "count", "filings"), [
    ("branch", 4 + 1, {"quarterly", "annual"}),
    ("head_office", 4 + 1 + 12 + 52, {"quarterly", "annual", "monthly", "weekly"}),
])
def test_filings_for_one_level(cal: WorkCalendar, level: Level, count: int, filings: set[str]) -> None:
    entries = filings_for_year(2025, level, cal, RULES)
    assert len(entries) == count
    assert {e.level for e in entries} == {level}
    assert {e.filing for e in entries} == filings
    assert all(e.due is not None for e in entries)  # 2025's filings all fall in 2025-2026


def test_filings_for_a_year_before_the_calendar(cal: WorkCalendar) -> None:
    entries = filings_for_year(2003, "branch", cal, RULES)
    assert [e.missing_year for e in entries] == [2003, 2003, 2003, 2003, None]
    assert entries[4].due == D(2004, 2, 29)  # the annual report counts natural days


def test_filing_due_json_shape() -> None:
    ok = FilingDue("quarterly", "2026Q3", "head_office", D(2026, 10, 20))
    assert ok.to_dict() == {"filing": "quarterly", "period": "2026Q3", "level": "head_office",
                            "due": "2026-10-20", "error": None}
    bad = FilingDue("monthly", "2026-12", "head_office", None, "no 2027", 2027)
    assert bad.to_dict()["due"] is None and bad.to_dict()["error"] == "no 2027"


# -- event-driven filings and watcher helpers --------------------------------------------------------
def test_rectification_and_forwarded_reports() -> None:
    assert rectification_due(D(2026, 3, 10), RULES) == D(2026, 4, 9)  # the 30th day
    assert rectification_due(D(2028, 2, 1), RULES) == D(2028, 3, 2)  # leap February
    assert rectification_due(D(2026, 3, 10), FilingRules(rectification_days=15)) == D(2026, 3, 25)
    assert forwarded_report_due(D(2026, 9, 28), RULES, days=10) == D(2026, 10, 8)
    assert forwarded_report_due(D(2026, 9, 28), FilingRules(forwarded_report_days=15)) == D(2026, 10, 13)
    with pytest.raises(ValueError, match="forwarding office"):
        forwarded_report_due(D(2026, 9, 28), RULES)
    with pytest.raises(ValueError, match="at least 1"):
        forwarded_report_due(D(2026, 9, 28), RULES, days=0)


def test_window_and_at_risk(cal: WorkCalendar) -> None:
    assert window_opens("quarterly", "2026Q3", cal, RULES) == D(2026, 10, 10)  # 8, 9, Sat 10
    at_once = FilingRules(run_window_open_working_days=0)
    assert window_opens("quarterly", "2026Q3", cal, at_once) == D(2026, 10, 1)
    assert at_risk_from(D(2026, 10, 20), cal, RULES) == D(2026, 10, 15)  # 19, 16, 15
    assert at_risk_from(D(2026, 2, 28), cal, RULES) == D(2026, 2, 25)  # due on a Saturday worked
    assert at_risk_from(D(2026, 10, 20), cal, FilingRules(at_risk_working_days=0)) == D(2026, 10, 20)
    with pytest.raises(UnknownCalendarYear):
        at_risk_from(D(2027, 2, 28), cal, RULES)  # annual 2026: needs February 2027


# -- the command -------------------------------------------------------------------------------------
@pytest.fixture
def cli() -> typer.Typer:
    app = typer.Typer(pretty_exceptions_enable=False)

    @app.callback()
    def main() -> None:
        """test root (keeps `deadlines` a subcommand)"""

    register(app)
    return app


@pytest.fixture
def config(tmp_path: Path) -> Path:
    (tmp_path / "cal").mkdir()
    path = tmp_path / "complaints.yaml"
    path.write_text(
        "company: {name: 测试人寿}\n"
        "entities:\n"
        "  - {code: HO, name: 总公司, level: head_office}\n"
        "  - {code: GD, name: 广东, level: branch}\n"
        "calendar_dir: cal\n",
        encoding="utf-8",
    )
    return path


def run(app: typer.Typer, *args: str | Path) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, ["deadlines", *map(str, args)])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.stdout, result.stderr


def test_cli_json_exit_3_without_next_year(cli: typer.Typer, config: Path) -> None:
    code, out, err = run(cli, "--year", "2026", "--config", config, "--json")
    assert code == 3
    rows = json.loads(out)
    assert len(rows) == 22 + 53
    assert all(list(r) == ["filing", "period", "level", "due", "error"] for r in rows)
    by_key = {(r["filing"], r["period"], r["level"]): r for r in rows}
    assert by_key[("quarterly", "2026Q3", "head_office")] == {
        "filing": "quarterly", "period": "2026Q3", "level": "head_office", "due": "2026-10-20", "error": None}
    assert by_key[("quarterly", "2026Q3", "branch")]["due"] == "2026-10-15"
    assert by_key[("annual", "2026", "branch")]["due"] == "2027-02-28"
    q4 = by_key[("quarterly", "2026Q4", "head_office")]
    assert q4["due"] is None and "2027" in q4["error"]
    assert ("monthly", "2026-07", "branch") not in by_key
    assert "2027" in err and "Traceback" not in err


def test_cli_with_calendar_file(cli: typer.Typer, config: Path, year_2027: Path) -> None:
    code, out, _ = run(cli, "--year", "2026", "--config", config, "--calendar", year_2027, "--json")
    assert code == 0
    rows = json.loads(out)
    assert all(r["error"] is None for r in rows)
    q4 = {r["level"]: r["due"] for r in rows if r["period"] == "2026Q4"}
    assert q4 == {"head_office": "2027-01-14", "branch": "2027-01-11"}


def test_cli_reads_the_configured_calendar_dir(cli: typer.Typer, config: Path) -> None:
    (config.parent / "cal" / "2027.yaml").write_text(FIXTURE_2027, encoding="utf-8")
    code, out, _ = run(cli, "--year", "2026", "--config", config, "--json", "--level", "branch")
    assert code == 0
    rows = json.loads(out)
    assert [r["period"] for r in rows] == ["2026Q1", "2026Q2", "2026Q3", "2026Q4", "2026"]
    assert {r["level"] for r in rows} == {"branch"}


def test_cli_table(cli: typer.Typer, config: Path) -> None:
    code, out, err = run(cli, "--year", "2026", "--config", config)
    assert code == 3
    assert "2026-10-20" in out and "2026Q4" in out and "缺2027年日历" in out
    assert "config/calendar/2027.yaml" in err
    code, out, _ = run(cli, "--year", "2025", "--config", config, "--level", "head_office")
    assert code == 0 and "2026-01-15" in out


@pytest.mark.parametrize(("extra", "message"), [
    (["--calendar", "missing.yaml"], "file not found"),
    (["--calendar", "bad.yaml"], "Saturdays or Sundays"),
])
def test_cli_config_errors(cli: typer.Typer, config: Path, extra: list[str], message: str) -> None:
    bad = "year: 2027\nsource: x\nworkdays: [2027-01-05]\n"  # a Tuesday
    (config.parent / "bad.yaml").write_text(bad, encoding="utf-8")
    args = [a if not a.endswith(".yaml") else str(config.parent / a) for a in extra]
    code, out, err = run(cli, "--year", "2026", "--config", config, "--json", *args)
    assert code == 2
    assert out == "" and message in err and "Traceback" not in err


def test_cli_rejects_unknown_level(cli: typer.Typer, config: Path) -> None:
    code, _, err = run(cli, "--year", "2026", "--config", config, "--level", "province")
    assert code == 2 and "province" in err
