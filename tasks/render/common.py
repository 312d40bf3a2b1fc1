"""Shared rendering machinery: number formatting with notes, code labels, template filling and saving."""

from __future__ import annotations

import contextlib
import datetime as dt
import io
import re
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from docx.shared import Mm
from docxtpl import DocxTemplate, InlineImage

from complaints.figures.catalogue import Unit, label
from complaints.findings import dig, format_value, is_number
from complaints.ledger import CODE_LISTS
from complaints.periods import Period

from .context import NameMissing, RenderContext
from .docx_utils import (
    apply_fonts,
    fit_tables,
    keep_signature_together,
    mark_every_page,
    normalize_zip,
    set_core_properties,
    write_atomic,
)

DASH = "—"
_OWN_SECTION_NOTES = ("regulator_basis", "benchmark")
UNSPECIFIED = {"unspecified": "未填写", "": "未填写"}


class Fmt:
    """Formats figures for the document and remembers the notes of the figures it printed as 「—」."""

    def __init__(self, figures: Mapping[str, Any]) -> None:
        self.figures = figures
        raw = figures.get("notes") or {}
        self.notes: dict[str, str] = (
            {str(k): str(v) for k, v in raw.items()} if isinstance(raw, Mapping) else {}
        )
        self._pending: dict[str, str] = {}

    def get(self, key: str) -> Any:
        return dig(self.figures, key)

    def note_for(self, key: str) -> str | None:
        parts = key.split(".")
        for i in range(len(parts), 0, -1):  # exact key first, then its parents
            reason = self.notes.get(".".join(parts[:i]))
            if reason:
                return reason
        return None

    def missing(self, key: str) -> str:
        reason = note_zh(self.note_for(key))
        name = figure_name(key)
        self._pending.setdefault(
            key, f"{name}显示为「{DASH}」：{reason}" if reason else f"{name}显示为「{DASH}」：无可用数据。"
        )
        return DASH

    def value(self, key: str, unit: Unit | None = None) -> str:
        v = self.get(key)
        if not is_number(v):
            return self.missing(key)
        return format_value(v, unit or label(key)[1])

    def number(self, v: Any, unit: Unit, key: str) -> str:
        return format_value(v, unit) if is_number(v) else self.missing(key)

    def take_notes(self) -> list[str]:
        """The notes collected since the last call (one per figure), in printing order."""
        out = list(self._pending.values())
        self._pending = {}
        return out

    def all_notes(self) -> list[dict[str, str]]:
        """The notes of the figures this document prints (the regulator-basis comparison says its own
        notes in its section, in Chinese; its English notes stay in figures.json)."""
        return [{"name": figure_name(k), "reason": note_zh(r) or "无可用数据。"}
                for k, r in sorted(self.notes.items()) if not k.startswith(_OWN_SECTION_NOTES)]


_PERIOD = re.compile(r"\b(\d{4}(?:Q[1-4]|M\d{2}|-\d{2})?)\b")
_NOTES_ZH: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern), text)
    for pattern, text in (
        (r"^0 ÷ 0: no .*revisited", "本期无已完成回访的投诉，无法计算比率。"),
        (r"^0 ÷ 0: no .*has a decision", "本期无已作出处理决定的投诉，无法计算比率。"),
        (r"^0 ÷ 0: no .*regulator-forwarded", "本期无应考核的监管转办投诉，无法计算比率。"),
        (r"^0 ÷ 0", "本期无应纳入考核的投诉，无法计算比率。"),
        (r"^qoq is not used for a year", "年度报告不计算环比。"),
        (r"previous value .* is unknown", "上期数据不可得，无法计算变化率。"),
        (r"previous value .* is 0", "上期数值为0，无法计算变化率。"),
        (r"current value .* is unknown", "本期数据不可得，无法计算变化率。"),
        (r"no exposure table", "未取得业务量数据（保费收入、承保件数、承保人次）。"),
        (r"no exposure row", "业务量数据中缺少相应期间、机构或业务条线的记录。"),
        (r"duplicate exposure rows", "业务量数据中同一机构、业务条线有重复记录。"),
        (r"is missing in \d+ exposure row", "业务量数据中有记录缺少该项数值。"),
        (r"^Σ \w+ is 0", "业务量数据中该项合计为0，无法计算。"),
        (r"no events table", "未取得投诉处理过程记录，无法测算。"),
        (r"no eligible case .* has a decision", "本期无已作出处理决定的投诉。"),
        (r"no eligible", "本期无应纳入考核的投诉。"),
    )
)


def figure_name(key: str) -> str:
    """The figure's Chinese name; a code the catalogue has no name for (「unspecified」) is named."""
    return re.sub(r"(?<![A-Za-z])unspecified(?![A-Za-z])\s*", "未填写", label(key)[0])


def note_zh(reason: str | None) -> str | None:
    """The Chinese sentence a document prints for a figure's (English) note; the English stays in the
    figures and logs. Chinese notes pass through; an unknown English note becomes a neutral sentence."""
    if not reason:
        return None
    if re.search(r"[\u4e00-\u9fff]", reason):  # a Chinese note: drop its technical asides, name periods
        text = re.sub(r"[（(][^（）()]*[A-Za-z]{2,}[^（）()]*[）)]", "", reason)
        text = re.sub(r"\d{4}Q[1-4]|\d{4}-\d{2}", lambda m: period_label(m.group(0)), text)
        text = re.sub(r"\s+([，。；])", r"\1", text)
        if not re.search(r"[A-Za-z]", text):
            return text
    for pattern, text in _NOTES_ZH:
        if pattern.search(reason):
            return text
    return "该项数据不可得。"


def share(count: Any, total: Any) -> str:
    if not is_number(count) or not is_number(total) or not total:
        return DASH
    return f"{count / total * 100:.2f}%"


def code_label(code: str, code_list: str | None, names: Mapping[str, str] | None = None) -> str:
    """The name a document prints for ``code``: from ``names`` (branches, offices: configuration), the
    code list, or 未填写; a branch/office code without a name is an error naming it (never printed)."""
    if names and code in names:
        return names[code]
    if code in UNSPECIFIED or code in ("nan", "None"):
        return UNSPECIFIED.get(code, "未填写")
    if code_list and code in CODE_LISTS.get(code_list, {}):
        return CODE_LISTS[code_list][code]
    if code_list is None:
        raise NameMissing(
            f"no name for branch/office code {code!r}: add it to 'offices' (code, name, parent) "
            "or 'entities' in the configuration"
        )
    return code


def breakdown_rows(
    mapping: Any, total: Any, code_list: str | None, names: Mapping[str, str] | None = None
) -> list[dict[str, str]]:
    """Rows {name, cases, share} sorted by count (descending), then by the code list's order."""
    if not isinstance(mapping, Mapping):
        return []
    order = list(CODE_LISTS.get(code_list, {})) if code_list else []
    items = [(str(code), n) for code, n in mapping.items() if is_number(n) and n]

    def sort_key(item: tuple[str, Any]) -> tuple[float, int, str]:
        code, n = item
        return (-float(n), order.index(code) if code in order else len(order), code)

    return [
        {
            "name": code_label(code, code_list, names),
            "cases": format_value(n, "count"),
            "share": share(n, total),
            "code": code,
        }
        for code, n in sorted(items, key=sort_key)
    ]


def change_text(pct: Any) -> str:
    """Sentence form of a change: 上升12.50% / 下降3.20% / 持平 / 无可比数据."""
    if not is_number(pct):
        return "无可比数据"
    if abs(pct) < 0.005:
        return "持平"
    return f"{'上升' if pct > 0 else '下降'}{abs(pct):.2f}%"


def signed_pct(pct: Any) -> str:
    return f"{pct:+.2f}%" if is_number(pct) else DASH


def date_zh(value: dt.date | dt.datetime) -> str:
    return f"{value.year}年{value.month}月{value.day}日"


def datetime_text(value: Any) -> str:
    """ISO text or datetime → 「2026年10月8日 09:30」; unparseable text is returned as is."""
    if isinstance(value, str):
        try:
            value = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return value
    if isinstance(value, dt.datetime):
        return f"{date_zh(value)} {value:%H:%M}"
    if isinstance(value, dt.date):
        return date_zh(value)
    return DASH


def rule_versions(figures: Mapping[str, Any]) -> str:
    for key in ("rule_sets", "rule_versions", "rulesets", "rules"):
        value = figures.get(key)
        if isinstance(value, Mapping) and value:
            return "；".join(_rule_text({"name": k, "version": v}) for k, v in sorted(value.items()))
        if isinstance(value, list | tuple) and value:
            return "；".join(_rule_text(v) for v in value)
        if isinstance(value, str) and value:
            return value
    return DASH


def _rule_text(rule: Any) -> str:
    """One rule set from figures.json ``rule_sets`` ({id, version, name, document, effective_from}) by its
    Chinese title and the date it took effect (its id and version stay in figures.json)."""
    if isinstance(rule, Mapping):
        name = str(rule.get("name") or rule.get("document") or "")
        if not name or re.search(r"[A-Za-z]{2,}", name):
            name = "统计规则"
        parts = []
        document = str(rule.get("document") or "")
        if document and document != name and document.startswith(("银保监", "保监", "国家金融")):
            parts.append(document)
        since = rule.get("effective_from") or rule.get("version")
        with contextlib.suppress(ValueError):
            parts.append(f"{date_zh(dt.date.fromisoformat(str(since)))}起施行")
        return f"{name}（{'，'.join(parts)}）" if parts else name
    return str(rule)


def numbered(items: list[str], start: int = 1) -> list[str]:
    """「1．…」 per item; an item written over several lines gives one paragraph per line (a line break
    inside a justified paragraph stretches the line before it)."""
    out: list[str] = []
    for i, text in enumerate(items, start):
        lines = [line.strip() for line in str(text).splitlines() if line.strip()] or [""]
        out.append(f"{i}．{lines[0]}")
        out.extend(lines[1:])
    return out


def period_label(code: str) -> str:
    """「2026年第三季度」 for a period code; other labels are returned unchanged."""
    try:
        return Period.parse(code).label_zh
    except ValueError:
        return code


def base_context(ctx: RenderContext, period_label: str) -> dict[str, Any]:
    return {
        "institution": ctx.institution,
        "company": ctx.company,
        "entity_name": ctx.entity_name,
        "period_label": period_label,
        "run_id": ctx.run_id,
        "addressee": ctx.addressee,
        "generated_at_text": f"{ctx.generated_at:%Y-%m-%d %H:%M}",
        "report_date_text": date_zh(ctx.generated_at),
        "org_word": "公司" if ctx.entity_level == "head_office" else "分公司",
        "narrative_file": ctx.narrative_file or f"narratives/{ctx.period}.yaml",
        "doc_number_text": _doc_number(ctx),
        "contact_text": _contact(ctx),
    }


def _doc_number(ctx: RenderContext) -> str:
    """文号: the configured prefix (「{year}」 → the report's year) and a blank for the number."""
    prefix = ctx.document_number.replace("{year}", str(ctx.generated_at.year))
    return f"{prefix}　　号" if prefix else "〔　　〕　　号"


def _contact(ctx: RenderContext) -> str:
    person = ctx.contact_person or "【待补充】"
    phone = ctx.contact_phone or "【待补充】"
    return f"联系人：{person}　　联系电话：{phone}"


_DOCX_LOCK = threading.Lock()
_SAFE_NAME = re.compile(r"[^0-9A-Za-z_\-\u4e00-\u9fa5]+")


def safe_filename(text: str) -> str:
    return _SAFE_NAME.sub("_", text).strip("_") or "report"


def render_template(
    template: str,
    values: dict[str, Any],
    images: Mapping[str, Path | None],
    ctx: RenderContext,
    out: Path,
    title: str,
    *,
    keep_closing: bool = False,
) -> Path:
    """Fill ``template`` (autoescape on), embed ``images`` (150 mm wide) and save byte-deterministically.

    One document at a time per process: python-docx parses every part with one module-level lxml parser
    (its custom element classes), and lxml parsers are not thread-safe. Two entities rendered at once in
    a thread pool got plain elements back ("'lxml.etree._Element' object has no attribute 'tbl_lst'")."""
    path = ctx.templates_dir / template
    if not path.exists():
        raise FileNotFoundError(f"{path}: template missing; restore it from templates/ of the release")
    with _DOCX_LOCK:
        tpl = DocxTemplate(str(path))
        # the preview mark goes into the template's headers before they are filled (docxtpl replaces them)
        if ctx.preview_mark:
            tpl.init_docx()
            mark_every_page(tpl.docx, ctx.preview_mark)
        context = dict(values)
        for name, image in images.items():
            context[name] = InlineImage(tpl, str(image), width=Mm(150)) if image is not None else None
        tpl.render(context, autoescape=True)
        if ctx.fonts is not None:
            apply_fonts(tpl.docx, ctx.fonts.body, ctx.fonts.heading)
        fit_tables(tpl.docx)
        if keep_closing:
            keep_signature_together(tpl.docx)
        set_core_properties(
            tpl.docx,
            title=title,
            author=ctx.company,
            when=ctx.generated_at,
            subject=ctx.period,
            keywords=f"run {ctx.run_id}",
        )
        buffer = io.BytesIO()
        tpl.save(buffer)
    return write_atomic(out, normalize_zip(buffer.getvalue()))
