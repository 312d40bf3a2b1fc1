"""Regulator basis (监管口径) and the bulletin benchmark (FIGURES.md), with lineage. Pure.

The regulator counts what *it* forwarded: records in scope with ``regulator_forwarded`` whose
``forwarded_at`` local date is in P, repeats included, per business line; the rates divide by the
line's exposure as ``rates_by_business_line`` does. The benchmark compares each rate with the median
its segment's bulletin published (:func:`complaints.benchmarks.choose_median`).
"""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from complaints.benchmarks import SEGMENT_RATES, ReferenceData, choose_median, compare
from complaints.figures._rates import denominators, ratio

if TYPE_CHECKING:
    from complaints.figures._compute import _Figures
    from complaints.periods import Period

Mask = npt.NDArray[np.bool_]
LINES = ("property", "life")
_SCALE = {
    "per_100m_premium": ("premium", 1e8),
    "per_10k_policies": ("policies", 1e4),
    "per_10k_insured": ("insured_persons", 1e4),
}


def forwarded_in_period(comp: _Figures, period: Period | None = None) -> tuple[Mask, npt.NDArray[Any]]:
    """Records in scope, ``regulator_forwarded``, ``forwarded_at`` local date in P (repeats included)."""
    f, period = comp.L.frame, period or comp.period
    day = f["forwarded_at"].to_numpy(dtype="datetime64[us]").astype("datetime64[D]")
    start, end = np.datetime64(period.start, "D"), np.datetime64(period.end, "D")
    known = ~np.isnat(day)
    mask = comp.scope & comp.L.forwarded & known & (day >= start) & (day < end)
    return mask, day


def regulator_basis(
    comp: _Figures, reference: ReferenceData | None, period: Period | None = None, at: str = ""
) -> dict[str, dict[str, Any]]:
    """``regulator_basis.<line>.*``; returns {line: {rate: value}} and the lineage masks for the benchmark.

    ``period`` and ``at`` (a key prefix such as ``by_quarter.Q2.``) compute one quarter of a year: the
    counts and rates only, the crosswalk tables stay with the period as a whole.
    """
    f, period = comp.L.frame, period or comp.period
    in_p, day = forwarded_in_period(comp, period)
    line_of = f["business_line"].to_numpy(dtype=object, na_value=None)
    values: dict[str, dict[str, Any]] = {}
    versions_used: set[str] = set()
    for line in LINES:
        prefix = f"{at}regulator_basis.{line}"
        rows = in_p & (line_of == line)
        n = comp.count(f"{prefix}.forwarded", rows)
        den = denominators(
            comp.exposure, period, entity=comp.entity_filter, line=line, needed=comp._needed(rows, line)
        )
        values[line] = {"rows": rows}
        for rate in SEGMENT_RATES[line]:
            column, scale = _SCALE[rate]
            value = ratio(n, den.totals[column], scale)
            comp.put(f"{prefix}.{rate}", value, rows, den.why.get(column))
            values[line][rate] = value
        if not at:
            versions_used |= _crosswalk(comp, reference, prefix, line, rows, day)
    if not at and reference is not None and reference.crosswalk:
        comp.put("regulator_basis.crosswalk", sorted(versions_used))
    return values


def _crosswalk(
    comp: _Figures, reference: ReferenceData | None, prefix: str, line: str, rows: Mask, day: npt.NDArray[Any]
) -> set[str]:
    """``by_issue`` and ``by_product``: the forwarded records in the bulletin's 事由 and 险种, each by the
    crosswalk version in force on its forwarded date."""
    if reference is None or not reference.crosswalk:
        why = "no crosswalk to the bulletin's terms is configured (benchmarks.bulletins, `crosswalk`)"
        comp.out.note(f"{prefix}.by_issue", why)
        comp.out.note(f"{prefix}.by_product", why)
        return set()
    f = comp.L.frame
    positions = np.flatnonzero(rows)
    # only the forwarded rows' values, and each forwarded day's version looked up once
    category = f["category"].take(positions).to_numpy(dtype=object, na_value=None)
    product = f["product_line"].take(positions).to_numpy(dtype=object, na_value=None)
    days, on_day = np.unique(day[positions], return_inverse=True)
    versions = [reference.crosswalk_on(pd.Timestamp(d).date()) for d in days]
    issues: list[str] = []
    products: list[str] = []
    used: set[str] = set()
    for i, cat, prod in zip(on_day.tolist(), category, product, strict=True):
        version = versions[i]
        if version is None:
            issues.append("unmapped")
            products.append("unmapped")
            continue
        used.add(version.version)
        issues.append(version.issue_of(cat))
        products.append(version.product_of(prod, line))
    for name, codes in (("by_issue", issues), ("by_product", products)):
        counts = Counter(codes)
        table: dict[str, int] = {}
        coded = np.asarray(codes, dtype=object)
        for code, n in sorted(counts.items(), key=lambda item: (-item[1], item[0])):
            table[code] = n
            comp.out.trace(f"{prefix}.{name}.{code}", positions[coded == code])
        comp.put(f"{prefix}.{name}", table)
    if "unmapped" in issues:
        comp.out.note(
            f"{prefix}.by_issue.unmapped", "forwarded before the first crosswalk version's effective_from"
        )
    return used


def benchmark(
    comp: _Figures,
    reference: ReferenceData | None,
    values: dict[str, dict[str, Any]],
    period: Period | None = None,
    at: str = "",
) -> None:
    """``benchmark.<line>.<rate>`` against the segment median, ``.binding`` and ``.bulletin``."""
    period = period or comp.period
    if reference is None or not reference.bulletins:
        comp.out.note(
            f"{at}benchmark",
            "no bulletin reference data was given (configuration benchmarks.bulletins "
            "or --bulletins): no benchmark",
        )
        return
    for line in LINES:
        key = f"{at}benchmark.{line}"
        blocks: dict[str, dict[str, Any]] = {}
        chosen: dict[str, str] = {}
        missing: list[str] = []
        for rate in SEGMENT_RATES[line]:
            median = choose_median(reference, line, period, rate)
            if median is None:
                missing.append(rate)
                continue
            blocks[rate] = compare(values[line][rate], median)
            chosen[rate] = f"{median.row.period} ({median.row.source})"
        if not blocks:
            comp.out.note(key, _none_why(period.code, period.kind, line, None))
            continue
        for rate in missing:
            comp.out.note(f"{key}.{rate}", _none_why(period.code, period.kind, line, rate))
        rows = values[line]["rows"]
        for rate, block in blocks.items():
            for name, value in block.items():
                why = None
                if value is None:
                    own = comp.out.notes.get(f"{at}regulator_basis.{line}.{rate}")
                    why = own or f"the median of {rate} is 0"
                comp.put(f"{key}.{rate}.{name}", value, rows if name == "value" else None, why)
        ranked = [(b["ratio"], r) for r, b in blocks.items() if b["ratio"] is not None]
        binding = max(ranked, key=lambda item: item[0])[1] if ranked else None
        comp.put(
            f"{key}.binding",
            binding,
            rows,
            f"no rate of the {line} line has a ratio to its median in {period.code}",
        )
        comp.put(f"{key}.bulletin", _choice(period.code, chosen))


def _none_why(code: str, kind: str, line: str, rate: str | None) -> str:
    what = f"a {rate} median" if rate else "a median"
    if kind == "year":
        return (
            f"the reference data has no yearly bulletin row for the {line} segment at or before {code} "
            f"with {what} (quarterly medians are not combined into a year): no benchmark"
        )
    return f"no bulletin of {code} or earlier publishes {what} for the {line} segment: no benchmark"


def _choice(code: str, chosen: dict[str, str]) -> str:
    """Which bulletin each median comes from, said in one sentence."""
    same = [r for r, c in chosen.items() if c.startswith(f"{code} ")]
    parts = [f"{rate}: {where}" for rate, where in chosen.items()]
    if len(same) == len(chosen):
        return f"the {code} bulletin: " + "; ".join(parts)
    return f"no {code} bulletin for every rate; the latest earlier bulletin is used: " + "; ".join(parts)
