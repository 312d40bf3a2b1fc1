"""Benchmark the quarterly filing end to end against the physical floor (the ADBC read) on PostgreSQL.

    .venv/bin/python bench/run.py --complaints 1000000 [--json] [--no-prefect] [--rebuild]

1. Makes sure the bench database holds N complaints (``bench/generate.py``; reused between runs).
2. The interpreter's baseline: a fresh child process with the plain run's imports, before any data
   (``rss_baseline_mb``).
3. The floor, in a child process: the source tables the filing reads (the window's tickets, their
   events and call-backs) into Arrow through ADBC's PostgreSQL driver (``floor_adbc_s``, the physical
   floor: the faster of two reads); then, for reference, ``pandas.read_sql`` of the tickets and events
   and writing both to Parquet (through SQLAlchemy = ``floor_s``, through the bare psycopg connection =
   ``floor_dbapi_s``).
4. The quarterly run for 2026Q2 (head office, every ticket in the window) as plain functions in a fresh
   child process, each stage timed: extract, validate, compute, render, archive. The ledger's and the
   events' in-memory size (``memory_usage(deep=True)``) and the process's peak RSS (``getrusage``).
5. ``complaints figures`` on the run's extracted Parquet ledger as a whole process, against a whole
   process that only reads that file.
6. Once through the Prefect flow, in a child process (Prefect's ephemeral server is started by a
   warm-up flow first and timed apart): its overhead = flow time − the plain run's time.

Prints a table; with ``--json`` the last line is one JSON object (stage times, ``floor_adbc_s``,
``floor_s``, ``end_to_end_s``, ``end_to_end_adbc_ratio``, ``end_to_end_ratio``, ``peak_rss_mb``,
``ledger_mb``, ``events_mb``, ``rss_ratio_tables``, ``figures_cli_ratio``, ...). Goals at 1,000,000
complaints: end-to-end ≤ 3× the ADBC floor; peak RSS ≤ 3× the ledger + events in memory (the
interpreter included); ``complaints figures`` ≤ 3× a process that only reads the ledger.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import generate as gen  # noqa: E402

from tasks.memory import tune  # noqa: E402

STAGES = ("extract", "validate", "compute", "render", "archive")


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


# -- the floor ---------------------------------------------------------------------------------------
def floor(url: str) -> dict[str, Any]:
    """read_sql of the window's ticket rows and their events, then both written to Parquet.

    Timed twice: through the SQLAlchemy connection (``floor_s``: the plain ``pandas.read_sql`` the
    pipeline's URL gives) and through psycopg's own connection (``floor_dbapi_s``, no SQLAlchemy rows;
    run first, so that both read a warm PostgreSQL cache).
    """
    import warnings

    import pandas as pd
    import sqlalchemy as sa

    from tasks.sources.extract import _windows
    from tasks.sources.sql import _to_source_tz

    windows = _windows(gen.PERIOD)
    start = _to_source_tz(windows[-1].start, "Asia/Shanghai")
    end = _to_source_tz(windows[0].end, "Asia/Shanghai")
    where = "slsj >= %(s)s AND slsj < %(e)s"
    params = {"s": start, "e": end}
    engine = sa.create_engine(url)
    out: dict[str, Any] = {}
    out.update(floor_adbc(url, start, end))
    with tempfile.TemporaryDirectory(prefix="bench_floor_") as tmp:
        for mode in ("dbapi", "sqlalchemy"):
            gc.collect()
            t0 = time.perf_counter()
            with engine.connect() as conn, warnings.catch_warnings():
                warnings.simplefilter("ignore", UserWarning)  # pandas: "only supports SQLAlchemy ..."
                con: Any = conn.connection.driver_connection if mode == "dbapi" else conn
                sql = where if mode == "dbapi" else where.replace("%(s)s", ":s").replace("%(e)s", ":e")
                text: Any = (lambda q: q) if mode == "dbapi" else sa.text
                tickets = pd.read_sql(text(f"SELECT * FROM kf_tsgd WHERE {sql}"), con, params=params)
                events = pd.read_sql(
                    text(f"SELECT * FROM kf_gdls WHERE gd_no IN (SELECT gd_no FROM kf_tsgd WHERE {sql})"),
                    con, params=params)
            read_s = time.perf_counter() - t0
            t1 = time.perf_counter()
            tickets.to_parquet(Path(tmp) / "tickets.parquet", index=False)
            events.to_parquet(Path(tmp) / "events.parquet", index=False)
            write_s = time.perf_counter() - t1
            key = "floor" if mode == "sqlalchemy" else "floor_dbapi"
            out.update({f"{key}_s": read_s + write_s, f"{key}_read_s": read_s, f"{key}_write_s": write_s})
            out.update({"floor_tickets": len(tickets), "floor_events": len(events)})
            del tickets, events
    engine.dispose()
    out["floor_peak_rss_mb"] = peak_rss_mb()
    return out


def floor_adbc(url: str, start: Any, end: Any) -> dict[str, Any]:
    """The physical floor: the source tables the filing reads, as the wire gives them, into Arrow through
    ADBC's PostgreSQL driver (COPY BINARY): the window's tickets, their progress events and their
    call-backs, in one read-only transaction. Nothing is converted or mapped."""
    import adbc_driver_postgresql.dbapi as adbc_pg

    from tasks.sources.sql import adbc_uri

    window = f"slsj >= '{start:%Y-%m-%d %H:%M:%S}' AND slsj < '{end:%Y-%m-%d %H:%M:%S}'"
    keys = f"SELECT gd_no FROM kf_tsgd WHERE {window}"
    queries = {
        "tickets": f"SELECT * FROM kf_tsgd WHERE {window}",
        "events": f"SELECT * FROM kf_gdls WHERE gd_no IN ({keys})",
        "callbacks": f"SELECT * FROM kf_hf WHERE gd_no IN ({keys})",
    }
    uri = adbc_uri(url)
    assert uri is not None
    rows: dict[str, int] = {}
    times = []
    for _ in range(2):  # the floor is the best the wire gives: the faster of two reads (they vary by ±20 %)
        gc.collect()
        t0 = time.perf_counter()
        with adbc_pg.connect(uri, autocommit=False) as conn, conn.cursor() as cur:
            cur.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            for name, sql in queries.items():
                cur.execute(sql)
                rows[name] = cur.fetch_arrow_table().num_rows
            conn.rollback()
        times.append(time.perf_counter() - t0)
    return {"floor_adbc_s": min(times), "floor_adbc_runs_s": times, "floor_adbc_rows": rows}


def baseline_rss() -> dict[str, Any]:
    """A fresh interpreter with what the plain run imports, before any data: the RSS every run starts at."""
    import flows.filing  # noqa: F401
    import tasks.stages  # noqa: F401

    return {"rss_baseline_mb": rss_mb()}


def figures_cli(workdir: Path, config: Path) -> dict[str, Any]:
    """``complaints figures`` on the plain run's extracted ledger (Parquet), as a whole process, against a
    whole process that only reads the same file (``pd.read_parquet``)."""
    extract = next((workdir / "runs").glob("*/bundle/data/extract"))
    ledger, exposure = extract / "ledger.parquet", extract / "exposure.parquet"
    exe = Path(sys.executable).with_name("complaints")
    cmd = [str(exe), "figures", "--ledger", str(ledger), "--exposure", str(exposure), "--period",
           gen.PERIOD.code, "--as-of", gen.AS_OF.isoformat(), "--config", str(config), "--json"]
    read = [sys.executable, "-c", f"import pandas as pd; pd.read_parquet({str(ledger)!r})"]
    out: dict[str, Any] = {}
    for key, argv in (("figures_read_s", read), ("figures_cli_s", cmd)):
        t0 = time.perf_counter()
        done = subprocess.run(argv, capture_output=True, text=True, check=False, cwd=workdir)
        out[key] = time.perf_counter() - t0
        if done.returncode != 0:
            raise RuntimeError(f"{key}: {' '.join(argv)} failed:\n{done.stderr[-3000:]}")
    out["figures_cli_ratio"] = out["figures_cli_s"] / out["figures_read_s"]
    return out


# -- the plain run -----------------------------------------------------------------------------------
def workspace(url: str, workdir: Path) -> Path:
    """Config (absolute paths, a fresh signing key) in ``workdir``, the source URL in the environment."""
    from cli.demo import prepare_workdir

    config = prepare_workdir(workdir, url)  # sets COMPLAINTS_SIGNING_KEY_FILE, COMPLAINTS_DEMO_SOURCE_URL
    return config


def plain_run(config: Path, workdir: Path) -> dict[str, Any]:
    """The five stages as plain functions, each timed; ledger size and peak RSS."""
    from flows.filing import make_context
    from tasks import stages

    baseline = rss_mb()  # this (fresh child) interpreter with its imports, before any data
    times: dict[str, float] = {}
    peaks: dict[str, float] = {}  # the process's peak RSS when each stage ended (which stage set it)
    t_all = time.perf_counter()
    t0 = time.perf_counter()
    ctx = make_context("quarterly", gen.PERIOD.code, None, gen.AS_OF.isoformat(), str(config), workdir,
                       "bench", None)
    times["context"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    data = stages.extract(ctx)
    times["extract"] = time.perf_counter() - t0
    peaks["extract"] = peak_rss_mb()
    ledger_mb = float(data.ledger.memory_usage(deep=True).sum()) / 2**20
    events_mb = float(data.events.memory_usage(deep=True).sum()) / 2**20
    rows = {"ledger": len(data.ledger), "events": len(data.events), "exposure": len(data.exposure)}
    rss_after_extract = rss_mb()

    t0 = time.perf_counter()
    gate = stages.validate(ctx, data)
    times["validate"] = time.perf_counter() - t0
    peaks["validate"] = peak_rss_mb()
    del data

    t0 = time.perf_counter()
    computed = stages.compute(ctx, gate)
    times["compute"] = time.perf_counter() - t0
    peaks["compute"] = peak_rss_mb()

    t0 = time.perf_counter()
    rendered = stages.render(ctx, gate, computed)
    times["render"] = time.perf_counter() - t0
    peaks["render"] = peak_rss_mb()

    t0 = time.perf_counter()
    ref = stages.archive(ctx, gate, computed, rendered)
    times["archive"] = time.perf_counter() - t0
    peaks["archive"] = peak_rss_mb()
    end_to_end = time.perf_counter() - t_all
    rec = gate.reconciliation["ledger"]
    return {
        **{f"{k}_s": v for k, v in times.items()},
        "end_to_end_s": end_to_end,
        "ledger_mb": ledger_mb,
        "events_mb": events_mb,
        "rows": rows,
        "quarantined": rec["quarantined"],
        "cases": computed.figures["counts"]["cases"],
        "bundle": ref.bundle_id,
        "bundle_files": ref.files,
        "rss_before_data_mb": baseline,
        "rss_after_extract_mb": rss_after_extract,
        "peak_rss_mb": peak_rss_mb(),
        "peak_rss_after_stage_mb": peaks,
    }


def prefect_run(config: Path, workdir: Path) -> dict[str, Any]:
    """The same filing through the Prefect flow; the ephemeral server is started (and timed) first."""
    from prefect import flow

    from flows.filing import quarterly_filing

    @flow(name="bench-warmup")
    def warmup() -> int:
        return 1

    t0 = time.perf_counter()
    warmup()
    startup = time.perf_counter() - t0
    baseline = rss_mb()  # the interpreter with Prefect's client started, before any data
    t0 = time.perf_counter()
    summary = quarterly_filing(period=gen.PERIOD.code, entity=None, as_of=gen.AS_OF.isoformat(),
                               config=str(config), workdir=str(workdir), trigger="bench")
    return {"prefect_flow_s": time.perf_counter() - t0, "prefect_server_start_s": startup,
            "prefect_bundle": summary["bundle"], "prefect_peak_rss_mb": peak_rss_mb(),
            "prefect_rss_baseline_mb": baseline}


def _child(mode: str, *args: str) -> dict[str, Any]:
    out = subprocess.run([sys.executable, __file__, f"--child-{mode}", *args], capture_output=True,
                         text=True, check=False, env=os.environ.copy())
    if out.returncode != 0:
        raise RuntimeError(f"child {mode} failed:\n{out.stderr[-4000:]}")
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--complaints", type=int, default=1_000_000)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--json", action="store_true", help="last line: one JSON object")
    ap.add_argument("--no-prefect", action="store_true", help="skip the run through the Prefect flow")
    ap.add_argument("--rebuild", action="store_true", help="regenerate the bench database")
    ap.add_argument("--workdir", type=Path, default=None, help="keep run outputs here (default: temp)")
    ap.add_argument("--child-floor", metavar="URL", help=argparse.SUPPRESS)
    ap.add_argument("--child-prefect", nargs=2, metavar=("CONFIG", "WORKDIR"), help=argparse.SUPPRESS)
    ap.add_argument("--child-plain", nargs=2, metavar=("CONFIG", "WORKDIR"), help=argparse.SUPPRESS)
    ap.add_argument("--child-baseline", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child_plain or args.child_prefect:  # as the CLI and the flows do: tune() after the imports
        import flows.filing  # noqa: F401
        import tasks.stages  # noqa: F401
    tune()  # the pipeline's allocator in this process and in the floor and Prefect children alike
    if args.child_floor:
        print(json.dumps(floor(args.child_floor)))
        return
    if args.child_prefect:
        print(json.dumps(prefect_run(Path(args.child_prefect[0]), Path(args.child_prefect[1]))))
        return
    if args.child_plain:
        print(json.dumps(plain_run(Path(args.child_plain[0]), Path(args.child_plain[1])), default=str))
        return
    if args.child_baseline:
        print(json.dumps(baseline_rss()))
        return

    def say(msg: str) -> None:
        print(msg, file=sys.stderr if args.json else sys.stdout, flush=True)

    info = gen.ensure_source(args.complaints, seed=args.seed, force=args.rebuild, log=say)
    url = info["url"]
    say(f"source: {url} {info['counts']}")
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="bench_run_"))
    workdir.mkdir(parents=True, exist_ok=True)
    config = workspace(url, workdir / "plain")

    say("interpreter baseline: a fresh process with the plain run's imports (child process) …")
    base = _child("baseline")
    say("floor: the ADBC read of the source tables, then read_sql + Parquet for reference (child process) …")
    fl = _child("floor", url)
    runs = ", ".join(f"{t:.2f}" for t in fl["floor_adbc_runs_s"])
    say(f"floor: ADBC {fl['floor_adbc_s']:.2f} s, the faster of {runs} ({fl['floor_adbc_rows']}); "
        f"read_sql + Parquet "
        f"{fl['floor_s']:.2f} s (read {fl['floor_read_s']:.2f} s, write {fl['floor_write_s']:.2f} s; "
        f"{fl['floor_tickets']:,} tickets, {fl['floor_events']:,} events); bare psycopg connection: "
        f"{fl['floor_dbapi_s']:.2f} s")

    say("plain run: the five stages (child process) …")
    run = _child("plain", str(config), str(workdir / "plain"))
    result: dict[str, Any] = {"complaints": args.complaints, **run, **fl, **base}
    result["end_to_end_ratio"] = run["end_to_end_s"] / fl["floor_s"]
    result["end_to_end_adbc_ratio"] = run["end_to_end_s"] / fl["floor_adbc_s"]
    result["rss_ratio"] = run["peak_rss_mb"] / run["ledger_mb"]
    result["rss_ratio_tables"] = run["peak_rss_mb"] / (run["ledger_mb"] + run["events_mb"])

    say("figures: `complaints figures` on the extracted Parquet ledger against a process that reads it …")
    result.update(figures_cli(workdir / "plain", config))

    if not args.no_prefect:
        say("Prefect: the same filing through flows.filing.quarterly_filing (child process) …")
        pconfig = workspace(url, workdir / "prefect")
        pf = _child("prefect", str(pconfig), str(workdir / "prefect"))
        result.update(pf)
        result["prefect_overhead_s"] = pf["prefect_flow_s"] - run["end_to_end_s"]

    lines = [f"{'stage':<24}{'seconds':>10}"]
    for stage in ("context", *STAGES):
        lines.append(f"{stage:<24}{result[f'{stage}_s']:>10.2f}")
    lines += [
        f"{'end to end (plain)':<24}{result['end_to_end_s']:>10.2f}",
        f"{'floor: ADBC read':<24}{result['floor_adbc_s']:>10.2f}",
        f"{'read_sql + Parquet':<24}{result['floor_s']:>10.2f}",
        f"{'read_sql, bare psycopg':<24}{result['floor_dbapi_s']:>10.2f}",
        f"ratio end-to-end ÷ ADBC floor: {result['end_to_end_adbc_ratio']:.2f}× (goal ≤ 3×); "
        f"÷ read_sql + Parquet: {result['end_to_end_ratio']:.2f}×",
        f"rows: {run['rows']}, quarantined {run['quarantined']}, cases {run['cases']:,}",
        f"ledger in memory: {run['ledger_mb']:.0f} MB, events {run['events_mb']:.0f} MB; peak RSS "
        f"{run['peak_rss_mb']:.0f} MB = {result['rss_ratio_tables']:.2f}× ledger + events (goal ≤ 3×), "
        f"{result['rss_ratio']:.2f}× the ledger; interpreter baseline (fresh process, imports) "
        f"{result['rss_baseline_mb']:.0f} MB; after extract {run['rss_after_extract_mb']:.0f} MB; "
        f"read_sql floor child peak {fl['floor_peak_rss_mb']:.0f} MB",
        f"complaints figures (whole process, quality gate included): {result['figures_cli_s']:.2f} s; a "
        f"process that only reads the Parquet: {result['figures_read_s']:.2f} s; ratio "
        f"{result['figures_cli_ratio']:.2f}× (goal ≤ 3×)",
    ]
    if "prefect_flow_s" in result:
        lines.append(f"Prefect flow: {result['prefect_flow_s']:.2f} s (overhead "
                     f"{result['prefect_overhead_s']:+.2f} s over the plain run; server start "
                     f"{result['prefect_server_start_s']:.1f} s, not included); peak RSS "
                     f"{result['prefect_peak_rss_mb']:.0f} MB = "
                     f"{result['prefect_peak_rss_mb'] / run['ledger_mb']:.2f}× the ledger, of which "
                     f"{result['prefect_rss_baseline_mb']:.0f} MB before any data (imports, Prefect client)")
    for line in lines:
        say(line)
    if args.json:
        print(json.dumps(result, default=str))


if __name__ == "__main__":
    main()
