"""Arguments at the edges (issue 22 item 12): extreme and malformed periods, years, months, as-of times,
paths that are directories or missing, unknown entity codes, folders that are not bags. Each is one
``error:`` line and exit 2 from the place that parses it, never a traceback; none starts a flow run."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cli import app

LEDGER = Path(__file__).resolve().parents[1] / "cases" / "quarter_basic" / "ledger.csv"

L = ["--ledger", "{ledger}"]
CASES: dict[str, list[str]] = {
    # figures
    "figures period 9999Q4": ["figures", *L, "--period", "9999Q4"],
    "figures period 0001": ["figures", *L, "--period", "0001"],
    "figures period 2026Q5": ["figures", *L, "--period", "2026Q5"],
    "figures period month 2026-13": ["figures", *L, "--period", "2026-13"],
    "figures as-of overflows": ["figures", *L, "--period", "2026Q2", "--as-of", "9999-12-31T23:59:59-14:00"],
    "figures as-of year 1": ["figures", *L, "--period", "2026Q2", "--as-of", "0001-01-01"],
    "figures as-of year 1 +14:00": ["figures", *L, "--period", "2026Q2", "--as-of", "0001-01-01T00:00+14:00"],
    "figures as-of garbage": ["figures", *L, "--period", "2026Q2", "--as-of", "yesterday"],
    "figures ledger is a directory": ["figures", "--ledger", "{dir}", "--period", "2026Q2"],
    "figures ledger missing": ["figures", "--ledger", "{missing}", "--period", "2026Q2"],
    "figures exposure is a directory": ["figures", *L, "--period", "2026Q2", "--exposure", "{dir}"],
    "figures unknown entity": ["figures", *L, "--period", "2026Q2", "--entity", "ZZ<script>"],
    "figures config is a directory": ["figures", *L, "--period", "2026Q2", "--config", "{dir}"],
    # validate
    "validate period 9999Q4": ["validate", *L, "--period", "9999Q4"],
    "validate as-of overflows": ["validate", *L, "--as-of", "9999-12-31T23:59:59-14:00"],
    "validate as-of year 1": ["validate", *L, "--as-of", "0001-01-01"],
    "validate ledger is a directory": ["validate", "--ledger", "{dir}"],
    "validate out is a file": ["validate", *L, "--out", "{file}"],
    # run (refused before any flow run starts)
    "run quarterly 9999Q4": ["run", "quarterly", "--period", "9999Q4", "--workdir", "{dir}"],
    "run quarterly 0001Q1": ["run", "quarterly", "--period", "0001Q1", "--workdir", "{dir}"],
    "run quarterly given a year": ["run", "quarterly", "--period", "2026", "--workdir", "{dir}"],
    "run quarterly as-of overflows": ["run", "quarterly", "--period", "2026Q3", "--as-of",
                                      "9999-12-31T23:59:59-14:00", "--workdir", "{dir}"],
    "run quarterly as-of year 1": ["run", "quarterly", "--period", "2026Q3", "--as-of", "0001-01-01",
                                   "--workdir", "{dir}"],
    "run quarterly unknown entity": ["run", "quarterly", "--period", "2026Q3", "--entity", "NOPE",
                                     "--workdir", "{dir}"],
    "run quarterly calendar is a directory": ["run", "quarterly", "--period", "2026Q3", "--calendar", "{dir}",
                                              "--workdir", "{dir}"],
    "run annual 9999": ["run", "annual", "--year", "9999", "--workdir", "{dir}"],
    "run monthly 0001-01": ["run", "monthly", "--month", "0001-01", "--workdir", "{dir}"],
    "run monthly 2026-00": ["run", "monthly", "--month", "2026-00", "--workdir", "{dir}"],
    "run several entities with accept-empty": ["run", "quarterly", "--period", "2026Q3", "--entity", "all",
                                               "--accept-empty", "x", "--workdir", "{dir}"],
    # report
    "report monthly 9999-12": ["report", "monthly", "--month", "9999-12", *L, "--out", "{dir}"],
    "report monthly generated-at overflows": ["report", "monthly", "--month", "2026-05", *L, "--out", "{dir}",
                                              "--generated-at", "9999-12-31T23:59:59-14:00"],
    "report monthly generated-at year 1": ["report", "monthly", "--month", "2026-05", *L, "--out", "{dir}",
                                           "--generated-at", "0001-01-01"],
    "report rectification requirement is a directory": ["report", "rectification", "--requirement", "{dir}",
                                                        "--out", "{dir}"],
    # deadlines
    "deadlines year 9999": ["deadlines", "--year", "9999"],
    "deadlines year 0": ["deadlines", "--year", "0"],
    "deadlines calendar is a directory": ["deadlines", "--year", "2026", "--calendar", "{dir}"],
    # bundles diff
    "bundles diff folders that are not bags": ["bundles", "diff", "{dir}", "{dir2}"],
    "bundles diff a file": ["bundles", "diff", "{dir}", "{file}"],
    "bundles diff missing": ["bundles", "diff", "{missing}", "{dir}"],
}


@pytest.fixture()
def places(tmp_path: Path) -> dict[str, str]:
    (tmp_path / "d1").mkdir()
    (tmp_path / "d2").mkdir()
    (tmp_path / "f.txt").write_text("x", encoding="utf-8")
    return {"ledger": str(LEDGER), "dir": str(tmp_path / "d1"), "dir2": str(tmp_path / "d2"),
            "file": str(tmp_path / "f.txt"), "missing": str(tmp_path / "missing.csv")}


def _args(case: str, places: dict[str, str]) -> list[str]:
    return [a.format(**places) for a in CASES[case]]


def _check(code: int, stdout: str, stderr: str) -> None:
    errors = [line for line in stderr.splitlines() if "error:" in line]
    assert code == 2, (code, stdout[-2000:], stderr[-2000:])
    assert len(errors) == 1, stderr[-2000:]
    assert "Traceback" not in stdout + stderr
    assert "flow run" not in stderr  # refused before a flow run started


@pytest.mark.parametrize("case", sorted(CASES))
def test_argument_edge_is_one_error_line_exit_2(case: str, places: dict[str, str]) -> None:
    result = CliRunner().invoke(app, _args(case, places))
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    _check(result.exit_code, result.stdout, result.stderr)


@pytest.mark.parametrize("case", ["figures as-of overflows", "run quarterly 9999Q4",
                                  "bundles diff folders that are not bags"])
def test_argument_edge_in_a_real_process(case: str, places: dict[str, str]) -> None:
    exe = str(Path(sys.executable).parent / "complaints")
    proc = subprocess.run([exe, *_args(case, places)], capture_output=True, text=True, timeout=300)
    _check(proc.returncode, proc.stdout, proc.stderr)
