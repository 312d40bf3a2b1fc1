"""``complaints weekly``: the JSON of a ledger file through the quality gate equals the hand-computed golden
case; the readable table; one-line refusals (exit 2) for a week that is not one and an unknown entity."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from cli import app

CASE = Path(__file__).resolve().parent / "weekly_national_day"
runner = CliRunner()


def _args(week: str) -> list[str]:
    return ["weekly", "--ledger", str(CASE / "ledger.csv"), "--week", week, "--entity", "HO",
            "--as-of", "2026-10-14T10:00:00+08:00"]


def test_weekly_json_equals_golden_case() -> None:
    from test_golden_cases import compare

    expected = json.loads((CASE / "expected_weekly.json").read_text(encoding="utf-8"))
    for week, want in expected.items():
        res = runner.invoke(app, [*_args(week), "--json"])
        assert res.exit_code == 0, res.output
        got = json.loads(res.output)
        assert {"week", "overdue", "units"} <= set(got)
        assert compare(got, want, week) == []
        assert got["rows"] == {"read": 15, "accepted": 15, "quarantined": 0}
        for item in got["overdue"]:
            assert {"complaint_id", "due", "days_past_due", "decided"} <= set(item)


def test_weekly_table_and_refusals() -> None:
    res = runner.invoke(app, _args("2026-W41"))
    assert res.exit_code == 0, res.output
    assert "督办" in res.output and "G1" in res.output and "2026-10-12" in res.output
    res = runner.invoke(app, _args("2026-10"))
    assert res.exit_code == 2 and "not an ISO week" in res.output and "Traceback" not in res.output
    res = runner.invoke(app, [*_args("2026-W41")[:-4], "--entity", "NOPE"])
    assert res.exit_code == 2 and "NOPE" in res.output and "Traceback" not in res.output
