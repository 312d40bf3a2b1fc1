"""Large demo sources for the benchmark: N complaints (≈5 events each) in PostgreSQL and in Parquet.

    .venv/bin/python bench/generate.py --complaints 1000000 [--dir /tmp/complaints-bench] [--force] [--drop]

Builds the demo call-centre tables with :func:`tasks.demo_data.generate` over the five quarters a
quarterly run of :data:`PERIOD` reads (so every generated ticket is in the run's window), adds
progress notes so that a complaint has about five events, and loads them into the PostgreSQL database
``complaints_bench`` (dropped and recreated) with ``COPY`` (psycopg ``cursor.copy``), and writes each
table as ``<dir>/<complaints>/<table>.parquet``. A ``bench_meta`` table records what was generated:
:func:`ensure_source` reuses a database that already holds the same generation (``--force`` rebuilds).
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import sqlalchemy as sa

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from complaints.periods import Period  # noqa: E402
from tasks.demo_data import DEMO_TABLES, generate  # noqa: E402

SERVER = "postgresql+psycopg://postgres@127.0.0.1:5432"
DATABASE = "complaints_bench"
PERIOD = Period.parse("2026Q2")  # the filing the bench runs; its window is 2025Q2..2026Q2
AS_OF = dt.datetime(2026, 7, 10, 9, 0)
EVENTS_PER_COMPLAINT = 5.0
DATA_DIR = Path(tempfile.gettempdir()) / "complaints-bench"


def span(period: Period = PERIOD) -> tuple[dt.date, dt.date]:
    """First and last day of the quarters a quarterly run of ``period`` extracts (P and four before)."""
    first = period.shift(-4)
    return first.start, period.last_day


def build_tables(complaints: int, seed: int = 7) -> dict[str, pd.DataFrame]:
    """The demo tables with ``complaints`` tickets in :func:`span` and about 5 events per ticket."""
    start, end = span()
    days = (end - start).days + 1
    tables = generate(seed=seed, complaints=round(complaints * 365.25 / days), start=start, end=end)
    tables["kf_gdls"] = _more_events(tables["kf_tsgd"], tables["kf_gdls"], seed, end)
    return tables


def _more_events(tickets: pd.DataFrame, events: pd.DataFrame, seed: int, end: dt.date) -> pd.DataFrame:
    """Add 备注/进度告知 rows between receipt and decision (or the data's end) up to ≈5 per ticket."""
    rng = np.random.default_rng(seed + 1000)
    n = len(tickets)
    have = len(events) / max(n, 1)
    extra = rng.poisson(max(EVENTS_PER_COMPLAINT - have, 0.0), n)
    rows = np.repeat(np.arange(n), extra)
    received = tickets["slsj"].to_numpy("datetime64[s]")[rows]
    decided = tickets["dfsj"].to_numpy("datetime64[s]")[rows]
    limit = np.datetime64(end, "s") + np.timedelta64(86399, "s")
    stop = np.where(np.isnat(decided), limit, decided)
    length = np.maximum((stop - received).astype("int64"), 120)
    at = received + (rng.random(len(rows)) * length).astype("int64").astype("timedelta64[s]")
    at = np.minimum(at, limit)
    kinds = np.where(rng.random(len(rows)) < 0.7, "备注", "进度告知").astype(object)
    added = pd.DataFrame({"gd_no": tickets["gd_no"].to_numpy()[rows], "czsj": at, "czlx": kinds})
    added["czr"] = np.char.add("kf", rng.integers(1001, 1060, len(added)).astype(str)).astype(object)
    frame = pd.concat([events.drop(columns="ls_id"), added], ignore_index=True)
    frame = frame.sort_values(["czsj", "gd_no"], kind="stable").reset_index(drop=True)
    frame.insert(0, "ls_id", np.arange(1, len(frame) + 1))
    return frame


def _copy_text(frame: pd.DataFrame, table: sa.Table) -> str:
    """CSV text for COPY: integers without '.0', missing as an unquoted empty field (NULL)."""
    out = frame.copy()
    for col in table.columns:
        if isinstance(col.type, sa.Integer) and not pd.api.types.is_integer_dtype(out[col.name].dtype):
            out[col.name] = pd.to_numeric(out[col.name]).round().astype("Int64")
    buf = io.StringIO()
    out[[c.name for c in table.columns]].to_csv(buf, index=False, header=False, na_rep="")
    return buf.getvalue()


def load_postgres(url: str, tables: dict[str, pd.DataFrame]) -> dict[str, int]:
    """Create the demo schema at ``url`` and fill it with COPY; row counts per table."""
    engine = sa.create_engine(url)
    try:
        meta = DEMO_TABLES[0].metadata
        meta.drop_all(engine, checkfirst=True)
        meta.create_all(engine)
        counts = {}
        raw = engine.raw_connection()
        try:
            cur = raw.cursor()
            for table in DEMO_TABLES:
                frame = tables[table.name]
                cols = ", ".join(f'"{c.name}"' for c in table.columns)
                text = _copy_text(frame, table)
                with cur.copy(f'COPY "{table.name}" ({cols}) FROM STDIN WITH (FORMAT csv)') as copy:
                    for lo in range(0, len(text), 1 << 24):
                        copy.write(text[lo : lo + (1 << 24)])
                counts[table.name] = len(frame)
            raw.commit()
            # a source in service has been vacuumed: without it the first reads of freshly copied rows
            # set every tuple's hint bits (writes), and the floor measured 17.8 s instead of ~10 s
            # (on psycopg's own connection: SQLAlchemy's pool proxy would just take the attribute)
            raw.driver_connection.autocommit = True
            raw.driver_connection.execute("VACUUM (ANALYZE, FREEZE)")
        finally:
            raw.close()
        return counts
    finally:
        engine.dispose()


def _admin(server: str) -> sa.Engine:
    return sa.create_engine(f"{server}/postgres", isolation_level="AUTOCOMMIT")


def drop_database(server: str = SERVER, name: str = DATABASE) -> None:
    admin = _admin(server)
    try:
        with admin.connect() as c:
            c.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        admin.dispose()


def _meta_of(url: str) -> dict[str, Any] | None:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as c:
            row = c.exec_driver_sql("SELECT complaints, seed, period, counts FROM bench_meta").first()
        return None if row is None else {"complaints": row[0], "seed": row[1], "period": row[2],
                                         "counts": row[3]}
    except sa.exc.SQLAlchemyError:
        return None
    finally:
        engine.dispose()


def ensure_source(
    complaints: int,
    *,
    seed: int = 7,
    server: str = SERVER,
    name: str = DATABASE,
    data_dir: Path = DATA_DIR,
    force: bool = False,
    log: Any = print,
) -> dict[str, Any]:
    """The bench database (and Parquet copy) for ``complaints``; reused when it already holds them.

    Returns ``{"url", "parquet_dir", "counts", "reused", "generate_s", "load_s"}``.
    """
    url = f"{server}/{name}"
    parquet_dir = Path(data_dir) / str(complaints)
    if not force:
        meta = _meta_of(url)
        if meta and (meta["complaints"], meta["seed"], meta["period"]) == (complaints, seed, PERIOD.code):
            if not (parquet_dir / "kf_tsgd.parquet").is_file():
                log(f"database {name} reused; Parquet copy missing, writing it from the database")
                _parquet_from_db(url, parquet_dir)
            return {"url": url, "parquet_dir": parquet_dir, "counts": meta["counts"], "reused": True,
                    "generate_s": 0.0, "load_s": 0.0}
    t0 = time.perf_counter()
    tables = build_tables(complaints, seed)
    generate_s = time.perf_counter() - t0
    log(f"generated {len(tables['kf_tsgd']):,} tickets, {len(tables['kf_gdls']):,} events "
        f"in {generate_s:.1f} s")
    parquet_dir.mkdir(parents=True, exist_ok=True)
    for tname, frame in tables.items():
        frame.to_parquet(parquet_dir / f"{tname}.parquet", index=False)
    drop_database(server, name)
    admin = _admin(server)
    try:
        with admin.connect() as c:
            c.exec_driver_sql(f"CREATE DATABASE \"{name}\" ENCODING 'UTF8' TEMPLATE template0")
    finally:
        admin.dispose()
    t0 = time.perf_counter()
    counts = load_postgres(url, tables)
    load_s = time.perf_counter() - t0
    engine = sa.create_engine(url)
    try:
        with engine.begin() as c:
            c.exec_driver_sql("CREATE TABLE bench_meta (complaints integer, seed integer, period text, "
                              "counts json, created_at timestamptz DEFAULT now())")
            c.execute(sa.text("INSERT INTO bench_meta (complaints, seed, period, counts) "
                              "VALUES (:n, :s, :p, CAST(:c AS json))"),
                      {"n": complaints, "s": seed, "p": PERIOD.code, "c": pd.Series(counts).to_json()})
    finally:
        engine.dispose()
    log(f"loaded {counts} into {name} with COPY in {load_s:.1f} s; Parquet in {parquet_dir}")
    return {"url": url, "parquet_dir": parquet_dir, "counts": counts, "reused": False,
            "generate_s": generate_s, "load_s": load_s}


def _parquet_from_db(url: str, parquet_dir: Path) -> None:
    parquet_dir.mkdir(parents=True, exist_ok=True)
    engine = sa.create_engine(url)
    try:
        with engine.connect() as c:
            for table in DEMO_TABLES:
                pd.read_sql(f'SELECT * FROM "{table.name}"', c).to_parquet(
                    parquet_dir / f"{table.name}.parquet", index=False)
    finally:
        engine.dispose()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--complaints", type=int, default=1_000_000)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--server", default=SERVER)
    ap.add_argument("--dir", type=Path, default=DATA_DIR, help="where the Parquet copy goes")
    ap.add_argument("--force", action="store_true", help="rebuild even when the database holds this data")
    ap.add_argument("--drop", action="store_true", help="drop the bench database and exit")
    args = ap.parse_args()
    if args.drop:
        drop_database(args.server)
        print(f"dropped {DATABASE}")
        return
    info = ensure_source(args.complaints, seed=args.seed, server=args.server, data_dir=args.dir,
                         force=args.force)
    print(f"{'reused' if info['reused'] else 'built'} {info['url']}: {info['counts']}")


if __name__ == "__main__":
    main()
