"""Every figure of FIGURES.md for a quarter or a year, vectorised over the ledger, with lineage. Pure."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from complaints.benchmarks import ReferenceData
from complaints.calendar import WorkCalendar
from complaints.figures._rates import denominators, ratio
from complaints.figures._regulator import benchmark, regulator_basis
from complaints.figures._result import Collector, FiguresResult
from complaints.figures.catalogue import lower_is_better
from complaints.ledger import root_cause_lists
from complaints.periods import Period
from complaints.rules import (
    ACKNOWLEDGEMENT,
    CLAIMS_DECISION,
    PROGRESS_LOGGED,
    Due,
    Rulebooks,
    RuleSet,
    decision_due_dates,
    internal_due_dates,
)
from complaints.settings import MajorCriteria
from complaints.times import SHANGHAI, to_local

Mask = npt.NDArray[np.bool_]
BREAKDOWNS = (
    ("by_category", "category"),
    ("by_channel", "channel"),
    ("by_business_line", "business_line"),
    ("by_product_line", "product_line"),
    ("by_branch", "branch_code"),
    ("by_province", "province"),
    ("by_severity", "severity"),
    ("by_responsible_dept", "responsible_dept"),
)
UNSPECIFIED = "unspecified"
LINES = ("property", "life")
REVISITED = ("satisfied", "basically_satisfied", "dissatisfied")
SATISFIED = ("satisfied", "basically_satisfied")
REVIEW_DAYS = 30  # FIGURES.md reviews.decided_on_time: request date + 30 days (2020 rule art. 20)


def _bool(s: pd.Series, missing: bool) -> Mask:
    return s.fillna(missing).to_numpy(dtype=bool)


def _text(s: pd.Series) -> np.ndarray:
    return s.to_numpy(dtype=object, na_value=None)


def _days(s: pd.Series) -> np.ndarray:
    return s.to_numpy(dtype="datetime64[us]").astype("datetime64[D]")


@dataclass
class _Ledger:
    """The ledger columns the figures use, as numpy arrays (computed once)."""

    frame: pd.DataFrame
    received: np.ndarray  # datetime64[us]
    received_day: np.ndarray  # datetime64[D]
    repeat: Mask
    eligible: Mask  # accepted not false, outcome not withdrawn, severity not venting
    decided_day: np.ndarray
    decided: Mask
    valid: Mask
    forwarded: Mask

    @classmethod
    def of(cls, frame: pd.DataFrame) -> _Ledger:
        received = frame["received_at"].to_numpy(dtype="datetime64[us]")
        decided_day = _days(frame["decided_at"])
        eligible = (
            _bool(frame["accepted"], True)
            & (frame["outcome"] != "withdrawn").to_numpy(dtype=bool)
            & (frame["severity"] != "venting").to_numpy(dtype=bool)
        )
        return cls(
            frame=frame,
            received=received,
            received_day=received.astype("datetime64[D]"),
            repeat=frame["repeat_of"].notna().to_numpy(dtype=bool),
            eligible=eligible,
            decided_day=decided_day,
            decided=~np.isnat(decided_day),
            valid=_bool(frame["valid"], False),
            forwarded=_bool(frame["regulator_forwarded"], False),
        )

    def in_period(self, period: Period, scope: Mask) -> Mask:
        start = np.datetime64(period.start, "us")
        end = np.datetime64(period.end, "us")
        return scope & (self.received >= start) & (self.received < end)


@dataclass
class _Clock:
    """within / late / pending masks of one clock over a population."""

    within: Mask
    late: Mask
    pending: Mask

    def restrict(self, mask: Mask) -> _Clock:
        return _Clock(self.within & mask, self.late & mask, self.pending & mask)

    def rate(self) -> float | None:
        w, late = int(self.within.sum()), int(self.late.sum())
        return None if w + late == 0 else w / (w + late)


def _clock(population: Mask, done_at: np.ndarray, due: np.ndarray, now: np.datetime64) -> _Clock:
    """FIGURES.md logic: done by the due → within; done after it, or not done and due < now → late."""
    done = ~np.isnat(done_at)
    missing_due = np.isnat(due)
    ok = population & ~missing_due
    return _Clock(
        within=ok & done & (done_at <= due),
        late=ok & ((done & (done_at > due)) | (~done & (due < now))),
        pending=ok & ~done & (due >= now),
    )


def _pct_change(current: float | None, previous: float | None) -> float | None:
    if current is None or previous is None or previous == 0:
        return None
    return (current - previous) / previous * 100


def _groups(values: pd.Series, mask: Mask) -> list[tuple[str, npt.NDArray[np.int64]]]:
    """(code, positions) for each distinct value among the masked rows, sorted by count desc then code."""
    positions = np.flatnonzero(mask)
    if positions.size == 0:
        return []
    codes, uniques = pd.factorize(values.iloc[positions], sort=True)
    order = np.argsort(codes, kind="stable")
    counts = np.bincount(codes, minlength=len(uniques))
    splits = np.split(positions[order], np.cumsum(counts)[:-1])
    pairs = [(str(u), p) for u, p in zip(uniques, splits, strict=True)]
    return sorted(pairs, key=lambda item: (-len(item[1]), item[0]))


def _positions_of(ids: pd.Series, rows: Mask, keys: pd.Series) -> npt.NDArray[np.int64]:
    """Position in ``ids`` (among ``rows``) of each of ``keys`` (-1 when absent); vectorised by pyarrow."""
    subset = np.flatnonzero(rows)
    value_set = pa.array(ids.iloc[subset].astype("str").array)
    found = pc.index_in(pa.array(keys.astype("str").array), value_set=value_set)
    local = np.asarray(found.fill_null(-1).to_numpy(zero_copy_only=False), dtype=np.int64)
    return np.where(local >= 0, subset[np.maximum(local, 0)] if subset.size else -1, -1)


class _Figures:
    """One computation: holds the inputs and fills a :class:`Collector`."""

    def __init__(
        self,
        ledger: pd.DataFrame,
        *,
        period: Period,
        as_of: dt.datetime,
        calendar: WorkCalendar,
        rulebooks: Rulebooks,
        exposure: pd.DataFrame | None,
        events: pd.DataFrame | None,
        entity: str | None,
        head_office: str | None,
        major: MajorCriteria,
        department_targets: Mapping[str, float] | None,
        reference: ReferenceData | None = None,
    ) -> None:
        self.L = _Ledger.of(ledger)
        self.period = period
        self.as_of = as_of
        self.now = np.datetime64(as_of, "us")
        self.today = self.now.astype("datetime64[D]")
        self.calendar = calendar
        self.rulebooks = rulebooks
        self.exposure = exposure
        self.events = events
        self.entity_filter = None if entity is None or entity == head_office else entity
        self.major_criteria = major
        self.department_targets = dict(department_targets or {})
        self.reference = reference
        n = len(ledger)
        self.scope: Mask = (
            np.ones(n, dtype=bool)
            if self.entity_filter is None
            else (ledger["entity_code"] == self.entity_filter).to_numpy(dtype=bool)
        )
        self.out = Collector()
        self.used_rules: dict[str, RuleSet] = {}
        self.records = self.L.in_period(period, self.scope)
        self.cases = self.records & ~self.L.repeat
        # cases in scope received before the period's end: timeliness (this period) and the backlog
        self.upto = self.scope & ~self.L.repeat & (self.L.received < np.datetime64(period.end, "us"))

    # -- helpers --------------------------------------------------------------------------------
    def put(self, key: str, value: Any, rows: Mask | None = None, note: str | None = None) -> None:
        self.out.put(key, value, rows, note)

    def count(self, key: str, mask: Mask) -> int:
        value = int(mask.sum())
        self.put(key, value, mask)
        return value

    def rate(self, key: str, clock: _Clock | None, why_empty: str) -> None:
        if clock is None:
            self.put(key, None, note=why_empty)
            return
        value = clock.rate()
        self.put(
            key,
            value,
            clock.within | clock.late,
            note=f"0 ÷ 0: no {why_empty} case was decided or became late in {self.period.code}",
        )

    def _use(self, due: Due) -> None:
        for i in np.unique(due.rule_index[due.rule_index >= 0]):
            rule = due.rule_sets[int(i)]
            self.used_rules[rule.id] = rule

    # -- sections -------------------------------------------------------------------------------
    def counts(self) -> None:
        f, cases = self.L.frame, self.cases
        self.count("counts.contacts", self.records)
        self.count("counts.cases", cases)
        self.count("counts.repeat_contacts", self.records & self.L.repeat)
        self.count("counts.valid_cases", cases & self.L.valid)
        self.count("counts.escalated_cases", cases & f["escalation_of"].notna().to_numpy(dtype=bool))
        self.count("counts.regulator_forwarded_cases", cases & self.L.forwarded)
        m = self.major_criteria
        major = np.zeros(len(f), dtype=bool)
        if m.severity_major:
            major |= (f["severity"] == "major").to_numpy(dtype=bool)
        if m.amount_threshold is not None:
            major |= (f["amount_involved"] >= m.amount_threshold).to_numpy(dtype=bool, na_value=False)
        if m.media_exposed:
            major |= _bool(f["media_exposed"], False)
        if m.group_size_threshold is not None:
            major |= (f["group_size"] >= m.group_size_threshold).to_numpy(dtype=bool, na_value=False)
        if m.regulator_forwarded:
            major |= self.L.forwarded
        self.count("counts.major_cases", cases & major)
        # issues: distinct categories in {category} ∪ extra_categories, per case
        pos = np.flatnonzero(cases)
        primary = pd.Series(f["category"].to_numpy(dtype=object, na_value=None)[pos], index=pos)
        extra = f["extra_categories"].iloc[pos]
        extra.index = pos
        extra = extra[extra.notna()]
        items = extra.astype("str").str.lower().str.split(";").explode().str.strip()
        items = items[items.notna() & (items != "")]
        long = pd.DataFrame(
            {
                "pos": np.concatenate([primary.index.to_numpy(), items.index.to_numpy()]),
                "cat": np.concatenate([primary.to_numpy(dtype=object), items.to_numpy(dtype=object)]),
            }
        )
        long = long[long["cat"].notna()].drop_duplicates()
        with_issue = np.zeros(len(f), dtype=bool)
        with_issue[long["pos"].to_numpy(dtype=np.int64)] = True
        self.put("counts.issues", len(long), with_issue)
        self.issue_pairs = long

    def breakdowns(self) -> None:
        f = self.L.frame
        for key, column in BREAKDOWNS:
            table: dict[str, int] = {}
            for code, positions in _groups(f[column].fillna(UNSPECIFIED), self.cases):
                table[code] = len(positions)
                self.out.trace(f"{key}.{code}", positions)
            self.put(key, table)
        long = self.issue_pairs
        table = {}
        for code, positions in _groups(long["cat"], np.ones(len(long), dtype=bool)):
            rows = long["pos"].to_numpy(dtype=np.int64)[positions]
            table[code] = len(rows)
            self.out.trace(f"issues_by_category.{code}", np.sort(rows))
        self.put("issues_by_category", table)
        self.root_causes()

    def root_causes(self) -> None:
        """by_root_cause: over cases(P), for each root-cause code, the cases having it (a case with
        several causes counts under each, so the counts may add up to more than the cases);
        ``unspecified`` for cases with none."""
        f = self.L.frame
        pos = np.flatnonzero(self.cases)
        if "root_cause" in f.columns:
            lists = root_cause_lists(f["root_cause"].iloc[pos])
        else:
            lists = pd.Series([[] for _ in pos], dtype=object)
        lists.index = pos
        lists = lists.map(lambda codes: codes or [UNSPECIFIED])
        items = lists.explode()
        table: dict[str, int] = {}
        flat = items.astype(str).reset_index(drop=True)
        for code, positions in _groups(flat, np.ones(len(items), dtype=bool)):
            rows = np.sort(items.index.to_numpy(dtype=np.int64)[positions])
            table[code] = len(rows)
            self.out.trace(f"by_root_cause.{code}", rows)
        self.put("by_root_cause", table)

    def _needed(self, mask: Mask, line: str | None = None) -> set[tuple[str, str]]:
        f = self.L.frame
        sub = f.loc[mask, ["entity_code", "business_line"]]
        if line is not None:
            sub = sub[sub["business_line"] == line]
        return set(sub.drop_duplicates().itertuples(index=False, name=None))

    def _rates_for(self, prefix: str, period: Period, cases: Mask, line: str | None) -> float | None:
        """The three rates (and per_10k_insured for life) over ``cases``; returns per_100m_premium."""
        f = self.L.frame
        if line is not None:
            cases = cases & (f["business_line"] == line).to_numpy(dtype=bool)
        valid = cases & self.L.valid
        den = denominators(
            self.exposure, period, entity=self.entity_filter, line=line, needed=self._needed(cases, line)
        )
        n_valid, n_cases = int(valid.sum()), int(cases.sum())
        per_100m = ratio(n_valid, den.totals["premium"], 1e8)
        self.put(f"{prefix}.per_100m_premium", per_100m, valid, den.why.get("premium"))
        self.put(
            f"{prefix}.per_10k_policies",
            ratio(n_valid, den.totals["policies"], 1e4),
            valid,
            den.why.get("policies"),
        )
        self.put(
            f"{prefix}.complaint_rate_pct",
            ratio(n_cases, den.totals["policies"], 1e2),
            cases,
            den.why.get("policies"),
        )
        if line == "life":
            self.put(
                f"{prefix}.per_10k_insured",
                ratio(n_valid, den.totals["insured_persons"], 1e4),
                valid,
                den.why.get("insured_persons"),
            )
        return per_100m

    def rates(self) -> None:
        self.per_100m = self._rates_for("rates", self.period, self.cases, None)
        lines = set(self.L.frame.loc[self.cases, "business_line"].dropna().unique())
        if self.exposure is not None:
            exp = self.exposure
            if self.entity_filter is not None:
                exp = exp[exp["entity_code"] == self.entity_filter]
            codes = {self.period.code, *(q.code for q in self.period.quarters())}
            lines |= set(
                exp.loc[exp["period"].astype("str").str.upper().isin(codes), "business_line"].dropna()
            )
        self.put("rates_by_business_line", {})
        for line in [x for x in LINES if x in lines] + sorted(lines - set(LINES)):
            self._rates_for(f"rates_by_business_line.{line}", self.period, self.cases, line)

    def regulator(self) -> None:
        """监管口径: regulator_basis.<line>.* and the bulletin benchmark (complaints.figures._regulator)."""
        values = regulator_basis(self, self.reference)
        benchmark(self, self.reference, values)
        if self.period.kind == "year":  # the annual report compares quarter by quarter (quarterly bulletins)
            for q in self.period.quarters():
                at = f"by_quarter.Q{q.index}."
                benchmark(self, self.reference, regulator_basis(self, self.reference, q, at), q, at)

    def timeliness(self) -> None:
        L = self.L
        # this period's eligible cases, and earlier ones still undecided (the backlog): decided cases of
        # earlier periods need no due date (and no calendar year of their own)
        population = self.upto & L.eligible & (self.cases | ~L.decided)
        due = decision_due_dates(L.frame, self.rulebooks, self.calendar, rows=population)
        self._use(due)
        self.decision_due = due.due
        clock = _clock(population, L.decided_day, due.due, self.today)
        self.decision_clock = clock
        here = clock.restrict(self.cases)
        self.count("timeliness.on_time", here.within)
        self.count("timeliness.late", here.late)
        self.count("timeliness.pending", here.pending)
        self.rate("timeliness.rate", here, "eligible")
        decided = self.cases & L.eligible & L.decided
        days = (L.decided_day[decided] - L.received_day[decided]).astype("int64")
        why = f"no eligible case of {self.period.code} has a decision"
        self.put("timeliness.median_days", float(np.median(days)) if days.size else None, decided, why)
        self.put("timeliness.mean_days", float(days.mean()) if days.size else None, decided, why)
        backlog = population & ~L.decided & ~np.isnat(due.due) & (due.due < self.today)
        self.count("timeliness.overdue_open", backlog)
        fwd = clock.restrict(self.cases & L.forwarded)
        self.count("forwarded_timeliness.on_time", fwd.within)
        self.count("forwarded_timeliness.late", fwd.late)
        self.count("forwarded_timeliness.pending", fwd.pending)
        self.rate("forwarded_timeliness.rate", fwd, "eligible regulator-forwarded")

    def internal(self) -> None:
        L, f = self.L, self.L.frame
        population = self.cases & L.eligible
        ack_due = internal_due_dates(f, self.rulebooks, ACKNOWLEDGEMENT, self.calendar, rows=population)
        claims_due = internal_due_dates(f, self.rulebooks, CLAIMS_DECISION, self.calendar, rows=population)
        for due in (ack_due, claims_due):
            self._use(due)
        ack = _clock(population, _days(f["acknowledged_at"]), ack_due.due, self.today)
        self._clock_figures("acknowledgement", ack, "eligible")
        claims_pop = population & (claims_due.rule_index >= 0)
        claims = _clock(claims_pop, L.decided_day, claims_due.due, self.today)
        self._clock_figures("claims_3wd", claims, "eligible claims")
        if self.events is None:
            for k in ("within", "late", "pending", "rate"):
                self.put(f"progress_logged_24h.{k}", None, note="no events table was given")
            return
        ev = self.events
        pos = _positions_of(f["complaint_id"], population, ev["complaint_id"])
        known = pos >= 0
        has_events = np.zeros(len(f), dtype=bool)
        has_events[pos[known]] = True
        logged = known & (ev["kind"] == "logged").to_numpy(dtype=bool)
        first = np.full(len(f), np.datetime64("NaT"), dtype="datetime64[us]")
        at = ev["at"].to_numpy(dtype="datetime64[us]")[logged]
        where = pos[logged]
        order = np.lexsort((at, where))  # per complaint, earliest first
        where, at = where[order], at[order]
        head = np.ones(len(where), dtype=bool)
        head[1:] = where[1:] != where[:-1]
        first[where[head]] = at[head]
        pop = population & has_events
        due = internal_due_dates(f, self.rulebooks, PROGRESS_LOGGED, self.calendar, rows=pop)
        self._use(due)
        progress = _clock(pop & (due.rule_index >= 0), first, due.due, self.now)
        self._clock_figures("progress_logged_24h", progress, "eligible case with events")

    def _clock_figures(self, key: str, clock: _Clock, what: str) -> None:
        self.count(f"{key}.within", clock.within)
        self.count(f"{key}.late", clock.late)
        self.count(f"{key}.pending", clock.pending)
        self.rate(f"{key}.rate", clock, what)

    def satisfaction_outcomes_reviews(self) -> None:
        f, cases = self.L.frame, self.cases
        sat = f["satisfaction"]
        revisited = cases & sat.isin(REVISITED).to_numpy(dtype=bool)
        satisfied = cases & sat.isin(SATISFIED).to_numpy(dtype=bool)
        n_rev = self.count("satisfaction.revisited", revisited)
        n_sat = self.count("satisfaction.satisfied", satisfied)
        self.count("satisfaction.not_reached", cases & (sat == "not_reached").to_numpy(dtype=bool))
        self.put(
            "satisfaction.rate",
            n_sat / n_rev if n_rev else None,
            revisited,
            f"0 ÷ 0: no case of {self.period.code} was revisited with a result",
        )
        decided = cases & self.L.decided
        n_dec = self.count("outcomes.decided", decided)
        n_up = self.count("outcomes.upheld", cases & _bool(f["upheld"], False))
        self.put(
            "outcomes.upheld_rate",
            n_up / n_dec if n_dec else None,
            decided,
            f"0 ÷ 0: no case of {self.period.code} has a decision",
        )
        redress = f["redress_amount"].to_numpy(dtype="float64", na_value=np.nan)
        paid = cases & ~np.isnan(redress)
        # full precision (FIGURES.md output contract); math.fsum: the exact sum, correctly rounded once
        self.put("outcomes.redress_total", math.fsum(redress[paid].tolist()), paid)
        req_day = _days(f["review_requested_at"])
        requested = cases & ~np.isnat(req_day)
        self.count("reviews.requested", requested)
        dec_day = _days(f["review_decided_at"])
        on_time = requested & ~np.isnat(dec_day) & (dec_day <= req_day + np.timedelta64(REVIEW_DAYS, "D"))
        self.count("reviews.decided_on_time", on_time)

    def _volume(self, period: Period) -> tuple[Mask, Mask]:
        cases = self.L.in_period(period, self.scope) & ~self.L.repeat
        return cases, cases & self.L.valid

    def changes(self) -> None:
        current = {
            "cases": int(self.cases.sum()),
            "valid_cases": int((self.cases & self.L.valid).sum()),
            "rates.per_100m_premium": self.per_100m,
        }
        comparisons = [("yoy", self.period.year_earlier())]
        if self.period.kind == "quarter":
            comparisons.insert(0, ("qoq", self.period.previous()))
        else:
            self.put("qoq", None, note=f"qoq is not used for a year ({self.period.code})")
        for prefix, earlier in comparisons:
            cases, valid = self._volume(earlier)
            previous: dict[str, Any] = {"cases": int(cases.sum()), "valid_cases": int(valid.sum())}
            den = denominators(
                self.exposure, earlier, entity=self.entity_filter, line=None, needed=self._needed(cases)
            )
            previous["rates.per_100m_premium"] = ratio(previous["valid_cases"], den.totals["premium"], 1e8)
            lineage = {"cases": cases, "valid_cases": valid, "rates.per_100m_premium": valid}
            for name, value in previous.items():
                key = f"{prefix}.{name}"
                self.put(
                    f"{key}.previous",
                    value,
                    lineage[name],
                    f"{earlier.code}: {den.why.get('premium')}" if name.startswith("rates") else None,
                )
                change = _pct_change(current[name], value)
                why = None
                if change is None:
                    if value is None:
                        why = f"the previous value ({earlier.code}) is unknown"
                    elif value == 0:
                        why = f"the previous value ({earlier.code}) is 0"
                    else:
                        why = f"the current value ({self.period.code}) is unknown"
                self.put(f"{key}.change_pct", change, note=why)

    def annual(self) -> None:
        if self.period.kind != "year":
            return
        L, f = self.L, self.L.frame
        sat = f["satisfaction"]
        revisited_all = sat.isin(REVISITED).to_numpy(dtype=bool)
        satisfied_all = sat.isin(SATISFIED).to_numpy(dtype=bool)

        def sat_rate(mask: Mask) -> float | None:
            r = int((mask & revisited_all).sum())
            return int((mask & satisfied_all).sum()) / r if r else None

        for q in self.period.quarters():
            key = f"by_quarter.Q{q.index}"
            cases = L.in_period(q, self.scope) & ~L.repeat
            self.count(f"{key}.cases", cases)
            self.count(f"{key}.valid_cases", cases & L.valid)
            self.rate(f"{key}.timeliness.rate", self.decision_clock.restrict(cases), f"eligible {q.code}")
            self.put(
                f"{key}.satisfaction.rate",
                sat_rate(cases),
                cases & revisited_all,
                f"0 ÷ 0: no case of {q.code} was revisited with a result",
            )
        self.put("by_department", {})
        depts = f["responsible_dept"].fillna(UNSPECIFIED)
        for dept, positions in sorted(_groups(depts, self.cases), key=lambda item: item[0]):
            key = f"by_department.{dept}"
            mask = np.zeros(len(f), dtype=bool)
            mask[positions] = True
            self.count(f"{key}.cases", mask)
            self.rate(f"{key}.timeliness.rate", self.decision_clock.restrict(mask), f"eligible {dept}")
            values = {
                "timeliness.rate": self.decision_clock.restrict(mask).rate(),
                "satisfaction.rate": sat_rate(mask),
            }
            self.put(
                f"{key}.satisfaction.rate",
                values["satisfaction.rate"],
                mask & revisited_all,
                f"0 ÷ 0: no {dept} case was revisited with a result",
            )
            flags: dict[str, str | None] = {}
            for target_key, target in self.department_targets.items():
                value = values.get(target_key)
                if value is None:
                    flags[target_key] = None
                    continue
                lower = lower_is_better(target_key)
                better, worse = (
                    (value < target, value > target) if lower else (value > target, value < target)
                )
                flags[target_key] = "beats" if better else "misses" if worse else "meets"
            self.put(f"{key}.targets", flags)

    def rule_sets(self) -> list[dict[str, Any]]:
        used = dict(self.used_rules)
        for kind in ("regulation", "internal"):
            chain = self.rulebooks.of_kind(kind)  # type: ignore[arg-type]
            if chain:
                rule = self.rulebooks.governing(kind, self.period.last_day)  # type: ignore[arg-type]
                used.setdefault(rule.id, rule)
        ordered = sorted(used.values(), key=lambda r: (r.kind != "regulation", r.effective_from))
        return [r.describe() for r in ordered]


def compute_figures(
    ledger: pd.DataFrame,
    *,
    period: Period | str,
    as_of: dt.datetime,
    calendar: WorkCalendar,
    rulebooks: Rulebooks,
    exposure: pd.DataFrame | None = None,
    events: pd.DataFrame | None = None,
    entity: str | None = None,
    head_office: str | None = None,
    major: MajorCriteria | None = None,
    department_targets: Mapping[str, float] | None = None,
    rows: Mapping[str, int] | None = None,
    reference: ReferenceData | None = None,
) -> FiguresResult:
    """Every figure of FIGURES.md for ``period`` (a quarter or a year) over normalised frames.

    ``as_of`` is tz-naive Asia/Shanghai local time (an aware datetime is converted). ``entity`` equal to
    ``head_office`` (or ``None``) means all rows; another code means the rows with that ``entity_code``.
    ``reference``: the bulletin medians and the crosswalk (``None``: no benchmark, no by_issue/by_product,
    each with a note). Raises :class:`~complaints.calendar.UnknownCalendarYear` when a working-day limit
    needs an unknown year.
    """
    period = Period.parse(period) if isinstance(period, str) else period
    if period.kind not in ("quarter", "year"):
        raise ValueError(f"figures are defined for a quarter or a year, not {period.code!r}")
    local = to_local(as_of)
    comp = _Figures(
        ledger,
        period=period,
        as_of=local,
        calendar=calendar,
        rulebooks=rulebooks,
        exposure=exposure,
        events=events,
        entity=entity,
        head_office=head_office,
        major=major if major is not None else MajorCriteria(),
        department_targets=department_targets,
        reference=reference,
    )
    comp.counts()
    comp.breakdowns()
    comp.rates()
    comp.regulator()
    comp.timeliness()
    comp.internal()
    comp.satisfaction_outcomes_reviews()
    comp.changes()
    comp.annual()
    n = len(ledger)
    figures: dict[str, Any] = {
        "period": period.code,
        "entity": entity,
        "as_of": local.replace(tzinfo=SHANGHAI).isoformat(),
        "rule_sets": comp.rule_sets(),
        "rows": dict(rows) if rows is not None else {"read": n, "accepted": n, "quarantined": 0},
    }
    figures.update(comp.out.figures)
    figures["notes"] = dict(comp.out.notes)
    return FiguresResult(figures=figures, lineage=comp.out.lineage(ledger["complaint_id"]))
