"""Low-level DOCX helpers: East Asian fonts on styles, deterministic core properties and zips."""

from __future__ import annotations

import datetime as dt
import io
import os
import re
import zipfile
from pathlib import Path

from docx.document import Document as DocumentObject
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import RGBColor

ASCII_FONT = "Times New Roman"
BODY_STYLES = ("Normal", "Report Body", "Table Cell", "Header", "Footer", "Caption")
HEADING_STYLES = ("Title", "Report Title", "Heading 1", "Heading 2", "Heading 3")
ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)


def set_run_fonts(rpr_parent: object, east_asia: str, ascii_font: str = ASCII_FONT) -> None:
    """Set ascii/hAnsi/eastAsia fonts explicitly on an element with ``get_or_add_rPr`` (style or run).

    python-docx sets only ascii/hAnsi; Word then shows Chinese in the theme font. Theme attributes are
    removed so the explicit names win.
    """
    rpr = rpr_parent.get_or_add_rPr()  # type: ignore[attr-defined]
    rfonts = rpr.find(qn("w:rFonts"))
    if rfonts is None:
        rfonts = OxmlElement("w:rFonts")
        rpr.insert(0, rfonts)
    for attr in ("w:asciiTheme", "w:hAnsiTheme", "w:eastAsiaTheme", "w:cstheme"):
        rfonts.attrib.pop(qn(attr), None)
    rfonts.set(qn("w:ascii"), ascii_font)
    rfonts.set(qn("w:hAnsi"), ascii_font)
    rfonts.set(qn("w:cs"), ascii_font)
    rfonts.set(qn("w:eastAsia"), east_asia)


def apply_fonts(document: DocumentObject, body_font: str, heading_font: str) -> None:
    """Body styles in ``body_font`` and heading styles in ``heading_font`` (East Asian), black headings."""
    styles = {s.name: s for s in document.styles}
    for name in BODY_STYLES + HEADING_STYLES:
        style = styles.get(name)
        if style is None:
            continue
        set_run_fonts(style.element, heading_font if name in HEADING_STYLES else body_font)
        if name in HEADING_STYLES:
            style.font.color.rgb = RGBColor(0, 0, 0)
    defaults = document.styles.element.find(qn("w:docDefaults"))
    if defaults is not None:
        rpr_default = defaults.find(qn("w:rPrDefault"))
        if rpr_default is not None and rpr_default.find(qn("w:rPr")) is not None:
            rfonts = rpr_default.find(qn("w:rPr")).find(qn("w:rFonts"))
            if rfonts is not None:
                for attr in ("w:asciiTheme", "w:hAnsiTheme", "w:eastAsiaTheme", "w:cstheme"):
                    rfonts.attrib.pop(qn(attr), None)
                rfonts.set(qn("w:eastAsia"), body_font)
                rfonts.set(qn("w:ascii"), ASCII_FONT)
                rfonts.set(qn("w:hAnsi"), ASCII_FONT)


def set_core_properties(
    document: DocumentObject,
    *,
    title: str,
    author: str,
    when: dt.datetime,
    subject: str = "",
    keywords: str = "",
) -> None:
    """Deterministic core properties: all dates = ``when`` (an input, never the clock), revision 1."""
    cp = document.core_properties
    stamp = when.replace(microsecond=0, tzinfo=None)
    cp.title, cp.author, cp.subject, cp.keywords = title, author, subject, keywords
    cp.last_modified_by = author
    cp.created = cp.modified = cp.last_printed = stamp
    cp.revision = 1
    cp.comments = ""


_CORE_DATES = re.compile(rb"(<dcterms:(?:created|modified)[^>]*>)[^<]*(</dcterms:(?:created|modified)>)")


def normalize_zip(data: bytes, core_time: dt.datetime | None = None) -> bytes:
    """Rewrite an OOXML zip with sorted entries, fixed timestamps and attributes (byte-identical output).

    ``core_time``: also force the created/modified dates in ``docProps/core.xml`` (openpyxl writes the
    clock time there when saving).
    """
    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        names = sorted(src.namelist(), key=lambda n: (n != "[Content_Types].xml", n))
        for name in names:
            info = zipfile.ZipInfo(name, date_time=ZIP_EPOCH)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            info.create_system = 0
            content = src.read(name)
            if core_time is not None and name == "docProps/core.xml":
                stamp = core_time.replace(microsecond=0, tzinfo=None).isoformat().encode() + b"Z"
                content = _CORE_DATES.sub(rb"\g<1>" + stamp + rb"\g<2>", content)
            dst.writestr(info, content, compresslevel=6)
    return out.getvalue()


def write_atomic(path: Path, data: bytes) -> Path:
    """Write ``data`` to ``path`` via a temporary file and rename (no half-written filings)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)
    return path


def mark_every_page(document: DocumentObject, text: str) -> None:
    """Put ``text`` as the first paragraph of every page header of ``document`` (each section's default,
    first-page and even-page headers that are its own), so every printed page carries it (the preview
    mark). A section without a header gets one; a header linked to the previous section's is skipped
    (it shows that section's, already marked)."""
    seen: set[int] = set()
    for i, section in enumerate(document.sections):
        headers = [section.header]
        if section.different_first_page_header_footer:
            headers.append(section.first_page_header)
        if document.settings.odd_and_even_pages_header_footer:
            headers.append(section.even_page_header)
        for header in headers:
            if i > 0 and header.is_linked_to_previous:
                continue
            if id(header._element) in seen:  # noqa: SLF001 - one header part shared by two sections
                continue
            seen.add(id(header._element))  # noqa: SLF001
            paragraphs = header.paragraphs
            if paragraphs and not "".join(p.text for p in paragraphs).strip():
                para = paragraphs[0]  # an empty header: use its paragraph
            elif paragraphs:
                para = paragraphs[0].insert_paragraph_before()
            else:
                para = header.add_paragraph()
            para.alignment = 1  # centred
            run = para.add_run(text)
            run.bold = True


# -- layout: what keeps numbers, rows and the signature together ---------------------------------------
_CJK = re.compile(r"[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef]")
CELL_PADDING_PT = 13.0  # left + right cell margins (Word's default 5.4 pt each) and some slack
SMALL_FONT_SIZES_PT = (9.0, 8.0)


def _text_width_pt(text: str, size_pt: float) -> float:
    """Generous printed width: a CJK character is one em, anything else 0.7 em (digits are 0.5 em in
    Times New Roman but wider in the fallback serif fonts a converter may use)."""
    width = sum(size_pt if _CJK.match(ch) else 0.7 * size_pt for ch in text)
    # converters put a quarter em between Chinese and Western characters
    switches = sum(bool(_CJK.match(a)) != bool(_CJK.match(b)) for a, b in zip(text, text[1:], strict=False))
    return width + 0.25 * size_pt * switches


def _set_on(parent: object, tag: str, attrs: dict[str, str] | None = None) -> object:
    el = parent.find(qn(tag))  # type: ignore[attr-defined]
    if el is None:
        el = OxmlElement(tag)
        parent.append(el)  # type: ignore[attr-defined]
    for k, v in (attrs or {}).items():
        el.set(qn(k), v)
    return el


def _cell_font_size(tc: object, size_pt: float) -> None:
    for r in tc.iter(qn("w:r")):  # type: ignore[attr-defined]
        rpr = r.find(qn("w:rPr"))
        if rpr is None:
            rpr = OxmlElement("w:rPr")
            r.insert(0, rpr)
        for tag in ("w:sz", "w:szCs"):
            _set_on(rpr, tag, {"w:val": str(int(size_pt * 2))})


def _body_size_pt(document: DocumentObject) -> float:
    for name in ("Table Cell", "Normal"):
        try:
            size = document.styles[name].font.size
        except KeyError:
            continue
        if size is not None:
            return float(size.pt)
    return 10.5


def fit_tables(document: DocumentObject) -> None:
    """Column widths from the printed text: cells without Chinese text (numbers, ids, dates, rates) get
    the width they need and do not wrap; Chinese text columns share the rest. A table too wide at the
    body size is set in a smaller font. Rows never break across pages; the header row repeats."""
    section = document.sections[0]
    usable = (section.page_width - section.left_margin - section.right_margin) / 12700  # EMU → pt
    size = _body_size_pt(document)
    for table in document.tables:
        tbl = table._tbl
        rows = tbl.findall(qn("w:tr"))
        for i, tr in enumerate(rows):
            trpr = tr.get_or_add_trPr()
            _set_on(trpr, "w:cantSplit")
            if i == 0:
                _set_on(trpr, "w:tblHeader")
        grid = tbl.tblGrid
        ncols = len(grid.findall(qn("w:gridCol")))
        if ncols < 2:
            continue
        cells = [tr.findall(qn("w:tc")) for tr in rows]
        if any(len(r) != ncols for r in cells):
            continue  # merged cells: leave the template's widths

        def widths(sz: float, cells: list = cells, ncols: int = ncols) -> tuple[list[float], list[bool]]:
            need, wrap = [0.0] * ncols, [False] * ncols
            for r_i, row in enumerate(cells):
                for c, tc in enumerate(row):
                    text = "".join(t.text or "" for t in tc.iter(qn("w:t")))
                    if r_i > 0 and _CJK.search(text) and len(text) > 6:
                        wrap[c] = True
                    w = _text_width_pt(text, sz) + CELL_PADDING_PT
                    if r_i == 0:  # a header may wrap over two lines
                        w = _text_width_pt(text, sz) / 2 + CELL_PADDING_PT
                    need[c] = max(need[c], w)
            for c in range(ncols):
                if wrap[c]:
                    need[c] = max(5 * sz + CELL_PADDING_PT, min(need[c], 12 * sz + CELL_PADDING_PT))
            return need, wrap

        font = size
        need, wrap = widths(font)
        for smaller in SMALL_FONT_SIZES_PT:
            if sum(need) <= usable:
                break
            font = smaller
            need, wrap = widths(font)
        if font != size:
            for row in cells:
                for tc in row:
                    _cell_font_size(tc, font)
        spare = usable - sum(need)
        # where there is room, a header is set on one line rather than broken mid-word (行业中/位数)
        heads = ["".join(t.text or "" for t in tc.iter(qn("w:t"))) for tc in cells[0]]
        short = sorted((_text_width_pt(h, font) + CELL_PADDING_PT - need[c], c) for c, h in enumerate(heads))
        for deficit, c in short:
            if 0 < deficit <= spare:
                need[c] += deficit
                spare -= deficit
        flexible = [c for c in range(ncols) if wrap[c]] or list(range(ncols))
        if spare > 0:  # half to every column, half to the text columns
            for c in range(ncols):
                need[c] += spare / 2 / ncols
            for c in flexible:
                need[c] += spare / 2 / len(flexible)
        else:  # squeeze the text columns, never the numbers
            squeezable = sum(need[c] for c in flexible)
            for c in flexible:
                need[c] = max(3 * font, need[c] + spare * need[c] / squeezable)
        twips = [int(w * 20) for w in need]
        tblpr = tbl.tblPr
        _set_on(tblpr, "w:tblLayout", {"w:type": "fixed"})
        _set_on(tblpr, "w:tblW", {"w:w": str(sum(twips)), "w:type": "dxa"})
        for col, w in zip(grid.findall(qn("w:gridCol")), twips, strict=True):
            col.set(qn("w:w"), str(w))
        for row in cells:
            for c, tc in enumerate(row):
                tcpr = tc.get_or_add_tcPr()
                _set_on(tcpr, "w:tcW", {"w:w": str(twips[c]), "w:type": "dxa"})
                text = "".join(t.text or "" for t in tc.iter(qn("w:t")))
                if not wrap[c] and text.strip() and (c > 0 or not _CJK.search(text)):
                    _set_on(tcpr, "w:noWrap")


def keep_signature_together(document: DocumentObject, closing: str = "特此报告。") -> None:
    """The signature block is never alone on a page: the last body paragraph before 「特此报告。」 and
    everything from there to the end of the signature (附件 line, seal, date, contact) go into one
    borderless table row that may not split (LibreOffice ignores keep-with-next chains here), so they
    move to the next page together."""
    paragraphs = document.paragraphs
    start = next((i for i, p in enumerate(paragraphs) if p.text.strip() == closing), None)
    if start is None:
        return
    end = start
    for i in range(start + 1, len(paragraphs)):
        style = paragraphs[i].style.name if paragraphs[i].style is not None else ""
        if style.startswith("Heading"):
            break
        end = i
    first = start
    while first > 0 and not paragraphs[first - 1].text.strip():
        first -= 1
    if first > 0 and not (paragraphs[first - 1].style.name or "").startswith("Heading"):
        first -= 1
    block = [p._p for p in paragraphs[first : end + 1]]
    if any(p.getparent() is not block[0].getparent() for p in block):
        return  # not a run of body paragraphs (e.g. inside a table already)
    section = document.sections[0]
    width = int((section.page_width - section.left_margin - section.right_margin) / 635)  # EMU → twips
    table = _block_table(width)
    block[0].addprevious(table)
    cell = table.find(qn("w:tr")).find(qn("w:tc"))  # type: ignore[attr-defined]
    for p in block:
        cell.append(p)


def _block_table(width_twips: int) -> object:
    """A one-cell table without borders or cell margins whose single row may not split across pages."""
    tbl = OxmlElement("w:tbl")
    tblpr = OxmlElement("w:tblPr")
    _set_on(tblpr, "w:tblW", {"w:w": str(width_twips), "w:type": "dxa"})
    borders = _set_on(tblpr, "w:tblBorders")
    for side in ("top", "left", "bottom", "right", "insideH", "insideV"):
        _set_on(borders, f"w:{side}", {"w:val": "nil"})
    _set_on(tblpr, "w:tblLayout", {"w:type": "fixed"})
    margins = _set_on(tblpr, "w:tblCellMar")
    for side in ("top", "left", "bottom", "right"):
        _set_on(margins, f"w:{side}", {"w:w": "0", "w:type": "dxa"})
    tbl.append(tblpr)
    grid = OxmlElement("w:tblGrid")
    _set_on(grid, "w:gridCol", {"w:w": str(width_twips)})
    tbl.append(grid)
    tr = OxmlElement("w:tr")
    _set_on(_set_on(tr, "w:trPr"), "w:cantSplit")
    tc = OxmlElement("w:tc")
    _set_on(_set_on(tc, "w:tcPr"), "w:tcW", {"w:w": str(width_twips), "w:type": "dxa"})
    tr.append(tc)
    tbl.append(tr)
    return tbl
