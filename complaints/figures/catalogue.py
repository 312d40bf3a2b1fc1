"""The figure catalogue: one :class:`FigureSpec` per figure key ``compute_figures`` emits (FIGURES.md).

The renderer, the findings and the tests read each figure's Chinese label, unit and direction here.
Adding a figure: its computation, its entry below, a golden case (``tests/cases/test_figure_catalogue.py``
asserts the computed keys and the catalogue's are the same).

A key is a dotted pattern. ``<name>`` stands for one segment (a code: a quarter, a department, a
business line …) and ``{name}`` in the label is that code's Chinese name (:data:`PLACEHOLDERS`; an
unknown code is shown as is). ``<figure>`` (last only) stands for the rest of the key, itself a figure
key, and ``{figure}`` for its label.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from complaints.benchmarks import BULLETIN_ISSUES, BULLETIN_PRODUCTS, RATES
from complaints.ledger import (
    BUSINESS_LINES,
    CATEGORIES,
    CHANNELS,
    DEPARTMENTS,
    PRODUCT_LINES,
    ROOT_CAUSES,
    SEVERITIES,
)

Unit = Literal["ratio", "pct", "count", "number", "days", "money"]
"""ratio: 0..1, printed as a percentage; pct: already a percentage; count, number, days, money (元)."""

#: top-level keys of a figures dict that describe the run, not a figure (never in the catalogue)
METADATA = ("period", "entity", "as_of", "rule_sets", "rows", "notes")

QUARTERS_ZH = {"Q1": "第一季度", "Q2": "第二季度", "Q3": "第三季度", "Q4": "第四季度"}

#: placeholder -> code -> Chinese name (codes without a list, such as branch codes, print as they are)
PLACEHOLDERS: dict[str, Mapping[str, str]] = {
    "quarter": QUARTERS_ZH,
    "dept": DEPARTMENTS,
    "line": BUSINESS_LINES,
    "category": CATEGORIES,
    "channel": CHANNELS,
    "product_line": PRODUCT_LINES,
    "severity": SEVERITIES,
    "root_cause": {**ROOT_CAUSES, "unspecified": "未填写"},
    "rate": RATES,
    "bulletin_issue": BULLETIN_ISSUES,
    "bulletin_product": BULLETIN_PRODUCTS,
    "branch": {},
    "province": {},
}
_REST = "<figure>"

#: the figures ``qoq`` and ``yoy`` compare with earlier periods: their name there -> their own key
CHANGE_METRICS = {
    "cases": "counts.cases",
    "valid_cases": "counts.valid_cases",
    "rates.per_100m_premium": "rates.per_100m_premium",
}


@dataclass(frozen=True)
class FigureSpec:
    """One figure (or one family of figures when ``key`` has placeholders)."""

    key: str  # dotted pattern, e.g. "by_quarter.<quarter>.cases"
    label_zh: str  # Chinese name; "{quarter}" etc. are filled from the concrete key
    unit: Unit
    lower_is_better: bool  # a smaller value is the better one (targets, findings, measures' effect)
    short_zh: str = ""  # a short name for table cells and verdicts (the label when empty)

    @property
    def segments(self) -> tuple[str, ...]:
        return tuple(self.key.split("."))

    def match(self, key: str) -> dict[str, str] | None:
        """The placeholder values when the concrete ``key`` belongs to this entry, else ``None``."""
        pattern, parts = self.segments, key.split(".")
        rest = pattern[-1] == _REST
        fixed = pattern[:-1] if rest else pattern
        if len(parts) < len(fixed) + rest or (not rest and len(parts) != len(fixed)):
            return None
        values: dict[str, str] = {}
        for want, got in zip(fixed, parts, strict=False):
            if want.startswith("<"):
                values[want[1:-1]] = got
            elif want != got:
                return None
        if rest:
            values["figure"] = ".".join(parts[len(fixed) :])
        return values

    def label_for(self, values: Mapping[str, str]) -> str:
        names = {
            name: label(code)[0] if name == "figure" else PLACEHOLDERS[name].get(code, code)
            for name, code in values.items()
        }
        return self.label_zh.format(**names)


def _changes(core: tuple[FigureSpec, ...]) -> list[FigureSpec]:
    """``qoq`` / ``yoy`` of each of :data:`CHANGE_METRICS`: the earlier value and the change in %."""
    by_key = {spec.key: spec for spec in core}
    out = []
    for prefix, word, before in (("qoq", "环比", "上季度"), ("yoy", "同比", "上年同期")):
        for metric, key in CHANGE_METRICS.items():
            spec = by_key[key]
            out.append(
                FigureSpec(f"{prefix}.{metric}.previous", f"{before}{spec.label_zh}", spec.unit, False)
            )
            out.append(
                FigureSpec(f"{prefix}.{metric}.change_pct", f"{spec.label_zh}{word}变动率", "pct", False)
            )
    return out


def _clock(key: str, group: str, rate: str, on_time: str = "within") -> list[FigureSpec]:
    """A time-limit clock: within (or on_time) / late / pending counts and the rate."""
    within = "按时" if on_time == "on_time" else "达标"
    return [
        FigureSpec(f"{key}.{on_time}", f"{group}{within}件数", "count", False),
        FigureSpec(f"{key}.late", f"{group}超时件数", "count", False),
        FigureSpec(f"{key}.pending", f"{group}处理中件数", "count", False),
        FigureSpec(f"{key}.rate", rate, "ratio", False, short_zh="及时率" if key == "timeliness" else ""),
    ]


_CORE: tuple[FigureSpec, ...] = (
    # counts
    FigureSpec("counts.contacts", "投诉次数", "count", True),
    FigureSpec("counts.cases", "投诉件数", "count", True),
    FigureSpec("counts.repeat_contacts", "重复投诉次数", "count", True),
    FigureSpec("counts.valid_cases", "有效投诉件数", "count", True),
    FigureSpec("counts.escalated_cases", "投诉升级件数", "count", True),
    FigureSpec("counts.regulator_forwarded_cases", "监管转办投诉件数", "count", True),
    FigureSpec("counts.major_cases", "重大投诉件数", "count", True),
    FigureSpec("counts.issues", "投诉事项数", "count", True),
    # breakdowns: cases(P) per code
    FigureSpec("by_category.<category>", "{category}类投诉件数", "count", False),
    FigureSpec("by_channel.<channel>", "{channel}渠道投诉件数", "count", False),
    FigureSpec("by_business_line.<line>", "{line}投诉件数", "count", False),
    FigureSpec("by_product_line.<product_line>", "{product_line}投诉件数", "count", False),
    FigureSpec("by_branch.<branch>", "{branch}投诉件数", "count", False),
    FigureSpec("by_province.<province>", "{province}投诉件数", "count", False),
    FigureSpec("by_severity.<severity>", "{severity}数", "count", False),
    FigureSpec("by_responsible_dept.<dept>", "{dept}部门投诉件数", "count", False),
    FigureSpec("issues_by_category.<category>", "涉及{category}事项的投诉件数", "count", False),
    # 溯源: cases having each cause (a case with several causes counts under each)
    FigureSpec("by_root_cause.<root_cause>", "投诉原因为{root_cause}的投诉件数", "count", False),
    # rates against business volume
    FigureSpec("rates.per_100m_premium", "亿元保费投诉量", "number", True),
    FigureSpec("rates.per_10k_policies", "万张保单投诉量", "number", True),
    FigureSpec("rates.complaint_rate_pct", "投诉率", "pct", True),
    FigureSpec("rates_by_business_line.<line>.per_100m_premium", "{line}亿元保费投诉量", "number", True),
    FigureSpec("rates_by_business_line.<line>.per_10k_policies", "{line}万张保单投诉量", "number", True),
    FigureSpec("rates_by_business_line.<line>.complaint_rate_pct", "{line}投诉率", "pct", True),
    FigureSpec("rates_by_business_line.<line>.per_10k_insured", "{line}万人次投诉量", "number", True),
    # regulator basis (监管口径): what the regulator forwarded, by forwarded date, repeats included
    FigureSpec("regulator_basis.<line>.forwarded", "{line}监管转送投诉量（监管口径）", "count", True),
    FigureSpec("regulator_basis.<line>.per_100m_premium", "{line}亿元保费投诉量（监管口径）", "number", True),
    FigureSpec("regulator_basis.<line>.per_10k_policies", "{line}万张保单投诉量（监管口径）", "number", True),
    FigureSpec("regulator_basis.<line>.per_10k_insured", "{line}万人次投诉量（监管口径）", "number", True),
    FigureSpec(
        "regulator_basis.<line>.by_issue.<bulletin_issue>",
        "{line}监管转送{bulletin_issue}件数",
        "count",
        False,
    ),
    FigureSpec(
        "regulator_basis.<line>.by_product.<bulletin_product>",
        "{line}监管转送{bulletin_product}件数",
        "count",
        False,
    ),
    FigureSpec("regulator_basis.crosswalk", "通报事由险种对照表版本", "number", False),
    # the bulletin benchmark: our regulator-basis rate against the segment median
    FigureSpec("benchmark.<line>.<rate>.value", "{line}{rate}（监管口径）", "number", True),
    FigureSpec("benchmark.<line>.<rate>.median", "{line}{rate}行业中位数", "number", False),
    FigureSpec("benchmark.<line>.<rate>.median_period", "{line}{rate}中位数所属通报期", "number", False),
    FigureSpec("benchmark.<line>.<rate>.ratio", "{line}{rate}与行业中位数之比", "number", True),
    FigureSpec("benchmark.<line>.<rate>.deviation_pct", "{line}{rate}偏离行业中位数幅度", "pct", True),
    FigureSpec("benchmark.<line>.<rate>.above_median", "{line}{rate}是否高于行业中位数", "number", False),
    FigureSpec("benchmark.<line>.binding", "{line}排名最不利的指标", "number", False),
    FigureSpec("benchmark.<line>.bulletin", "{line}对标所用通报", "number", False),
    # timeliness of decisions
    *_clock("timeliness", "投诉处理时效", "投诉处理及时率", on_time="on_time"),
    FigureSpec("timeliness.median_days", "投诉处理时长中位数", "days", True),
    FigureSpec("timeliness.mean_days", "平均投诉处理时长", "days", True),
    FigureSpec("timeliness.overdue_open", "逾期未办结投诉件数", "count", True),
    *_clock("forwarded_timeliness", "监管转办件时效", "监管转办件办理及时率", on_time="on_time"),
    # internal-rule compliance
    *_clock("acknowledgement", "1个工作日内确认收到投诉", "1个工作日内确认收到投诉的比例"),
    *_clock("claims_3wd", "理赔投诉3个工作日内处理", "理赔投诉3个工作日内处理的比例"),
    *_clock("progress_logged_24h", "24小时内记录处理进度", "24小时内记录处理进度的比例"),
    # satisfaction, outcomes, reviews
    FigureSpec("satisfaction.revisited", "回访人次", "count", False),
    FigureSpec("satisfaction.satisfied", "回访满意人次", "count", False),
    FigureSpec("satisfaction.not_reached", "回访未联系上人次", "count", False),
    FigureSpec("satisfaction.rate", "客户满意度", "ratio", False, short_zh="满意度"),
    FigureSpec("outcomes.decided", "处理结果件数", "count", False),
    FigureSpec("outcomes.upheld", "处理结果属实件数", "count", False),
    FigureSpec("outcomes.upheld_rate", "投诉属实率", "ratio", True),
    FigureSpec("outcomes.redress_total", "赔付（补偿）金额", "money", False),
    FigureSpec("reviews.requested", "核查申请件数", "count", False),
    FigureSpec("reviews.decided_on_time", "核查按时决定件数", "count", False),
    # change against earlier periods (a year has no qoq: the key is null, with a note)
    FigureSpec("qoq", "环比（上季度）数据", "number", False),
)
_ANNUAL: tuple[FigureSpec, ...] = (
    # annual extras
    FigureSpec("by_quarter.<quarter>.cases", "{quarter}投诉件数", "count", False),
    FigureSpec("by_quarter.<quarter>.valid_cases", "{quarter}有效投诉件数", "count", False),
    FigureSpec("by_quarter.<quarter>.timeliness.rate", "{quarter}投诉处理及时率", "ratio", False),
    FigureSpec("by_quarter.<quarter>.satisfaction.rate", "{quarter}客户满意度", "ratio", False),
    FigureSpec("by_department.<dept>.cases", "{dept}部门投诉件数", "count", False),
    FigureSpec("by_department.<dept>.timeliness.rate", "{dept}部门投诉处理及时率", "ratio", False),
    FigureSpec("by_department.<dept>.satisfaction.rate", "{dept}部门客户满意度", "ratio", False),
    # against department_targets: "beats" / "meets" / "misses", null when the figure is null
    FigureSpec("by_department.<dept>.targets.<figure>", "{dept}部门{figure}目标达成情况", "number", False),
)



def _quarterly_benchmark(core: tuple[FigureSpec, ...]) -> list[FigureSpec]:
    """A year's regulator basis and benchmark quarter by quarter (``by_quarter.<quarter>.benchmark...``)."""
    return [
        FigureSpec(f"by_quarter.<quarter>.{s.key}", "{quarter}" + s.label_zh, s.unit, s.lower_is_better)
        for s in core
        if s.key.startswith("benchmark.")
        or (s.key.startswith("regulator_basis.<line>.") and s.key.count(".") == 2)
    ]


CATALOGUE: tuple[FigureSpec, ...] = (*_CORE, *_changes(_CORE), *_ANNUAL, *_quarterly_benchmark(_CORE))

_EXACT = {spec.key: spec for spec in CATALOGUE if "<" not in spec.key}
_PATTERNS = tuple(spec for spec in CATALOGUE if "<" in spec.key)


def matches(key: str) -> list[tuple[FigureSpec, dict[str, str]]]:
    """Every entry the concrete ``key`` belongs to, with its placeholder values (exactly one for a figure).

    A name of :data:`CHANGE_METRICS` (``cases`` …, as in ``qoq``/``yoy``) stands for its figure."""
    if key in CHANGE_METRICS and key not in _EXACT:
        key = CHANGE_METRICS[key]
    found: list[tuple[FigureSpec, dict[str, str]]] = [(_EXACT[key], {})] if key in _EXACT else []
    for spec in _PATTERNS:
        values = spec.match(key)
        if values is not None:
            found.append((spec, values))
    return found


def spec_for(key: str) -> FigureSpec | None:
    """The catalogue entry of a concrete dotted figure key (``None`` when it is not a figure)."""
    found = matches(key)
    return found[0][0] if found else None


def label(key: str) -> tuple[str, Unit]:
    """Chinese name and unit of a concrete dotted figure key; an unknown key is its own name (a ratio when
    it ends in ``.rate``)."""
    found = matches(key)
    if not found:
        return key, "ratio" if key.endswith(".rate") else "number"
    spec, values = found[0]
    return spec.label_for(values), spec.unit


def short_label(key: str) -> str:
    """The short name of a figure (its ``short_zh``, else its label); an unknown key is its own name."""
    spec = spec_for(key)
    return (spec.short_zh or label(key)[0]) if spec is not None else key


def lower_is_better(key: str) -> bool:
    """Whether a smaller value of the figure ``key`` is the better one (unknown keys: no)."""
    spec = spec_for(key)
    return spec.lower_is_better if spec is not None else False
