"""Submissions (FILINGS.md "The filing's life"): what an officer sent to the regulator, and whether its
figures drifted from the draft it derives from. Pure: the DOCX is read in ``tasks/submission.py``.

**Figure drift.** Every figure the draft printed must still be in the submitted document, unchanged.
A *figure* is a number as printed: counts and amounts (``1320``, ``1,320``), decimals (``24.50``),
percentages (``3.5%``) and dates (``2026年10月20日``, ``2026-10-20``, ``2026年``). Figures compare by
value (``1,320`` = ``1320``, ``24.50%`` = ``24.5%``), so re-formatting is not drift; a changed digit is.

* **Tables**: each number in each cell of the draft's tables. A draft table is matched to the submitted
  table with the same header row (else the table at the same position); a row to the row with the same
  first cell (else the row at the same position); cells by column. The figures of a cell must be the
  same, in the same order.
* **Paragraphs** that are *figure sentences*: a paragraph with at least one figure other than a date
  (a paragraph with dates only, e.g. the signature date, is wording the officer may change). Each is
  matched to the submitted paragraph whose text, figures masked, is most alike; its figures must all
  be there (re-worded text around them is fine).

Not figures: a list item's leading ordinal (``1．``) and caption labels (``图1``, ``表2``). Anything
else — wording, the officer's narrative passages (given as ``free_text``, from the bundled narrative),
sentences without figures, the signature date, added text and added paragraphs — may change.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any, Literal

#: channels a submission can go through (configuration may add more: ``submission.channels``)
CHANNELS: tuple[str, ...] = ("监管报送系统", "电子邮件", "邮寄", "现场报送")

_DATE = (r"(?P<y>\d{4})\s*年\s*(?:(?P<m>\d{1,2})\s*月\s*(?:(?P<d>\d{1,2})\s*日)?)?"
         r"|(?P<iy>\d{4})-(?P<im>\d{1,2})-(?P<id>\d{1,2})"
         r"|(?P<md_m>\d{1,2})\s*月\s*(?P<md_d>\d{1,2})\s*日")
_NUMBER = r"(?P<num>(?:\d{1,3}(?:,\d{3})+(?!\d)|\d+)(?:\.\d+)?)\s*(?P<pct>[%‰])?"
_TOKEN = re.compile(rf"{_DATE}|{_NUMBER}")
#: not figures: a list item's leading ordinal (1． / （2） / 3、) and caption labels (图1, 表2, 附件3)
_NOT_FIGURES = re.compile(r"^\s*[（(]?\d{1,2}(?:[）)．、]|\.(?!\d))|(?:图|表|附件)\s*\d{1,2}(?!\d)")
_MIN_SIMILARITY = 0.5  # below this, a draft paragraph has no counterpart in the submitted document


@dataclass(frozen=True)
class Figure:
    """One figure as printed (``text``) and the value it is compared by (``key``)."""

    text: str
    key: tuple[str, str]  # ("date", "2026-10-20") | ("number", "1320") | ("%", "24.5")

    @property
    def is_date(self) -> bool:
        return self.key[0] == "date"


_WIDE = str.maketrans({**{chr(0xFF10 + i): str(i) for i in range(10)}, "％": "%", "．": "."})


def _decimal(text: str) -> str:
    try:
        return format(Decimal(text.replace(",", "")).normalize(), "f")
    except InvalidOperation:  # pragma: no cover - the pattern only matches numbers
        return text


def figures_in(text: str) -> list[Figure]:
    """The figures printed in ``text``, in order (full-width digits read as digits)."""
    text = _NOT_FIGURES.sub(" ", text).translate(_WIDE)
    out: list[Figure] = []
    for m in _TOKEN.finditer(text):
        if m["y"]:
            parts = [m["y"], m["m"], m["d"]]
        elif m["iy"]:
            parts = [m["iy"], m["im"], m["id"]]
        elif m["md_m"]:
            parts = ["", m["md_m"], m["md_d"]]
        else:
            unit = "%" if m["pct"] == "%" else ("‰" if m["pct"] else "number")
            out.append(Figure(m.group(0).strip(), (unit, _decimal(m["num"]))))
            continue
        key = "-".join(str(int(p)) if p else "" for p in parts if p is not None)
        out.append(Figure(m.group(0).strip(), ("date", key)))
    return out


def _mask(text: str) -> str:
    return " ".join(_TOKEN.sub("#", _NOT_FIGURES.sub(" ", text).translate(_WIDE)).split())


def is_figure_sentence(text: str) -> bool:
    """A paragraph that prints a figure other than a date (its figures may not drift)."""
    return any(not f.is_date for f in figures_in(text))


@dataclass(frozen=True)
class DocumentText:
    """What the comparison reads of a document: body paragraphs and tables (table → rows → cell texts),
    in document order."""

    paragraphs: Sequence[str] = ()
    tables: Sequence[Sequence[Sequence[str]]] = ()


@dataclass(frozen=True)
class Drift:
    """A figure of the draft that the submitted document changed or lacks."""

    where: str  # "table 2, row 「投诉件数」, column 「本期」" or "paragraph 「本季度共接收…」"
    draft: str  # the figure as the draft printed it
    submitted: str | None  # what the submitted document prints there; None = missing

    def __str__(self) -> str:
        now = "missing" if self.submitted is None else self.submitted
        return f"{self.where}: draft {self.draft}, submitted {now}"

    def to_dict(self) -> dict[str, Any]:
        return {"where": self.where, "draft": self.draft, "submitted": self.submitted}


def _opening(text: str, n: int = 18) -> str:
    text = " ".join(text.split())
    return text if len(text) <= n else text[:n] + "…"


def _label(text: str) -> str:
    return _opening(text, 16) or "(blank)"


def _compare_figures(where: str, draft: Sequence[Figure], submitted: Sequence[Figure]) -> list[Drift]:
    """Draft figures not matched, in order, by the submitted ones: replaced ones pair up (both values),
    the rest are missing. Figures the submitted text adds are not drift."""
    a, b = [f.key for f in draft], [f.key for f in submitted]
    out: list[Drift] = []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if op in ("equal", "insert"):
            continue
        olds, news = draft[i1:i2], submitted[j1:j2] if op == "replace" else []
        for k, old in enumerate(olds):
            new = news[k] if k < len(news) else None
            if new is not None and new.key == old.key:
                continue
            if new is None and old.key in b:  # moved within the text: still printed
                continue
            out.append(Drift(where, old.text, new.text if new is not None else None))
    return out


@dataclass
class _Used:
    taken: set[int] = field(default_factory=set)


def _match_table(i: int, table: Sequence[Sequence[str]], submitted: Sequence[Sequence[Sequence[str]]],
                 draft_tables: Sequence[Sequence[Sequence[str]]], used: _Used) -> int | None:
    header = list(table[0]) if table else []
    rank = sum(1 for t in draft_tables[:i] if t and list(t[0]) == header)
    same = [j for j, t in enumerate(submitted) if t and list(t[0]) == header and j not in used.taken]
    if header and len(same) > rank:
        return same[rank]
    if same:
        return same[0]
    if i < len(submitted) and i not in used.taken:
        return i
    return None


def _row_index(rows: Sequence[Sequence[str]], r: int, draft_rows: Sequence[Sequence[str]]) -> int | None:
    """The submitted row for draft row ``r``: the one with the same first cell (the same occurrence of
    it); else the row at the same position, unless that one is another draft row's (moved or removed)."""
    label = draft_rows[r][0] if draft_rows[r] else ""
    rank = sum(1 for row in draft_rows[:r] if row and row[0] == label)
    same = [k for k, row in enumerate(rows) if row and row[0] == label]
    if label.strip() and len(same) > rank:
        return same[rank]
    if r >= len(rows):
        return None
    there = rows[r][0] if rows[r] else ""
    draft_labels = {row[0] for row in draft_rows if row}
    return r if not there.strip() or there == label or there not in draft_labels else None


def table_drift(draft: Sequence[Sequence[Sequence[str]]],
                submitted: Sequence[Sequence[Sequence[str]]]) -> list[Drift]:
    """Changed or missing figures of the draft's tables (rules: module docstring)."""
    out: list[Drift] = []
    used = _Used()
    for i, table in enumerate(draft):
        figures = [(r, c, figures_in(cell)) for r, row in enumerate(table) for c, cell in enumerate(row)]
        if not any(f for _, _, f in figures):
            continue
        j = _match_table(i, table, submitted, draft, used)
        if j is not None:
            used.taken.add(j)
        other = submitted[j] if j is not None else []
        header = list(table[0]) if table else []
        for r, c, draft_figures in figures:
            if not draft_figures:
                continue
            row_label = table[r][0] if table[r] else ""
            column = header[c] if c < len(header) and r > 0 else ""
            where = f"table {i + 1}, row {r + 1} 「{_label(row_label)}」" + \
                (f", column 「{_label(column)}」" if column and c > 0 else f", column {c + 1}")
            k = _row_index(other, r, table) if other else None
            cell = other[k][c] if k is not None and c < len(other[k]) else None
            if cell is None:
                out += [Drift(where, f.text, None) for f in draft_figures]
                continue
            got = figures_in(cell)
            if [f.key for f in got] != [f.key for f in draft_figures]:
                out += _compare_figures(where, draft_figures, got) or [
                    Drift(where, " ".join(f.text for f in draft_figures), " ".join(f.text for f in got))]
    return out


def _officers(text: str, free_text: Sequence[str]) -> bool:
    """Whether a draft paragraph is one of the officer's own passages (the narrative)."""
    plain = _mask(text)
    return any(len(p) >= 6 and p in plain for p in free_text)


def paragraph_drift(draft: Sequence[str], submitted: Sequence[str], free_text: Sequence[str] = ()
                    ) -> list[Drift]:
    """Changed or missing figures of the draft's figure sentences (rules: module docstring); paragraphs
    that print one of ``free_text`` (the officer's narrative passages) are the officer's to change."""
    out: list[Drift] = []
    masked = [_mask(p) for p in submitted]
    free = [_mask(t) for t in free_text if t and t.strip()]
    taken: set[int] = set()
    for text in draft:
        if not is_figure_sentence(text) or _officers(text, free):
            continue
        where = f"paragraph 「{_opening(text)}」"
        want = _mask(text)
        best, score = None, 0.0
        for j, other in enumerate(masked):
            if j in taken or not other:
                continue
            if other == want:
                best, score = j, 1.0
                break
            m = difflib.SequenceMatcher(None, want, other, autojunk=False)
            if m.real_quick_ratio() <= score or m.quick_ratio() <= score:
                continue
            ratio = m.ratio()
            if ratio > score:
                best, score = j, ratio
        figures = figures_in(text)
        if best is None or score < _MIN_SIMILARITY:
            out += [Drift(where, f.text, None) for f in figures]
            continue
        taken.add(best)
        out += _compare_figures(where, figures, figures_in(submitted[best]))
    return out


#: what a draft prints where a person still has to act; a submitted document must not carry them
UNFINISHED_MARKS = ("【待补充】", "【预览稿")


def unfinished(document: DocumentText) -> list[str]:
    """Where ``document`` still carries a 【待补充】 or preview mark (paragraph or table cell, by its opening
    words): a filing with these is not what the regulator should receive."""
    out = [f"paragraph 「{_opening(p)}」" for p in document.paragraphs
           if any(m in p for m in UNFINISHED_MARKS)]
    for t, table in enumerate(document.tables, 1):
        for r, row in enumerate(table, 1):
            out += [f"table {t}, row {r} 「{_opening(c)}」" for c in dict.fromkeys(row)
                    if any(m in c for m in UNFINISHED_MARKS)]
    return out


def figure_drift(draft: DocumentText, submitted: DocumentText, free_text: Sequence[str] = ()) -> list[Drift]:
    """Every figure the draft printed that the submitted document changed or lacks (tables first);
    ``free_text``: the officer's narrative passages, whose paragraphs may change freely."""
    return table_drift(draft.tables, submitted.tables) + paragraph_drift(draft.paragraphs,
                                                                         submitted.paragraphs, free_text)


# --------------------------------------------------------------------------------------- the record

Kind = Literal["submission"]
KIND: Kind = "submission"
ID_PREFIX = "submission-"


def submission_filing_part(filing: str) -> str:
    """The first part of a submission's id: ``submission-<filing>`` (its own kind, beside the drafts)."""
    return f"{ID_PREFIX}{filing}"


def draft_filing(id_filing_part: str) -> str | None:
    """The filing a submission id's first part names (``None`` when it is not a submission's)."""
    return id_filing_part[len(ID_PREFIX):] if id_filing_part.startswith(ID_PREFIX) else None


def approver_problem(require: bool, approved_by: str | None, role: str | None) -> str | None:
    """What is wrong with the approver options (``None`` = fine)."""
    if bool(approved_by) != bool(role):
        return "--approved-by and --approver-role go together (name and role of the approver)"
    if require and not approved_by:
        return ("this configuration requires an approver (submission.require_approver): give "
                "--approved-by NAME --approver-role ROLE, e.g. --approver-role 消费者权益保护工作分管负责人")
    return None
