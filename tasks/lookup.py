"""Where a render finds what is not data: the officer's templates and letterheads, the entity's narrative,
and the check of a narrative file before a run starts (one line naming the file and the line).

* Templates: ``rendering.templates_dir`` (outside the code checkout; relative to the configuration
  file's folder) ``/<ENTITY>/<template>``, then ``<templates_dir>/<template>``, then the shipped
  ``templates/``. A letterhead is part of its template, so an entity's letterhead is its template.
* Narratives: ``<narrative_dir>/<ENTITY>/<period>.yaml`` only. A branch never falls back to the head
  office's (or any shared) narrative: without its own file its report says 【待补充】.
"""

from __future__ import annotations

from pathlib import Path

import yaml

from complaints.settings import Settings
from tasks.config_files import TEMPLATES_DIR


def template_dirs(settings: Settings, config_dir: Path, entity: str) -> list[Path]:
    """The folders a template is looked up in, first match wins (module docstring)."""
    dirs: list[Path] = []
    configured = settings.rendering.templates_dir
    if configured:
        root = Path(configured).expanduser()
        root = root if root.is_absolute() else config_dir / root
        dirs += [root / entity, root]
    return [*dirs, TEMPLATES_DIR]


def find_template(name: str, dirs: list[Path]) -> Path:
    """The first ``<dir>/<name>`` that is a file; the shipped default's path when none is (the renderer
    then says it is missing)."""
    for d in dirs:
        if (d / name).is_file():
            return d / name
    return dirs[-1] / name


def narrative_dir(base: Path, entity: str) -> Path:
    """The entity's narrative folder: ``<narrative_dir>/<ENTITY>``."""
    return Path(base) / entity


def narrative_path(base: Path, entity: str, period: str) -> Path:
    return narrative_dir(base, entity) / f"{period}.yaml"


def check_narrative(path: Path) -> None:
    """Refuse an unusable narrative file in one line naming the file and the line of a YAML mistake
    (``NarrativeError``, exit 2); an absent file is fine (the report then says 【待补充】)."""
    # deferred: the renderer's package (pandas, docxtpl) is not needed for a check made at start-up
    from tasks.render.context import NarrativeError, load_narrative

    if not path.is_file():
        return
    try:
        yaml.safe_load(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError as exc:
        raise NarrativeError(f"{path}: not UTF-8 text (byte {exc.start}); save it as UTF-8") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        where = f"{path}:{mark.line + 1}:{mark.column + 1}" if mark is not None else str(path)
        problem = " ".join(str(getattr(exc, "problem", None) or exc).split())
        context = getattr(exc, "context", None)
        raise NarrativeError(f"{where}: not valid YAML: {problem}"
                             + (f" ({' '.join(str(context).split())})" if context else "")) from None
    try:
        load_narrative(path.parent, path.stem)
    except NarrativeError as exc:
        raise NarrativeError(" ".join(str(exc).split())) from None
