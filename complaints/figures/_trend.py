"""Cases and valid cases per quarter, for the filings' multi-quarter trend chart (FIGURES.md counts)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from complaints.periods import Period


def quarter_trend(ledger: pd.DataFrame, quarters: list[Period], *, entity: str | None = None,
                  head_office: str | None = None) -> list[dict[str, object]]:
    """``[{period, cases, valid_cases}]`` for each quarter, with the scope rules of ``compute_figures``."""
    in_scope = np.ones(len(ledger), dtype=bool)
    if entity is not None and entity != head_office:
        in_scope = (ledger["entity_code"] == entity).to_numpy(dtype=bool)
    received = ledger["received_at"].to_numpy(dtype="datetime64[us]")
    case = in_scope & ledger["repeat_of"].isna().to_numpy(dtype=bool)
    valid = ledger["valid"].fillna(False).to_numpy(dtype=bool)
    out: list[dict[str, object]] = []
    for q in quarters:
        inside = case & (received >= np.datetime64(q.start, "us")) & (received < np.datetime64(q.end, "us"))
        out.append({"period": q.code, "cases": int(inside.sum()), "valid_cases": int((inside & valid).sum())})
    return out
