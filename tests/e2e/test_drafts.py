"""The filing's life on the demo (issue 16, items 4–6, 8): previews, drafts that never overwrite an edited
document, ``complaints render`` from a bundle with the source database gone, per-entity narratives.

Every command is the installed ``complaints`` in a subprocess, on a real demo workdir (SQLite source,
local store, signed bundles), as an officer runs it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import docx
import pytest
import yaml

from tasks.archive.stores import LocalStore, parse_bundle_id

COMPLAINTS = str(Path(sys.executable).parent / "complaints")
AS_OF = "2026-11-20T09:00:00+08:00"  # the demo files 2026Q3; 2026Q4 has not ended
PREVIEW_MARK = "【预览稿，数据截至2026年11月20日】"

pytestmark = pytest.mark.slow


def cli(workdir: Path, *args: str, ok: bool = True) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONUNBUFFERED": "1",
           "COMPLAINTS_SIGNING_KEY_FILE": str(workdir / "keys" / "signing-key.pem")}
    env.pop("COMPLAINTS_DEMO_SOURCE_URL", None)
    proc = subprocess.run([COMPLAINTS, *args], capture_output=True, text=True, env=env, timeout=600,
                          cwd=workdir)
    assert "Traceback" not in proc.stdout + proc.stderr, proc.stderr[-3000:]
    if ok:
        assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-3000:]
    return proc


def summary_of(proc: subprocess.CompletedProcess[str]) -> dict:
    return json.loads(proc.stdout[proc.stdout.index("{"):])


def common(workdir: Path) -> list[str]:
    return ["--config", str(workdir / "complaints.yaml"), "--workdir", str(workdir)]


def texts(path: Path) -> list[str]:
    """Every paragraph of the body, the tables and the headers."""
    d = docx.Document(str(path))
    out = [p.text for p in d.paragraphs]
    out += [c.text for t in d.tables for r in t.rows for c in r.cells]
    out += [p.text for s in d.sections for p in s.header.paragraphs]
    return out


def body(path: Path) -> str:
    """The document's text without what differs between two runs of the same data (run id, times)."""
    return "\n".join(t for t in texts(path) if "运行编号" not in t and "生成时间" not in t
                     and not t.startswith("报告日期"))


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    workdir = tmp_path_factory.mktemp("drafts")
    t0 = time.perf_counter()
    proc = cli(workdir, "demo", "--workdir", str(workdir), "--complaints", "3000", "--as-of", AS_OF, "--json")
    summary = summary_of(proc)
    summary["_seconds"] = time.perf_counter() - t0
    # the demo's run is named and logged in Chinese in the Prefect run (flow_run_name, run logger)
    assert f"Flow run 'quarterly-HO-{summary['period']}'" in proc.stderr
    assert "证据包 " + summary["bundle"] in proc.stderr
    return workdir, summary


def test_a_period_not_ended_is_refused_without_preview_in_one_line(demo: tuple[Path, dict]) -> None:
    workdir, _ = demo
    proc = cli(workdir, "run", "quarterly", "--period", "2026Q4", "--as-of", AS_OF, *common(workdir),
               ok=False)
    assert proc.returncode == 2
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and "--preview" in lines[0] and "2026Q4" in lines[0], proc.stderr
    assert not (workdir / "archive" / "quarterly" / "HO" / "2026Q4").exists()


def test_a_preview_is_marked_on_every_page_and_kept_apart(demo: tuple[Path, dict], tmp_path: Path) -> None:
    workdir, _ = demo
    proc = cli(workdir, "run", "quarterly", "--period", "2026Q4", "--as-of", AS_OF, "--preview", "--json",
               *common(workdir))
    s = summary_of(proc)
    assert s["preview"] is True
    assert "Flow run 'quarterly-HO-2026Q4-preview'" in proc.stderr
    doc = Path(s["document"])
    assert "预览稿" in doc.name
    d = docx.Document(str(doc))
    for section in d.sections:  # every header the document has carries the mark
        assert PREVIEW_MARK in [p.text for p in section.header.paragraphs]
    # ... and so does every printed page
    subprocess.run(["soffice", "--headless", "--convert-to", "pdf", "--outdir", str(tmp_path), str(doc)],
                   capture_output=True, timeout=300, check=True,
                   env={**os.environ, "HOME": str(tmp_path)})
    pdf = next(tmp_path.glob("*.pdf"))
    pages = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True,
                           check=True).stdout.split("\f")
    pages = [p for p in pages if p.strip()]
    assert len(pages) > 1
    assert all(PREVIEW_MARK in p.replace(" ", "") for p in pages), [p[:200] for p in pages]
    # archived apart from the drafts: its own first part, Preview in bag-info and run.json
    b = parse_bundle_id(s["bundle"])
    assert b.preview and b.filing == "quarterly" and s["bundle"].startswith("quarterly-preview/HO/2026Q4/")
    store = LocalStore(workdir / "archive")
    assert s["bundle"] not in store.list("quarterly") and s["bundle"] in store.list("quarterly-preview")
    assert all(not parse_bundle_id(i).preview for i in store.list("quarterly"))
    bag = workdir / "archive" / s["bundle"]
    assert "Preview: true" in (bag / "bag-info.txt").read_text(encoding="utf-8")
    assert json.loads((bag / "data" / "run.json").read_text(encoding="utf-8"))["preview"] is True
    cli(workdir, "bundles", "verify", s["bundle"], *common(workdir))
    # never counted by status (exit 3 is Q4's unknown 2027 calendar, said on stderr)
    st = cli(workdir, "status", "--year", "2026", "--today", "2026-11-20", "--json", *common(workdir),
             ok=False)
    rows = {(r["filing"], r["period"], r["entity"]): r for r in json.loads(st.stdout)}
    assert rows[("quarterly", "2026Q4", "HO")]["bundle"] is None
    assert rows[("quarterly", "2026Q3", "HO")]["bundle"] is not None  # the drafts are seen


def test_a_rerun_never_overwrites_an_edited_document(demo: tuple[Path, dict]) -> None:
    workdir, summary = demo
    first = Path(summary["document"])
    assert first.name.endswith("-v1.docx")
    d = docx.Document(str(first))
    d.add_paragraph("主管审阅后补充的一段话。")
    d.save(str(first))
    edited = first.read_bytes()
    s = summary_of(cli(workdir, "run", "quarterly", "--period", summary["period"], "--as-of", AS_OF, "--json",
                       *common(workdir)))
    second = Path(s["document"])
    assert second != first and second.name.endswith("-v2.docx") and second.is_file()
    assert first.read_bytes() == edited  # the officer's edit is intact
    assert "主管审阅后补充的一段话。" not in "\n".join(texts(second))
    archived = workdir / "archive" / s["bundle"] / "data" / "filings" / second.name
    assert archived.read_bytes() == second.read_bytes()


def test_render_makes_a_new_draft_from_a_bundle_without_the_database(demo: tuple[Path, dict]) -> None:
    workdir, summary = demo
    source = workdir / "demo_source.sqlite"
    assert source.is_file()
    source.rename(workdir / "moved-away.sqlite")  # no extraction may happen: the database is gone
    try:
        t0 = time.perf_counter()
        proc = cli(workdir, "render", summary["bundle"], "--json", *common(workdir))
        seconds = time.perf_counter() - t0
    finally:
        (workdir / "moved-away.sqlite").rename(source)
    s = summary_of(proc)
    assert "Flow run 'render-quarterly-HO-" in proc.stderr
    assert s["bundle"] != summary["bundle"] and s["rendered_from"] == summary["bundle"]
    assert s["rows"] == summary["rows"] and s["headline"] == summary["headline"]
    new = Path(s["document"])
    assert new != Path(summary["document"]) and new.is_file()
    bag = workdir / "archive" / s["bundle"]
    run = json.loads((bag / "data" / "run.json").read_text(encoding="utf-8"))
    assert run["rendered_from"] == summary["bundle"] and run["trigger"] == "cli"
    assert f"Rendered-From: {summary['bundle']}" in (bag / "bag-info.txt").read_text(encoding="utf-8")
    old = workdir / "archive" / summary["bundle"] / "data"
    for rel in ("extract/ledger.parquet", "figures/figures.json", "figures/lineage.parquet",
                "quality/validation.json"):  # the same data, carried: the new bundle stands alone
        assert (bag / "data" / rel).read_bytes() == (old / rel).read_bytes(), rel
    cli(workdir, "bundles", "verify", s["bundle"], *common(workdir))
    # same data, same templates and narrative: the same document apart from run id and times
    original = old / "filings" / Path(summary["document"]).name
    assert body(new) == body(original)
    print(f"\ncomplaints render {seconds:.1f} s; complaints demo (database + full run) "
          f"{summary['_seconds']:.1f} s")


def test_a_branch_never_receives_the_head_office_narrative(demo: tuple[Path, dict]) -> None:
    workdir, summary = demo
    period = summary["period"]
    ho_narrative = yaml.safe_load((workdir / "narratives" / "HO" / f"{period}.yaml").read_text("utf-8"))
    ho_lines = [*ho_narrative.get("problems", []), *ho_narrative.get("measures", [])]
    assert ho_lines
    s = summary_of(cli(workdir, "run", "quarterly", "--period", period, "--entity", "GD", "--as-of", AS_OF,
                       "--json", *common(workdir)))
    text = "\n".join(texts(Path(s["document"])))
    assert not any(line.strip() in text for line in ho_lines)
    assert f"narratives/GD/{period}.yaml" in "\n".join(s["incomplete"])
    # the branch's own narrative, re-rendered from its bundle; still nothing of the head office's
    gd = workdir / "narratives" / "GD" / f"{period}.yaml"
    gd.parent.mkdir(parents=True, exist_ok=True)
    gd.write_text(yaml.safe_dump({"problems": ["广东分公司车险理赔时效仍需提升。"],
                                  "measures": ["广东分公司设立理赔投诉专班。"]}, allow_unicode=True),
                  encoding="utf-8")
    out = workdir / "for-review"
    r = summary_of(cli(workdir, "render", s["bundle"], "--output", str(out), "--json", *common(workdir)))
    assert Path(r["document"]).parent == out and r["rendered_from"] == s["bundle"]
    text = "\n".join(texts(Path(r["document"])))
    assert "广东分公司设立理赔投诉专班。" in text
    assert not any(line.strip() in text for line in ho_lines)
    bundled = workdir / "archive" / r["bundle"] / "data" / "narratives" / "GD" / f"{period}.yaml"
    assert bundled.read_bytes() == gd.read_bytes()


def test_a_narrative_yaml_mistake_is_one_line_with_file_and_line_at_once(demo: tuple[Path, dict]) -> None:
    workdir, _ = demo
    bad = workdir / "narratives" / "GD" / "2026Q2.yaml"
    bad.parent.mkdir(parents=True, exist_ok=True)
    bad.write_text("problems:\n  - 第一条\nmeasures: [未闭合\n", encoding="utf-8")
    t0 = time.perf_counter()
    proc = cli(workdir, "run", "quarterly", "--period", "2026Q2", "--entity", "GD", "--as-of", AS_OF,
               *common(workdir), ok=False)
    assert time.perf_counter() - t0 < 5
    assert proc.returncode == 2
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1, proc.stderr
    assert f"{bad}:4:" in lines[0] or f"{bad}:3:" in lines[0], lines[0]
    bad.unlink()


def test_an_entity_template_outside_the_checkout_is_used_for_that_entity_only(demo: tuple[Path, dict],
                                                                             tmp_path: Path) -> None:
    """rendering.templates_dir/<ENTITY>/ first, then the folder, then the shipped template."""
    from tasks.config_files import TEMPLATES_DIR

    workdir, summary = demo
    officers = tmp_path / "officers"
    (officers / "GD").mkdir(parents=True)
    d = docx.Document(str(TEMPLATES_DIR / "quarterly_report.docx"))
    d.sections[0].header.paragraphs[0].insert_paragraph_before("广东分公司信笺")
    d.save(str(officers / "GD" / "quarterly_report.docx"))
    config = workdir / "complaints.yaml"
    original = config.read_text(encoding="utf-8")
    raw = yaml.safe_load(original)
    raw.setdefault("rendering", {})["templates_dir"] = str(officers)
    config.write_text(yaml.safe_dump(raw, allow_unicode=True, sort_keys=False), encoding="utf-8")
    try:
        gd_bundle = next(iter(LocalStore(workdir / "archive").list("quarterly", "GD")), None)
        if gd_bundle is None:  # the branch test did not run first: file the branch now
            gd_bundle = summary_of(cli(workdir, "run", "quarterly", "--period", summary["period"], "--entity",
                                       "GD", "--as-of", AS_OF, "--json", *common(workdir)))["bundle"]
        r = summary_of(cli(workdir, "render", gd_bundle, "--json", *common(workdir)))
        h = summary_of(cli(workdir, "render", summary["bundle"], "--json", *common(workdir)))
    finally:
        config.write_text(original, encoding="utf-8")
    assert "广东分公司信笺" in texts(Path(r["document"]))
    assert "广东分公司信笺" not in texts(Path(h["document"]))  # the head office keeps the shipped one
