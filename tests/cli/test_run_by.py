"""Who did it (issue 16 item 7): ``complaints run … --by NAME`` hands the person to the run context,
which records it in run.json and bag-info (Run-By); without it, ``$COMPLAINTS_BY`` or the OS user."""

from __future__ import annotations

import getpass
import os
from typing import Any

import pytest
from typer.testing import CliRunner

from tasks.runs import BY_ENV, current_person


def test_current_person(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(BY_ENV, raising=False)
    assert current_person() == getpass.getuser()
    monkeypatch.setenv(BY_ENV, "  王五 ")
    assert current_person() == "王五"
    assert current_person(" 张三\t三 ") == "张三 三"  # the option wins, one line


def test_run_by_reaches_the_flow(monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> None:
    import cli.run as run_cli
    from cli import app

    seen: dict[str, Any] = {}

    def fake_run_filing(filing: str, period: str, **kwargs: Any) -> dict[str, Any]:
        seen.update(filing=filing, by=os.environ.get(BY_ENV))
        raise SystemExit(0)

    monkeypatch.delenv(BY_ENV, raising=False)
    monkeypatch.setattr(run_cli, "run_filing", fake_run_filing)
    monkeypatch.setattr(run_cli, "tune", lambda: None)
    result = CliRunner().invoke(app, ["run", "quarterly", "--period", "2026Q3", "--by", "赵六",
                                      "--workdir", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert seen == {"filing": "quarterly", "by": "赵六"}
    os.environ.pop(BY_ENV, None)  # set by the command for its flow
