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
import zipfile
from pathlib import Path

import openpyxl
import pandas as pd
from openpyxl.utils.exceptions import InvalidFileException

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


def _canonical(header: str, mapping: dict[str, str]) -> str:
    h = str(header).strip().lstrip("\ufeff")
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
        if str(raw).strip() == "" or str(raw).startswith("Unnamed:"):
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
    header = next(csv.reader(io.StringIO(first_line)), [])
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


def _read_xlsx(path: Path, table: str) -> pd.DataFrame:
    if path.stat().st_size == 0:
        raise InputError(
            f"{path}: the file is empty (0 bytes). Save the workbook again and run the command again."
        )
    try:
        wb = openpyxl.load_workbook(path, read_only=False, data_only=False)
    except (zipfile.BadZipFile, InvalidFileException, KeyError, OSError) as exc:
        raise InputError(
            f"{path}: is not a readable .xlsx workbook ({type(exc).__name__}: {exc}). It may be corrupt, "
            "password-protected or an old .xls file renamed; open it in Excel or WPS and save it as .xlsx "
            "(Excel 工作簿) without a password, then run the command again."
        ) from exc
    ws = wb.worksheets[0]
    where = f", sheet {ws.title!r}"
    rows = list(ws.iter_rows(values_only=False))
    # skip leading empty rows
    start = 0
    while start < len(rows) and all(c.value in (None, "") for c in rows[start]):
        start += 1
    if start >= len(rows):
        raise InputError(
            f"{path}{where}: the sheet is empty. Put the {table} table with its header row on "
            "the first sheet and run the command again."
        )
    header_row = start + 1
    for rng in ws.merged_cells.ranges:
        if rng.min_row <= header_row <= rng.max_row:
            raise InputError(
                f"{path}{where}: header cells {rng.coord} are merged. The table needs one header row with "
                "one column name per cell: unmerge the cells (合并后居中 → 取消合并), give each column its "
                "own name and run the command again."
            )
    for row in rows[start:]:
        for cell in row:
            if cell.data_type == "f":
                raise InputError(
                    f"{path}{where}: cell {cell.coordinate} holds a formula ({str(cell.value)[:40]}). The "
                    "quality gate reads values only: copy the sheet and 'Paste Special → Values' "
                    "(选择性粘贴 → 数值), "
                    "save and run the command again."
                )
    headers = ["" if c.value is None else str(c.value) for c in rows[start]]
    while headers and headers[-1].strip() == "":
        headers.pop()
    names = _check_header(path, headers, table, where)
    width = len(names)
    records = []
    for row in rows[start + 1 :]:
        values = [c.value for c in row[:width]]
        if all(v in (None, "") for v in values):
            continue
        extra = [c for c in row[width:] if c.value not in (None, "")]
        if extra:
            raise InputError(
                f"{path}{where}: cell {extra[0].coordinate} has a value but its column has no header. Give "
                "the column a name or clear the cell, then run the command again."
            )
        records.append(
            [None if v in (None, "") else _cell_text(v) for v in values] + [None] * (width - len(values))
        )
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
        frame = pd.read_parquet(path)
    except Exception as exc:  # pyarrow raises several types for corrupt files
        raise InputError(
            f"{path}: is not a readable Parquet file ({type(exc).__name__}: {exc}). Export it "
            "again and run the command again."
        ) from exc
    frame.columns = _check_header(path, [str(c) for c in frame.columns], table)
    return frame


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
