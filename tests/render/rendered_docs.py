"""The rendered-document suite (issue 17): the quarterly and annual reports generated from the demo and
from edge-case ledgers derived from it, converted to PDF with LibreOffice and read back.

The demo runs once per session through the CLI (``complaints demo``, then ``complaints run annual``);
the edge cases recompute the figures from the demo's archived extract with one thing changed and render
them with the same configuration. Expectations come from the figures, never from demo numbers.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from complaints.figures import compute_figures, quarter_trend
from complaints.periods import Period
from tasks.benchmarks import reference_for
from tasks.calendar_files import load_calendar
from tasks.config_files import Loaded, load_settings
from tasks.render import RenderContext, context_from_settings, render_annual, render_quarterly
from tasks.rulebooks import load_rulebooks
from tasks.stages import open_cases, trend_quarters
from tests.tasks.render.pdf_tools import docx_to_pdf, have_tools

pytestmark = pytest.mark.slow

CLI = Path(sys.executable).with_name("complaints")
NARRATIVE = {
    "problems": ["理赔类投诉占比较高，部分案件未能在内部时限内答复。"],
    "measures": ["对理赔时效实行周通报。", "对回访未接通的客户在3个工作日内再次回访。"],
    "typical_cases": ["某客户反映销售人员夸大收益，经核实后全额退还保费。\n相关销售人员已被问责。"],
    "suggestions": ["建议明确理赔投诉中“材料齐全”的认定标准。"],
    "last_year_measures": [{"measure": "对理赔时效实行周通报", "figure": "claims_3wd.rate"}],
}


@dataclass(frozen=True)
class Rendered:
    """One rendered report: its DOCX, the figures it was made from, its PDF and the PDF's pages' text."""

    name: str
    docx: Path
    figures: dict[str, Any]
    pdf: Path
    pages: list[str]
    run_id: str
    ctx: RenderContext


def pdf_pages_text(pdf: Path) -> list[str]:
    out = subprocess.run(
        ["pdftotext", "-layout", str(pdf), "-"], check=True, capture_output=True, text=True, timeout=120
    ).stdout
    pages = out.split("\f")
    return pages[:-1] if pages and not pages[-1].strip() else pages


def to_pdf(docx: Path, tmp: Path) -> tuple[Path, list[str]]:
    profile = tmp / "lo-profile"
    profile.mkdir(exist_ok=True)
    pdf = docx_to_pdf(docx, docx.parent, profile)
    return pdf, pdf_pages_text(pdf)


def _write_narratives(workdir: Path, periods: list[str], entities: tuple[str, ...] = ("HO", "GD")) -> None:
    """Each entity's own narrative (narratives/<ENTITY>/<period>.yaml: a branch never gets the HO's)."""
    for entity in entities:
        folder = workdir / "narratives" / entity
        folder.mkdir(parents=True, exist_ok=True)
        for period in periods:
            text = json.dumps(NARRATIVE, ensure_ascii=False)
            (folder / f"{period}.yaml").write_text(text, encoding="utf-8")


@dataclass(frozen=True)
class Demo:
    workdir: Path
    loaded: Loaded
    quarter: Period
    quarterly_bundle: Path
    annual_bundle: Path
    quarterly_docx: Path
    annual_docx: Path


def _bundle(workdir: Path, filing: str, period: str) -> Path:
    found = sorted((workdir / "archive" / filing / "HO" / period).glob("*/data"))
    assert found, f"no {filing} bundle for {period} under {workdir}"
    return found[-1]


@pytest.fixture(scope="session")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Demo:
    if not have_tools():
        pytest.skip("LibreOffice/poppler not installed")
    workdir = tmp_path_factory.mktemp("demo") / "complaints-demo"
    env = dict(os.environ)
    env.pop("COMPLAINTS_CONFIG", None)
    subprocess.run([str(CLI), "demo", "--workdir", str(workdir)], check=True, capture_output=True,
                   env=env, timeout=600)
    quarterly = sorted((workdir / "output").glob("*Q*/HO/*.docx"))
    assert quarterly, "the demo wrote no quarterly report"
    quarter = Period.parse(quarterly[0].parent.parent.name)
    year = str(quarter.year - 1)
    # the officer's narratives for every slot, so the documents are complete (no 【待补充】 markers)
    _write_narratives(workdir, [quarter.code, year])
    config = workdir / "complaints.yaml"
    env["COMPLAINTS_SIGNING_KEY_FILE"] = str(workdir / "keys" / "signing-key.pem")
    for args in (["quarterly", "--period", quarter.code], ["annual", "--period", year]):
        subprocess.run([str(CLI), "run", *args, "--config", str(config), "--workdir", str(workdir)],
                       check=True, capture_output=True, env=env, timeout=600)
    latest = lambda pattern: max((workdir / "output").glob(pattern), key=lambda p: p.stat().st_mtime)  # noqa: E731
    return Demo(
        workdir=workdir,
        loaded=load_settings(config),
        quarter=quarter,
        quarterly_bundle=_bundle(workdir, "quarterly", quarter.code),
        annual_bundle=_bundle(workdir, "annual", year),
        quarterly_docx=latest(f"{quarter.code}/HO/*.docx"),
        annual_docx=latest(f"{year}/HO/*.docx"),
    )


def _bundle_figures(bundle: Path) -> dict[str, Any]:
    return json.loads((bundle / "figures" / "figures.json").read_text(encoding="utf-8"))


def _run_id(bundle: Path) -> str:
    return str(json.loads((bundle / "run.json").read_text(encoding="utf-8"))["run_id"])


@pytest.fixture(scope="session")
def demo_quarterly(demo: Demo, tmp_path_factory: pytest.TempPathFactory) -> Rendered:
    tmp = tmp_path_factory.mktemp("demo-q")
    docx = tmp / "quarterly.docx"
    docx.write_bytes(demo.quarterly_docx.read_bytes())
    pdf, pages = to_pdf(docx, tmp)
    figures = _bundle_figures(demo.quarterly_bundle)
    ctx = context_from_settings(demo.loaded.settings, period=demo.quarter.code, run_id="",
                                generated_at=dt.datetime(2000, 1, 1))
    return Rendered("demo-quarterly", docx, figures, pdf, pages, _run_id(demo.quarterly_bundle), ctx)


@pytest.fixture(scope="session")
def demo_annual(demo: Demo, tmp_path_factory: pytest.TempPathFactory) -> Rendered:
    tmp = tmp_path_factory.mktemp("demo-a")
    docx = tmp / "annual.docx"
    docx.write_bytes(demo.annual_docx.read_bytes())
    pdf, pages = to_pdf(docx, tmp)
    figures = _bundle_figures(demo.annual_bundle)
    ctx = context_from_settings(demo.loaded.settings, period=str(demo.quarter.year - 1), run_id="",
                                generated_at=dt.datetime(2000, 1, 1))
    return Rendered("demo-annual", docx, figures, pdf, pages, _run_id(demo.annual_bundle), ctx)


# ------------------------------------------------------------------ edge cases from the demo's extract

Change = Callable[[dict[str, pd.DataFrame], Any], None]


def render_edge(
    demo: Demo,
    tmp: Path,
    name: str,
    *,
    annual: bool,
    change: Change | None = None,
    entity: str | None = None,
) -> Rendered:
    """Recompute the figures from the demo's archived extract after ``change`` (which edits the frames
    in place and may use the unchanged figures) and render the report with the demo's configuration."""
    bundle = demo.annual_bundle if annual else demo.quarterly_bundle
    settings = demo.loaded.settings
    frames = {
        t: pd.read_parquet(bundle / "extract" / f"{t}.parquet") for t in ("ledger", "exposure", "events")
    }
    # what the quality gate quarantined stays out, as in the run (row_number: 1-based extract row)
    quarantine = pd.read_parquet(bundle / "quality" / "quarantine.parquet")
    for table, frame in frames.items():
        bad = quarantine.loc[quarantine["table"] == table, "row_number"].astype(int) - 1
        frames[table] = frame.drop(index=frame.index[bad.to_numpy()]).reset_index(drop=True)
    period = Period.parse(str(demo.quarter.year - 1)) if annual else demo.quarter
    as_of = dt.datetime.fromisoformat(_bundle_figures(bundle)["as_of"]).replace(tzinfo=None)
    calendar = load_calendar(demo.loaded.resolve(settings.calendar_dir))
    rulebooks = load_rulebooks(demo.loaded.resolve(settings.rulebooks_dir))
    entity_code = entity or settings.head_office.code

    def compute() -> Any:
        return compute_figures(
            frames["ledger"], period=period, as_of=as_of, calendar=calendar, rulebooks=rulebooks,
            exposure=frames["exposure"], events=frames["events"], entity=entity_code,
            head_office=settings.head_office.code, major=settings.major,
            department_targets=settings.department_targets, reference=reference_for(demo.loaded),
        )

    if change is not None:
        change(frames, compute())
    result = compute()
    ledger = frames["ledger"]
    scoped = (
        ledger if entity_code == settings.head_office.code else ledger[ledger["entity_code"] == entity_code]
    )
    major = scoped[scoped["complaint_id"].isin(set(result.ids("counts.major_cases")))]
    trend = quarter_trend(ledger, trend_quarters(period), entity=entity_code,
                          head_office=settings.head_office.code)
    run_id = f"edge{abs(hash(name)) % 10**8:08d}"
    ctx = context_from_settings(
        settings, period=period.code, run_id=run_id, generated_at=as_of, entity_code=entity_code,
        narrative_dir=demo.workdir / "narratives" / entity_code, major_cases=major, trend=trend,
        open_cases=open_cases(scoped, period),
    )
    out = tmp / f"{name}.docx"
    (render_annual if annual else render_quarterly)(result.figures, ctx, out)
    pdf, pages = to_pdf(out, tmp)
    return Rendered(name, out, result.figures, pdf, pages, run_id, ctx)
