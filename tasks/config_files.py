"""Configuration files: ``config/complaints.yaml`` read and validated, and the shipped resources found.

The resources (``config/``, ``templates/``, ``expectations/``) are the checkout's folders when the
project runs from a source checkout, and package data (``tasks.shipped.*``, see pyproject.toml) when
it was installed from a wheel.
"""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError

from complaints.errors import ConfigError
from complaints.settings import Settings, format_validation_error

PROJECT_ROOT = Path(__file__).resolve().parents[1]


def resource_dir(name: str) -> Path:
    """The shipped folder ``name`` (config, templates, expectations): the checkout's, else the wheel's."""
    checkout = PROJECT_ROOT / name
    if checkout.is_dir():
        return checkout
    spec = importlib.util.find_spec(f"tasks.shipped.{name}")  # a namespace package: data only
    if spec is None or not spec.submodule_search_locations:
        raise ConfigError(f"the installation has no {name}/ folder (tasks.shipped.{name}): reinstall it")
    return Path(next(iter(spec.submodule_search_locations)))


CONFIG_DIR = resource_dir("config")
DEFAULT_CONFIG = CONFIG_DIR / "complaints.yaml"
TEMPLATES_DIR = resource_dir("templates")
EXPECTATIONS_DIR = resource_dir("expectations")


class Loaded(BaseModel):
    """Settings plus where they came from (paths are resolved against ``config_dir``)."""

    model_config = ConfigDict(arbitrary_types_allowed=True, frozen=True)
    settings: Settings
    path: Path
    config_dir: Path

    def resolve(self, relative: str) -> Path:
        p = Path(relative)
        return p if p.is_absolute() else self.config_dir / p


def read_yaml(path: Path) -> Any:
    try:
        with open(path, encoding="utf-8") as fh:
            return yaml.safe_load(fh)
    except FileNotFoundError as exc:
        raise ConfigError(f"{path}: file not found") from exc
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: not valid UTF-8 YAML: {exc}") from exc


def load_settings(path: str | Path | None = None) -> Loaded:
    """Load and validate ``path`` (default: ``$COMPLAINTS_CONFIG`` or ``config/complaints.yaml``)."""
    p = Path(path or os.environ.get("COMPLAINTS_CONFIG") or DEFAULT_CONFIG).resolve()
    data = read_yaml(p)
    if not isinstance(data, dict):
        raise ConfigError(f"{p}: expected a mapping at the top level")
    try:
        settings = Settings.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(format_validation_error(p, exc)) from exc
    return Loaded(settings=settings, path=p, config_dir=p.parent)


