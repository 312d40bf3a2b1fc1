"""A wheel built from the repository, installed into a fresh virtualenv outside the checkout, runs the demo.

This is what proves the shipped resources (config, templates, expectations) travel as package data and
that nothing reads the source tree. The new venv gets the wheel alone (``--no-deps``); its dependencies
come from the development venv through a ``.pth`` line (installing Prefect, GX, pandas and pyarrow
again would take minutes on this machine and prove nothing about the project).
"""

from __future__ import annotations

import json
import os
import site
import subprocess
import sys
import venv
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.slow


def _run(args: list[str], cwd: Path, env: dict[str, str], timeout: float) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)


def test_wheel_installed_outside_the_checkout_runs_the_demo(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "COMPLAINTS_CONFIG")}
    dist = tmp_path / "dist"
    built = _run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(dist), str(ROOT)],
                 tmp_path, env, 600)
    assert built.returncode == 0, built.stderr[-3000:]
    (wheel,) = dist.glob("complaints-*.whl")

    fresh = tmp_path / "venv"
    venv.create(fresh, with_pip=False)
    py = fresh / "bin" / "python"
    fresh_site = Path(_run([str(py), "-c", "import site; print(site.getsitepackages()[0])"], tmp_path, env,
                           60).stdout.strip())
    # the development venv's libraries, not its project: a plain path line does not run the editable
    # install's own .pth finder, so `complaints`, `tasks`, `flows` and `cli` can only come from the wheel
    (fresh_site / "dev-libraries.pth").write_text("\n".join(site.getsitepackages()) + "\n", encoding="utf-8")
    installed = _run([sys.executable, "-m", "pip", "--python", str(py), "install", "-q", "--no-deps",
                      str(wheel)], tmp_path, env, 300)
    assert installed.returncode == 0, installed.stderr[-3000:]

    probe = "import tasks.config_files as c, cli; print(c.CONFIG_DIR); print(cli.__file__)"
    where = _run([str(py), "-c", probe], tmp_path, env, 120)
    assert where.returncode == 0, where.stderr[-3000:]
    config_dir, cli_file = where.stdout.split()
    assert str(ROOT) not in config_dir and str(ROOT) not in cli_file, where.stdout
    assert config_dir.startswith(str(fresh)), where.stdout

    work = tmp_path / "demo"
    demo = _run([str(fresh / "bin" / "complaints"), "demo", "--workdir", str(work), "--complaints", "2000",
                 "--json"], tmp_path, {**env, "PREFECT_HOME": str(tmp_path / "prefect")}, 900)
    assert demo.returncode == 0, (demo.stdout[-2000:], demo.stderr[-4000:])
    assert "Traceback" not in demo.stderr
    summary = json.loads(demo.stdout)
    document = Path(summary["document"])
    assert document.suffix == ".docx" and document.is_file() and document.is_relative_to(work), summary
    assert summary["signed"] and summary["bundle"], summary
    assert list((work / "archive").rglob("bagit.txt")), "no bundle archived"
