"""Every generated DOCX opens in LibreOffice, converts to PDF with CJK fonts embedded, and renders to PNG."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest

from tasks.render import (
    context_from_settings,
    load_requirement,
    render_forwarded_report,
    render_rectification_report,
)

from .conftest import FIXTURES, GENERATED, load_figures
from .pdf_tools import docx_to_pdf, have_tools, pdf_pages, pdf_to_pngs

pytestmark = [pytest.mark.slow, pytest.mark.skipif(not have_tools(), reason="soffice/pdftoppm not installed")]


@pytest.fixture(scope="module")
def pdfs(
    quarterly_doc: Any,
    annual_doc: Any,
    settings: Any,
    ledger: Any,
    events: Any,
    tmp_path_factory: pytest.TempPathFactory,
) -> dict[str, Path]:
    work = tmp_path_factory.mktemp("pdf")
    ctx = context_from_settings(settings, period="2026Q3", run_id="pdf", generated_at=GENERATED)
    docs = {
        "quarterly": quarterly_doc.path,
        "annual": annual_doc.path,
        "forwarded": render_forwarded_report(ledger.iloc[0], events, ctx, work / "forwarded.docx"),
        "rectification": render_rectification_report(
            load_requirement(FIXTURES / "rectification_2026.yaml"),
            load_figures("figures_2026Q3.json"),
            ctx,
            work / "rectification.docx",
        ).path,
    }
    profile = work / "lo-profile"
    out = {}
    for name, docx in docs.items():
        target = work / f"{name}.docx"
        if docx != target:
            target.write_bytes(docx.read_bytes())
        out[name] = docx_to_pdf(target, work, profile)
    return out


@pytest.mark.parametrize(
    ("name", "min_pages"), [("quarterly", 5), ("annual", 4), ("forwarded", 1), ("rectification", 1)]
)
def test_converts_and_renders(pdfs: dict[str, Path], name: str, min_pages: int) -> None:
    pdf = pdfs[name]
    assert pdf_pages(pdf) >= min_pages
    pngs = pdf_to_pngs(pdf, pdf.with_name(f"{name}-page"), 1, 2, dpi=50)
    assert len(pngs) == min(2, pdf_pages(pdf)) and all(p.stat().st_size > 5000 for p in pngs)
    fonts = subprocess.run(["pdffonts", str(pdf)], check=True, capture_output=True, text=True).stdout
    assert "CJK" in fonts  # Chinese text drawn with a real CJK font, not boxes
    text = subprocess.run(
        ["pdftotext", "-l", "1", str(pdf), "-"], check=True, capture_output=True, text=True
    ).stdout
    assert "报告" in text and "第1页" in text.replace(" ", "")  # title text and the PAGE field in the footer
