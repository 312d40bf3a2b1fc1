"""The monthly response-speed call-back sample (响应速度抽访, FIGURES.md "Internal publications"). Pure.

For month M (Asia/Shanghai local dates) and an as-of time:

* the **population** is the cases in scope (repeats left out) received in M that were not decided within
  their time limit: eligible (``accepted`` not false, ``outcome`` not ``withdrawn``, ``severity`` not
  ``venting``) and either decided after the due date, or undecided with the due date before the as-of
  date; cases whose complainant asked for the delay (``delay_requested`` true) are left out (counted in
  ``delay_requested_left_out``);
* the **sample** is ``ceil(share × population)`` cases (share at least 0.2 by default; exact decimal
  arithmetic, so 7 × 0.2 = 1.4 → 2), drawn without replacement by numpy's PCG64 generator seeded with
  ``seed`` from the population sorted by complaint id; the same population and seed give the same sample
  (an auditor redraws it from the bundle).

:func:`run_seed` derives the seed from the run id (random per run, recorded in run.json and the bundle),
so the sample cannot be known before the run and is reproduced from the bundle alone.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import math
from dataclasses import dataclass
from decimal import Decimal

import numpy as np
import pandas as pd

from complaints.calendar import WorkCalendar
from complaints.periods import Period
from complaints.rules import Rulebooks, decision_due_dates

DEFAULT_SHARE = 0.2


@dataclass(frozen=True)
class CallbackSample:
    population: list[str]  # complaint ids, sorted
    sample: list[str]  # complaint ids, sorted
    left_out_delay_requested: list[str]  # not decided in time, but the complainant asked for the delay
    share: float
    seed: int

    def figures(self) -> dict[str, object]:
        return {"population": len(self.population), "sample_size": len(self.sample), "share": self.share,
                "seed": self.seed, "sample": list(self.sample),
                "delay_requested_left_out": len(self.left_out_delay_requested)}


def run_seed(run_id: str, month: str) -> int:
    """The sample's seed for one run: 63 bits of SHA-256 over the run id and the month."""
    return int(hashlib.sha256(f"{run_id}:{month}".encode()).hexdigest()[:16], 16) >> 1


def sample_size(population: int, share: float) -> int:
    """``ceil(share × population)`` in decimal arithmetic (0.2 × 5 is 1, not 1.0000000000000002 → 2)."""
    if not 0 < share <= 1:
        raise ValueError(f"the call-back sample share must be above 0 and at most 1, not {share}")
    return math.ceil(Decimal(str(share)) * population)


def draw(ids: list[str], share: float, seed: int) -> list[str]:
    """The sample of ``ids`` (any order; drawn from them sorted), sorted."""
    pool = sorted(ids)
    n = sample_size(len(pool), share)
    rng = np.random.Generator(np.random.PCG64(seed))
    picked = rng.choice(len(pool), size=n, replace=False) if n else np.array([], dtype=int)
    return sorted(pool[int(i)] for i in picked)


def callback_sample(
    ledger: pd.DataFrame,
    *,
    month: Period,
    as_of: dt.datetime,
    calendar: WorkCalendar,
    rulebooks: Rulebooks,
    seed: int,
    share: float = DEFAULT_SHARE,
    entity: str | None = None,
    head_office: str | None = None,
) -> CallbackSample:
    """The month's population and sample (rules: module docstring). ``ledger``: normalised, tz-naive local."""
    if month.kind != "month":
        raise ValueError(f"{month.code!r} is not a month (YYYY-MM)")
    n = len(ledger)
    scope = np.ones(n, dtype=bool)
    if entity is not None and entity != head_office:
        scope = (ledger["entity_code"] == entity).to_numpy(dtype=bool)
    received = ledger["received_at"].to_numpy(dtype="datetime64[us]")
    in_month = (received >= np.datetime64(month.start, "us")) & (received < np.datetime64(month.end, "us"))
    eligible = (
        ledger["accepted"].astype("boolean").fillna(True).to_numpy(dtype=bool)
        & (ledger["outcome"] != "withdrawn").to_numpy(dtype=bool)
        & (ledger["severity"] != "venting").to_numpy(dtype=bool)
    )
    cases = scope & in_month & eligible & ledger["repeat_of"].isna().to_numpy(dtype=bool)
    due = decision_due_dates(ledger, rulebooks, calendar, rows=cases).due
    decided = ledger["decided_at"].to_numpy(dtype="datetime64[us]").astype("datetime64[D]")
    today = np.datetime64(as_of.replace(tzinfo=None), "D")
    has_due = ~np.isnat(due)
    done = ~np.isnat(decided)
    not_in_time = cases & has_due & ((done & (decided > due)) | (~done & (due < today)))
    delay = ledger["delay_requested"].astype("boolean").fillna(False).to_numpy(dtype=bool) \
        if "delay_requested" in ledger.columns else np.zeros(n, dtype=bool)
    ids = ledger["complaint_id"].astype(str).to_numpy()
    population = sorted(ids[not_in_time & ~delay].tolist())
    return CallbackSample(population=population, sample=draw(population, share, seed),
                          left_out_delay_requested=sorted(ids[not_in_time & delay].tolist()),
                          share=share, seed=seed)


#: the call list's result columns and their allowed answers (the workbook's dropdowns)
RESULT_CHOICES: dict[str, tuple[str, ...]] = {
    "是否主动联系客户": ("是", "否"),
    "对处理结果的意见": ("满意", "基本满意", "不满意", "未接通"),
    "服务态度评价": ("满意", "基本满意", "不满意"),
    "处理效率评价": ("满意", "基本满意", "不满意"),
}
RESULT_KEYS = {"是否主动联系客户": "contacted", "对处理结果的意见": "opinion", "服务态度评价": "attitude",
               "处理效率评价": "efficiency"}


def check_result_row(row: dict[str, object]) -> list[str]:
    """Why a filled-in call-list row cannot be read (empty: it can). ``row``: header → cell value."""
    errors = []
    cid = row.get("投诉编号")
    if cid is None or not str(cid).strip():
        errors.append("投诉编号为空")
    answered = [c for c in RESULT_CHOICES if str(row.get(c) or "").strip()]
    if not answered:
        errors.append("未填写抽访结果")
    for col, allowed in RESULT_CHOICES.items():
        value = str(row.get(col) or "").strip()
        if value and value not in allowed:
            errors.append(f"{col}“{value}”不是可选值（{'/'.join(allowed)}）")
    when = row.get("回访日期")
    if when not in (None, "") and not isinstance(when, dt.date):
        try:
            dt.date.fromisoformat(str(when).strip()[:10])
        except ValueError:
            errors.append(f"回访日期“{when}”不是日期（如2026-10-15）")
    return errors


def summarise_results(rows: list[dict[str, object]], month: str) -> dict[str, object]:
    """The summary of the call-back results of ``month``'s sample (rows already checked): cases called back,
    and per result column the count of each answer (in the dropdown's order; 0 where none)."""
    latest: dict[str, dict[str, object]] = {}
    for row in rows:  # a case listed twice (two files): the later file's row counts
        latest[str(row["投诉编号"]).strip()] = row
    out: dict[str, object] = {"month": month, "cases": len(latest)}
    for col, allowed in RESULT_CHOICES.items():
        counts = {a: 0 for a in allowed}
        for row in latest.values():
            value = str(row.get(col) or "").strip()
            if value:
                counts[value] += 1
        out[RESULT_KEYS[col]] = counts
    return out
