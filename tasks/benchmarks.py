"""The bulletin reference data (``config/benchmarks/bulletins.yaml``) read from YAML and validated into
:class:`complaints.benchmarks.ReferenceData` (an invalid entry is a ConfigError naming it)."""

from __future__ import annotations

from pathlib import Path

from complaints.benchmarks import ReferenceData
from tasks.config_files import Loaded, read_yaml


def load_reference(path: str | Path) -> ReferenceData:
    """Read and validate one reference-data file (a missing file is a ConfigError)."""
    p = Path(path)
    return ReferenceData.from_mapping(read_yaml(p), origin=str(p))


def reference_for(loaded: Loaded, override: str | Path | None = None) -> ReferenceData | None:
    """``override`` (``--bulletins FILE``) if given, else the configured ``benchmarks.bulletins`` file;
    ``None`` when the configured file does not exist (no reference data: no benchmark, with a note)."""
    if override is not None:
        return load_reference(override)
    path = loaded.resolve(loaded.settings.benchmarks.bulletins)
    return load_reference(path) if path.is_file() else None
