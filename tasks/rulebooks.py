"""Load the rule sets (``config/rulebooks/*.yaml``) into :class:`complaints.rules.Rulebooks`."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from complaints.errors import ConfigError
from complaints.rules import RulebookError, Rulebooks
from tasks.config_files import CONFIG_DIR, read_yaml


def rulebook_files(rulebooks_dir: Path | None = None) -> list[Path]:
    """The YAML files of the rulebook directory (default ``config/rulebooks``), sorted by name."""
    directory = rulebooks_dir if rulebooks_dir is not None else CONFIG_DIR / "rulebooks"
    if not directory.is_dir():
        raise ConfigError(f"{directory}: rulebook directory not found")
    return sorted([*directory.glob("*.yaml"), *directory.glob("*.yml")])


def load_rulebooks(rulebooks_dir: Path | None = None, files: Sequence[Path] = ()) -> Rulebooks:
    """Every rule set of ``rulebooks_dir`` (or exactly ``files`` when given); errors name file and key."""
    paths = list(map(Path, files)) or rulebook_files(rulebooks_dir)
    items = []
    for path in paths:
        data = read_yaml(path)
        if not isinstance(data, dict):
            raise ConfigError(
                f"{path}: a rulebook is a mapping with id, version, kind, effective_from, clocks"
            )
        items.append((str(path), data))
    try:
        return Rulebooks.from_mappings(items)
    except RulebookError as exc:
        raise ConfigError(str(exc)) from exc
