# mypy: disable-error-code="call-overload"
"""Benchmark the quality gate: validation time for an N-row ledger as a ratio to reading its Parquet.

    .venv/bin/python bench/validate_bench.py --rows 1000000 [--defect-rate 0.001] [--profile]

Generates a synthetic ledger (vectorised; a small share of rows carry defects so the quarantine
path is exercised), writes it to Parquet in a temporary directory, times ``pd.read_parquet`` and
``run_quality_gate`` (normalisation + GX suites + pandas checks + quarantine), and reports the ratio
and the process's peak RSS.
"""

from __future__ import annotations

import argparse
import datetime as dt
import resource
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def make_ledger(rows: int, defect_rate: float = 0.001, seed: int = 7) -> pd.DataFrame:
    """A plausible ledger of ``rows`` rows (typed, as from SQL) with a share of defective rows."""
    rng = np.random.default_rng(seed)
    base = np.datetime64("2026-01-01T08:00", "s")
    received = base + rng.integers(0, 180 * 86400, rows).astype("timedelta64[s]")
    decided = received + rng.integers(3600, 20 * 86400, rows).astype("timedelta64[s]")
    closed = decided + rng.integers(0, 5 * 86400, rows).astype("timedelta64[s]")
    undecided = rng.random(rows) < 0.1
    line = np.where(rng.random(rows) < 0.5, "life", "property")
    product = np.where(
        line == "life",
        rng.choice(["health", "accident", "annuity"], rows),
        rng.choice(["motor", "guarantee", "property_other"], rows),
    )
    forwarded = rng.random(rows) < 0.05
    ids = np.char.add("C", np.arange(rows).astype(str))
    repeat = np.where(rng.random(rows) < 0.03, np.char.add("C", (np.arange(rows) // 2).astype(str)), None)
    repeat = np.where(repeat == ids, None, repeat)
    frame = pd.DataFrame(
        {
            "complaint_id": ids,
            "entity_code": rng.choice(["B01", "B02", "B03", "B04"], rows),
            "branch_code": rng.choice(["B01", "B02", "B03", "B04", "B05"], rows),
            "province": rng.choice(["北京", "上海", "广东", "四川"], rows),
            "received_at": received.astype("datetime64[us]"),
            "channel": rng.choice(["phone", "online", "letter", "visit"], rows),
            "business_line": line,
            "product_line": product,
            "category": rng.choice(["claims", "sales", "surrender", "policy_service"], rows),
            "extra_categories": np.where(rng.random(rows) < 0.2, "sales;claims", None),
            "severity": rng.choice(["general", "venting", "major"], rows, p=[0.8, 0.15, 0.05]),
            "amount_involved": rng.gamma(2.0, 3000.0, rows).round(2),
            "group_size": np.ones(rows, dtype=np.int64),
            "media_exposed": rng.random(rows) < 0.01,
            "regulator_forwarded": forwarded,
            "forwarded_at": np.where(forwarded, received - np.timedelta64(86400, "s"), np.datetime64("NaT")),
            "forward_ref": np.where(forwarded, np.char.add("JG", np.arange(rows).astype(str)), None),
            "acknowledged_at": (received + np.timedelta64(3600, "s")).astype("datetime64[us]"),
            "accepted": np.ones(rows, dtype=bool),
            "decided_at": np.where(undecided, np.datetime64("NaT"), decided).astype("datetime64[us]"),
            "closed_at": np.where(undecided, np.datetime64("NaT"), closed).astype("datetime64[us]"),
            "outcome": np.where(undecided, None, "customer_accepted"),
            "valid": rng.random(rows) < 0.9,
            "repeat_of": repeat,
            "summary": np.where(rng.random(rows) < 0.5, "客户反映理赔时效慢", "对销售人员解释不满"),
        }
    )
    k = int(rows * defect_rate)
    if k:
        bad = rng.choice(rows, k, replace=False)
        third = max(k // 3, 1)
        frame.loc[bad[:third], "decided_at"] = frame.loc[bad[:third], "received_at"] - pd.Timedelta(days=2)
        frame.loc[bad[third : 2 * third], "channel"] = "pigeon"
        frame.loc[bad[2 * third :], "amount_involved"] = -1.0
    return frame


def exposure_for(ledger: pd.DataFrame) -> pd.DataFrame:
    pairs = ledger[["entity_code", "business_line"]].drop_duplicates()
    rows = [
        {
            "entity_code": e,
            "period": q,
            "business_line": b,
            "premium": 5e8,
            "policies": 200000,
            "insured_persons": 300000 if b == "life" else None,
        }
        for e, b in pairs.itertuples(index=False)
        for q in ("2026Q1", "2026Q2", "2026Q3", "2026Q4")
    ]
    return pd.DataFrame(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--defect-rate", type=float, default=0.001)
    parser.add_argument("--profile", action="store_true", help="cProfile the gate (top 25 by cumtime)")
    args = parser.parse_args()

    t0 = time.perf_counter()
    from complaints.periods import Period
    from tasks.quality import run_quality_gate

    t_import = time.perf_counter() - t0

    ledger = make_ledger(args.rows, args.defect_rate)
    exposure = exposure_for(ledger)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "ledger.parquet"
        ledger.to_parquet(path, index=False)
        del ledger
        t0 = time.perf_counter()
        frame = pd.read_parquet(path)
        t_read = time.perf_counter() - t0

    def gate() -> object:
        return run_quality_gate(
            frame, exposure, None, period=Period.parse("2026"), as_of=dt.datetime(2026, 9, 30, 23, 59)
        )

    t0 = time.perf_counter()
    c0 = time.process_time()
    if args.profile:
        import cProfile
        import pstats

        prof = cProfile.Profile()
        result = prof.runcall(gate)
        pstats.Stats(prof).sort_stats("tottime").print_stats(25)
    else:
        result = gate()
    t_gate = time.perf_counter() - t0
    cpu_gate = time.process_time() - c0
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    rec = result.reconciliation["ledger"]  # type: ignore[attr-defined]
    print(
        f"rows={args.rows} read_parquet={t_read:.2f}s gate={t_gate:.2f}s ratio={t_gate / t_read:.1f}x "
        f"gate_cpu={cpu_gate:.2f}s peak_rss={peak_mb:.0f}MB gx_import={t_import:.1f}s"
    )
    print(
        f"reconciliation: read={rec['read']} accepted={rec['accepted']} quarantined={rec['quarantined']} "
        f"by_check={rec['by_check']}"
    )
    failed = [(r.id, r.failing_rows) for r in result.results if not r.passed]  # type: ignore[attr-defined]
    print(f"failed checks: {failed}")


if __name__ == "__main__":
    main()
