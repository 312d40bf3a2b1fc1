"""Render the filings (FILINGS.md): plain functions, no Prefect.

- :func:`render_quarterly` / :func:`render_annual` — the figures dict → DOCX, returning
  :class:`RenderResult` ``(path, incomplete)``;
- :func:`render_forwarded_report` — one regulator-forwarded case (ledger row + events) → DOCX;
- :func:`render_rectification_report` — a rectification requirement (+ figures) → DOCX;
- :func:`write_monthly_workbook` — the month's ledger → the three publication sheets (XLSX).

Identical inputs give byte-identical files; ``RenderContext.generated_at`` is the only time used.
"""

from .context import (
    FiguresError,
    Fonts,
    Narrative,
    NarrativeError,
    QualitySummary,
    RenderContext,
    RenderResult,
    context_from_settings,
    load_narrative,
)
from .filings import render_annual, render_quarterly
from .forwarded import due_date, render_forwarded_report
from .monthly import write_monthly_workbook
from .rectification import RequirementError, load_requirement, render_rectification_report

__all__ = [
    "FiguresError",
    "Fonts",
    "Narrative",
    "NarrativeError",
    "QualitySummary",
    "RenderContext",
    "RenderResult",
    "RequirementError",
    "context_from_settings",
    "due_date",
    "load_narrative",
    "load_requirement",
    "render_annual",
    "render_forwarded_report",
    "render_quarterly",
    "render_rectification_report",
    "write_monthly_workbook",
]
