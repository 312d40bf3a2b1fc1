"""The wheel's package list names every code package of the tree (a new package left out of
pyproject.toml would install without its code) and the shipped resources it maps."""

from __future__ import annotations

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CODE = ("cli", "complaints", "flows", "tasks")


def test_every_code_package_is_listed() -> None:
    tool = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]
    listed = {p for p in tool["packages"] if not p.startswith("tasks.shipped.")}
    in_tree = {".".join(init.parent.relative_to(ROOT).parts)
               for top in CODE for init in (ROOT / top).rglob("__init__.py")}
    assert listed == in_tree, {"missing": sorted(in_tree - listed), "extra": sorted(listed - in_tree)}


def test_shipped_resources_map_the_top_level_folders() -> None:
    tool = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]
    assert tool["package-dir"] == {f"tasks.shipped.{n}": n for n in ("config", "templates", "expectations")}
    for name in ("config", "templates", "expectations"):
        assert f"tasks.shipped.{name}" in tool["packages"]
