"""Render the sample filings to PDF and PNG pages for a visual check (not a test).

.venv/bin/python -m tests.tasks.render.preview [OUT_DIR]   (default /work/notes/render_preview)
"""

from __future__ import annotations

import datetime as dt
import shutil
import sys
import tempfile
from pathlib import Path

from complaints.ledger import normalize
from tasks.config_files import load_settings
from tasks.render import (
    context_from_settings,
    load_requirement,
    render_annual,
    render_forwarded_report,
    render_quarterly,
    render_rectification_report,
)
from tasks.sources import read_table

from .conftest import FIXTURES, GENERATED, QUALITY, TREND_2025, TREND_2026Q3, load_figures
from .pdf_tools import docx_to_pdf, pdf_to_pngs


def main(out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    settings = load_settings().settings
    work = Path(tempfile.mkdtemp(prefix="preview-"))
    shutil.copy(FIXTURES / "narrative_2026Q3.yaml", work / "2026Q3.yaml")
    major = normalize(read_table(FIXTURES / "major_cases_2026Q3.csv"))
    ledger = normalize(read_table(FIXTURES / "ledger_small.csv"))
    events = normalize(read_table(FIXTURES / "events_small.csv", "events"), "events")
    q_ctx = context_from_settings(
        settings,
        period="2026Q3",
        run_id="20261010-0930-a1b2c3",
        generated_at=GENERATED,
        narrative_dir=work,
        major_cases=major,
        trend=TREND_2026Q3,
        quality=QUALITY,
    )
    docs = [render_quarterly(load_figures("figures_2026Q3.json"), q_ctx, out / "quarterly_2026Q3.docx").path]
    a_ctx = context_from_settings(
        settings,
        period="2025",
        run_id="20260212-1000-ffee",
        generated_at=dt.datetime(2026, 2, 12, 10),
        narrative_dir=work,
        trend=TREND_2025,
        quality=QUALITY,
    )
    docs.append(render_annual(load_figures("figures_2025.json"), a_ctx, out / "annual_2025.docx").path)
    f_ctx = context_from_settings(
        settings,
        period="2026Q3",
        run_id="adhoc-20261010",
        generated_at=GENERATED,
        addressee="国家金融监督管理总局广东监管局",
    )
    docs.append(render_forwarded_report(ledger.iloc[0], events, f_ctx, out / "forwarded.docx"))
    docs.append(
        render_rectification_report(
            load_requirement(FIXTURES / "rectification_2026.yaml"),
            load_figures("figures_2026Q3.json"),
            f_ctx,
            out / "rectification.docx",
        ).path
    )
    for docx in docs:
        pdf = docx_to_pdf(docx, out, work / "lo-profile")
        for png in pdf_to_pngs(pdf, out / docx.stem, dpi=100):
            print(png)
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path("/work/notes/render_preview"))
