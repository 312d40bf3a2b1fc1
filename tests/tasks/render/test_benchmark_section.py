"""The quarterly report's 「与行业对比（按监管口径测算）」: the heading, a row equal to the figures'
benchmark block, the sentences in Chinese, and the no-data sentence when no bulletin covers the period."""

from __future__ import annotations

import copy
import re
from pathlib import Path
from typing import Any

import pytest

from tasks.render import render_quarterly

from .conftest import find_table, load_figures, paragraphs, quarterly_ctx, tables

HEADING = "与行业对比（按监管口径测算）"
COLUMNS = ["业务条线", "指标", "本公司", "行业中位数", "中位数期别", "比值", "是否高于"]
Q_COLUMNS = ["季度", "业务条线", "指标", "本公司", "行业中位数", "比值", "是否高于"]

REGULATOR_BASIS: dict[str, dict[str, Any]] = {
    "property": {
        "forwarded": 2,
        "per_100m_premium": None,
        "per_10k_policies": 0.5,
        "by_issue": {"claims_dispute": 1, "other": 1},
        "by_product": {"guarantee": 1, "motor": 1},
    },
    "life": {
        "forwarded": 4,
        "per_100m_premium": 1.0,
        "per_10k_policies": 1.0,
        "per_10k_insured": 0.5,
        "by_issue": {"surrender_dispute": 2, "other": 1, "sales_dispute": 1},
        "by_product": {"annuity": 2, "life_ordinary": 1, "life_other": 1},
    },
}


def _block(value: float | None, median: float, period: str) -> dict[str, Any]:
    if value is None:
        return {
            "value": None,
            "median": median,
            "median_period": period,
            "ratio": None,
            "deviation_pct": None,
            "above_median": None,
        }
    return {
        "value": value,
        "median": median,
        "median_period": period,
        "ratio": value / median,
        "deviation_pct": (value - median) / median * 100,
        "above_median": value > median,
    }


BENCHMARK: dict[str, dict[str, Any]] = {
    "property": {
        "per_100m_premium": _block(None, 3.66, "2026Q2"),
        "per_10k_policies": _block(0.5, 0.26, "2026Q2"),
        "binding": "per_10k_policies",
        "bulletin": "no 2026Q3 bulletin for every rate; the latest earlier bulletin is used: ...",
    },
    "life": {
        "per_100m_premium": _block(1.0, 1.0, "2026Q2"),
        "per_10k_policies": _block(1.0, 0.19, "2026Q2"),
        "per_10k_insured": _block(0.5, 0.09, "2026Q2"),
        "binding": "per_10k_insured",
        "bulletin": "no 2026Q3 bulletin for every rate; the latest earlier bulletin is used: ...",
    },
}


def _render(settings: Any, tmp_path: Path, figures: dict[str, Any]) -> Path:
    out = tmp_path / "quarterly.docx"
    return render_quarterly(figures, quarterly_ctx(settings, None, None), out).path


def _section(path: Path) -> list[str]:
    text = paragraphs(path)
    start = next(i for i, p in enumerate(text) if p.endswith(HEADING))
    end = next(i for i, p in enumerate(text) if i > start and p.endswith("存在的问题及改进措施"))
    return text[start:end]


@pytest.fixture(scope="module")
def with_benchmark(settings: Any, tmp_path_factory: pytest.TempPathFactory) -> Path:
    figures = copy.deepcopy(load_figures("figures_2026Q3.json"))
    figures["regulator_basis"] = copy.deepcopy(REGULATOR_BASIS)
    figures["benchmark"] = copy.deepcopy(BENCHMARK)
    return _render(settings, tmp_path_factory.mktemp("bench"), figures)


def test_section_rows_equal_the_figures(with_benchmark: Path) -> None:
    section = _section(with_benchmark)
    assert section[0].endswith(HEADING)
    table = find_table(with_benchmark, "业务条线")
    assert table[0] == COLUMNS
    rows = {(r[0], r[1]): r[2:] for r in table[1:]}
    assert len(rows) == 5
    life = BENCHMARK["life"]["per_10k_policies"]
    assert rows[("人身保险", "万张保单投诉量")] == [
        f"{life['value']:.2f}",
        f"{life['median']:.2f}",
        "2026年第二季度",
        f"{life['ratio']:.2f}",
        "是",
    ]
    assert rows[("人身保险", "亿元保费投诉量")][-1] == "否"  # 1.00 is not above a median of 1.00
    assert rows[("财产保险", "亿元保费投诉量")] == ["—", "3.66", "2026年第二季度", "—", "—"]
    body = "\n".join(section)
    assert "行业中位数取自最近一期即2026年第二季度的监管通报" in body
    assert "排名最不利的指标为万人次投诉量，为中位数的5.56倍" in body
    assert "退保纠纷2件（占50.00%）" in body


def test_section_is_chinese_only(with_benchmark: Path) -> None:
    section = _section(with_benchmark)
    cells = [c for row in find_table(with_benchmark, "业务条线") for c in row]
    assert not re.search(r"[A-Za-z_]", "\n".join(section + cells))


def test_no_reference_data_sentence(settings: Any, tmp_path: Path) -> None:
    figures = copy.deepcopy(load_figures("figures_2026Q3.json"))
    figures["regulator_basis"] = copy.deepcopy(REGULATOR_BASIS)
    path = _render(settings, tmp_path, figures)
    section = _section(path)
    assert section[0].endswith(HEADING)
    assert "本期无可比的监管通报参考数据，暂不作行业对比。" in section
    assert not any(t and t[0] and t[0][0] == "业务条线" for t in tables(path))


def test_annual_report_has_the_section(annual_doc: Any) -> None:
    text = paragraphs(annual_doc.path)
    start = text.index("四、与行业对比（按监管口径测算）")
    assert text[start + 1] == "本期无可比的监管通报参考数据，暂不作行业对比。"
    assert text.index("五、存在的问题") > start and "六、改进措施" in text


def _annual_with_quarters(settings: Any, tmp_path: Path) -> tuple[Path, dict[str, Any]]:
    """A year without a yearly bulletin row: Q1 no bulletin; Q2 life above on 万张保单 (its own bulletin);
    Q3 life compared with the Q2 bulletin (no Q3 bulletin yet), nothing above; Q4 like Q3 but property
    has no exposure (value null)."""
    from tasks.render import render_annual

    from .conftest import annual_ctx

    figures = copy.deepcopy(load_figures("figures_2025.json"))
    year = figures["period"]
    life = {"forwarded": 3, "per_100m_premium": 0.8, "per_10k_policies": 0.3, "per_10k_insured": 0.05}
    prop = {"forwarded": 1, "per_100m_premium": None, "per_10k_policies": None}
    quarters = {
        "Q1": {"regulator_basis": {"property": prop, "life": life}},
        "Q2": {
            "regulator_basis": {"property": prop, "life": life},
            "benchmark": {
                "life": {
                    "per_100m_premium": _block(0.8, 1.0, f"{year}Q2"),
                    "per_10k_policies": _block(0.3, 0.19, f"{year}Q2"),
                    "binding": "per_10k_policies",
                }
            },
        },
        "Q3": {
            "regulator_basis": {"property": prop, "life": life},
            "benchmark": {"life": {"per_100m_premium": _block(0.8, 1.0, f"{year}Q2"), "binding": None}},
        },
        "Q4": {
            "regulator_basis": {"property": prop, "life": life},
            "benchmark": {
                "property": {"per_100m_premium": _block(None, 3.66, f"{year}Q2")},
                "life": {"per_100m_premium": _block(0.8, 1.0, f"{year}Q2")},
            },
        },
    }
    for q, block in quarters.items():
        figures["by_quarter"][q].update(copy.deepcopy(block))
    out = tmp_path / "annual.docx"
    return render_annual(figures, annual_ctx(settings), out).path, figures


def test_annual_compares_quarter_by_quarter(settings: Any, tmp_path: Path) -> None:
    path, figures = _annual_with_quarters(settings, tmp_path)
    text = paragraphs(path)
    start = text.index("四、与行业对比（按监管口径测算）")
    section = text[start : text.index("五、存在的问题")]
    assert section[1] == "监管通报未公布全年的行业中位数，本年度不作全年对比，按季度对比如下。"
    table = next(t for t in tables(path) if t and t[0] == Q_COLUMNS)
    rows = table[1:]
    # one row per quarter x line x rate that has a median, in quarter order
    assert [(r[0], r[1], r[2]) for r in rows] == [
        ("第二季度", "人身保险", "亿元保费投诉量"),
        ("第二季度", "人身保险", "万张保单投诉量"),
        ("第三季度", "人身保险", "亿元保费投诉量"),
        ("第四季度", "财产保险", "亿元保费投诉量"),
        ("第四季度", "人身保险", "亿元保费投诉量"),
    ]
    q2 = figures["by_quarter"]["Q2"]["benchmark"]["life"]["per_10k_policies"]
    assert rows[1][3:] == [f"{q2['value']:.2f}", f"{q2['median']:.2f}", f"{q2['ratio']:.2f}", "是"]
    assert rows[3][3:] == ["—", "3.66", "—", "—"]
    body = "\n".join(section)
    assert (
        "人身保险按季度对比：第二季度（万张保单投诉量）高于行业中位数；"
        "第三季度、第四季度各项指标均未高于行业中位数；"
    ) in body
    assert "第一季度无可比的行业中位数" in body
    assert "第三季度、第四季度人身保险的行业中位数取自最近一期即2025年第二季度的监管通报" in body
    assert "财产保险按季度对比" not in body  # property is never measurable: no verdict sentence
    cells = [c for row in table for c in row]
    assert not re.search(r"[A-Za-z_]", "\n".join(section + cells))
