"""Fixtures for the fault-injection tests: a real Prefect server on loopback (shared by the in-process
runs and the ``complaints`` subprocesses, so no process starts an ephemeral server of its own), a demo
working directory copied per test, and the checks every fault ends with (``assert_consistent``).

The server helpers are ``tests/flows/conftest.py``'s, loaded by path (a conftest cannot be imported by
module name reliably).
"""

from __future__ import annotations

import contextlib
import importlib.util
import io
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click
import pytest
import yaml

_spec = importlib.util.spec_from_file_location("flows_server_helpers",
                                               Path(__file__).parents[1] / "flows" / "conftest.py")
assert _spec and _spec.loader
server_helpers = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(server_helpers)

BIN = Path(sys.executable).parent
PERIOD, AS_OF, TODAY = "2026Q3", "2026-11-20T09:00:00+08:00", "2026-11-20"
HERE = Path(__file__).parent


@pytest.fixture(scope="session")
def prefect_api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real Prefect server for the whole fault suite; this process's flows use it too."""
    from prefect.settings import PREFECT_API_URL, temporary_settings

    home = tmp_path_factory.mktemp("faults-prefect")
    proc, api, _log = server_helpers.start_server(home)
    try:
        with temporary_settings(updates={PREFECT_API_URL: api}):
            yield api
    finally:
        server_helpers.stop(proc)


@pytest.fixture(scope="session")
def base_workdir(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """A demo working directory (HO and GD, 1000 complaints/year in SQLite) and its signing key file."""
    from cli.demo import prepare_workdir
    from tasks.demo_data import create_demo_source

    wd = tmp_path_factory.mktemp("faults-base")
    saved = os.environ.get("COMPLAINTS_SIGNING_KEY_FILE")
    config = prepare_workdir(wd, None)
    key_file = os.environ["COMPLAINTS_SIGNING_KEY_FILE"]
    if saved is None:
        os.environ.pop("COMPLAINTS_SIGNING_KEY_FILE")
    else:
        os.environ["COMPLAINTS_SIGNING_KEY_FILE"] = saved
    data = yaml.safe_load(config.read_text(encoding="utf-8"))
    dropped = [e for e in data["entities"] if e["code"] not in ("HO", "GD")]
    data["entities"] = [e for e in data["entities"] if e["code"] in ("HO", "GD")]
    # the dropped entities' cases still need their names (the configuration refuses a code naming no
    # entity or office): they become offices of the head office
    data["offices"] = [{"code": e["code"], "name": e["name"], "parent": "HO"} for e in dropped] + data.get(
        "offices", [])
    config.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    create_demo_source(f"sqlite:///{wd / 'demo_source.sqlite'}", complaints=1000)
    return wd, key_file


@dataclass
class Result:
    exit_code: int
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        return self.stdout + self.stderr


@dataclass
class Workdir:
    """One test's working directory and how to run the CLI on it (in process or as a subprocess)."""

    path: Path
    key_file: str
    api: str

    @property
    def config(self) -> Path:
        return self.path / "complaints.yaml"

    def edit_config(self, **changes: Any) -> None:
        data = yaml.safe_load(self.config.read_text(encoding="utf-8"))
        data.update(changes)
        self.config.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")

    def args(self) -> list[str]:
        return ["--config", str(self.config), "--workdir", str(self.path)]

    def run_args(self, entity: str = "HO") -> list[str]:
        return ["run", "quarterly", "--period", PERIOD, "--entity", entity, "--as-of", AS_OF, *self.args()]

    def env(self, **extra: str) -> dict[str, str]:
        return server_helpers.clean_env(PREFECT_API_URL=self.api, COMPLAINTS_SIGNING_KEY_FILE=self.key_file,
                                        PYTHONUNBUFFERED="1", **extra)

    def cli(self, *args: str) -> Result:
        """``complaints ARGS`` in this process, stdout and stderr captured apart.

        Not Typer's CliRunner: it closes its streams after each call, and Prefect's console log
        handler, once created during a call, keeps writing to the closed stream in the next one.
        """
        from cli import app

        os.environ["COMPLAINTS_SIGNING_KEY_FILE"] = self.key_file
        out, err = io.StringIO(), io.StringIO()  # never closed (see above)
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                code = app(list(args), standalone_mode=False)
            except SystemExit as exc:
                code = exc.code
            except click.exceptions.Exit as exc:
                code = exc.exit_code
            except click.ClickException as exc:
                exc.show(file=err)
                code = exc.exit_code
        return Result(int(code or 0), out.getvalue(), err.getvalue())

    def popen(self, *args: str, driver: list[str] | None = None, log: Path | None = None,
              **kw: Any) -> subprocess.Popen[bytes]:
        """``complaints ARGS`` (or ``driver`` + ARGS) as a subprocess in its own session."""
        cmd = [*driver, *args] if driver else [str(BIN / "complaints"), *args]
        out = open(log or self.path / "subprocess.log", "ab")  # noqa: SIM115 - closed by the child's exit
        return subprocess.Popen(cmd, env=kw.pop("env", None) or self.env(), stdout=out, stderr=out,
                                start_new_session=True, **kw)

    def store(self) -> Any:
        from tasks.archive.stores import open_store
        from tasks.config_files import load_settings

        return open_store(load_settings(self.config).settings.archive, self.path)

    def status(self, entity: str = "HO") -> dict[str, Any]:
        res = self.cli("status", "--year", "2026", "--today", TODAY, "--json", *self.args())
        assert res.exit_code == 0, res.output  # December's monthly table needs 2027: a reason, not an error
        rows = [r for r in json.loads(res.stdout) if
                (r["filing"], r["period"], r["entity"]) == ("quarterly", PERIOD, entity)]
        assert len(rows) == 1
        return dict(rows[0])


@pytest.fixture
def workdir(base_workdir: tuple[Path, str], prefect_api: str, tmp_path: Path,
            monkeypatch: pytest.MonkeyPatch) -> Workdir:
    base, key_file = base_workdir
    wd = tmp_path / "wd"
    shutil.copytree(base, wd, ignore=shutil.ignore_patterns("archive", "runs", "output", "locks"))
    monkeypatch.setenv("COMPLAINTS_SIGNING_KEY_FILE", key_file)
    monkeypatch.delenv("COMPLAINTS_DEMO_SOURCE_URL", raising=False)
    return Workdir(wd, key_file, prefect_api)


def assert_consistent(wd: Workdir, entity: str = "HO", filed: int | None = None) -> list[str]:
    """After any fault: only committed bundles are listed and each verifies; ``complaints status``
    counts exactly the listed bundles as drafts (latest as ``bundle``) and, with no submission
    recorded, never says filed. Returns the listed bundle ids."""
    store = wd.store()
    listed = store.list("quarterly", entity, PERIOD)
    if filed is not None:
        assert len(listed) == filed, listed
    for bundle in listed:
        res = wd.cli("bundles", "verify", bundle, *wd.args())
        assert res.exit_code == 0, res.output
    status = wd.status(entity)
    assert status["state"] not in ("filed", "filed_late") and status["submission"] is None, status
    assert status["drafts"] == len(listed), status
    assert status["bundle"] == (listed[-1] if listed else None), status
    return listed


def one_clear_error(res: Any, *needles: str) -> str:
    """The CLI failed with exit 1 and one ``error:`` message containing ``needles``, no traceback."""
    assert res.exit_code == 1, (res.exit_code, res.stdout[-2000:], res.stderr[-3000:])
    err = res.stderr
    assert "Traceback" not in err, err[-4000:]
    lines = [ln for ln in err.splitlines() if ln.startswith("error:")]
    assert len(lines) == 1, (res.exit_code, res.stdout[-2000:], err[-4000:])
    message = " ".join(err[err.index("error:"):].split())
    for needle in needles:
        assert needle in message, message
    return message
