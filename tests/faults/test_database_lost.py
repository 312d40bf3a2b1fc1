"""The source database connection is lost in the middle of the extraction (PostgreSQL on loopback).

Another connection calls ``pg_terminate_backend`` on the extraction's backend right after each of its
queries on the complaints table (the ``after_source_query`` fixture: the real server drops the real
connection, on the ADBC path PostgreSQL is read through). While it keeps happening the run fails with
one message naming the source, and nothing is archived or reported as filed; when it happens once, the
extraction re-reads the whole snapshot and the run files normally.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa
import yaml
from conftest import Workdir, assert_consistent, one_clear_error

from tasks.config_files import CONFIG_DIR

pytestmark = [pytest.mark.db, pytest.mark.slow]
PG = "postgresql+psycopg://postgres@127.0.0.1:5432"


@pytest.fixture(scope="module")
def pg_source() -> Iterator[str]:
    from tasks.demo_data import create_demo_source

    try:
        probe = sa.create_engine(f"{PG}/test", connect_args={"connect_timeout": 3})
        with probe.connect():
            pass
        probe.dispose()
    except Exception:  # noqa: BLE001
        pytest.skip("PostgreSQL on 127.0.0.1:5432 is not available")
    name = f"complaints_fault_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(f"{PG}/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.exec_driver_sql(f"CREATE DATABASE \"{name}\" ENCODING 'UTF8' TEMPLATE template0")
    url = f"{PG}/{name}"
    create_demo_source(url, seed=7, complaints=1000, start=dt.date(2025, 7, 1), end=dt.date(2026, 11, 19))
    yield url
    with admin.connect() as c:
        c.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin.dispose()


def _killer(db_url: str, times: int) -> tuple[sa.Engine, Any, list[int]]:
    killer = sa.create_engine(db_url, isolation_level="AUTOCOMMIT")
    dbname = sa.make_url(db_url).database
    kills: list[int] = []

    def kill(statement: str) -> None:
        if "kf_tsgd" not in statement or len(kills) >= times:
            return
        with killer.connect() as k:
            n = k.execute(sa.text("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                                  "WHERE datname = :db AND pid <> pg_backend_pid()"), {"db": dbname}).scalar()
        kills.append(int(n or 0))

    return killer, kill, kills


def test_connection_lost_mid_extraction(workdir: Workdir, pg_source: str,
                                        monkeypatch: pytest.MonkeyPatch, after_source_query: Any) -> None:
    mapping = yaml.safe_load((CONFIG_DIR / "sources" / "demo_callcenter.yaml").read_text(encoding="utf-8"))
    mapping.update(retries=1, retry_backoff_s=0.1)  # keep the failing case short: 2 attempts
    (workdir.path / "demo_callcenter.yaml").write_text(yaml.safe_dump(mapping, allow_unicode=True),
                                                       encoding="utf-8")
    workdir.edit_config(sources=[str(workdir.path / "demo_callcenter.yaml")])
    monkeypatch.setenv("COMPLAINTS_DEMO_SOURCE_URL", pg_source)

    killer, kill, kills = _killer(pg_source, times=100)
    after_source_query(kill)
    try:
        lost = workdir.cli(*workdir.run_args("HO"))
    finally:
        after_source_query.stop()
        killer.dispose()
    assert len(kills) == 2 and all(n >= 1 for n in kills)  # the backend was really terminated, twice
    one_clear_error(lost, "demo_callcenter", "nothing was extracted")
    assert_consistent(workdir, "HO", filed=0)

    killer, kill, kills = _killer(pg_source, times=1)  # dropped once: retried, whole snapshot re-read
    after_source_query(kill)
    try:
        ok = workdir.cli(*workdir.run_args("HO"), "--json")
    finally:
        after_source_query.stop()
        killer.dispose()
    assert kills == [1] and ok.exit_code == 0, ok.output
    summary = json.loads(ok.stdout[ok.stdout.index("{"):])
    assert assert_consistent(workdir, "HO", filed=1) == [summary["bundle"]]
    assert summary["rows"]["read"] == summary["rows"]["accepted"] + summary["rows"]["quarantined"] > 0
