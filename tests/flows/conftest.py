"""Shared fixtures for the flow tests that need a REAL Prefect server on loopback (schedules, work pools).

``prefect_server`` starts ``prefect server start`` with a temporary PREFECT_HOME and SQLite database
once per module; ``wait_for`` and ``stop_process`` are the helpers the tests use around subprocesses.
Every subprocess is started in its own session and stopped by its own process group id.
``start_server`` / ``stop`` / ``wait_until`` are plain functions so ``tests/faults`` can reuse them.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest

BIN = Path(sys.executable).parent
T = TypeVar("T")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def stop(proc: subprocess.Popen[bytes], grace: float = 20.0) -> None:
    """Stop a process started with ``start_new_session`` and its children (its own group only)."""
    if proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, signal.SIGINT)
        proc.wait(grace)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(10)
    except ProcessLookupError:
        pass


def wait_until(what: str, probe: Callable[[], T | None], timeout: float, logs: list[Path],
               procs: list[subprocess.Popen[bytes]], interval: float = 1.0) -> T:
    """Poll ``probe`` until it returns non-None; fail with the logs' tails if a process dies or on
    timeout."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for p in procs:
            if p.poll() is not None:
                tails = "\n".join(f"--- {log}\n{log.read_text(errors='replace')[-3000:]}" for log in logs)
                raise AssertionError(f"a subprocess exited ({p.returncode}) while waiting for {what}\n"
                                     f"{tails}")
        value = probe()
        if value is not None:
            return value
        time.sleep(interval)
    tails = "\n".join(f"--- {log}\n{log.read_text(errors='replace')[-3000:]}" for log in logs)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}\n{tails}")


def clean_env(**extra: str) -> dict[str, str]:
    """This process's environment without PREFECT_* settings, plus ``extra``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    env.update(extra)
    return env


def start_server(home: Path, timeout: float = 180) -> tuple[subprocess.Popen[bytes], str, Path]:
    """``prefect server start`` on a free loopback port with ``home`` as PREFECT_HOME; returns
    (process, API URL, log file) once ``/api/health`` answers."""
    port = free_port()
    api = f"http://127.0.0.1:{port}/api"
    env = clean_env(
        PREFECT_HOME=str(home),
        PREFECT_SERVER_DATABASE_CONNECTION_URL=f"sqlite+aiosqlite:///{home}/server.db",
        PREFECT_SERVER_ANALYTICS_ENABLED="false",
        PREFECT_SERVER_UI_ENABLED="false",
        PREFECT_SERVER_SERVICES_SCHEDULER_LOOP_SECONDS="2",
    )
    log = home / "server.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen([str(BIN / "prefect"), "server", "start", "--host", "127.0.0.1",
                                 "--port", str(port)], env=env, stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True)

    def healthy() -> bool | None:
        try:
            with urllib.request.urlopen(f"{api}/health", timeout=2) as r:
                return True if r.status == 200 else None
        except OSError:
            return None

    try:
        wait_until("the Prefect server's /api/health", healthy, timeout, [log], [proc])
    except BaseException:
        stop(proc)
        raise
    return proc, api, log


@pytest.fixture(scope="session")
def wait_for() -> Callable[..., Any]:
    """:func:`wait_until` (for test modules, which cannot import a conftest reliably)."""
    return wait_until


@pytest.fixture(scope="session")
def stop_process() -> Callable[[subprocess.Popen[bytes]], None]:
    """:func:`stop`."""
    return stop


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """A real Prefect server for the module: ``{"api", "home", "log", "proc"}``."""
    home = tmp_path_factory.mktemp("prefect-home")
    proc, api, log = start_server(home)
    try:
        yield {"api": api, "home": home, "log": log, "proc": proc}
    finally:
        stop(proc)


@pytest.fixture(scope="module")
def demo_workdir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, Path, str]]:
    """A demo working directory (HO and GD only, 2000 complaints in SQLite): (workdir, config, key file).

    The signing key's path is returned (for subprocesses' COMPLAINTS_SIGNING_KEY_FILE) and this
    process's environment is left as it was.
    """
    import yaml

    from cli.demo import prepare_workdir
    from tasks.demo_data import create_demo_source

    wd = tmp_path_factory.mktemp("demo-wd")
    saved = os.environ.get("COMPLAINTS_SIGNING_KEY_FILE")
    config = prepare_workdir(wd, None)  # sets COMPLAINTS_SIGNING_KEY_FILE for this process
    key_file = os.environ["COMPLAINTS_SIGNING_KEY_FILE"]
    if saved is None:
        os.environ.pop("COMPLAINTS_SIGNING_KEY_FILE")
    else:
        os.environ["COMPLAINTS_SIGNING_KEY_FILE"] = saved
    data = yaml.safe_load(config.read_text(encoding="utf-8"))
    dropped = [e for e in data["entities"] if e["code"] not in ("HO", "GD")]
    data["entities"] = [e for e in data["entities"] if e["code"] in ("HO", "GD")]  # keep the tests short
    # the dropped entities' cases still need their names (the configuration refuses a code naming no
    # entity or office): they become offices of the head office
    data["offices"] = [{"code": e["code"], "name": e["name"], "parent": "HO"} for e in dropped] + data.get(
        "offices", [])
    # the archive went live with these tests: filings due before it are not the watcher's (no submissions)
    data.setdefault("schedules", {})["watch_from"] = "2026-10-01"
    config.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    create_demo_source(f"sqlite:///{wd / 'demo_source.sqlite'}", complaints=2000)
    yield wd, config, key_file
