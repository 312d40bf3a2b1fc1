"""Previews, per-entity lookup and the Prefect parameters, piece by piece (e2e: tests/e2e/test_drafts.py)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import docx
import pytest
from docx.enum.section import WD_SECTION

from complaints.filings import period_not_ended, preview_mark
from complaints.periods import Period
from complaints.settings import Settings
from tasks.archive.bundle import check_identity
from tasks.archive.stores import LocalStore, new_bundle_id, parse_bundle_id
from tasks.config_files import TEMPLATES_DIR, load_settings
from tasks.lookup import check_narrative, find_template, narrative_path, template_dirs
from tasks.render.context import NarrativeError
from tasks.render.docx_utils import mark_every_page

AT = dt.datetime(2026, 11, 20, 1, 2, 3, tzinfo=dt.UTC)


def test_a_preview_id_has_its_own_first_part_and_round_trips() -> None:
    draft = new_bundle_id("quarterly", "HO", "2026Q4", "abcdef0123", AT)
    preview = new_bundle_id("quarterly", "HO", "2026Q4", "abcdef0123", AT, preview=True)
    assert draft == "quarterly/HO/2026Q4/20261120T010203Z-abcdef01"
    assert preview == "quarterly-preview/HO/2026Q4/20261120T010203Z-abcdef01"
    p = parse_bundle_id(preview)
    assert p.preview and p.filing == "quarterly" and str(p) == preview
    assert not parse_bundle_id(draft).preview and str(parse_bundle_id(draft)) == draft
    assert getattr(parse_bundle_id(draft), "preview", None) is False  # what status reads


def test_listing_by_filing_never_returns_previews(tmp_path: Path) -> None:
    store = LocalStore(tmp_path)
    for bid in ("quarterly/HO/2026Q4/20261120T010203Z-aaaa0001",
                "quarterly-preview/HO/2026Q4/20261120T010204Z-aaaa0002"):
        (tmp_path / bid).mkdir(parents=True)
        (tmp_path / bid / "bagit.txt").write_text("BagIt-Version: 1.0\n")
    assert store.list("quarterly") == ["quarterly/HO/2026Q4/20261120T010203Z-aaaa0001"]
    assert store.list("quarterly-preview", "HO", "2026Q4") == [
        "quarterly-preview/HO/2026Q4/20261120T010204Z-aaaa0002"]
    assert sorted(parse_bundle_id(b).preview for b in store.list()) == [False, True]


def _info(preview: bool) -> dict[str, str]:
    info = {"Filing": "quarterly", "Entity": "HO", "Period": "2026Q4", "Run-Id": "aaaa0001ffff"}
    return {**info, "Preview": "true"} if preview else info


def test_a_preview_listed_as_a_draft_or_a_draft_as_a_preview_is_an_identity_mismatch() -> None:
    draft_id = "quarterly/HO/2026Q4/20261120T010203Z-aaaa0001"
    preview_id = "quarterly-preview/HO/2026Q4/20261120T010203Z-aaaa0001"
    assert check_identity(_info(False), None, draft_id) == []
    assert check_identity(_info(True), None, preview_id) == []
    assert any("preview" in p.lower() for p in check_identity(_info(True), None, draft_id))
    assert any("preview" in p.lower() for p in check_identity(_info(False), None, preview_id))


def test_a_period_not_ended_until_the_day_after_its_last_day() -> None:
    q4 = Period.parse("2026Q4")
    assert period_not_ended(q4, dt.date(2026, 11, 20))
    assert period_not_ended(q4, dt.date(2026, 12, 31))  # the last day's figures are not complete
    assert not period_not_ended(q4, dt.date(2027, 1, 1))
    assert preview_mark(dt.date(2026, 1, 5)) == "【预览稿，数据截至2026年1月5日】"


def test_every_page_header_is_marked_once(tmp_path: Path) -> None:
    d = docx.Document()
    d.sections[0].header.paragraphs[0].text = "公司抬头"
    d.sections[0].different_first_page_header_footer = True
    d.add_paragraph("第一节")
    d.add_section(WD_SECTION.NEW_PAGE)  # linked to the first: shows (and must not repeat) its header
    d.add_paragraph("第二节")
    third = d.add_section(WD_SECTION.NEW_PAGE)
    third.header.is_linked_to_previous = False
    third.header.paragraphs[0].text = "附表抬头"
    mark_every_page(d, "【预览稿】")
    path = tmp_path / "m.docx"
    d.save(str(path))
    d = docx.Document(str(path))
    s1, s2, s3 = d.sections
    assert [p.text for p in s1.header.paragraphs] == ["【预览稿】", "公司抬头"]
    assert [p.text for p in s1.first_page_header.paragraphs][0] == "【预览稿】"
    assert s2.header.is_linked_to_previous
    assert [p.text for p in s3.header.paragraphs] == ["【预览稿】", "附表抬头"]


def _with_templates_dir(value: str | None) -> Settings:
    base = load_settings().settings
    return base.model_copy(update={"rendering": base.rendering.model_copy(update={"templates_dir": value})})


def test_templates_are_looked_up_per_entity_then_the_folder_then_shipped(tmp_path: Path) -> None:
    conf = tmp_path / "conf"
    conf.mkdir()
    settings = _with_templates_dir("../officers")
    dirs = template_dirs(settings, conf, "GD")
    officers = conf / "../officers"
    assert dirs == [officers / "GD", officers, TEMPLATES_DIR]
    name = "quarterly_report.docx"
    assert find_template(name, dirs) == TEMPLATES_DIR / name
    officers.mkdir()
    (officers / name).write_bytes(b"shared")
    assert find_template(name, dirs) == officers / name
    (officers / "GD").mkdir()
    (officers / "GD" / name).write_bytes(b"gd")
    assert find_template(name, dirs) == officers / "GD" / name
    assert find_template(name, template_dirs(settings, conf, "JS")) == officers / name
    assert template_dirs(_with_templates_dir(None), conf, "GD") == [TEMPLATES_DIR]
    absolute = _with_templates_dir(str(tmp_path / "abs"))
    assert template_dirs(absolute, conf, "GD")[:2] == [tmp_path / "abs" / "GD", tmp_path / "abs"]


def test_narratives_are_per_entity(tmp_path: Path) -> None:
    assert narrative_path(tmp_path, "GD", "2026Q3") == tmp_path / "GD" / "2026Q3.yaml"


@pytest.mark.parametrize(("text", "line"), [
    ("problems:\n  - 一\nmeasures: [二\n", 4),
    ("problems:\n  - 一\n\tmeasures: 二\n", 3),
])
def test_a_yaml_mistake_names_the_file_and_line_in_one_line(tmp_path: Path, text: str, line: int) -> None:
    path = tmp_path / "2026Q3.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(NarrativeError) as exc:
        check_narrative(path)
    message = str(exc.value)
    assert "\n" not in message and message.startswith(f"{path}:{line}:"), message


def test_a_narrative_of_the_wrong_shape_is_one_line(tmp_path: Path) -> None:
    path = tmp_path / "2026Q3.yaml"
    path.write_text("problem: 拼错了键\n", encoding="utf-8")
    with pytest.raises(NarrativeError) as exc:
        check_narrative(path)
    assert "\n" not in str(exc.value) and str(path) in str(exc.value) and "problem" in str(exc.value)
    check_narrative(tmp_path / "absent.yaml")  # absent: fine (the report says 【待补充】)


def test_flow_parameters_are_typed_with_patterns_and_descriptions() -> None:
    from prefect.exceptions import ParameterTypeError

    from flows.filing import annual_self_inspection, monthly_publication, quarterly_filing

    for fl, name, good, bad in ((quarterly_filing, "period", "2026Q3", "2026Q5"),
                                (annual_self_inspection, "year", "2026", "26"),
                                (monthly_publication, "month", "2026-10", "2026-13")):
        schema = fl.parameters.model_dump()["properties"]
        assert schema[name]["pattern"] and schema[name]["description"]
        assert schema["preview"]["type"] == "boolean" and "预览稿" in schema["preview"]["description"]
        assert all(p.get("description") for p in schema.values())
        fl.validate_parameters({name: good})
        with pytest.raises(ParameterTypeError):
            fl.validate_parameters({name: bad})


def test_deployments_carry_the_typed_parameters(tmp_path: Path) -> None:
    from flows.deployments import build_deployments

    deployments = {d.name: d for d in build_deployments(load_settings(), tmp_path)}
    schema = deployments["quarterly-HO"]._parameter_openapi_schema.model_dump()["properties"]
    assert schema["period"]["pattern"] == r"^\d{4}Q[1-4]$" and "2026Q3" in schema["period"]["description"]
    assert schema["preview"]["type"] == "boolean"
    year = deployments["annual-GD"]._parameter_openapi_schema.model_dump()["properties"]["year"]
    assert year["pattern"] == r"^\d{4}$"


def test_a_monthly_preview_workbook_is_marked_on_every_printed_page(tmp_path: Path) -> None:
    import openpyxl
    import pandas as pd

    from complaints import ledger as L
    from tasks.render import context_from_settings
    from tasks.render.monthly import write_monthly_workbook

    settings = load_settings().settings
    empty = L.normalize(pd.DataFrame(columns=["complaint_id"]), "ledger")
    for mark in (None, "【预览稿，数据截至2026年10月20日】"):
        ctx = context_from_settings(settings, period="2026-10", run_id="r",
                                    generated_at=dt.datetime(2026, 11, 3), narrative_dir=tmp_path,
                                    preview_mark=mark)
        out = write_monthly_workbook(empty, "2026-10", ctx, tmp_path / f"{bool(mark)}.xlsx")
        heads = [ws.oddHeader.center.text for ws in openpyxl.load_workbook(out).worksheets]
        assert len(heads) == 3 and heads == [mark] * 3


def test_the_flow_run_is_tagged_with_filing_entity_period_and_preview() -> None:
    from types import SimpleNamespace

    from prefect import flow, get_client
    from prefect.context import FlowRunContext

    from flows.filing import tag_flow_run

    @flow(name="tag-probe")
    def probe() -> str:
        tag_flow_run(SimpleNamespace(filing="quarterly", entity=SimpleNamespace(code="GD"),  # type: ignore[arg-type]
                                     period=SimpleNamespace(code="2026Q4"), preview=True, rendered_from=None))
        ctx = FlowRunContext.get()
        assert ctx is not None and ctx.flow_run is not None
        return str(ctx.flow_run.id)

    run_id = probe()
    with get_client(sync_client=True) as client:
        tags = set(client.read_flow_run(run_id).tags)
    assert {"filing", "quarterly", "GD", "2026Q4", "preview"} <= tags and "draft" not in tags


def test_the_run_artifacts_speak_chinese_with_percentages_flags_document_and_bundle(
        monkeypatch: pytest.MonkeyPatch) -> None:
    import flows.filing as F

    made: dict[str, Any] = {}
    monkeypatch.setattr(F, "create_markdown_artifact", lambda **kw: made.setdefault("md", kw))
    monkeypatch.setattr(F, "create_table_artifact", lambda **kw: made.setdefault("table", kw))
    summary = {
        "filing": "quarterly", "period": "2026Q3", "entity": "GD", "run_id": "r" * 32,
        "as_of": "2026-10-20T09:00:00+08:00", "rows": {"read": 10, "accepted": 9, "quarantined": 1},
        "headline": {"cases": 9, "contacts": 11, "valid_cases": 8, "regulator_forwarded_cases": 2,
                     "timeliness_rate": 0.9876, "satisfaction_rate": None, "per_100m_premium": 1.5},
        "due": "2026-10-15", "due_error": None, "document": "/w/output/2026Q3/GD/报告-v3.docx",
        "incomplete": ["改进措施：未提供"], "bundle": "quarterly/GD/2026Q3/20261020T010203Z-abcdef01",
        "bundle_location": "x", "signed": True, "quarantine_xlsx": "q", "accept_risk": None,
        "accept_empty": None, "preview": False, "rendered_from": None, "due_state": "late"}
    F.publish(summary, {"counts": {"cases": 9}, "timeliness": {"rate": 0.9876}})  # type: ignore[arg-type]
    md = made["md"]["markdown"]
    assert made["md"]["key"] == "summary-quarterly-gd-2026q3"
    assert "| 处理及时率 | 98.76% |" in md and "| 期限状态 | 已逾期 |" in md and "| 客户满意度 | — |" in md
    assert "报告-v3.docx" in md and "quarterly/GD/2026Q3/20261020T010203Z-abcdef01" in md
    assert "| 待补充事项 | 改进措施：未提供 |" in md and "报告草稿" in md
    rows = {r["键"]: r for r in made["table"]["table"]}
    assert rows["timeliness.rate"]["指标"] == "投诉处理及时率" and rows["timeliness.rate"]["数值"] == "98.76%"
    assert rows["counts.cases"]["指标"] == "投诉件数" and rows["counts.cases"]["数值"] == 9
    made.clear()
    F.publish({**summary, "preview": True, "due_state": "at_risk"}, {})  # type: ignore[arg-type]
    assert made["md"]["key"].endswith("-preview") and "预览稿" in made["md"]["markdown"]
    assert "| 期限状态 | 临近截止 |" in made["md"]["markdown"]
