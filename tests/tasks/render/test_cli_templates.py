"""The ``complaints report`` commands, the committed templates, and the charts' CJK font."""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cli import app
from tasks.charts import category_bar_chart, find_cjk_font, trend_chart

from .conftest import FIXTURES, paragraphs

runner = CliRunner()
LEDGER = str(FIXTURES / "ledger_small.csv")


def test_cli_forwarded(tmp_path: Path) -> None:
    args = [
        "report",
        "forwarded",
        "--case",
        "粤金复转〔2026〕0712号",
        "--ledger",
        LEDGER,
        "--events",
        str(FIXTURES / "events_small.csv"),
        "--out",
        str(tmp_path),
        "--generated-at",
        "2026-10-10T09:30",
        "--run-id",
        "cli-1",
    ]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    path = Path(result.output.strip().splitlines()[-1])
    assert (
        "经审核，该投诉符合受理条件，我公司予以受理。我公司于2026年7月3日向投诉人确认收到投诉。"
        in paragraphs(path)
    )
    again = runner.invoke(
        app,
        [*args[:-4], "--out", str(tmp_path / "b"), "--generated-at", "2026-10-10T09:30", "--run-id", "cli-1"],
    )
    assert Path(again.output.strip().splitlines()[-1]).read_bytes() == path.read_bytes()


def test_cli_monthly_and_rectification(tmp_path: Path) -> None:
    result = runner.invoke(
        app, ["report", "monthly", "--month", "2026-07", "--ledger", LEDGER, "--out", str(tmp_path)]
    )
    assert result.exit_code == 0, result.output
    assert "(5 records)" in result.output and (tmp_path / "投诉月度通报_2026-07.xlsx").exists()
    result = runner.invoke(
        app,
        [
            "report",
            "rectification",
            "--requirement",
            str(FIXTURES / "rectification_2026.yaml"),
            "--figures",
            str(FIXTURES / "figures_2026Q3.json"),
            "--out",
            str(tmp_path),
        ],
    )
    assert result.exit_code == 0, result.output
    assert (tmp_path / "整改情况报告_粤金消保函_2026_35号.docx").exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["forwarded", "--case", "NOPE", "--ledger", LEDGER],
            "no complaint with complaint_id or forward_ref 'NOPE'",
        ),
        (["forwarded", "--case", "x", "--ledger", "/nonexistent.csv"], "/nonexistent.csv: no such file"),
        (["monthly", "--month", "2026Q3", "--ledger", LEDGER], "give a month like 2026-07"),
        (
            ["monthly", "--month", "2026-07", "--ledger", LEDGER, "--generated-at", "yesterday"],
            "not an ISO date-time",
        ),
        (["rectification", "--requirement", "/nonexistent.yaml"], "/nonexistent.yaml: file not found"),
    ],
)
def test_cli_user_errors(args: list[str], message: str) -> None:
    result = runner.invoke(app, ["report", *args])
    assert result.exit_code == 2
    assert message in result.output and "Traceback" not in result.output


def test_charts_draw_chinese_without_missing_glyphs(tmp_path: Path) -> None:
    assert "CJK" in find_cjk_font() or "WenQuanYi" in find_cjk_font()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # matplotlib warns "Glyph … missing from font(s)" for boxes
        a = category_bar_chart([("理赔", 5), ("信息安全", 1)], tmp_path / "a.png")
        b = trend_chart(
            [
                {"period": "2026Q2", "label": "2026年Q2", "cases": 3, "valid_cases": 2},
                {"period": "2026Q3", "label": "2026年Q3", "cases": 4, "valid_cases": None},
            ],
            tmp_path / "b.png",
        )
    assert a.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and b.stat().st_size > 1000
    again = category_bar_chart([("理赔", 5), ("信息安全", 1)], tmp_path / "a2.png")
    assert again.read_bytes() == a.read_bytes()
