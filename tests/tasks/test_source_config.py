"""Source mappings: validation errors name file, key and ledger column; identifiers cannot inject SQL."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import yaml

from tasks.config_files import CONFIG_DIR, load_settings
from tasks.sources import (
    SourceConfigError,
    check_identifier,
    load_source,
    load_sources,
    quoted_table,
)

DEMO = CONFIG_DIR / "sources" / "demo_callcenter.yaml"


def _write(tmp_path: Path, change) -> Path:  # type: ignore[no-untyped-def]
    data = yaml.safe_load(DEMO.read_text(encoding="utf-8"))
    change(data)
    p = tmp_path / "bad_source.yaml"
    p.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return p


def test_demo_mapping_loads() -> None:
    src = load_source(DEMO)
    m = src.sql()
    assert m.name == "demo_callcenter" and m.timezone == "Asia/Shanghai"
    assert m.ledger.columns["category"].values["理赔"] == "claims"  # type: ignore[index]
    assert m.ledger.lookups["callback"].table == "kf_hf"
    assert load_sources(load_settings())[0].name == "demo_callcenter"


def test_url_from_env_or_default(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    src = load_source(DEMO)
    monkeypatch.delenv("COMPLAINTS_DEMO_SOURCE_URL", raising=False)
    assert src.url(tmp_path) == f"sqlite:///{tmp_path.resolve()}/demo_source.sqlite"
    monkeypatch.setenv("COMPLAINTS_DEMO_SOURCE_URL", "postgresql+psycopg://u@h/db")
    assert src.url(tmp_path) == "postgresql+psycopg://u@h/db"


@pytest.mark.parametrize(
    ("change", "key", "column"),
    [
        (lambda d: d["ledger"]["columns"].__setitem__("chanel", "tsly"), "ledger.columns.chanel", "chanel"),
        (lambda d: d["ledger"]["columns"].pop("received_at"), "ledger.columns", "received_at"),
        (
            lambda d: d["ledger"]["columns"]["category"]["values"].__setitem__("理赔", "claim"),
            "ledger.columns.category.values.理赔",
            "category",
        ),
        (
            lambda d: d["ledger"]["columns"]["valid"]["values"].__setitem__("Y", "yes"),
            "ledger.columns.valid.values.Y",
            "valid",
        ),
        (
            lambda d: d["ledger"]["columns"].__setitem__("province", "sf; drop table x"),
            "ledger.columns.province.column",
            "province",
        ),
        (
            lambda d: d["ledger"]["columns"]["satisfaction"].__setitem__("lookup", "nope"),
            "ledger.columns.satisfaction.lookup",
            "satisfaction",
        ),
        (
            lambda d: d["events"]["columns"]["kind"]["values"].__setitem__("登记", "log"),
            "events.columns.kind.values.登记",
            "kind",
        ),
        (
            lambda d: d["ledger"]["defaults"].__setitem__("complexity", "hard"),
            "ledger.defaults.complexity",
            "complexity",
        ),
    ],
)
def test_mapping_errors_name_file_key_and_column(tmp_path: Path, change, key: str, column: str) -> None:  # type: ignore[no-untyped-def]
    path = _write(tmp_path, change)
    with pytest.raises(SourceConfigError) as err:
        load_source(path)
    text = str(err.value)
    assert str(path) in text
    assert key in text
    assert f"(ledger column {column})" in text


def test_password_in_url_is_refused(tmp_path: Path) -> None:
    path = _write(tmp_path, lambda d: d.__setitem__("default_url", "postgresql://app:s3cret@db/x"))
    with pytest.raises(SourceConfigError, match="default_url.*password"):
        load_source(path)


def test_unknown_timezone_and_missing_url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(SourceConfigError, match="timezone"):
        load_source(_write(tmp_path, lambda d: d.__setitem__("timezone", "Mars/Olympus")))
    path = _write(tmp_path, lambda d: d.pop("default_url"))
    monkeypatch.delenv("COMPLAINTS_DEMO_SOURCE_URL", raising=False)
    with pytest.raises(SourceConfigError, match="COMPLAINTS_DEMO_SOURCE_URL"):
        load_source(path).url()


@pytest.mark.parametrize(
    "name",
    [
        'kf_tsgd"; DROP TABLE kf_tsgd; --',
        "kf_tsgd --",
        "a b",
        "1abc",
        "x'y",
        "a.b.c",
        "tsly)",
        "",
        "`x`",
        "slsj OR 1=1",
        "a-b",
    ],
)
def test_identifier_validation_rejects_injection(name: str, tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        check_identifier(name)
    path = _write(tmp_path, lambda d: d["ledger"].__setitem__("table", name))
    with pytest.raises(SourceConfigError, match="ledger.table"):
        load_source(path)


def test_identifiers_accepted_and_quoted() -> None:
    for ok in ("kf_tsgd", "dbo.kf_tsgd", "投诉工单", "_x1"):
        assert check_identifier(ok) == ok
    import sqlalchemy as sa
    from sqlalchemy.dialects import mysql, postgresql

    t = quoted_table("ods.kf_tsgd", ["gd_no", "slsj"])
    stmt = sa.select(t.c.gd_no).where(t.c.slsj >= sa.bindparam("lo", dt.datetime(2026, 7, 1)))
    pg = str(stmt.compile(dialect=postgresql.dialect()))
    assert '"ods"."kf_tsgd"' in pg and "%(lo)s" in pg  # quoted names, bound parameter
    assert "`kf_tsgd`" in str(stmt.compile(dialect=mysql.dialect()))


def test_template_field_and_query_checks(tmp_path: Path) -> None:
    bad = _write(tmp_path, lambda d: d["exposure"]["columns"].__setitem__("period", {"template": "{tjnd!r}"}))
    with pytest.raises(SourceConfigError, match="exposure.columns.period"):
        load_source(bad)
    bad = _write(tmp_path, lambda d: d["events"].update({"table": None, "query": "delete from kf_gdls"}))
    with pytest.raises(SourceConfigError, match="events.query"):
        load_source(bad)


def test_every_existing_source_file_loads_and_sql_is_the_default_kind() -> None:
    kinds = {p.name: load_source(p).kind for p in sorted((CONFIG_DIR / "sources").glob("*.yaml"))}
    assert kinds == {
        "branch_spreadsheets.example.yaml": "branch_spreadsheets",
        "demo_callcenter.yaml": "sql",
        "ledger_files.example.yaml": "ledger_files",
    }
    assert "kind" not in yaml.safe_load(DEMO.read_text(encoding="utf-8"))  # old files stay valid
    # the examples are not read by the demo
    assert [s.kind for s in load_sources(load_settings())] == ["sql"]


def _write_yaml(tmp_path: Path, data: dict) -> Path:  # type: ignore[type-arg]
    p = tmp_path / "src.yaml"
    p.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return p


SHEETS = {"kind": "branch_spreadsheets", "name": "x", "path": "in"}


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"kind": "mainframe", "name": "x"}, r"kind: unknown source kind 'mainframe'"),
        ({"kind": "branch_spreadsheets", "name": "x"}, r"path: Field required"),
        (
            {"kind": "branch_spreadsheets", "name": "x", "path": "in", "pattern": "*.csv"},
            r"pattern: .*\.xlsx",
        ),
        ({"kind": "branch_spreadsheets", "name": "x y", "path": "in"}, r"name: source name"),
        (
            {"kind": "branch_spreadsheets", "name": "x", "path": "in", "on_unreadable": "ignore"},
            "on_unreadable",
        ),
        ({"kind": "ledger_files", "name": "x", "ledger": []}, r"give at least one ledger file"),
        ({"kind": "ledger_files", "name": "x", "ledger": "a.json"}, r"ledger: .*a\.json.*\.csv"),
        ({"kind": "ledger_files", "name": "x", "ledger": "a.csv", "url_env": "X"}, r"url_env: Extra inputs"),
    ],
)
def test_file_source_errors_name_file_and_key(tmp_path: Path, data: dict, message: str) -> None:  # type: ignore[type-arg]
    path = _write_yaml(tmp_path, data)
    with pytest.raises(SourceConfigError, match=message) as err:
        load_source(path)
    assert str(path) in str(err.value)


def test_file_source_paths_resolve_against_the_working_directory(tmp_path: Path) -> None:
    src = load_source(
        _write_yaml(tmp_path, {"kind": "ledger_files", "name": "x", "ledger": ["a.csv", "/data/b.parquet"]})
    )
    assert src.resolve("a.csv", tmp_path) == tmp_path.resolve() / "a.csv"
    assert src.location(tmp_path) == f"{tmp_path.resolve() / 'a.csv'}, /data/b.parquet"
    with pytest.raises(TypeError, match="ledger_files, not sql"):
        src.url()
