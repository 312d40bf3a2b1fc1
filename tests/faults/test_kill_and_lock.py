"""A run killed (SIGKILL) while it archives, and two runs of the same period at once.

The first run is a real ``complaints run`` subprocess, held at a known point of the commit by
``pause_archive.py`` (after the first file of the bag reached the store's ``.incoming/``).
"""

from __future__ import annotations

import json
import os
import signal
import sys
import time

import pytest
from conftest import HERE, Workdir, assert_consistent, one_clear_error

pytestmark = pytest.mark.slow


def _paused_run(wd: Workdir, tag: str):  # type: ignore[no-untyped-def]
    marker, go = wd.path / f"{tag}.paused", wd.path / f"{tag}.go"
    log = wd.path / f"{tag}.log"
    proc = wd.popen(*wd.run_args("HO"), driver=[sys.executable, str(HERE / "pause_archive.py"), str(marker),
                                                str(go), "--"], log=log)
    deadline = time.monotonic() + 180
    while not marker.exists():
        if proc.poll() is not None or time.monotonic() > deadline:
            os.killpg(proc.pid, signal.SIGKILL) if proc.poll() is None else None
            raise AssertionError(f"the run did not reach the archive commit:\n{log.read_text()[-4000:]}")
        time.sleep(0.1)
    return proc, go, log


def test_killed_while_archiving_leaves_nothing_filed_and_the_rerun_succeeds(workdir: Workdir) -> None:
    proc, _go, log = _paused_run(workdir, "kill")
    incoming = workdir.path / "archive" / ".incoming"
    (partial,) = incoming.iterdir()  # the copy has begun ...
    assert workdir.store().list() == []  # ... and is not visible
    os.killpg(proc.pid, signal.SIGKILL)
    assert proc.wait(30) == -signal.SIGKILL

    assert workdir.store().list() == []
    assert workdir.status("HO")["state"] == "late"  # due 2026-10-20, nothing filed: not reported as filed
    res = workdir.cli("bundles", "list", *workdir.args())
    assert res.exit_code == 0 and "quarterly/HO" not in res.stdout

    rerun = workdir.cli(*workdir.run_args("HO"), "--json")  # the dead run's lock does not block it
    assert rerun.exit_code == 0, rerun.output
    summary = json.loads(rerun.stdout[rerun.stdout.index("{"):])
    listed = assert_consistent(workdir, "HO", filed=1)
    assert listed == [summary["bundle"]]
    assert not partial.exists()  # the dead writer's uncommitted copy was cleaned by the next commit
    assert "Traceback" not in log.read_text(errors="replace")


def test_second_run_of_the_same_period_is_refused_naming_the_holder(workdir: Workdir) -> None:
    proc, go, log = _paused_run(workdir, "holder")
    try:
        lock = workdir.path / "locks" / "quarterly-HO-2026Q3.lock"
        holder = json.loads(lock.read_text(encoding="utf-8"))
        assert holder["pid"] == proc.pid
        second = workdir.cli(*workdir.run_args("HO"))
        message = one_clear_error(second, "another run of the quarterly filing for HO 2026Q3 is in progress",
                                  f"run id {holder['run_id']}", f"pid {proc.pid}")
        assert "Nothing was done by this run" in message
        assert workdir.store().list() == []  # the refused run wrote nothing to the archive
        assert sorted(p.name for p in (workdir.path / "runs").iterdir()) == [holder["run_id"]]
        # another entity of the same period is not blocked
        other = workdir.cli(*workdir.run_args("GD"))
        assert other.exit_code == 0, other.output
    finally:
        go.write_text("go", encoding="utf-8")
    assert proc.wait(120) == 0, log.read_text()[-4000:]
    (first,) = assert_consistent(workdir, "HO", filed=1)
    assert first.endswith(holder["run_id"][:8])
    assert lock.read_text(encoding="utf-8") == ""  # released
    again = workdir.cli(*workdir.run_args("HO"))
    assert again.exit_code == 0, again.output
    assert first in assert_consistent(workdir, "HO", filed=2)
    assert_consistent(workdir, "GD", filed=1)
