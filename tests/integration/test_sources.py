"""Source layer against real databases: SQLite, PostgreSQL and MariaDB give the same ledger; the
extraction reads one consistent snapshot; a dropped connection is retried or fails cleanly."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import sqlalchemy as sa
import yaml

from complaints.periods import Period
from tasks.config_files import CONFIG_DIR, load_settings
from tasks.demo_data import create_demo_source
from tasks.sources import Extract, ExtractError, extract_period

pytestmark = pytest.mark.db

START, END = dt.date(2025, 7, 1), dt.date(2026, 11, 20)
PERIOD = Period.parse("2026Q3")
AS_OF = dt.datetime(2026, 11, 21, 9, 0)
N = 2000
PG = "postgresql+psycopg://postgres@127.0.0.1:5432"
MY = "mysql+pymysql://root@127.0.0.1:3306"
ENV = "COMPLAINTS_DEMO_SOURCE_URL"


def _server_up(url: str) -> bool:
    try:
        eng = sa.create_engine(url, connect_args={"connect_timeout": 3})
        with eng.connect():
            pass
        eng.dispose()
        return True
    except Exception:  # noqa: BLE001
        return False


@pytest.fixture(scope="module")
def pg_url() -> Iterator[str]:
    if not _server_up(f"{PG}/test"):
        pytest.skip("PostgreSQL on 127.0.0.1:5432 is not available")
    name = f"complaints_src_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(f"{PG}/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.exec_driver_sql(f"CREATE DATABASE \"{name}\" ENCODING 'UTF8' TEMPLATE template0")
    url = f"{PG}/{name}"
    create_demo_source(url, seed=7, complaints=N, start=START, end=END)
    yield url
    with admin.connect() as c:
        c.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin.dispose()


@pytest.fixture(scope="module")
def my_url() -> Iterator[str]:
    if not _server_up(f"{MY}/test"):
        pytest.skip("MariaDB on 127.0.0.1:3306 is not available")
    name = f"complaints_src_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(f"{MY}/test")
    with admin.connect() as c:
        c.exec_driver_sql(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci")
    url = f"{MY}/{name}?charset=utf8mb4"
    create_demo_source(url, seed=7, complaints=N, start=START, end=END)
    yield url
    with admin.connect() as c:
        c.exec_driver_sql(f"DROP DATABASE IF EXISTS `{name}`")
    admin.dispose()


@pytest.fixture(scope="module")
def sqlite_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = f"sqlite:///{tmp_path_factory.mktemp('src') / 'demo_source.sqlite'}"
    create_demo_source(url, seed=7, complaints=N, start=START, end=END)
    return url


def _extract(monkeypatch: pytest.MonkeyPatch, url: str, **kw) -> Extract:  # type: ignore[no-untyped-def]
    monkeypatch.setenv(ENV, url)
    return extract_period(load_settings(), PERIOD, AS_OF, progress=False, **kw)


def _comparable(x: Extract) -> dict[str, pd.DataFrame]:
    return {"ledger": x.ledger, "events": x.events, "exposure": x.exposure}


def test_sqlite_extract_content(monkeypatch: pytest.MonkeyPatch, sqlite_url: str) -> None:
    x = _extract(monkeypatch, sqlite_url)
    led = x.ledger
    assert led["complaint_id"].is_unique and (led["source"] == "demo_callcenter").all()
    recv = led["received_at"]
    in_p = recv.between(pd.Timestamp("2026-07-01"), pd.Timestamp("2026-10-01"), inclusive="left")
    prev = recv.between(pd.Timestamp("2026-04-01"), pd.Timestamp("2026-07-01"), inclusive="left")
    yoy = recv.between(pd.Timestamp("2025-07-01"), pd.Timestamp("2025-10-01"), inclusive="left")
    assert in_p.sum() > 300 and prev.sum() > 300 and yoy.sum() > 300
    # the five quarters 2025Q3..2026Q3 without gaps (QoQ, YoY and the trend chart)
    window = recv.between(pd.Timestamp("2025-07-01"), pd.Timestamp("2026-10-01"), inclusive="left")
    assert recv.between(pd.Timestamp("2025-10-01"), pd.Timestamp("2026-04-01"), inclusive="left").sum() > 600
    other = led[~window]
    backlog = other["decided_at"].isna() | (other["decided_at"] > pd.Timestamp(AS_OF))
    linked = other["complaint_id"].isin(pd.concat([led["repeat_of"], led["escalation_of"]]).dropna())
    # the demo data start with the window, so nothing older is here; the backlog clause is in the SQL
    assert (backlog | linked).all()
    assert any("open_before" in q["params"] for q in x.queries)
    ids = set(led["complaint_id"])
    assert set(led["repeat_of"].dropna()) <= ids and set(led["escalation_of"].dropna()) <= ids
    assert set(x.events["complaint_id"]) <= ids and len(x.events) > 2 * len(led)
    assert set(x.exposure["period"]) == {"2025Q3", "2025Q4", "2026Q1", "2026Q2", "2026Q3"}
    assert len(x.exposure) == 25  # 5 entities x 5 quarters, one line (a life insurer)
    assert str(led["received_at"].dtype) == "datetime64[us]"
    assert {"claims", "sales"} <= set(led["category"]) and set(led["channel"]) <= {
        "phone",
        "online",
        "email",
        "letter",
        "fax",
        "sms",
        "visit",
        "regulator",
        "association",
        "media",
        "other",
    }
    assert led["satisfaction"].notna().sum() > 0
    # the queries are kept verbatim with their parameters and row counts
    main = x.queries[0]
    assert main["table"] == "kf_tsgd" and '"kf_tsgd"."slsj" >=' in main["sql"]
    assert (
        main["params"]["w0_start"] == "2026-07-01T00:00:00" and main["params"]["as_of"] == AS_OF.isoformat()
    )
    assert sum(q["rows"] for q in x.queries if q["table"] == "kf_tsgd") == len(led)
    assert sum(q["rows"] for q in x.queries if q["table"] == "kf_gdls") == len(x.events)
    scoped = _extract(monkeypatch, sqlite_url, entity="GD")
    assert (scoped.ledger["entity_code"] == "GD").all() and (scoped.exposure["entity_code"] == "GD").all()
    assert 0 < len(scoped.ledger) < len(led)


def test_same_ledger_on_sqlite_postgresql_mariadb(
    monkeypatch: pytest.MonkeyPatch, sqlite_url: str, pg_url: str, my_url: str
) -> None:
    base = _comparable(_extract(monkeypatch, sqlite_url))
    for url in (pg_url, my_url):
        other = _comparable(_extract(monkeypatch, url))
        for name, frame in base.items():
            pd.testing.assert_frame_equal(frame, other[name], obj=f"{name} from {url.split(':')[0]}")
    assert len(base["ledger"]) > 1000


def _snapshot_case(monkeypatch: pytest.MonkeyPatch, url: str, after_source_query: Any) -> None:
    before = _extract(monkeypatch, url)
    writer = sa.create_engine(url)
    first_id = before.ledger["complaint_id"].iloc[0]
    fired: list[str] = []

    def insert_midway(statement: str) -> None:
        if fired or "kf_tsgd" not in statement or statement.lstrip().upper().startswith("INSERT"):
            return
        fired.append(statement)
        with writer.begin() as w:  # another session commits while the extraction is reading
            w.exec_driver_sql(
                "INSERT INTO kf_tsgd (gd_no, fgs_dm, cljg_dm, sf, slsj, tsly, ywlx, tssy, tsjb, jgzb, zt,"
                " yxts)"
                " VALUES ('TS2026081599999', 'GD', 'GD', '广东', '2026-08-15 10:00:00', '官网', '人身险',"
                " '理赔', '一般', 'N', '处理中', 'Y')"
            )
            w.exec_driver_sql(
                "INSERT INTO kf_gdls (ls_id, gd_no, czsj, czlx) SELECT MAX(ls_id) + 1, MIN(gd_no), "
                "'2026-11-20 10:00:00', '备注' FROM kf_gdls"
            )
            w.exec_driver_sql(
                "INSERT INTO kf_hf (hf_id, gd_no, hfsj, hfjg) SELECT MAX(hf_id) + 1, "
                f"'{first_id}', '2026-11-20 11:00:00', '不满意' FROM kf_hf"
            )

    after_source_query(insert_midway)
    try:
        during = _extract(monkeypatch, url)
    finally:
        after_source_query.stop()
    assert fired, "the insert did not run during the extraction"
    for name, frame in _comparable(before).items():
        pd.testing.assert_frame_equal(frame, _comparable(during)[name], obj=name)
    after = _extract(monkeypatch, url)
    assert "TS2026081599999" in set(after.ledger["complaint_id"])
    assert len(after.events) == len(before.events) + 1
    assert after.ledger["satisfaction"].iloc[0] == "dissatisfied"
    with writer.begin() as w:
        w.exec_driver_sql("DELETE FROM kf_tsgd WHERE gd_no = 'TS2026081599999'")
        w.exec_driver_sql(
            "DELETE FROM kf_gdls WHERE ls_id = (SELECT m FROM (SELECT MAX(ls_id) m FROM kf_gdls) t)"
        )
        w.exec_driver_sql(
            "DELETE FROM kf_hf WHERE hf_id = (SELECT m FROM (SELECT MAX(hf_id) m FROM kf_hf) t)"
        )
    writer.dispose()


def test_snapshot_is_consistent_while_rows_are_inserted(
    monkeypatch: pytest.MonkeyPatch, pg_url: str, my_url: str, after_source_query: Any
) -> None:
    for url in (pg_url, my_url):  # PostgreSQL read through ADBC, MariaDB through SQLAlchemy
        _snapshot_case(monkeypatch, url, after_source_query)


def _killer(db_url: str, times: int):  # type: ignore[no-untyped-def]
    """A listener that terminates the extraction's PostgreSQL backend right after its first query."""
    killer = sa.create_engine(db_url, isolation_level="AUTOCOMMIT")
    dbname = sa.make_url(db_url).database
    kills: list[int] = []

    def kill(statement: str) -> None:
        if "kf_tsgd" not in statement or len(kills) >= times:
            return
        with killer.connect() as k:
            n = k.execute(
                sa.text(
                    "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                    "WHERE datname = :db AND pid <> pg_backend_pid()"
                ),
                {"db": dbname},
            ).scalar()
        kills.append(int(n or 0))

    return killer, kill, kills


def test_connection_drop_is_retried(monkeypatch: pytest.MonkeyPatch, pg_url: str,
                                    after_source_query: Any) -> None:
    baseline = _extract(monkeypatch, pg_url)
    killer, kill, kills = _killer(pg_url, times=1)
    sleeps: list[float] = []
    after_source_query(kill)
    try:
        x = _extract(monkeypatch, pg_url, sleep=sleeps.append)
    finally:
        after_source_query.stop()
        killer.dispose()
    assert kills == [1] and sleeps == [1.0]  # one backend killed, one backoff, whole snapshot re-read
    for name, frame in _comparable(baseline).items():
        pd.testing.assert_frame_equal(frame, _comparable(x)[name], obj=name)
    assert [q["rows"] for q in x.queries] == [q["rows"] for q in baseline.queries]


def test_connection_that_keeps_dropping_fails_cleanly(monkeypatch: pytest.MonkeyPatch, pg_url: str,
                                                     after_source_query: Any) -> None:
    killer, kill, kills = _killer(pg_url, times=100)
    sleeps: list[float] = []
    after_source_query(kill)
    result = None
    try:
        with pytest.raises(ExtractError) as err:
            result = _extract(monkeypatch, pg_url, sleep=sleeps.append)
    finally:
        after_source_query.stop()
        killer.dispose()
    assert result is None  # no partial output
    text = str(err.value)
    assert "demo_callcenter" in text and "4 time(s)" in text and "nothing was extracted" in text
    assert sleeps == [1.0, 2.0, 4.0] and len(kills) == 4


def test_missing_table_is_a_named_failure(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    import sqlite3

    sqlite3.connect(tmp_path / "empty.sqlite").close()  # a database without the source's tables
    url = f"sqlite:///{tmp_path / 'empty.sqlite'}"
    with pytest.raises(ExtractError, match="demo_callcenter.*query failed.*kf_tsgd"):
        _extract(monkeypatch, url)
    # with progress shown, the failed read closes its bar: one left open would shift every later bar
    # of the process a line down, and their cursor-up codes would land before the error message
    from tqdm import tqdm

    with pytest.raises(ExtractError):
        extract_period(load_settings(), PERIOD, AS_OF, progress=True)
    assert not list(tqdm._instances)  # type: ignore[attr-defined]


def test_two_sources_are_merged_and_duplicates_reported(
    monkeypatch: pytest.MonkeyPatch, sqlite_url: str, tmp_path: Path
) -> None:
    demo = yaml.safe_load((CONFIG_DIR / "sources" / "demo_callcenter.yaml").read_text(encoding="utf-8"))
    second = dict(demo, name="legacy_hotline", url_env="LEGACY_HOTLINE_URL")
    (tmp_path / "legacy.yaml").write_text(yaml.safe_dump(second, allow_unicode=True), encoding="utf-8")
    settings = yaml.safe_load((CONFIG_DIR / "complaints.yaml").read_text(encoding="utf-8"))
    settings["sources"] = [
        str(CONFIG_DIR / "sources" / "demo_callcenter.yaml"),
        str(tmp_path / "legacy.yaml"),
    ]
    cfg = tmp_path / "complaints.yaml"
    cfg.write_text(yaml.safe_dump(settings, allow_unicode=True), encoding="utf-8")
    monkeypatch.setenv(ENV, sqlite_url)
    monkeypatch.setenv("LEGACY_HOTLINE_URL", sqlite_url)
    single = extract_period(load_settings(), PERIOD, AS_OF, progress=False)
    both = extract_period(load_settings(cfg), PERIOD, AS_OF, progress=False)
    assert [s["name"] for s in both.sources] == ["demo_callcenter", "legacy_hotline"]
    for name, frame in _comparable(single).items():
        pd.testing.assert_frame_equal(frame, _comparable(both)[name], obj=name)
    d = both.duplicates
    assert len(d) == len(single.ledger) and set(d["match"]) == {"complaint_id"}
    assert (d["kept_source"] == "demo_callcenter").all() and (d["dropped_source"] == "legacy_hotline").all()
    assert len(both.queries) == 2 * len(single.queries)


def test_natural_key_duplicates_across_sources() -> None:
    from tasks.sources import merge_sources

    row = {
        "complaint_id": "A1",
        "complainant_ref": "C1",
        "policy_no": "P1",
        "received_at": pd.Timestamp("2026-07-02 10:00"),
        "category": "claims",
    }
    ledger = pd.DataFrame(
        [
            dict(row, source="hotline"),
            dict(row, complaint_id="B9", source="branch_xlsx"),
            dict(row, complaint_id="A2", category="sales", source="branch_xlsx"),
        ]
    )
    events = pd.DataFrame(
        {"complaint_id": ["A1", "B9", "A2"], "source": ["hotline", "branch_xlsx", "branch_xlsx"]}
    )
    led, ev, _, dups = merge_sources(ledger, events, pd.DataFrame())
    assert list(led["complaint_id"]) == ["A1", "A2"] and list(ev["complaint_id"]) == ["A1", "A2"]
    assert dups.to_dict("records") == [
        {
            "match": "natural_key",
            "kept_source": "hotline",
            "kept_id": "A1",
            "dropped_source": "branch_xlsx",
            "dropped_id": "B9",
        }
    ]


def test_branch_spreadsheet_round_trip(tmp_path: Path) -> None:
    from openpyxl import load_workbook

    from tasks.sources import DATA_SHEET, read_branch_folder, write_template

    template = write_template(tmp_path / "template.xlsx")
    wb = load_workbook(template)
    assert wb.sheetnames[0] == "填写说明" and DATA_SHEET in wb.sheetnames
    ws = wb[DATA_SHEET]
    headers = [c.value for c in ws[1]]
    assert headers[:3] == ["投诉编号", "机构代码", "处理机构"]
    assert any("代码表" in str(dv.formula1) for dv in ws.data_validations.dataValidation)
    good = {
        "投诉编号": "GD-001",
        "机构代码": "GD",
        "处理机构": "GD01",
        "省份": "广东",
        "收到投诉时间": "2026-07-03 10:00",
        "投诉渠道": "phone",
        "业务类型": "人身险",
        "投诉事由": "理赔",
        "投诉级别": "general",
        "监管转办": "否",
        "有效投诉": "是",
    }
    bad = dict(good, **{"投诉编号": "GD-002", "收到投诉时间": "2026-13-40", "投诉事由": "赔款"})
    missing = dict(good, **{"投诉编号": "GD-003", "省份": None})
    for r, row in enumerate([good, bad, missing], start=2):
        for j, h in enumerate(headers, start=1):
            if row.get(h) is not None:
                ws.cell(r, j, row[h])
    folder = tmp_path / "branches"
    folder.mkdir()
    wb.save(folder / "gd_2026q3.xlsx")
    ledger, errors = read_branch_folder(folder)
    assert list(ledger["complaint_id"]) == ["GD-001"]
    assert ledger.loc[0, "category"] == "claims" and ledger.loc[0, "business_line"] == "life"
    assert ledger.loc[0, "received_at"] == pd.Timestamp("2026-07-03 10:00")
    assert set(zip(errors["行号"], errors["列"], strict=True)) == {
        (3, "received_at"),
        (3, "category"),
        (4, "province"),
    }
    back = pd.read_excel(folder / "gd_2026q3_errors.xlsx")
    assert len(back) == 3 and set(back["文件"]) == {"gd_2026q3.xlsx"}


def test_missing_sqlite_file_is_named_not_created(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    missing = tmp_path / "nowhere.sqlite"
    with pytest.raises(ExtractError, match="does not exist") as info:
        _extract(monkeypatch, f"sqlite:///{missing}")
    assert "complaints demo-data" in str(info.value)
    assert not missing.exists()  # connecting would have created an empty database
