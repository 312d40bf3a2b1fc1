"""Benchmark: figures over a synthetic ledger (default 1M complaints) against reading it with pandas.

    .venv/bin/python bench/figures_bench.py --complaints 1000000 [--keep DIR]

Builds a synthetic ledger (vectorised numpy), writes it as Parquet with the LEDGER.md column names, then in
the same run times ``pd.read_parquet`` (read), ``normalize`` and ``compute_figures`` (quarter 2026Q2 and year
2026) and prints the ratio compute ÷ read (goal ≤ 3×) and the peak RSS.
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

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from complaints.calendar import build_calendar  # noqa: E402
from complaints.figures import compute_figures  # noqa: E402
from complaints.ledger import CATEGORIES, CHANNELS, DEPARTMENTS, normalize  # noqa: E402
from tasks.rulebooks import load_rulebooks  # noqa: E402

ENTITIES = np.array(["HO", "GD", "JS", "SC", "SD"])
PROVINCES = np.array(["北京", "广东", "江苏", "四川", "山东"])


def synthetic_ledger(n: int, seed: int = 7) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    start = np.datetime64("2025-01-01T00:00:00", "s")
    span = int((np.datetime64("2026-07-01T00:00:00", "s") - start).astype(int))
    received = np.sort(start + rng.integers(0, span, n).astype("timedelta64[s]"))
    ent = rng.integers(0, len(ENTITIES), n)
    line = np.where(rng.random(n) < 0.7, "life", "property")
    product = np.where(
        line == "life",
        rng.choice(["life_ordinary", "health", "accident", "annuity"], n),
        rng.choice(["motor", "guarantee", "property_other"], n),
    ).astype(object)
    product[rng.random(n) < 0.1] = None
    decided = received + rng.integers(3600, 40 * 86400, n).astype("timedelta64[s]")
    undecided = rng.random(n) < 0.05
    decided_o = decided.astype("datetime64[us]")
    decided_o[undecided] = np.datetime64("NaT")
    ack = (received + rng.integers(600, 3 * 86400, n).astype("timedelta64[s]")).astype("datetime64[us]")
    ack[rng.random(n) < 0.05] = np.datetime64("NaT")
    ids = np.char.add("C", np.arange(n).astype(str)).astype(object)
    repeat = np.full(n, None, dtype=object)
    rep = np.flatnonzero(rng.random(n) < 0.05)
    rep = rep[rep > 0]
    repeat[rep] = ids[rep - 1]
    extra = np.full(n, None, dtype=object)
    ex = rng.random(n) < 0.2
    extra[ex] = rng.choice(["sales", "claims;surrender", "privacy", "payment;sales"], int(ex.sum()))
    sat = rng.choice(
        np.array(["satisfied", "basically_satisfied", "dissatisfied", "not_reached", None], dtype=object), n
    )
    forwarded = rng.random(n) < 0.1
    frame = pd.DataFrame(
        {
            "complaint_id": ids,
            "entity_code": ENTITIES[ent],
            "branch_code": ENTITIES[ent],
            "province": PROVINCES[ent],
            "received_at": received.astype("datetime64[us]"),
            "channel": rng.choice(list(CHANNELS), n),
            "business_line": line,
            "product_line": product,
            "category": rng.choice(list(CATEGORIES), n),
            "extra_categories": extra,
            "severity": rng.choice(["venting", "general", "general", "general", "major", "difficult"], n),
            "amount_involved": np.round(rng.exponential(5000, n), 2),
            "group_size": rng.integers(1, 25, n),
            "media_exposed": rng.random(n) < 0.01,
            "regulator_forwarded": forwarded,
            "forwarded_at": np.where(forwarded, received, np.datetime64("NaT")).astype("datetime64[us]"),
            "acknowledged_at": ack,
            "accepted": rng.random(n) > 0.03,
            "complexity": rng.choice(
                np.array(["simple", "simple", "complex", "approved_extension", None], dtype=object), n
            ),
            "clock_paused_days": rng.integers(0, 3, n),
            "decided_at": decided_o,
            "valid": rng.random(n) > 0.1,
            "upheld": rng.random(n) < 0.4,
            "redress_amount": np.round(rng.exponential(800, n), 2),
            "responsible_dept": rng.choice(list(DEPARTMENTS), n),
            "repeat_of": repeat,
            "satisfaction": sat,
        }
    )
    return frame


def synthetic_exposure() -> pd.DataFrame:
    rows = []
    for e in ENTITIES:
        for line in ("life", "property"):
            for p in ("2025Q1", "2025Q2", "2025Q3", "2025Q4", "2026Q1", "2026Q2"):
                rows.append((e, p, line, 5e8, 200_000, 400_000 if line == "life" else None))
    return pd.DataFrame(
        rows, columns=["entity_code", "period", "business_line", "premium", "policies", "insured_persons"]
    )


def synthetic_events(ledger: pd.DataFrame, seed: int = 8) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    pick = np.flatnonzero(rng.random(len(ledger)) < 0.5)
    at = ledger["received_at"].to_numpy()[pick] + rng.integers(600, 40 * 3600, len(pick)).astype(
        "timedelta64[s]"
    )
    return pd.DataFrame(
        {
            "complaint_id": ledger["complaint_id"].to_numpy()[pick],
            "at": at,
            "kind": rng.choice(["logged", "contacted", "note"], len(pick)),
        }
    )


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--complaints", type=int, default=1_000_000)
    parser.add_argument("--keep", type=Path, default=None, help="write the Parquet files here and keep them")
    args = parser.parse_args()
    folder = args.keep or Path(tempfile.mkdtemp(prefix="figures_bench_"))
    folder.mkdir(parents=True, exist_ok=True)

    t = time.perf_counter()
    ledger = synthetic_ledger(args.complaints)
    ledger.to_parquet(folder / "ledger.parquet", index=False)
    synthetic_events(ledger).to_parquet(folder / "events.parquet", index=False)
    synthetic_exposure().to_parquet(folder / "exposure.parquet", index=False)
    del ledger
    print(f"built {args.complaints:,} complaints in {time.perf_counter() - t:.2f}s → {folder}")

    t = time.perf_counter()
    raw = pd.read_parquet(folder / "ledger.parquet")
    raw_events = pd.read_parquet(folder / "events.parquet")
    raw_exposure = pd.read_parquet(folder / "exposure.parquet")
    read_s = time.perf_counter() - t

    t = time.perf_counter()
    ledger = normalize(raw, "ledger")
    events = normalize(raw_events, "events")
    exposure = normalize(raw_exposure, "exposure")
    norm_s = time.perf_counter() - t
    del raw, raw_events

    calendar, rulebooks = build_calendar(), load_rulebooks()
    timings = {}
    for period, as_of in (("2026Q2", dt.datetime(2026, 7, 10, 9)), ("2026", dt.datetime(2026, 12, 20, 9))):
        t = time.perf_counter()
        result = compute_figures(
            ledger,
            period=period,
            as_of=as_of,
            calendar=calendar,
            rulebooks=rulebooks,
            exposure=exposure,
            events=events,
            entity="HO",
            head_office="HO",
            department_targets={"timeliness.rate": 0.95, "satisfaction.rate": 0.9},
        )
        timings[period] = time.perf_counter() - t
        print(
            f"figures {period}: {timings[period]:.2f}s, cases {result.figures['counts']['cases']:,}, "
            f"lineage rows {len(result.lineage):,}, "
            f"timeliness.rate {result.figures['timeliness']['rate']:.4f}"
        )

    quarter = timings["2026Q2"]
    print(f"read (pd.read_parquet, ledger + events + exposure): {read_s:.2f}s")
    print(f"normalize: {norm_s:.2f}s")
    print(
        f"compute_figures 2026Q2: {quarter:.2f}s → ratio compute ÷ read = {quarter / read_s:.2f}× (goal ≤ 3×)"
    )
    print(f"(normalize + compute) ÷ read = {(norm_s + quarter) / read_s:.2f}×")
    print(f"peak RSS: {peak_rss_mb():.0f} MB")


if __name__ == "__main__":
    main()
