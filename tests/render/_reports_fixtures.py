"""Edge-case forwarded cases and rectification requirements for the rendered-page tests of the
forwarded-case and rectification reports, and the PDF → text helpers they share (kept out of a
conftest: tests/render/ is shared with other documents' tests)."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from complaints.ledger import normalize
from tasks.sources import read_table
from tests.tasks.render.pdf_tools import docx_to_pdf, have_tools

FIXTURES = Path(__file__).parents[1] / "tasks" / "render" / "fixtures"
BASE_CASE = "C2026070311"  # forwarded by 粤金复转〔2026〕0712号, received 2026-07-03, accepted, closed

#: Latin words a document may print: none of ours (units and registered names would go here)
LATIN_ALLOWED: set[str] = set()
#: a word, not part of an identifier the source gave (C2026070311, CR-88123 are ids, printed as they are)
LATIN_WORD = re.compile(r"(?<![A-Za-z0-9\-])[A-Za-z]{2,}(?![A-Za-z0-9\-])")

needs_tools = pytest.mark.skipif(not (have_tools() and shutil.which("pdftotext")),
                                 reason="LibreOffice and poppler are needed")


def base_ledger() -> pd.DataFrame:
    return normalize(read_table(FIXTURES / "ledger_small.csv"))


def events() -> pd.DataFrame:
    return normalize(read_table(FIXTURES / "events_small.csv", "events"), "events")


def edge_case(name: str) -> pd.Series:
    """A forwarded case in one state, made from the base case by changing only the fields that say so."""
    row = base_ledger().set_index("complaint_id", drop=False).loc[BASE_CASE].copy()
    nat = pd.NaT
    changes: dict[str, dict[str, Any]] = {
        # the case: not accepted (in litigation), closed as invalid, no decision
        "rejected": {"accepted": False, "rejection_reason": "in_litigation", "decided_at": nat,
                     "closed_at": pd.Timestamp("2026-07-09 10:00"), "outcome": "invalid", "valid": False,
                     "upheld": None, "redress_amount": None, "satisfaction": None},
        "withdrawn": {"decided_at": nat, "closed_at": pd.Timestamp("2026-07-08 16:00"),
                      "outcome": "withdrawn", "upheld": None, "redress_amount": None, "satisfaction": None},
        "undecided": {"decided_at": nat, "closed_at": nat, "outcome": None, "upheld": None,
                      "redress_amount": None, "satisfaction": None},
        # closed, the complainant did not accept (依法维持), yet the call-back says 满意
        "closed_satisfied_not_accepted": {"outcome": "upheld_by_law", "satisfaction": "satisfied",
                                          "redress_amount": None, "upheld": False},
    }
    for column, value in changes[name].items():
        row[column] = value
    return row


def pdf_text(docx: Path, workdir: Path) -> list[str]:
    """The pages' text (pdftotext, reading order), one string per page."""
    pdf = docx_to_pdf(docx, workdir, workdir / "lo-profile")
    out = subprocess.run(["pdftotext", "-enc", "UTF-8", str(pdf), "-"], check=True, capture_output=True,
                         text=True, timeout=120).stdout
    return [p for p in out.split("\f") if p.strip()]


def latin_words(text: str) -> list[str]:
    return sorted({w for w in LATIN_WORD.findall(text) if w not in LATIN_ALLOWED})


def lines(page: str) -> list[str]:
    return [line.strip() for line in page.splitlines() if line.strip()]


def signature_alone(pages: list[str], institution: str, date_text: str) -> list[int]:
    """Pages (1-based) whose body is only (part of) the signature block: 特此报告, the 附件 line, the
    institution, the date (the page header and the 第 N 页 共 M 页 footer aside; spaces ignored)."""
    footer = re.compile(r"(第\d+页)?(共\d+页)?")
    lonely = []
    for n, page in enumerate(pages, 1):
        body = ["".join(x.split()) for x in lines(page)]
        body = [x for x in body if not footer.fullmatch(x)]
        body = body[1:] if body and body[0] == institution else body  # the page header
        signature = {"特此报告。", institution, date_text} | {x for x in body if x.startswith("附件：")}
        if body and set(body) <= signature:
            lonely.append(n)
    return lonely
