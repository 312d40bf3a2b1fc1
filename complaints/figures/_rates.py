"""Denominators from the exposure table (FIGURES.md "Rates against business volume")."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from complaints.periods import Period

COLUMNS = ("premium", "policies", "insured_persons")


@dataclass
class Denominator:
    """Σ of each exposure column over the rows in scope, or ``None`` with the reason in ``why``."""

    totals: dict[str, float | None] = field(default_factory=dict)
    why: dict[str, str] = field(default_factory=dict)


def denominators(
    exposure: pd.DataFrame | None,
    period: Period,
    *,
    entity: str | None,
    line: str | None,
    needed: Iterable[tuple[str, str]],
) -> Denominator:
    """Sum the exposure rows of ``period`` (entity ``entity`` or all when ``None``; business line ``line`` or
    both when ``None``).

    For a year, an (entity, line) without a yearly row is the sum of its four quarter rows (all four needed).
    Every (entity, line) in ``needed`` (those with complaints in the numerator) must have exposure, otherwise
    the denominator would silently miss part of the business: the total is then unknown. Duplicate rows for
    one entity × period × line, or a missing value in a contributing row, also make the total unknown.
    """
    out = Denominator()
    where = f"period {period.code}" + (f", line {line}" if line else "")
    if exposure is None:
        for col in COLUMNS:
            out.totals[col], out.why[col] = None, "no exposure table was given"
        return out
    exp = exposure
    if entity is not None:
        exp = exp[exp["entity_code"] == entity]
    if line is not None:
        exp = exp[exp["business_line"] == line]
    codes = exp["period"].astype("str").str.upper()
    if period.kind == "year":
        yearly = exp[codes == period.code]
        quarter_codes = [q.code for q in period.quarters()]
        quarterly = exp[codes.isin(quarter_codes)]
        has_year = set(zip(yearly["entity_code"], yearly["business_line"], strict=True))
        q_keys = list(zip(quarterly["entity_code"], quarterly["business_line"], strict=True))
        keep = np.array([k not in has_year for k in q_keys], dtype=bool)
        quarterly = quarterly[keep]
        rows = pd.concat([yearly, quarterly])
        incomplete = quarterly.groupby(["entity_code", "business_line"])["period"].nunique() < 4
        problems = [
            f"exposure for entity {e}, {period.code}, line {b} has no yearly row and not all four quarters"
            for (e, b), bad in incomplete.items()
            if bad
        ]
        dupes = yearly.duplicated(["entity_code", "business_line"], keep=False)
        dupes_q = quarterly.duplicated(["entity_code", "business_line", "period"], keep=False)
        problems += [
            f"duplicate exposure rows for entity {e}, period {p}, line {b}"
            for e, p, b in pd.concat([yearly[dupes], quarterly[dupes_q]])[
                ["entity_code", "period", "business_line"]
            ]
            .drop_duplicates()
            .itertuples(index=False)
        ]
    else:
        rows = exp[codes == period.code]
        problems = [
            f"duplicate exposure rows for entity {e}, period {period.code}, line {b}"
            for e, b in rows.loc[
                rows.duplicated(["entity_code", "business_line"], keep=False),
                ["entity_code", "business_line"],
            ]
            .drop_duplicates()
            .itertuples(index=False)
        ]
    present = set(zip(rows["entity_code"], rows["business_line"], strict=True))
    for e, b in sorted(set(needed)):
        if (e, b) not in present:
            problems.append(f"no exposure row for entity {e}, period {period.code}, line {b}")
    for col in COLUMNS:
        if problems:
            out.totals[col], out.why[col] = None, "; ".join(problems)
            continue
        contributing = rows
        if col == "insured_persons":
            contributing = rows[rows["business_line"] == "life"]
        if contributing.empty:
            out.totals[col] = None
            out.why[col] = f"no exposure row for {'entity ' + entity + ', ' if entity else ''}{where}" + (
                "" if col != "insured_persons" or line else " (life)"
            )
            continue
        values = contributing[col].astype("float64")
        if values.isna().any():
            out.totals[col], out.why[col] = (
                None,
                f"{col} is missing in {int(values.isna().sum())} exposure row(s), {where}",
            )
            continue
        total = float(values.sum())
        if total == 0:
            out.totals[col], out.why[col] = None, f"Σ {col} is 0 ({where})"
            continue
        out.totals[col] = total
    return out


def ratio(numerator: int, denominator: float | None, scale: float) -> float | None:
    """``numerator ÷ (denominator ÷ scale)``; ``None`` when the denominator is unknown or zero."""
    if denominator is None or denominator == 0:
        return None
    return numerator / (denominator / scale)
