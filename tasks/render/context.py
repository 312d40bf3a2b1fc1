"""What a render needs besides the figures: :class:`RenderContext`, narratives, and the result type."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import pandas as pd
import yaml

from complaints.errors import UserError
from complaints.settings import Settings
from tasks.config_files import TEMPLATES_DIR


class FiguresError(UserError):
    """The figures dict lacks a required section; the message lists every missing key."""


class NameMissing(UserError):
    """A code the document prints (branch, office, department) has no name in the configuration."""


class NarrativeError(UserError):
    """The officer's narrative file exists but cannot be used (invalid YAML or wrong shape)."""


@dataclass(frozen=True)
class Fonts:
    body: str = "宋体"
    heading: str = "黑体"


@dataclass(frozen=True)
class QualitySummary:
    """The quality gate's outcome as printed in the data-quality annex."""

    rows_read: int
    rows_accepted: int
    rows_quarantined: int
    checks_run: int
    failed_checks: Sequence[tuple[str, int]] = ()  # (check id/name, failing rows)
    accept_risk: str | None = None  # the officer's statement when failures were accepted
    # the officer's statement when the sources yielded no complaint for the period (--accept-empty)
    accept_empty: str | None = None


@dataclass(frozen=True)
class Narrative:
    """Officer-written passages for one period (``<narrative_dir>/<period>.yaml``)."""

    problems: tuple[str, ...] = ()
    measures: tuple[str, ...] = ()
    typical_cases: tuple[str, ...] = ()  # 典型案例 (quarterly)
    suggestions: tuple[str, ...] = ()  # 对监管工作的意见建议 (quarterly)
    # annual: last year's measures, each {"measure": str, "figure": dotted key (optional)}
    last_year_measures: tuple[Mapping[str, str], ...] = ()
    source: Path | None = None


@dataclass(frozen=True)
class RenderContext:
    """Everything a filing shows that is not a figure. ``generated_at`` is an input (never the clock)."""

    company: str
    entity_name: str
    period: str  # "2026Q3" / "2026" (the filing's period; forwarded/rectification: any label)
    run_id: str
    generated_at: dt.datetime
    entity_level: Literal["head_office", "branch"] = "head_office"
    addressee: str = "国家金融监督管理总局"
    quality: QualitySummary | None = None
    major_cases: pd.DataFrame | None = None  # ledger rows (masked here again before printing)
    major_cases_listed: int = 30  # how many of them the list prints (the rest are counted)
    major_criteria: Mapping[str, Any] = field(default_factory=dict)  # settings.major, for the explanation
    open_cases: pd.DataFrame | None = None  # undecided ledger rows received by the period's end
    trend: Sequence[Mapping[str, Any]] = ()  # [{period, cases, valid_cases}] oldest first, incl. this period
    narrative: Narrative | None = None
    narrative_file: str = ""  # where the officer writes the narrative (printed in 「待补充」 markers)
    targets: Mapping[str, float] = field(default_factory=dict)
    department_targets: Mapping[str, float] = field(default_factory=dict)
    worsening_threshold_pct: float = 10.0
    fonts: Fonts | None = None  # None: keep the template's fonts (officer's Word edits win)
    rules_in_force: Sequence[Mapping[str, str]] = ()  # [{name, effective_from, source}]
    entity_names: Mapping[str, str] = field(default_factory=dict)  # branch/entity code -> name
    office_parents: Mapping[str, str] = field(default_factory=dict)  # office code -> its entity's code
    contact_person: str = ""
    contact_phone: str = ""
    document_number: str = ""  # 文号 prefix ("{year}" is the report's year)
    previous_figures: Mapping[str, Any] | None = None  # annual: last year's figures, for measures' effect
    # rectification items (溯源整改): each configured item's fields plus "measured"
    # (complaints.rectification.measure); the annual 改进措施 and the rectification report show them
    rectification: Sequence[Mapping[str, Any]] = ()
    role: str | None = None
    unmask_roles: Sequence[str] = ()
    rectification_days: int = 30
    templates_dir: Path = TEMPLATES_DIR
    preview_mark: str | None = None  # a preview: this text heads every page (【预览稿，数据截至…】)

    @property
    def institution(self) -> str:
        if self.entity_level == "branch" and self.entity_name and self.entity_name not in self.company:
            return f"{self.company}{self.entity_name}"
        return self.company


@dataclass(frozen=True)
class RenderResult:
    path: Path
    incomplete: list[str]  # reasons the document still needs a person (待补充 markers); empty = complete


def _as_items(value: Any, key: str, path: Path) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return tuple(p.strip() for p in value.strip().split("\n") if p.strip())
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return tuple(v.strip() for v in value if v.strip())
    raise NarrativeError(f"{path}: '{key}' must be text or a list of paragraphs")


def load_narrative(narrative_dir: str | Path, period: str) -> Narrative | None:
    """Read ``<narrative_dir>/<period>.yaml`` (problems, measures, last_year_measures); None if absent."""
    path = Path(narrative_dir) / f"{period}.yaml"
    if not path.exists():
        return None
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (yaml.YAMLError, UnicodeDecodeError, ValueError) as exc:
        raise NarrativeError(f"{path}: not valid UTF-8 YAML: {exc}") from exc
    if not isinstance(data, dict):
        raise NarrativeError(f"{path}: expected a mapping with keys problems, measures, last_year_measures")
    allowed = ("problems", "measures", "last_year_measures", "typical_cases", "suggestions")
    unknown = set(data) - set(allowed)
    if unknown:
        raise NarrativeError(f"{path}: unknown keys {sorted(unknown)} (allowed: {', '.join(allowed)})")
    last: list[Mapping[str, str]] = []
    for item in data.get("last_year_measures") or []:
        if isinstance(item, str):
            last.append({"measure": item})
        elif isinstance(item, dict) and isinstance(item.get("measure"), str):
            last.append({k: str(v) for k, v in item.items()})
        else:
            raise NarrativeError(f"{path}: each last_year_measures item is text or {{measure, figure}}")
    return Narrative(
        problems=_as_items(data.get("problems"), "problems", path),
        measures=_as_items(data.get("measures"), "measures", path),
        last_year_measures=tuple(last),
        typical_cases=_as_items(data.get("typical_cases"), "typical_cases", path),
        suggestions=_as_items(data.get("suggestions"), "suggestions", path),
        source=path,
    )


def context_from_settings(
    settings: Settings,
    *,
    period: str,
    run_id: str,
    generated_at: dt.datetime,
    entity_code: str | None = None,
    narrative_dir: str | Path | None = None,
    **overrides: Any,
) -> RenderContext:
    """A :class:`RenderContext` filled from configuration; the narrative is loaded from ``narrative_dir``.

    ``overrides`` set any other field (quality, major_cases, trend, previous_figures, role, fonts …).
    """
    entity = settings.entity(entity_code)
    directory = Path(narrative_dir if narrative_dir is not None else settings.rendering.narrative_dir)
    fields: dict[str, Any] = dict(
        company=settings.company.name,
        entity_name=entity.name,
        entity_level=entity.level,
        period=period,
        run_id=run_id,
        generated_at=generated_at,
        targets=dict(settings.targets),
        department_targets=dict(settings.department_targets),
        worsening_threshold_pct=settings.rendering.worsening_threshold_pct,
        rules_in_force=[r.model_dump() for r in settings.rules_in_force],
        entity_names={
            **{o.code: o.name for o in settings.offices},
            **{e.code: e.name for e in settings.entities},
        },
        office_parents={o.code: o.parent for o in settings.offices if o.parent},
        contact_person=settings.rendering.contact_person,
        contact_phone=settings.rendering.contact_phone,
        document_number=settings.rendering.document_number,
        major_cases_listed=settings.rendering.major_cases_listed,
        major_criteria=settings.major.model_dump(),
        unmask_roles=tuple(settings.rendering.unmask_roles),
        rectification_days=settings.filings.rectification_days,
        narrative=load_narrative(directory, period),
        narrative_file=str(directory / f"{period}.yaml"),
    )
    if entity.regulator_office:
        fields["addressee"] = entity.regulator_office
    elif entity.level == "branch" and entity.province:
        fields["addressee"] = f"国家金融监督管理总局{entity.province}监管局"
    fields.update(overrides)
    return RenderContext(**fields)
