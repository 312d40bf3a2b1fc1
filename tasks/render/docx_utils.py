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
