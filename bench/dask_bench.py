"""Benchmark: one quarterly filing for every entity, sequential vs in parallel (threads, processes, Dask).

    .venv/bin/python bench/dask_bench.py [--complaints 20000] [--modes seq,threads,processes,dask]
                                         [--workers 2] [--keep DIR]

Builds the demo working directory (SQLite source, all five configured entities), then times
``flows.filing.filings_for_entities`` for 2026Q3 once per mode (wall clock, in this process; Prefect's
ephemeral server is started by a warm-up run first, so no mode pays for it):

* ``seq``: ``ThreadPoolTaskRunner(max_workers=1)``: the entities one after the other;
* ``threads``: ``ThreadPoolTaskRunner(--workers)``;
* ``processes``: Prefect's ``ProcessPoolTaskRunner(--workers)``;
* ``dask``: ``prefect_dask.DaskTaskRunner`` on a local Dask cluster of ``--workers`` single-threaded
  worker processes (cluster start-up included: that is what a run pays).

Every mode must file every entity (checked). Prints one line per mode and the speed-up over ``seq``.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120")
os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")

AS_OF = "2026-11-20T09:00:00+08:00"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--complaints", type=int, default=20000, help="demo complaints per year")
    ap.add_argument("--modes", default="seq,threads,processes,dask")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--keep", type=Path, default=None, help="working directory to keep (default: temporary)")
    args = ap.parse_args()

    from cli.demo import prepare_workdir
    from flows.fanout import filings_for_entities
    from tasks.demo_data import create_demo_source

    wd = (args.keep or Path(tempfile.mkdtemp(prefix="dask-bench-"))).resolve()
    config = prepare_workdir(wd, None)
    if not (wd / "demo_source.sqlite").exists():
        create_demo_source(f"sqlite:///{wd / 'demo_source.sqlite'}", complaints=args.complaints)
    common: dict[str, Any] = {"filing": "quarterly", "period": "2026Q3", "entities": "all", "as_of": AS_OF,
              "config": str(config), "workdir": str(wd), "trigger": "bench", "return_state": True}

    def run(launch: str, parallel: int) -> tuple[float, int]:
        t0 = time.perf_counter()
        state = filings_for_entities(launch=launch, max_parallel=parallel, **common)
        seconds = time.perf_counter() - t0
        data: Any = state.result(raise_on_failure=False)
        if not state.is_completed():
            raise SystemExit(f"{launch}: {state.message}")
        return seconds, len(data["runs"])

    print(f"workdir {wd}; {args.complaints} complaints/year; {os.cpu_count()} CPUs; warming up …", flush=True)
    run("threads", 1)  # starts Prefect's ephemeral server, imports GX, fills caches
    modes = {"seq": ("threads", 1), "threads": ("threads", args.workers),
             "processes": ("processes", args.workers), "dask": ("dask", args.workers)}
    results: dict[str, float] = {}
    for name in [m.strip() for m in args.modes.split(",") if m.strip()]:
        launch, parallel = modes[name]
        seconds, n = run(launch, parallel)
        results[name] = seconds
        base = results.get("seq")
        speed = f"  speed-up ×{base / seconds:.2f}" if base else ""
        print(f"{name:10s} {launch:9s} ×{parallel}: {n} entities filed in {seconds:6.1f} s{speed}",
              flush=True)


if __name__ == "__main__":  # required: Dask and the process pool start worker processes that import this
    main()
