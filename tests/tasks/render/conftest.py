"""Shared fixtures for the render tests: the hand-written figures, a context, and rendered documents."""

from __future__ import annotations

import datetime as dt
import json
import re
import shutil
import zipfile
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from docx import Document

from complaints.ledger import normalize
from tasks.config_files import load_settings
from tasks.render import QualitySummary, RenderContext, context_from_settings
from tasks.sources import read_table

FIXTURES = Path(__file__).with_name("fixtures")
GENERATED = dt.datetime(2026, 10, 10, 9, 30)
TREND_2026Q3 = [
    {"period": "2025Q3", "cases": 455, "valid_cases": 420},
    {"period": "2025Q4", "cases": 431, "valid_cases": 402},
    {"period": "2026Q1", "cases": 397, "valid_cases": 366},
    {"period": "2026Q2", "cases": 368, "valid_cases": 351},
]
TREND_2025 = [
    {"period": f"2024Q{i}", "cases": c, "valid_cases": v}
    for i, (c, v) in enumerate([(430, 401), (462, 425), (488, 450), (463, 425)], 1)
]
# personal data planted in the fixtures' free text: none of it may appear in any output
PLANTED = [
    "110101195203041234",
    "13912345678",
    "18611112222",
    "6222021234567890123",
    "P8620240001234",
    "13587654321",
    "13600001111",
    "张建国",
    "李明华",
    "王芳",
    "赵敏",
    "张伟",
    "陈静",
    "刘洋",
    "周杰",
    "孙磊",
]


def load_figures(name: str) -> dict[str, Any]:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


@pytest.fixture(scope="session")
def settings():  # type: ignore[no-untyped-def]
    return load_settings().settings


@pytest.fixture(scope="session")
def ledger() -> pd.DataFrame:
    return normalize(read_table(FIXTURES / "ledger_small.csv"))


@pytest.fixture(scope="session")
def events() -> pd.DataFrame:
    return normalize(read_table(FIXTURES / "events_small.csv", "events"), "events")


@pytest.fixture(scope="session")
def major_cases() -> pd.DataFrame:
    return normalize(read_table(FIXTURES / "major_cases_2026Q3.csv"))


@pytest.fixture(scope="session")
def narrative_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("narratives")
    shutil.copy(FIXTURES / "narrative_2026Q3.yaml", d / "2026Q3.yaml")
    return d


QUALITY = QualitySummary(
    440,
    437,
    3,
    42,
    [("LED-012 时间顺序：收到时间不晚于处理决定时间", 2), ("LED-031 文本中不得含原始身份证号", 1)],
    None,
)


def quarterly_ctx(
    settings: Any, narrative_dir: Path | None, major: pd.DataFrame | None, **kw: Any
) -> RenderContext:
    base: dict[str, Any] = dict(
        period="2026Q3",
        run_id="20261010-0930-a1b2c3",
        generated_at=GENERATED,
        narrative_dir=narrative_dir or FIXTURES / "no-narratives",
        major_cases=major,
        trend=TREND_2026Q3,
        quality=QUALITY,
    )
    base.update(kw)
    return context_from_settings(settings, **base)


@pytest.fixture(scope="session")
def quarterly_doc(
    settings: Any, narrative_dir: Path, major_cases: pd.DataFrame, tmp_path_factory: pytest.TempPathFactory
):  # type: ignore[no-untyped-def]
    from tasks.render import render_quarterly

    out = tmp_path_factory.mktemp("q") / "quarterly.docx"
    return render_quarterly(
        load_figures("figures_2026Q3.json"), quarterly_ctx(settings, narrative_dir, major_cases), out
    )


@pytest.fixture(scope="session")
def annual_doc(settings: Any, tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    from tasks.render import render_annual

    out = tmp_path_factory.mktemp("a") / "annual.docx"
    return render_annual(load_figures("figures_2025.json"), annual_ctx(settings), out)


def annual_ctx(settings: Any) -> Any:
    return context_from_settings(
        settings,
        period="2025",
        run_id="20260212-1000-ffee",
        generated_at=dt.datetime(2026, 2, 12, 10, 0),
        narrative_dir=FIXTURES / "no-narratives",
        trend=TREND_2025,
        quality=QUALITY,
    )


# ------------------------------------------------------------------ reading documents back


def paragraphs(path: Path) -> list[str]:
    doc = Document(str(path))
    return [p.text for p in doc.paragraphs]


def tables(path: Path) -> list[list[list[str]]]:
    doc = Document(str(path))
    return [[[c.text for c in row.cells] for row in t.rows] for t in doc.tables]


def find_table(path: Path, first_header: str) -> list[list[str]]:
    for t in tables(path):
        if t and t[0] and t[0][0] == first_header:
            return t
    raise AssertionError(f"no table whose first header is {first_header!r}")


def all_xml_text(path: Path) -> str:
    """Every XML part's text content (document, headers, footers, properties), tags removed."""
    with zipfile.ZipFile(path) as z:
        parts = [z.read(n).decode("utf-8") for n in z.namelist() if n.endswith(".xml")]
    return "\n".join(re.sub(r"<[^>]+>", " ", p) for p in parts)


def pct(value: float) -> str:
    return f"{value * 100:.2f}%"
