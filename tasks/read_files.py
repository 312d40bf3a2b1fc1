"""Read a ledger / exposure / events table from CSV, XLSX or Parquet (minimal; hardened by the quality gate)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from complaints.ledger import label_to_name


class InputError(ValueError):
    """A file cannot be read as a table; the message is one paragraph naming the file and what to do."""


def read_table(path: str | Path, table: str = "ledger") -> pd.DataFrame:
    """Raw table with canonical column names (Chinese XLSX labels are mapped); values as read (strings)."""
    p = Path(path)
    suffix = p.suffix.lower()
    if suffix == ".parquet":
        frame = pd.read_parquet(p)
    elif suffix in (".xlsx", ".xlsm"):
        frame = pd.read_excel(p, dtype=str)
    elif suffix in (".csv", ".txt"):
        frame = pd.read_csv(p, dtype=str, keep_default_na=False, na_values=[""], encoding="utf-8")
    else:
        raise InputError(f"{p}: unsupported file type {suffix!r}; give a .csv, .xlsx or .parquet file.")
    return frame.rename(columns=label_to_name(table))
