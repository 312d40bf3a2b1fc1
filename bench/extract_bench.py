"""Benchmark: extract_period vs a plain pandas.read_sql of the same ticket rows, on PostgreSQL.

    .venv/bin/python bench/extract_bench.py --complaints 200000

Loads N complaints a year (the default span, about 1.4 years) into a fresh PostgreSQL database, then
times, in the same run, ``extract_period`` (snapshot, links, lookups, events, exposure, translation)
and ``pandas.read_sql`` of the ticket rows it reads. Prints both times and their ratio. The database
is dropped afterwards unless --keep is given.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import time
import uuid

import pandas as pd
import sqlalchemy as sa

from complaints.periods import Period, last_full_quarter
from tasks.config_files import load_settings
from tasks.demo_data import create_demo_source
from tasks.memory import tune
from tasks.sources import extract_period

SERVER = "postgresql+psycopg://postgres@127.0.0.1:5432"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--complaints", type=int, default=200000, help="complaints per year of span")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--server", default=SERVER)
    ap.add_argument("--keep", action="store_true", help="keep the database")
    ap.add_argument("--repeat", type=int, default=2, help="timed runs of each (best is reported)")
    ap.add_argument("--reuse", metavar="DBNAME", help="time an existing demo database (kept, not loaded)")
    args = ap.parse_args()
    tune()

    name = args.reuse or f"complaints_bench_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(f"{args.server}/postgres", isolation_level="AUTOCOMMIT")
    url = f"{args.server}/{name}"
    if args.reuse:
        args.keep = True
    else:
        with admin.connect() as c:
            c.exec_driver_sql(f"CREATE DATABASE \"{name}\" ENCODING 'UTF8' TEMPLATE template0")
    try:
        if not args.reuse:
            t0 = time.perf_counter()
            counts = create_demo_source(url, seed=args.seed, complaints=args.complaints)
            load_s = time.perf_counter() - t0
            print(f"loaded {counts} in {load_s:.1f} s")
        else:
            print(f"reusing database {name}")
        os.environ["COMPLAINTS_DEMO_SOURCE_URL"] = url
        loaded = load_settings()
        period = last_full_quarter(dt.date.today())
        as_of = dt.datetime.now().replace(microsecond=0)

        extract_times, plain_times, all_times = [], [], []
        x = None
        for _ in range(args.repeat):
            t0 = time.perf_counter()
            x = extract_period(loaded, period, as_of, progress=False)
            extract_times.append(time.perf_counter() - t0)
            main = x.queries[0]
            engine = sa.create_engine(url)
            t0 = time.perf_counter()
            with engine.connect() as conn:
                frame = pd.read_sql(main["sql"], conn, params=_params(main["params"]))  # exact text
            plain_times.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            with engine.connect() as conn:  # every query extract_period ran, as plain read_sql
                for q in (q for q in x.queries if "sql" in q):
                    pd.read_sql(q["sql"], conn, params=_params(q["params"]))
            all_times.append(time.perf_counter() - t0)
            engine.dispose()
        assert x is not None
        ticket_rows = sum(q["rows"] for q in x.queries if q["table"] == "kf_tsgd")
        e, p = min(extract_times), min(plain_times)
        print(
            f"period {Period.parse(period.code)}: extract_period read {len(x.ledger)} ledger rows "
            f"({ticket_rows} ticket rows), {len(x.events)} events, {len(x.exposure)} exposure rows "
            f"in {len(x.queries)} queries"
        )
        print(f"pandas.read_sql of the same main ticket query: {len(frame)} rows")
        a = min(all_times)
        print(f"extract_period: {e:.2f} s   read_sql: {p:.2f} s   ratio: {e / p:.2f}x")
        if args.keep:
            print(f"database kept: {name} (time it again with --reuse {name})")
        print(
            f"read_sql of all {len(x.queries)} queries (tickets, links, call-backs, events, exposure): "
            f"{a:.2f} s   ratio: {e / a:.2f}x"
        )
    finally:
        if not args.keep:
            with admin.connect() as c:
                c.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


def _params(params: dict[str, object]) -> dict[str, object]:
    out: dict[str, object] = {}
    for k, v in params.items():
        try:
            out[k] = dt.datetime.fromisoformat(str(v)) if isinstance(v, str) and "T" in v else v
        except ValueError:
            out[k] = v
    return out


if __name__ == "__main__":
    main()
