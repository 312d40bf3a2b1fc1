"""A full working directory.

* ``test_full_filesystem``: the working directory on a small ext4 file system, loop-mounted (needs root
  and a loop device; skipped otherwise), filled up to leave less room than one more run needs: ENOSPC.
* ``test_file_size_limit``: no privileges needed: the run as a subprocess with ``RLIMIT_FSIZE`` of
  1 MiB (and SIGXFSZ ignored), so writing any file past 1 MiB fails with EFBIG, as a quota would.

Either way: one clear message, nothing half-archived, nothing reported as filed, and once there is
room again the next run succeeds.
"""

from __future__ import annotations

import json
import resource
import shutil
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import BIN, Result, Workdir, assert_consistent, one_clear_error

pytestmark = pytest.mark.slow
MiB = 1024 * 1024


@pytest.fixture
def small_fs(tmp_path: Path) -> Iterator[Path]:
    image, mnt = tmp_path / "fs.img", tmp_path / "mnt"
    mnt.mkdir()
    with open(image, "wb") as f:
        f.truncate(48 * MiB)
    made = subprocess.run(["mkfs.ext4", "-q", "-F", "-m", "0", str(image)], capture_output=True)
    mounted = made.returncode == 0 and subprocess.run(
        ["mount", "-o", "loop", str(image), str(mnt)], capture_output=True).returncode == 0
    if not mounted:
        pytest.skip("cannot loop-mount a small file system here (needs root and /dev/loop*); "
                    "test_file_size_limit covers the same path without privileges")
    try:
        yield mnt
    finally:
        subprocess.run(["umount", "-l", str(mnt)], capture_output=True)


def _bundle_bytes(wd: Workdir, bundle: str) -> int:
    return sum(wd.store().files(bundle).values())


def test_full_filesystem(small_fs: Path, workdir: Workdir) -> None:
    wd = Workdir(small_fs / "wd", workdir.key_file, workdir.api)
    shutil.copytree(workdir.path, wd.path)
    first = wd.cli(*wd.run_args("HO"), "--json")
    assert first.exit_code == 0, (first.exit_code, first.stdout[-2000:], first.stderr[-3000:],
                                  shutil.disk_usage(small_fs))
    (bundle,) = assert_consistent(wd, "HO", filed=1)

    # leave room for the staging of one more run but not for its copy into the archive
    need = _bundle_bytes(wd, bundle)
    filler = small_fs / "filler.bin"
    free = shutil.disk_usage(small_fs).free
    with open(filler, "wb") as f:
        f.write(b"\0" * max(0, free - int(need * 1.4)))
    full = wd.cli(*wd.run_args("HO"))
    message = one_clear_error(full, "no space left on the device", "Nothing was filed", str(wd.path))
    assert "Errno" not in message
    print(message)
    assert assert_consistent(wd, "HO", filed=1) == [bundle]  # the earlier bundle only, still intact

    filler.unlink()
    again = wd.cli(*wd.run_args("HO"))
    assert again.exit_code == 0, again.output
    assert bundle in assert_consistent(wd, "HO", filed=2)


def _limit_file_size() -> None:  # runs in the child before exec
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # EFBIG instead of being killed; kept across exec
    resource.setrlimit(resource.RLIMIT_FSIZE, (MiB, MiB))


def test_file_size_limit(workdir: Workdir) -> None:
    proc = subprocess.run([str(BIN / "complaints"), *workdir.run_args("HO")], env=workdir.env(),
                          capture_output=True, text=True, timeout=300, preexec_fn=_limit_file_size)
    message = one_clear_error(Result(proc.returncode, proc.stdout, proc.stderr), "file too large",
                              "Nothing was filed")
    assert "Errno" not in message
    print(message)
    assert_consistent(workdir, "HO", filed=0)

    ok = workdir.cli(*workdir.run_args("HO"), "--json")  # no limit: the next run succeeds
    assert ok.exit_code == 0, ok.output
    summary = json.loads(ok.stdout[ok.stdout.index("{"):])
    assert assert_consistent(workdir, "HO", filed=1) == [summary["bundle"]]
