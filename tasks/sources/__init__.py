"""Where the ledger comes from: one module per source kind behind one reader protocol, and the extraction.

- :mod:`~tasks.sources.base`: the :class:`SourceReader` protocol, :class:`Scope` / :class:`Part`, errors;
- :mod:`~tasks.sources.registry`: ``kind`` → reader (:data:`READERS`), loading ``config/sources/*.yaml``;
- :mod:`~tasks.sources.sql`, :mod:`~tasks.sources.branch_spreadsheets`, :mod:`~tasks.sources.ledger_files`:
  one source kind each, its mapping model and its reader;
- :mod:`~tasks.sources.mapping`: column mapping and translation onto the ledger;
- :mod:`~tasks.sources.files`: reading one CSV / XLSX / Parquet file as a ledger table;
- :mod:`~tasks.sources.file_sources`: what the file kinds share (hashing, windowing file rows);
- :mod:`~tasks.sources.extract`: :func:`extract_period` and :func:`merge_sources`, the orchestration.
"""

from tasks.sources.base import (
    ExtractError,
    Part,
    Scope,
    SourceConfigError,
    SourceReader,
    check_identifier,
)
from tasks.sources.branch_spreadsheets import (
    DATA_SHEET,
    ERROR_COLUMNS,
    BranchFileError,
    SpreadsheetSource,
    branch_files,
    read_branch_file,
    read_branch_folder,
    read_branch_rows,
    write_template,
)
from tasks.sources.extract import Extract, extract_period, merge_sources
from tasks.sources.files import InputError, read_table
from tasks.sources.ledger_files import LedgerFilesSource
from tasks.sources.registry import READERS, Source, load_source, load_sources
from tasks.sources.sql import SourceMapping, quoted_table, redact_url

__all__ = [
    "DATA_SHEET",
    "ERROR_COLUMNS",
    "READERS",
    "BranchFileError",
    "Extract",
    "ExtractError",
    "InputError",
    "LedgerFilesSource",
    "Part",
    "Scope",
    "Source",
    "SourceConfigError",
    "SourceMapping",
    "SourceReader",
    "SpreadsheetSource",
    "branch_files",
    "check_identifier",
    "extract_period",
    "load_source",
    "load_sources",
    "merge_sources",
    "quoted_table",
    "read_branch_file",
    "read_branch_folder",
    "read_branch_rows",
    "read_table",
    "redact_url",
    "write_template",
]
