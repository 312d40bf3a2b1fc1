"""Read a ledger / exposure / events table from CSV, XLSX or Parquet, refusing what cannot be read.

``read_table(path, table)`` returns the raw table (values as text, as read) with canonical column
names; Chinese header labels (LEDGER.md) and stray spaces or capitals in English headers are mapped.
Anything that cannot be read as that table raises :class:`InputError` whose message is one paragraph
naming the file, the row/column when known, and what to do: wrong encoding (UTF-16, GBK), no header
row, a wrong delimiter, ragged rows, an empty file, a spreadsheet with merged header cells or formulas,
a corrupt file, duplicate or missing required columns. Never a traceback.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import openpyxl
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from openpyxl.utils import get_column_letter
from openpyxl.worksheet._reader import WorkSheetParser
from openpyxl.worksheet.cell_range import CellRange

from complaints.errors import UserError
from complaints.ledger import TABLES, label_to_name

SUPPORTED = (".csv", ".txt", ".xlsx", ".xlsm", ".parquet")


class InputError(UserError):
    """A file cannot be read as a table; the message is one paragraph naming the file and what to do."""


def _col_letter(index: int) -> str:
    """0-based column index -> spreadsheet letters (0 -> A)."""
    letters = ""
    index += 1
    while index:
        index, rem = divmod(index - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


def _header_map(table: str) -> dict[str, str]:
    names = {c.name: c.name for c in TABLES[table]}
    names.update(label_to_name(table))
    return names


def clean_header(header: object) -> str:
    """A header as matched: invisible format characters (BOM, zero-width, soft hyphen) removed, runs of
    whitespace (NBSP, ideographic space, a quoted line break) made one space, the ends trimmed."""
    text = "".join(ch for ch in str(header) if unicodedata.category(ch) != "Cf")
    return " ".join(text.split())


def _canonical(header: str, mapping: dict[str, str]) -> str:
    h = clean_header(header)
    if h in mapping:
        return mapping[h]
    low = h.lower().replace(" ", "_")
    return mapping.get(low, h)


def _decode(path: Path, data: bytes) -> str:
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise InputError(
            f"{path}: the file is encoded as UTF-16 (it starts with a UTF-16 byte-order mark), but a CSV "
            "ledger must be UTF-8. In Excel use 'Save As' → 'CSV UTF-8 (逗号分隔)'; in other tools choose "
            "the UTF-8 encoding, then run the command again."
        )
    if data[:200].count(b"\x00") > 10:
        raise InputError(
            f"{path}: the file contains NUL bytes, so it is not UTF-8 text (probably UTF-16 without a "
            "byte-order mark, or a binary file renamed to .csv). Save it as 'CSV UTF-8' and try again."
        )
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        hint = ""
        try:
            data.decode("gb18030")
            hint = (
                " It decodes as GBK/GB18030, the default of Excel's plain 'CSV' on Chinese Windows; "
                "save it with 'CSV UTF-8 (逗号分隔)' instead."
            )
        except UnicodeDecodeError:
            pass
        raise InputError(
            f"{path}: line {line} is not valid UTF-8 (byte 0x{data[exc.start]:02x} at offset {exc.start}); "
            f"a CSV ledger must be UTF-8.{hint} Re-save the file as UTF-8 and run the command again."
        ) from exc


def _check_header(path: Path, headers: list[str], table: str, where: str = "") -> list[str]:
    """Canonical names for ``headers``; refuse no header row, blank/duplicate names, missing columns."""
    mapping = _header_map(table)
    names = [_canonical(h, mapping) for h in headers]
    known = {c.name for c in TABLES[table]}
    required = [c.name for c in TABLES[table] if c.required]
    recognised = [n for n in names if n in known]
    if not recognised:
        first = str(headers[0]) if headers else ""
        looks_like_data = bool(re.match(r"^\s*[\w-]*\d", first)) or len(headers) == 0
        shown = ", ".join(repr(str(h)) for h in headers[:5])
        if looks_like_data:
            raise InputError(
                f"{path}{where}: the first row ({shown}) looks like data, not a header row. The first row "
                f"must name the columns, e.g. {', '.join(required[:4])} … (see LEDGER.md); add the header "
                "row and run the command again."
            )
        raise InputError(
            f"{path}{where}: no column of the {table} table was recognised in the header row ({shown}). "
            f"Use the column names of LEDGER.md (e.g. {', '.join(required[:4])}) or, in a spreadsheet, "
            "their Chinese labels, and run the command again."
        )
    for i, raw in enumerate(headers):
        if clean_header(raw) == "" or str(raw).startswith("Unnamed:"):
            raise InputError(
                f"{path}{where}: column {i + 1} ({_col_letter(i)}) has no header but the other columns do. "
                "Give every column a name from LEDGER.md or delete the column, then run the command again."
            )
    seen: dict[str, int] = {}
    for i, name in enumerate(names):
        if name in seen:
            raise InputError(
                f"{path}{where}: column {name!r} appears twice (columns {_col_letter(seen[name])} and "
                f"{_col_letter(i)}). Keep one of them and run the command again."
            )
        seen[name] = i
    missing = [r for r in required if r not in names]
    if missing:
        raise InputError(
            f"{path}{where}: required column(s) {', '.join(missing)} missing from the {table} table (found: "
            f"{', '.join(names[:12])}{' …' if len(names) > 12 else ''}). Add the column(s) with these "
            "names (LEDGER.md) and run the command again."
        )
    return names


def _read_csv(path: Path, table: str) -> pd.DataFrame:
    data = path.read_bytes()
    if not data.strip():
        raise InputError(
            f"{path}: the file is empty. Export the {table} table again (with its header row) "
            "and run the command again."
        )
    text = _decode(path, data)
    first_line = text.splitlines()[0] if text.strip() else ""
    if "," not in first_line:
        for sep, name in ((";", "semicolons"), ("\t", "tabs"), ("|", "vertical bars")):
            if first_line.count(sep) >= 2:
                raise InputError(
                    f"{path}: the header row is separated by {name}, not commas. Save the file as "
                    "comma-separated CSV (in Excel: 'CSV UTF-8 (逗号分隔)') and run the command again."
                )
    # the first record, not the first line: a quoted header may hold a line break
    header = next(csv.reader(io.StringIO(text, newline="")), [])
    names = _check_header(path, header, table)  # before pandas renames duplicates to "x.1"
    try:
        frame = pd.read_csv(
            io.StringIO(text), dtype=str, keep_default_na=False, na_values=[""], skip_blank_lines=True
        )
    except pd.errors.EmptyDataError as exc:
        raise InputError(
            f"{path}: the file has no rows. Export the {table} table again with its header "
            "row and run the command again."
        ) from exc
    except pd.errors.ParserError as exc:
        detail = str(exc).strip().rstrip(".")
        m = re.search(r"Expected (\d+) fields in line (\d+), saw (\d+)", detail)
        if m:
            detail = (
                f"line {m.group(2)} has {m.group(3)} fields but the header has {m.group(1)} "
                "(a comma inside a value that is not quoted, or a stray delimiter)"
            )
        raise InputError(
            f"{path}: cannot be read as CSV: {detail}. Quote values that contain commas "
            '("..."), fix the line and run the command again.'
        ) from exc
    if len(frame.columns) != len(names):
        raise InputError(
            f"{path}: the header row has {len(names)} columns but pandas read "
            f"{len(frame.columns)}; check the quoting of the header row and run the command again."
        )
    frame.columns = names
    return frame


# A workbook's parts may unpack to this much at most: the rows of a large ledger are ~100 MB of sheet
# XML; far more from a small file is a decompression bomb.
MAX_UNPACKED = 2 * 1024**3
_UNREADABLE = (
    "It may be damaged, password-protected or an old .xls file renamed; open it in Excel or WPS and save "
    "it as .xlsx (Excel 工作簿) without a password, then run the command again."
)


@dataclass
class SheetRows:
    """The non-empty rows of the sheet a workbook designates, bounded by its real cells (not the
    sheet's declared dimension): ``rows`` holds (row number, {column number: value})."""

    title: str
    rows: list[tuple[int, dict[int, Any]]]
    merged: list[str]


def _open_zip(path: Path, data: bytes | None) -> zipfile.ZipFile:
    src: Path | io.BytesIO = io.BytesIO(data) if data is not None else path
    try:
        zf = zipfile.ZipFile(src)
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise InputError(
            f"{path}: is not a readable .xlsx workbook (not a zip archive: {exc}). {_UNREADABLE}"
        ) from exc
    infos = zf.infolist()
    unpacked = sum(i.file_size for i in infos)
    if unpacked > MAX_UNPACKED:
        raise InputError(
            f"{path}: is not read: its parts unpack to {unpacked / 1024**2:,.0f} MB (limit "
            f"{MAX_UNPACKED / 1024**2:,.0f} MB), far more than a complaint table needs. Save the table alone "
            "in a new workbook and run the command again."
        )
    for info in infos:
        if info.filename.endswith((".xml", ".rels", ".vml")) and _has_doctype(zf, info):
            raise InputError(
                f"{path}: part {info.filename} declares an XML document type or entities (<!DOCTYPE/"
                "<!ENTITY), which Excel and WPS never write; the file is refused as possibly hostile (XML "
                "entity attack). Save the table in a new workbook from Excel or WPS and run the command "
                "again."
            )
    return zf


def _has_doctype(zf: zipfile.ZipFile, info: zipfile.ZipInfo) -> bool:
    """True when the XML prolog of the part (before its first element) declares a document type or
    entities, or is implausibly long (1 MB, padding to hide one)."""
    head = b""
    try:
        with zf.open(info) as fh:
            while len(head) < 1024 * 1024:
                chunk = fh.read(65536)
                if not chunk:
                    break
                head += chunk
                root = re.search(rb"<[A-Za-z_]", head)
                if root:
                    return re.search(rb"<!(DOCTYPE|ENTITY)", head[: root.start()]) is not None
            else:
                return True
    except Exception:  # noqa: BLE001 - a damaged part is reported when openpyxl reads it
        return False
    return re.search(rb"<!(DOCTYPE|ENTITY)", head) is not None


Rows = list[tuple[int, dict[int, Any]]]


def _sheet_cells(wb: Any, ws: Any, data_only: bool) -> tuple[Rows, list[str], dict[str, str]]:
    """Non-empty rows of a read-only sheet as parsed (only real cells: a lone cell at XFD1048576 is one
    cell, not 17 billion), the merged ranges, and the formula cells (coordinate -> formula)."""

    rows: list[tuple[int, dict[int, Any]]] = []
    formulas: dict[str, str] = {}
    with ws._get_source() as src:
        parser = WorkSheetParser(
            src,
            ws._shared_strings,
            data_only=data_only,
            epoch=wb.epoch,
            date_formats=wb._date_formats,
            timedelta_formats=wb._timedelta_formats,
        )
        for idx, cells in parser.parse():
            values: dict[int, Any] = {}
            for c in cells:
                v = c["value"]
                if v is None or (isinstance(v, str) and v == ""):
                    continue
                if c["data_type"] == "f":
                    formulas[f"{get_column_letter(c['column'])}{idx}"] = str(v)
                values[c["column"]] = v
            if values:
                rows.append((idx, values))
        merged = [str(r.ref) for r in (parser.merged_cells.mergeCell if parser.merged_cells else [])]
    return rows, merged, formulas


def read_sheet_rows(
    path: Path,
    data: bytes | None = None,
    *,
    designated: str | None = None,
    companions: tuple[str, ...] = (),
) -> SheetRows:
    """The non-empty rows of the sheet the workbook designates, read with a hardened XML parser and
    bounded by the file's real cells. The sheet: ``designated`` when the workbook has a visible sheet of
    that name, else the one visible sheet with data; other visible sheets with data (``companions``
    aside) are refused by name (rows continued there would be lost), hidden sheets are never read.
    A formula cell takes its saved value; one without a saved value is refused naming the cell.
    Everything a file can cause raises :class:`InputError` naming the file."""
    if (len(data) if data is not None else path.stat().st_size) == 0:
        raise InputError(
            f"{path}: the file is empty (0 bytes). Save the workbook again and run the command again."
        )
    zf = _open_zip(path, data)
    try:
        try:
            wb = openpyxl.load_workbook(
                path if data is None else io.BytesIO(data), read_only=True, data_only=False
            )
        except Exception as exc:  # noqa: BLE001 - zip, XML (incl. defusedxml refusals) and openpyxl errors
            raise InputError(
                f"{path}: is not a readable .xlsx workbook ({type(exc).__name__}: {str(exc)[:200]}). "
                + _UNREADABLE
            ) from exc
        try:
            return _designated_sheet(path, wb, designated, companions)
        except InputError:
            raise
        except Exception as exc:  # noqa: BLE001 - a truncated or malformed sheet part
            raise InputError(
                f"{path}: a sheet cannot be read ({type(exc).__name__}: {str(exc)[:200]}). {_UNREADABLE}"
            ) from exc
        finally:
            wb.close()
    finally:
        zf.close()


def _designated_sheet(
    path: Path, wb: Any, designated: str | None, companions: tuple[str, ...]
) -> SheetRows:
    sheets = list(wb.worksheets)
    visible = [ws for ws in sheets if getattr(ws, "sheet_state", "visible") == "visible"]
    parsed: dict[str, tuple[Rows, list[str], dict[str, str]]] = {}

    def cells(ws: Any) -> tuple[Rows, list[str], dict[str, str]]:
        if ws.title not in parsed:
            parsed[ws.title] = _sheet_cells(wb, ws, data_only=False)
        return parsed[ws.title]

    named = [ws for ws in visible if designated is not None and ws.title == designated]
    others = [ws for ws in visible if ws.title not in companions and ws not in named]
    with_data = [ws for ws in others if cells(ws)[0]]
    if named:
        chosen = named[0]
        if with_data:
            raise InputError(
                f"{path}: sheet(s) {', '.join(repr(ws.title) for ws in with_data)} also hold data besides "
                f"{chosen.title!r}; rows continued on another sheet would not be read. Move them onto "
                f"{chosen.title!r} and delete the other sheet(s), then run the command again."
            )
    elif len(with_data) == 1:
        chosen = with_data[0]
    elif len(with_data) > 1:
        active = getattr(wb, "active", None)
        names = ", ".join(
            repr(ws.title) + (" (active)" if active is not None and ws.title == active.title else "")
            for ws in with_data
        )
        raise InputError(
            f"{path}: data on {len(with_data)} visible sheets ({names}); which one holds the table is "
            "ambiguous, and rows continued on another sheet would not be read. Put the whole table on one "
            "sheet, delete (or hide) the others, save and run the command again."
        )
    else:
        hidden = [ws.title for ws in sheets if ws not in visible and cells(ws)[0]]
        first = visible[0].title if visible else (sheets[0].title if sheets else "")
        extra = (
            f" (hidden sheet(s) {', '.join(map(repr, hidden))} hold data but hidden sheets are never read: "
            "unhide the sheet with the current table and delete the stale ones)"
            if hidden
            else ""
        )
        raise InputError(
            f"{path}, sheet {first!r}: the sheet is empty{extra}. Put the table with its header row on a "
            "visible sheet and run the command again."
        )
    rows, merged, formulas = cells(chosen)
    if formulas:
        saved = dict(
            ((f"{_col_letter(col - 1)}{idx}"), v)
            for idx, vals in _sheet_cells(wb, chosen, data_only=True)[0]
            for col, v in vals.items()
        )
        missing = [coord for coord in formulas if coord not in saved]
        if missing:
            coord = missing[0]
            more = f" (and {len(missing) - 1} more formula cell(s))" if len(missing) > 1 else ""
            raise InputError(
                f"{path}, sheet {chosen.title!r}: cell {coord} holds a formula ({formulas[coord][:40]}) with "
                f"no saved value{more}, so its value is unknown (the file was written by a program that does "
                "not calculate formulas). Open and save it in Excel or WPS, or copy the sheet and 'Paste "
                "Special → Values' (选择性粘贴 → 数值), then run the command again."
            )
        rows = [
            (idx, {col: _saved(saved, formulas, col, idx, v) for col, v in vals.items()})
            for idx, vals in rows
        ]
    return SheetRows(chosen.title, rows, merged)


def _saved(saved: dict[str, Any], formulas: dict[str, str], col: int, idx: int, value: Any) -> Any:
    coord = f"{_col_letter(col - 1)}{idx}"
    return saved[coord] if coord in formulas else value


def _read_xlsx(path: Path, table: str) -> pd.DataFrame:
    sheet = read_sheet_rows(path)
    where = f", sheet {sheet.title!r}"
    rows = sheet.rows
    if not rows:
        raise InputError(
            f"{path}{where}: the sheet is empty. Put the {table} table with its header row on "
            "the first sheet and run the command again."
        )
    header_row, header_cells = rows[0]
    for ref in sheet.merged:
        rng = CellRange(ref)
        if rng.min_row <= header_row <= rng.max_row:
            raise InputError(
                f"{path}{where}: header cells {rng.coord} are merged. The table needs one header row with "
                "one column name per cell: unmerge the cells (合并后居中 → 取消合并), give each column its "
                "own name and run the command again."
            )
    width = max(header_cells)
    headers = ["" if header_cells.get(c) is None else str(header_cells[c]) for c in range(1, width + 1)]
    while headers and clean_header(headers[-1]) == "":
        headers.pop()
    names = _check_header(path, headers, table, where)
    width = len(names)
    records = []
    for idx, vals in rows[1:]:
        extra = [c for c in vals if c > width]
        if extra:
            raise InputError(
                f"{path}{where}: cell {_col_letter(min(extra) - 1)}{idx} has a value but its column has no "
                "header. Give the column a name or clear the cell, then run the command again."
            )
        records.append([None if vals.get(c) is None else _cell_text(vals[c]) for c in range(1, width + 1)])
    frame = pd.DataFrame(records, columns=names, dtype=object)
    return frame.astype("str") if len(frame) else pd.DataFrame({n: pd.Series([], dtype="str") for n in names})


def _cell_text(value: object) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if hasattr(value, "isoformat"):
        return value.isoformat()  # type: ignore[union-attr]
    return str(value).strip()


def _read_parquet(path: Path, table: str) -> pd.DataFrame:

    try:
        data = pq.read_table(path)
    except Exception as exc:  # pyarrow raises several types for corrupt files
        raise InputError(
            f"{path}: is not a readable Parquet file ({type(exc).__name__}: {str(exc)[:200]}). Export it "
            "again and run the command again."
        ) from exc
    names = _check_header(path, [str(c) for c in data.column_names], table)
    columns: dict[str, pd.Series] = {}
    for name, col in zip(names, data.columns, strict=True):
        kind = col.type
        if pa.types.is_timestamp(kind) or pa.types.is_date(kind):
            try:  # microseconds hold years 1 to 294 000; out of range: kept as text, the gate quarantines it
                columns[name] = col.cast(pa.timestamp("us", tz=getattr(kind, "tz", None))).to_pandas()
            except (pa.ArrowInvalid, OverflowError, ValueError):
                columns[name] = _as_text_column(col)
            continue
        if pa.types.is_string(kind) or pa.types.is_large_string(kind):
            try:
                col.validate(full=True)
            except pa.ArrowInvalid as exc:
                row = _first_invalid_utf8(col)
                raise InputError(
                    f"{path}: column {name!r}, row {row + 1}: the text is not valid UTF-8 ({exc}). Export "
                    "the file again with UTF-8 text and run the command again."
                ) from exc
        try:
            columns[name] = col.to_pandas()
        except Exception as exc:  # noqa: BLE001 - a type pandas cannot hold
            raise InputError(
                f"{path}: column {name!r} ({kind}) cannot be read ({type(exc).__name__}: {str(exc)[:200]}). "
                "Export it with plain text, number and timestamp columns and run the command again."
            ) from exc
    return pd.DataFrame(columns, index=pd.RangeIndex(data.num_rows))


def _as_text_column(col: Any) -> pd.Series:
    """A time column pandas cannot hold, as ISO text (``10000-01-01 00:00:00``), value by value."""

    out = []
    for chunk in col.chunks:
        ints = chunk.cast(pa.int64()) if not pa.types.is_date(chunk.type) else chunk.cast(pa.int32())
        unit = getattr(chunk.type, "unit", "D")
        for v in ints.to_pylist():
            out.append(None if v is None else f"{v} {unit} since 1970-01-01")
    return pd.Series(out, dtype=object)


def _first_invalid_utf8(col: Any) -> int:

    base = 0
    for chunk in col.chunks:
        for i, v in enumerate(chunk.cast(pa.binary()).to_pylist() if not pa.types.is_large_string(chunk.type)
                              else chunk.cast(pa.large_binary()).to_pylist()):
            if v is not None:
                try:
                    v.decode("utf-8")
                except UnicodeDecodeError:
                    return base + i
        base += len(chunk)
    return 0


def read_table(path: str | Path, table: str = "ledger") -> pd.DataFrame:
    """Raw table with canonical column names (Chinese labels mapped); CSV/XLSX values as text, as read."""
    if table not in TABLES:
        raise InputError(f"unknown table {table!r}; expected one of {', '.join(TABLES)}.")
    p = Path(path)
    if not p.exists():
        raise InputError(f"{p}: no such file. Check the path and run the command again.")
    if p.is_dir():
        raise InputError(f"{p}: is a directory; give the path of a .csv, .xlsx or .parquet file.")
    suffix = p.suffix.lower()
    try:
        if suffix == ".parquet":
            return _read_parquet(p, table)
        if suffix in (".xlsx", ".xlsm"):
            return _read_xlsx(p, table)
        if suffix in (".csv", ".txt"):
            return _read_csv(p, table)
    except PermissionError as exc:
        raise InputError(
            f"{p}: cannot be opened (permission denied). Close it in Excel or fix the file's "
            "permissions and run the command again."
        ) from exc
    if suffix == ".xls":
        raise InputError(
            f"{p}: old-style .xls workbooks are not read; open it in Excel or WPS and save it "
            "as .xlsx, then run the command again."
        )
    raise InputError(
        f"{p}: unsupported file type {suffix or '(none)'!r}; give a .csv (UTF-8), .xlsx or .parquet file."
    )
