"""The regulator's bulletin as reference data (FIGURES.md "Regulator basis (监管口径) and the bulletin
benchmark"): published segment medians per bulletin period, and the crosswalk from the ledger's
categories and product lines to the bulletin's 事由 and 险种. Pure: ``tasks/benchmarks.py`` reads the YAML.

A row of reference data is one bulletin period (a quarter ``2023Q1`` or, when a yearly bulletin is
kept, a year ``2023``) and one segment (``property`` 财产保险公司 / ``life`` 人身保险公司), with the
published medians (a dash in the source = absent = ``None``), the segment's forwarded total and the
source it was taken from.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from complaints.errors import ConfigError
from complaints.periods import Period

Segment = Literal["property", "life"]
SEGMENTS: tuple[Segment, ...] = ("property", "life")
SEGMENTS_ZH = {"property": "财产保险公司", "life": "人身保险公司"}

#: the bulletin's rates, per segment (the life segment also 万人次)
RATES: dict[str, str] = {
    "per_100m_premium": "亿元保费投诉量",
    "per_10k_policies": "万张保单投诉量",
    "per_10k_insured": "万人次投诉量",
}
RATE_UNITS = {"per_100m_premium": "件/亿元", "per_10k_policies": "件/万张", "per_10k_insured": "件/万人次"}
SEGMENT_RATES: dict[str, tuple[str, ...]] = {
    "property": ("per_100m_premium", "per_10k_policies"),
    "life": ("per_100m_premium", "per_10k_policies", "per_10k_insured"),
}

#: the bulletin's 事由 (issue) terms
BULLETIN_ISSUES = {
    "claims_dispute": "理赔纠纷",
    "sales_dispute": "销售纠纷",
    "surrender_dispute": "退保纠纷",
    "other": "其他",
    "unmapped": "未对应",
}
#: the bulletin's 险种 (product) terms
BULLETIN_PRODUCTS = {
    "motor": "机动车辆保险",
    "guarantee": "保证保险",
    "property_other": "财产险其他保险",
    "life_ordinary": "普通人寿保险",
    "disease": "疾病保险",
    "accident": "意外伤害保险",
    "annuity": "年金保险",
    "life_other": "人身险其他",
    "unmapped": "未对应",
}


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class BulletinRow(_Model):
    """One bulletin period × segment: the published medians (``None``: not found), total and source."""

    period: str = Field(description="bulletin period: a quarter 2023Q1 or a year 2023")
    segment: Segment
    total: int | None = Field(default=None, ge=0, description="complaints forwarded, this segment")
    per_100m_premium: float | None = None
    per_10k_policies: float | None = None
    per_10k_insured: float | None = None
    source: str = Field(description="where the figures were taken from (URL, document)")
    note: str = ""

    @field_validator("period", mode="before")
    @classmethod
    def _period(cls, v: Any) -> str:
        p = Period.parse(str(v))
        if p.kind == "month":
            raise ValueError(f"a bulletin period is a quarter or a year, not {p.code!r}")
        return p.code

    @field_validator("source")
    @classmethod
    def _source(cls, v: str) -> str:
        if not v.strip():
            raise ValueError("source is empty")
        return v.strip()

    @model_validator(mode="after")
    def _medians(self) -> BulletinRow:
        for rate in RATES:
            value = getattr(self, rate)
            if value is not None and value < 0:
                raise ValueError(f"median {rate} is negative ({value})")
        if self.segment == "property" and self.per_10k_insured is not None:
            raise ValueError("per_10k_insured is published for the life segment only")
        return self

    @property
    def parsed_period(self) -> Period:
        return Period.parse(self.period)

    def median(self, rate: str) -> float | None:
        value = getattr(self, rate, None)
        return None if value is None else float(value)


class CrosswalkVersion(_Model):
    """From ``effective_from`` on (until the next version): ledger codes → the bulletin's terms."""

    version: str
    effective_from: dt.date
    source: str = ""
    issue: dict[str, str] = {}  # ledger category -> bulletin issue code
    issue_default: str = "other"  # categories not listed
    product: dict[str, str] = {}  # ledger product_line -> bulletin product code
    # product lines not listed (and a missing product_line), per business line
    product_default: dict[str, str] = {"property": "property_other", "life": "life_other"}

    @model_validator(mode="after")
    def _terms(self) -> CrosswalkVersion:
        for code in (*self.issue.values(), self.issue_default):
            if code not in BULLETIN_ISSUES:
                raise ValueError(f"{code!r} is not a bulletin issue ({', '.join(BULLETIN_ISSUES)})")
        for code in (*self.product.values(), *self.product_default.values()):
            if code not in BULLETIN_PRODUCTS:
                raise ValueError(f"{code!r} is not a bulletin product ({', '.join(BULLETIN_PRODUCTS)})")
        return self

    def issue_of(self, category: str | None) -> str:
        return self.issue.get(category or "", self.issue_default)

    def product_of(self, product_line: str | None, line: str) -> str:
        if product_line and product_line in self.product:
            return self.product[product_line]
        return self.product_default.get(line, "unmapped")


class ReferenceData(_Model):
    """The bulletin rows and the crosswalk versions (either may be empty)."""

    bulletins: list[BulletinRow] = []
    crosswalk: list[CrosswalkVersion] = []
    origin: str = ""  # the file it came from (for messages)

    @model_validator(mode="after")
    def _unique(self) -> ReferenceData:
        seen: set[tuple[str, str]] = set()
        for row in self.bulletins:
            key = (row.period, row.segment)
            if key in seen:
                raise ValueError(f"two entries for bulletin {row.period} {row.segment}")
            seen.add(key)
        dates = [v.effective_from for v in self.crosswalk]
        if len(set(dates)) != len(dates):
            raise ValueError("two crosswalk versions have the same effective_from")
        return self

    @classmethod
    def from_mapping(cls, data: Any, origin: str = "") -> ReferenceData:
        """Validate a parsed YAML mapping; an invalid entry is a :class:`ConfigError` naming it."""
        where = origin or "bulletins"
        if data is None:
            data = {}
        if not isinstance(data, Mapping):
            raise ConfigError(f"{where}: expected a mapping with `bulletins` and `crosswalk`")
        unknown = set(data) - {"bulletins", "crosswalk"}
        if unknown:
            raise ConfigError(f"{where}: unknown key(s) {', '.join(sorted(map(str, unknown)))}")
        rows: list[BulletinRow] = []
        for i, item in enumerate(data.get("bulletins") or []):
            rows.append(_entry(BulletinRow, item, f"{where}: bulletins[{i}]"))
        versions: list[CrosswalkVersion] = []
        for i, item in enumerate(data.get("crosswalk") or []):
            versions.append(_entry(CrosswalkVersion, item, f"{where}: crosswalk[{i}]"))
        try:
            return cls(
                bulletins=rows, crosswalk=sorted(versions, key=lambda v: v.effective_from), origin=origin
            )
        except ValidationError as exc:
            raise ConfigError(f"{where}: {_messages(exc)}") from exc

    def crosswalk_on(self, day: dt.date) -> CrosswalkVersion | None:
        """The crosswalk version in force on ``day`` (``None`` before the first one)."""
        found = None
        for version in self.crosswalk:  # sorted by effective_from
            if version.effective_from <= day:
                found = version
        return found


def _entry(model: type[_Model], item: Any, where: str) -> Any:
    if isinstance(item, Mapping):
        name = " ".join(str(item[k]) for k in ("period", "segment", "version") if item.get(k) is not None)
        where = f"{where} ({name})" if name else where
    try:
        return model.model_validate(item)
    except ValidationError as exc:
        raise ConfigError(f"{where}: {_messages(exc)}") from exc


def _messages(exc: ValidationError) -> str:
    parts = []
    for err in exc.errors():
        key = ".".join(str(p) for p in err["loc"])
        msg = "is missing" if err["type"] == "missing" else err["msg"]
        parts.append(f"{key} {msg}" if key else msg)
    return "; ".join(parts)


# -- choosing the median ------------------------------------------------------------------------------
@dataclass(frozen=True)
class Median:
    """A published median and the bulletin row it comes from."""

    value: float
    row: BulletinRow


def choose_median(reference: ReferenceData | None, segment: str, period: Period, rate: str) -> Median | None:
    """The median of ``rate`` for ``segment`` to compare ``period`` with.

    A quarter: the bulletin of the same quarter if it publishes that median, else the latest earlier
    quarter's that does. A year: the same rule over yearly rows only (quarterly rows are never summed
    into a year: a median of a year is not a function of the quarters' medians). ``None``: none.
    """
    if reference is None:
        return None
    best: BulletinRow | None = None
    for row in reference.bulletins:
        p = row.parsed_period
        if row.segment != segment or p.kind != period.kind or p > period or row.median(rate) is None:
            continue
        if best is None or p > best.parsed_period:
            best = row
    if best is None:
        return None
    value = best.median(rate)
    assert value is not None
    return Median(value, best)


def compare(value: float | None, median: Median) -> dict[str, Any]:
    """``{value, median, median_period, ratio, deviation_pct, above_median}`` (FIGURES.md)."""
    m = median.value
    known = value is not None and m != 0
    return {
        "value": value,
        "median": m,
        "median_period": median.row.period,
        "ratio": value / m if known else None,  # type: ignore[operator]
        "deviation_pct": (value - m) / m * 100 if known else None,  # type: ignore[operator]
        "above_median": value > m if value is not None else None,
    }


# -- the comparison as tables (the `complaints benchmark` command and the quarterly report) ------------
def comparison(figures: Mapping[str, Any]) -> dict[str, Any]:
    """The regulator-basis figures and their benchmark from a figures dict, as rows for tables.

    ``lines``: per business line, ``rates`` (one row per rate: label, unit, value, median, median period,
    ratio, deviation, above, binding), ``issues`` and ``products`` (code, term, count, share of the line's
    forwarded records) and ``bulletin`` (which bulletin each median comes from). ``covered``: whether any
    line has a median to compare with. Values are the figures' own (no rounding here).
    """
    basis = figures.get("regulator_basis") or {}
    bench = figures.get("benchmark") or {}
    notes = figures.get("notes") or {}
    lines = []
    for line in SEGMENTS:
        ours = basis.get(line) or {}
        block = bench.get(line) or {}
        forwarded = ours.get("forwarded") or 0
        rates = []
        for rate in SEGMENT_RATES[line]:
            b = block.get(rate) or {}
            rates.append(
                {
                    "rate": rate,
                    "label": RATES[rate],
                    "unit": RATE_UNITS[rate],
                    "value": ours.get(rate),
                    "median": b.get("median"),
                    "median_period": b.get("median_period"),
                    "ratio": b.get("ratio"),
                    "deviation_pct": b.get("deviation_pct"),
                    "above_median": b.get("above_median"),
                    "binding": block.get("binding") == rate,
                    "why": notes.get(f"regulator_basis.{line}.{rate}")
                    or notes.get(f"benchmark.{line}.{rate}"),
                }
            )

        lines.append(
            {
                "line": line,
                "segment": SEGMENTS_ZH[line],
                "forwarded": ours.get("forwarded"),
                "rates": rates,
                "binding": block.get("binding"),
                "bulletin": block.get("bulletin"),
                "covered": bool(block),
                "why": notes.get(f"benchmark.{line}") or notes.get("benchmark"),
                "issues": _shares(ours.get("by_issue"), BULLETIN_ISSUES, forwarded),
                "products": _shares(ours.get("by_product"), BULLETIN_PRODUCTS, forwarded),
            }
        )
    return {
        "period": figures.get("period"),
        "entity": figures.get("entity"),
        "lines": lines,
        "covered": any(x["covered"] for x in lines),
    }


def quarter_views(figures: Mapping[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """A year's ``by_quarter.Qn`` regulator basis and benchmark as quarter figures :func:`comparison` reads.

    ``[(quarter code, {period, entity, regulator_basis, benchmark, notes}), ...]`` for Q1..Q4 (the notes of
    ``by_quarter.Qn.*`` with that prefix taken off); empty for a quarter's figures.
    """
    year = str(figures.get("period") or "")
    by_quarter = figures.get("by_quarter") or {}
    notes = figures.get("notes") or {}
    out = []
    for q in ("Q1", "Q2", "Q3", "Q4"):
        block = by_quarter.get(q)
        if not isinstance(block, Mapping) or "regulator_basis" not in block:
            continue
        prefix = f"by_quarter.{q}."
        out.append(
            (
                f"{year}{q}",
                {
                    "period": f"{year}{q}",
                    "entity": figures.get("entity"),
                    "regulator_basis": block.get("regulator_basis") or {},
                    "benchmark": block.get("benchmark") or {},
                    "notes": {k[len(prefix) :]: v for k, v in notes.items() if k.startswith(prefix)},
                },
            )
        )
    return out


def _shares(table: Mapping[str, int] | None, names: Mapping[str, str], total: int) -> list[dict[str, Any]]:
    """(code, term, count, share of ``total``) per code of a by_issue / by_product table, most cases first
    (ties by code): the order never depends on the table's key order, which figures.json sorts by name,
    so a draft re-rendered from a bundle lists them as the first draft did."""
    items = sorted((table or {}).items(), key=lambda cn: (-cn[1], str(cn[0])))
    return [
        {"code": c, "term": names.get(c, c), "count": n, "share": n / total if total else None}
        for c, n in items
    ]
