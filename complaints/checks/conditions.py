"""The checks' functions, pure and vectorised: row conditions and the gate's table procedures.

A *condition* takes a frame and returns a boolean ndarray, True where the row FAILS the check; the
custom GX expectation runs the catalogue check's condition. Each catalogue condition is a named
module-level function (one per check that needs one) built from the helpers here. The *procedures*
at the end (missing columns, unparseable values, missing denominators) are the pandas-engine checks
the gate runs itself because they need data GX cannot see.

No I/O and no GX here.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from complaints import ledger as L
from complaints.periods import Period

# 18-digit resident identity number: 6-digit region, birth date 18xx/19xx/20xx, 3 digits, check digit.
RESIDENT_ID_PATTERN = (
    r"(?<![0-9A-Za-z])[1-9]\d{5}(?:18|19|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])\d{3}[0-9Xx]"
    r"(?![0-9A-Za-z])"
)
# 11-digit mainland mobile number, optionally +86 and with spaces or hyphens 3-4-4.
MOBILE_PATTERN = r"(?<!\d)(?:\+?86[- ]?)?1[3-9]\d[- ]?\d{4}[- ]?\d{4}(?!\d)"


# --------------------------------------------------------------------------------------------------
# Building blocks, vectorised: frame -> boolean ndarray, True where the row FAILS the check.
# --------------------------------------------------------------------------------------------------


def _present(s: pd.Series) -> np.ndarray:
    return s.notna().to_numpy(dtype=bool)


def self_link(frame: pd.DataFrame, column: str) -> np.ndarray:
    link = frame[column]
    return _present(link) & (link == frame["complaint_id"]).fillna(False).to_numpy(dtype=bool)


def _codes(*series: pd.Series) -> list[np.ndarray]:
    """Shared integer codes for several text columns (-1 = missing), via one ``pd.factorize``."""
    joined = pd.concat(
        [
            pd.Series(x.to_numpy(), dtype=x.dtype) if isinstance(x.dtype, pd.CategoricalDtype) else x
            for x in series
        ],
        ignore_index=True,
    )
    codes, _ = pd.factorize(joined.astype("str") if joined.dtype == object else joined)
    out, start = [], 0
    for x in series:
        out.append(codes[start : start + len(x)])
        start += len(x)
    return out


def positions_in(values: pd.Series, pool: pd.Series) -> np.ndarray:
    """For each text value, the position of its first occurrence in ``pool`` (-1: absent or missing).
    Compared in Arrow: no Python objects (``Series.map``/``isin`` over 5M ids built ~0.4 GB of them)."""
    found = pc.index_in(_arrow_text(values), value_set=_arrow_text(pool).combine_chunks(), skip_nulls=True)
    return np.asarray(found.fill_null(-1).to_numpy(zero_copy_only=False), dtype=np.int64)


def is_member(values: pd.Series, pool: pd.Series) -> np.ndarray:
    """``values.isin(pool)`` for text (missing values are not members)."""
    return positions_in(values, pool) >= 0


def dangling_link(frame: pd.DataFrame, column: str) -> np.ndarray:
    link = frame[column]
    return _present(link) & ~is_member(link, frame["complaint_id"])


def both_repeat_and_escalation(frame: pd.DataFrame) -> np.ndarray:
    return _present(frame["repeat_of"]) & _present(frame["escalation_of"])


def circular_links(frame: pd.DataFrame) -> np.ndarray:
    """Rows whose repeat/escalation chain never reaches a first record (a cycle, or leads into one).

    Pointer doubling over positions: after ``ceil(log2(n+1))`` squarings every chain that ends has
    reached the sentinel. Direct self-links are reported by their own checks and treated as ends here.
    """
    n = len(frame)
    if n == 0:
        return np.zeros(0, dtype=bool)
    parent = frame["repeat_of"].where(frame["repeat_of"].notna(), frame["escalation_of"])
    id_codes, parent_codes = _codes(frame["complaint_id"], parent)
    first = np.full(max(id_codes.max(initial=-1), parent_codes.max(initial=-1)) + 2, n, dtype=np.int64)
    rows = np.arange(n)
    known = id_codes >= 0
    first[id_codes[known][::-1]] = rows[known][::-1]  # reversed: the first occurrence wins
    pos = np.where(parent_codes >= 0, first[parent_codes], n)
    pos = np.where(pos == rows, n, pos)  # self-links have their own checks
    p = np.append(pos, n)
    for _ in range(math.ceil(math.log2(n + 1)) + 1):
        p = p[p]
    return p[:n] != n


def _listed_codes_unknown(frame: pd.DataFrame, column: str, codes: dict[str, str]) -> np.ndarray:
    """Rows whose ``;``-separated ``column`` lists an item that is not one of ``codes``. Each distinct
    list is judged once (a million rows hold a few hundred distinct lists)."""
    if column not in frame.columns:
        return np.zeros(len(frame), dtype=bool)
    row_codes, lists = pd.factorize(frame[column], use_na_sentinel=True)
    if not len(lists):
        return np.zeros(len(frame), dtype=bool)
    known = set(codes)
    bad = np.array([any(i.strip() not in known for i in str(v).lower().split(";") if i.strip() != "")
                    for v in lists] + [False])
    return bad[row_codes]  # -1 (missing) picks the appended False


def extra_category_codes(frame: pd.DataFrame) -> np.ndarray:
    return _listed_codes_unknown(frame, "extra_categories", L.CATEGORIES)


def root_cause_codes(frame: pd.DataFrame) -> np.ndarray:
    return _listed_codes_unknown(frame, "root_cause", L.ROOT_CAUSES)


def product_line_mismatch(frame: pd.DataFrame) -> np.ndarray:
    expected = frame["product_line"].map(L.PRODUCT_LINE_BUSINESS)
    both = expected.notna() & frame["business_line"].isin(list(L.BUSINESS_LINES))
    return (both & (expected != frame["business_line"])).to_numpy(dtype=bool)


def _text_columns(frame: pd.DataFrame, table: str) -> list[str]:
    declared = {c.name: c.kind for c in L.TABLES[table]}
    cols = [name for name, kind in declared.items() if kind == "text" and name in frame.columns]
    extra = [
        c
        for c in frame.columns
        if c not in declared
        and not str(c).startswith("_")
        and (pd.api.types.is_string_dtype(frame[c].dtype) or frame[c].dtype == object
             or isinstance(frame[c].dtype, pd.CategoricalDtype))
    ]
    return cols + extra


# Cheap prefilters without look-arounds (run by Arrow's RE2 engine); the exact patterns above need
# Python's ``re`` (one call per value), so they only run on the few candidate values.
_PREFILTER = {RESIDENT_ID_PATTERN: r"\d{17}[0-9Xx]", MOBILE_PATTERN: r"1[3-9]\d[- ]?\d{4}[- ]?\d{4}"}


def _arrow_text(s: pd.Series) -> pa.ChunkedArray:
    if isinstance(s.dtype, pd.CategoricalDtype):
        s = s.astype("str")
    arr = getattr(s.array, "_pa_array", None)
    if (
        isinstance(arr, pa.ChunkedArray)
        and pa.types.is_string(arr.type)
        or (isinstance(arr, pa.ChunkedArray) and pa.types.is_large_string(arr.type))
    ):
        return arr
    return pa.chunked_array([pa.array(s.to_numpy(dtype=object), type=pa.string(), from_pandas=True)])


def contains_pattern(frame: pd.DataFrame, pattern: str, table: str = "ledger") -> np.ndarray:
    """Rows where any text column contains ``pattern`` (one of the identifier patterns above). A
    categorical column is searched once per category, without building its per-row text."""
    out = np.zeros(len(frame), dtype=bool)
    for col in _text_columns(frame, table):
        s = frame[col]
        if isinstance(s.dtype, pd.CategoricalDtype):
            found = _contains(pd.Series(s.cat.categories.astype("str")), pattern)
            out |= np.append(found, False)[s.cat.codes.to_numpy()]  # code -1 (missing) → False
        else:
            out |= _contains(s, pattern)
    return out


def _contains(s: pd.Series, pattern: str) -> np.ndarray:
    """``s.str.contains(pattern)`` (missing: False), with Arrow's RE2 prefilter picking the candidates."""
    out = np.zeros(len(s), dtype=bool)
    if not s.notna().any():
        return out
    hit = pc.fill_null(pc.match_substring_regex(_arrow_text(s), _PREFILTER.get(pattern, pattern)), False)
    candidates = np.asarray(hit.to_numpy(), dtype=bool)
    if candidates.any():
        text = s[candidates].astype("str")
        exact = text.str.contains(pattern, regex=True, na=False).to_numpy(dtype=bool)
        out[np.flatnonzero(candidates)[exact]] = True
    return out


# --------------------------------------------------------------------------------------------------
# The catalogue's conditions (one named function per custom-expectation check)
# --------------------------------------------------------------------------------------------------


def regulator_channel_not_forwarded(frame: pd.DataFrame) -> np.ndarray:
    """The channel is ``regulator`` but ``regulator_forwarded`` is not true (L055)."""
    return (
        (frame["channel"] == "regulator") & ~frame["regulator_forwarded"].fillna(False).astype(bool)
    ).to_numpy(dtype=bool)


def repeat_of_self(frame: pd.DataFrame) -> np.ndarray:
    """``repeat_of`` points at the record itself (L056)."""
    return self_link(frame, "repeat_of")


def escalation_of_self(frame: pd.DataFrame) -> np.ndarray:
    """``escalation_of`` points at the record itself (L057)."""
    return self_link(frame, "escalation_of")


def repeat_of_dangling(frame: pd.DataFrame) -> np.ndarray:
    """``repeat_of`` points at no ``complaint_id`` of the frame (L059)."""
    return dangling_link(frame, "repeat_of")


def escalation_of_dangling(frame: pd.DataFrame) -> np.ndarray:
    """``escalation_of`` points at no ``complaint_id`` of the frame (L060)."""
    return dangling_link(frame, "escalation_of")


def resident_id_in_text(frame: pd.DataFrame) -> np.ndarray:
    """A ledger text column holds an 18-digit resident ID number (L062)."""
    return contains_pattern(frame, RESIDENT_ID_PATTERN, "ledger")


def mobile_in_text(frame: pd.DataFrame) -> np.ndarray:
    """A ledger text column holds an 11-digit mobile number (L063)."""
    return contains_pattern(frame, MOBILE_PATTERN, "ledger")


# Conditions that take categorical text columns as they are (the identifier scans, contains_pattern).
TAKES_CATEGORIES = frozenset({resident_id_in_text, mobile_in_text})


# --------------------------------------------------------------------------------------------------
# The gate's procedures for the pandas-engine checks
# --------------------------------------------------------------------------------------------------


def required_columns_missing(frame: pd.DataFrame, table: str) -> list[str]:
    """Required columns of ``table`` absent from ``frame`` (checked before normalisation adds them)."""
    return [c.name for c in L.TABLES[table] if c.required and c.name not in frame.columns]


def parse_failures(raw: pd.DataFrame, normalized: pd.DataFrame, table: str) -> pd.DataFrame:
    """Boolean frame (row × column): a non-blank raw value that could not be parsed (date, number, bool)."""
    # Typed columns count too: a float 19.6 or inf in an integer column, an integer in a date column.
    flags = L.coercion_failures(raw.reset_index(drop=True), normalized, table)
    flags.index = normalized.index
    return flags


def exposure_gaps(
    ledger: pd.DataFrame, exposure: pd.DataFrame, period: Period | None, entities: Iterable[str]
) -> list[str]:
    """``entity/line`` keys in scope with no denominator row (``entity/*`` for an entity without cases).

    Scope: the entities given × the business lines of their ledger rows (received in ``period`` when
    one is given). With a quarter, rows of that quarter count; with a year, a year row or all four
    quarter rows; with no period, any row. A month or a week needs no denominators (nothing is missing).
    """
    if period is not None and period.kind in ("month", "week"):
        return []
    rows = ledger[["entity_code", "business_line"]]  # all it reads: the ledger's other columns stay put
    if period is not None:
        start = pd.Timestamp(period.start)
        end = pd.Timestamp(period.end)
        rows = rows[(ledger["received_at"] >= start) & (ledger["received_at"] < end)]
    exp = exposure[["entity_code", "business_line", "period"]].dropna()
    if period is None:
        have = set(zip(exp["entity_code"], exp["business_line"], strict=True))
    else:
        have = set()
        codes = exp.assign(period=exp["period"].str.upper())
        direct = codes[codes["period"] == period.code]
        have |= set(zip(direct["entity_code"], direct["business_line"], strict=True))
        if period.kind == "year":
            quarters = {q.code for q in period.quarters()}
            q_rows = codes[codes["period"].isin(quarters)].drop_duplicates()
            full = q_rows.groupby(["entity_code", "business_line"])["period"].nunique()
            have |= set(full[full == 4].index)
    have_entities = {e for e, _ in have}
    gaps: list[str] = []
    pairs = rows[["entity_code", "business_line"]].dropna().drop_duplicates()
    by_entity: dict[str, list[str]] = {}
    for e, b in sorted(pairs.itertuples(index=False)):
        by_entity.setdefault(e, []).append(b)
    for entity in sorted(set(entities)):
        in_scope = [b for b in by_entity.get(entity, []) if b in L.BUSINESS_LINES]
        if not in_scope:
            if entity not in have_entities:
                gaps.append(f"{entity}/*")
            continue
        gaps.extend(f"{entity}/{line}" for line in in_scope if (entity, line) not in have)
    return gaps
