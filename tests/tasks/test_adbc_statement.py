"""What the ADBC path sends PostgreSQL: values written into the SQL only when nothing in them could need
escaping (COPY needs a query without parameters), ``$n`` parameters otherwise; the libpq URI of a
SQLAlchemy URL; and which URLs take the ADBC path at all."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

from tasks.sources.sql import _adbc_statement, adbc_uri, quoted_table


def _tickets() -> sa.TableClause:
    return quoted_table("kf_tsgd", ["gd_no", "slsj", "fgs_dm"], {"slsj": sa.DateTime()})


def test_plain_values_are_written_into_the_sql() -> None:
    t = _tickets()
    stmt = sa.select(t.c.gd_no).where(
        t.c.slsj >= sa.bindparam("s", dt.datetime(2026, 4, 1), type_=sa.DateTime()),
        t.c.fgs_dm == sa.bindparam("entity", "GD-01"),
    )
    sql, params = _adbc_statement(stmt)
    assert params == []
    assert "'2026-04-01 00:00:00'" in sql and "'GD-01'" in sql and "$" not in sql


def test_values_that_would_need_escaping_stay_parameters() -> None:
    t = _tickets()
    ids = ["TS1", "O'Brien\\x", "TS3"]
    stmt = sa.select(t.c.gd_no).where(
        t.c.slsj >= sa.bindparam("s", dt.datetime(2026, 4, 1), type_=sa.DateTime()),
        t.c.gd_no.in_(sa.bindparam("ids", ids, expanding=True)),
    )
    sql, params = _adbc_statement(stmt)
    assert "O'Brien" not in sql and "$1" in sql and "$4" in sql
    assert params == [dt.datetime(2026, 4, 1), *ids]


def test_a_zoned_datetime_is_never_written_as_text() -> None:
    t = _tickets()
    aware = dt.datetime(2026, 4, 1, tzinfo=dt.UTC)
    _, params = _adbc_statement(sa.select(t.c.gd_no).where(
        t.c.slsj >= sa.bindparam("s", aware, type_=sa.DateTime(timezone=True))))
    assert params == [aware]


def test_only_postgresql_urls_take_the_adbc_path() -> None:
    uri = adbc_uri("postgresql+psycopg://reader:s3cr%40t@db.example:6432/complaints?sslmode=require")
    assert uri == "postgresql://reader:s3cr%40t@db.example:6432/complaints?sslmode=require"
    assert adbc_uri("postgresql://reader@db/complaints") == "postgresql://reader@db/complaints"
    assert adbc_uri("sqlite:////tmp/demo.sqlite") is None  # SQLite's columns have no types: SQLAlchemy
    assert adbc_uri("mysql+pymysql://root@127.0.0.1/test") is None
