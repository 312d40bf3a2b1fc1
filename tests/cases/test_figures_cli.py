"""The ``complaints figures`` command: its JSON equals the figures computed directly, on the golden cases."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cli import app
from tasks.config_files import CONFIG_DIR

CASES = Path(__file__).resolve().parent


# -- CLI ----------------------------------------------------------------------------------------------------
runner = CliRunner()


@pytest.mark.parametrize("name", ["quarter_basic", "regulator_basis_quarter"])
def test_cli_json_equals_compute_figures(name: str) -> None:
    from test_golden_cases import run_case

    folder = CASES / name
    args = json.loads((folder / "args.json").read_text(encoding="utf-8"))
    bulletins = (
        CONFIG_DIR / "benchmarks" / "bulletins.yaml"
        if args["bulletins"] == "config"
        else folder / args["bulletins"]
    )
    events = ["--events", str(folder / "events.csv")] if (folder / "events.csv").is_file() else []
    res = runner.invoke(
        app,
        [
            "figures",
            "--ledger",
            str(folder / "ledger.csv"),
            "--period",
            args["period"],
            "--exposure",
            str(folder / "exposure.csv"),
            *events,
            "--entity",
            args["entity"],
            "--as-of",
            args["as_of"],
            "--bulletins",
            str(bulletins),
            "--json",
        ],
    )
    assert res.exit_code == 0, res.output
    expected, _ = run_case(name)
    assert json.loads(res.output) == json.loads(json.dumps(expected.figures))


def test_cli_lineage_and_tables() -> None:
    folder = CASES / "quarter_basic"
    base = [
        "figures",
        "--ledger",
        str(folder / "ledger.csv"),
        "--period",
        "2026Q2",
        "--as-of",
        "2026-07-10T09:00",
    ]
    res = runner.invoke(app, [*base, "--lineage", "timeliness.late"])
    assert res.exit_code == 0 and res.output.split() == ["Q2-02", "Q2-04"]
    res = runner.invoke(app, base)
    assert res.exit_code == 0 and "timeliness" in res.output


def test_cli_errors_are_one_message() -> None:
    folder = CASES / "annual_2026"
    res = runner.invoke(
        app,
        [
            "figures",
            "--ledger",
            str(folder / "ledger.csv"),
            "--period",
            "2026",
            "--as-of",
            "2027-01-20T09:00",
        ],
    )
    assert res.exit_code != 0 and "2027" in res.output and "Traceback" not in res.output
    res = runner.invoke(app, ["figures", "--ledger", str(folder / "ledger.csv"), "--period", "2026Q5"])
    assert res.exit_code != 0 and "period" in res.output
    res = runner.invoke(app, ["figures", "--ledger", "/nonexistent.csv", "--period", "2026Q1"])
    assert res.exit_code != 0 and "no such file" in res.output
    res = runner.invoke(
        app,
        [
            "figures",
            "--ledger",
            str(folder / "ledger.csv"),
            "--period",
            "2026",
            "--as-of",
            "2027-01-20T09:00",
            "--calendar",
            str(folder / "2027.yaml"),
            "--lineage",
            "no.such.key",
        ],
    )
    assert res.exit_code != 0 and "not a figure key" in res.output


def test_cli_bad_bulletins_file_names_the_entry(tmp_path: Path) -> None:
    folder = CASES / "regulator_basis_quarter"
    bad = tmp_path / "bulletins.yaml"
    bad.write_text(
        "bulletins:\n  - {period: 2023Q1, segment: life, per_100m_premium: -1.0, source: x}\n"
        "  - {period: 2023Q2, segment: life, per_100m_premium: 1.0}\n",
        encoding="utf-8",
    )
    base = ["figures", "--ledger", str(folder / "ledger.csv"), "--period", "2026Q2", "--as-of", "2026-07-20"]
    res = runner.invoke(app, [*base, "--bulletins", str(bad)])
    assert res.exit_code == 2
    assert "bulletins[0] (2023Q1 life)" in res.output and "negative" in res.output
    bad.write_text(
        "bulletins:\n  - {period: 2023Q2, segment: life, per_100m_premium: 1.0}\n", encoding="utf-8"
    )
    res = runner.invoke(app, [*base, "--bulletins", str(bad)])
    assert res.exit_code == 2 and "bulletins[0] (2023Q2 life): source is missing" in res.output


def test_benchmark_command_shows_the_figures_numbers() -> None:
    from test_golden_cases import run_case

    folder = CASES / "regulator_basis_quarter"
    base = ["--ledger", str(folder / "ledger.csv"), "--exposure", str(folder / "exposure.csv")]
    base += ["--period", "2026Q2", "--as-of", "2026-07-20T09:00:00"]
    res = runner.invoke(app, ["benchmark", *base, "--json"])
    assert res.exit_code == 0, res.output
    got = json.loads(res.output)
    expected, _ = run_case("regulator_basis_quarter")
    want = json.loads(json.dumps(expected.figures))
    assert got["regulator_basis"] == want["regulator_basis"] and got["benchmark"] == want["benchmark"]
    text = runner.invoke(app, ["benchmark", *base]).output
    assert "人身保险公司" in text and "2023Q1" in text and "退保纠纷 2 件（50.0%）" in text
    # a period no bulletin covers (without the exposure file, whose rows are for 2026Q2 only: the quality
    # gate would refuse a period with no exposure rows, X012)
    earlier = ["--ledger", str(folder / "ledger.csv"), "--period", "2020Q1", "--as-of", "2026-07-20T09:00:00"]
    none = runner.invoke(app, ["benchmark", *earlier])
    assert none.exit_code == 0 and "没有覆盖本期的监管通报参考数据" in none.output
