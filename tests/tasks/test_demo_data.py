"""The demo call-centre database: deterministic, plausible, with only row-level defects."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest
import sqlalchemy as sa

from tasks.config_files import load_settings
from tasks.demo_data import CATEGORIES, CHANNELS, create_demo_source, default_span, generate

START, END = dt.date(2025, 7, 1), dt.date(2026, 11, 20)


@pytest.fixture(scope="module")
def tables() -> dict[str, pd.DataFrame]:
    return generate(seed=7, complaints=4000, start=START, end=END)


def test_same_seed_same_data_other_seed_differs() -> None:
    a = generate(seed=3, complaints=1000, start=START, end=END)
    b = generate(seed=3, complaints=1000, start=START, end=END)
    c = generate(seed=4, complaints=1000, start=START, end=END)
    for name in a:
        pd.testing.assert_frame_equal(a[name], b[name])
    assert not a["kf_tsgd"].equals(c["kf_tsgd"])


def test_default_span_gives_qoq_yoy_backlog_and_a_whole_previous_year() -> None:
    start, end = default_span(dt.date(2026, 11, 21))
    assert start == dt.date(2025, 1, 1) and end == dt.date(2026, 11, 20)
    start, _ = default_span(dt.date(2027, 1, 5))  # last full quarter 2026Q4: 2025 and 2026 whole
    assert start == dt.date(2025, 1, 1)


def test_volume_and_coverage(tables: dict[str, pd.DataFrame]) -> None:
    t = tables["kf_tsgd"]
    years = ((END - START).days + 1) / 365.25
    assert abs(len(t) - 4000 * years) < 5
    assert t["gd_no"].is_unique  # no table-level defect
    assert set(CHANNELS) <= set(t["tsly"])
    assert set(CATEGORIES) <= set(t["tssy"])
    assert {"人身险"} == set(t["ywlx"]) == set(tables["yw_gmb"]["ywlx"])  # a life insurer
    assert {"HO", "GD", "JS", "SC", "SD"} <= set(t["fgs_dm"].dropna())
    assert {"待处理", "处理中", "已答复", "已结案", "已撤诉", "不予受理"} == set(t["zt"])
    entities = {e.code for e in load_settings().settings.entities}
    assert set(t["fgs_dm"].dropna()) == entities
    assert (t["slsj"].dt.microsecond == 0).all()
    assert t["slsj"].min() >= pd.Timestamp(START) and t["slsj"].max() < pd.Timestamp(
        END + dt.timedelta(days=1)
    )


def test_links_forwarding_and_handling(tables: dict[str, pd.DataFrame]) -> None:
    t = tables["kf_tsgd"].set_index("gd_no")
    rep = t[t["cfts_ydh"].notna()]
    esc = t[t["sj_ydh"].notna()]
    assert len(rep) > 50 and len(esc) > 10
    assert not (t["cfts_ydh"].notna() & t["sj_ydh"].notna()).any()
    first = t.loc[rep["cfts_ydh"]]
    assert first["cfts_ydh"].isna().all()  # linked to the first record
    assert (first["slsj"].to_numpy() < rep["slsj"].to_numpy()).all()
    assert (first["tsr_id"].to_numpy() == rep["tsr_id"].to_numpy()).all()
    fwd = t[t["jgzb"] == "Y"]
    dates = pd.to_datetime(fwd["zbrq"], errors="coerce")
    ok = dates.notna()
    planted = fwd["zbrq"] == "2025年13月45日"  # the planted defect, one per quarter: nothing else unparseable
    assert (~ok).sum() == planted.sum() >= 1 and (planted == ~ok).all()
    assert (dates[ok] <= fwd["slsj"][ok]).all() and fwd["zbwh"].notna().all()
    assert set(t["fzcd"]) == {"一般", "复杂", "特别复杂"}
    assert (t["ztts"] > 0).any() and t["cxjssj"].notna().any()
    closed = t[t["zt"] == "已结案"]
    called = set(tables["kf_hf"]["gd_no"])
    assert 0.05 < 1 - closed.index.isin(list(called)).mean() < 0.4  # some call-backs missing
    assert set(tables["kf_gdls"]["czlx"]) == {"登记", "联系客户", "进度告知", "升级", "备注"}
    assert set(tables["kf_hf"]["hfjg"]) == {"满意", "基本满意", "不满意", "未接通"}


def test_holidays_delay_decisions(tables: dict[str, pd.DataFrame]) -> None:
    t = tables["kf_tsgd"]
    d = t["dfsj"].dropna().dt.normalize()
    # the National Day week 2025-10-01..08: (almost) nothing is decided while the office is closed
    golden_week = d.between(pd.Timestamp("2025-10-01"), pd.Timestamp("2025-10-08")).sum()
    week_after = d.between(pd.Timestamp("2025-10-13"), pd.Timestamp("2025-10-20")).sum()
    assert golden_week < week_after / 4


def test_planted_row_defects(tables: dict[str, pd.DataFrame]) -> None:
    t = tables["kf_tsgd"]
    assert (t["dfsj"] < t["slsj"]).sum() >= 1
    assert (~t["tssy"].isin(CATEGORIES)).sum() >= 1
    assert t["fgs_dm"].isna().sum() >= 1
    assert t["tsnr"].str.contains(r"1[3-9]\d{9}", regex=True).sum() >= 1
    fwd = t[t["jgzb"] == "Y"]
    assert pd.to_datetime(fwd["zbrq"], errors="coerce").isna().sum() >= 1
    assert (t["tsnr"].str.contains(r"\d{3}\*{4}\d{4}", regex=True)).sum() > 10  # masked numbers are fine


def test_create_on_sqlite_counts_and_recreates(tmp_path) -> None:  # type: ignore[no-untyped-def]
    url = f"sqlite:///{tmp_path / 'demo.sqlite'}"
    counts = create_demo_source(url, seed=1, complaints=300, start=START, end=END)
    again = create_demo_source(url, seed=1, complaints=300, start=START, end=END)
    assert counts == again
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        for table, n in counts.items():
            assert conn.execute(sa.text(f"select count(*) from {table}")).scalar() == n
        slsj = conn.execute(sa.text("select slsj from kf_tsgd limit 1")).scalar()
    engine.dispose()
    assert counts["kf_jgxx"] == 12 and counts["yw_gmb"] > 0
    assert "." not in str(slsj) or str(slsj).endswith(".000000")  # second precision
