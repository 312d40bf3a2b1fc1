"""The fines summary's input in a run: the penalties side table as extracted (``extract/penalties.parquet``
in the bundle), read from the run's staging directory or, in ``bundles reproduce``, from the bundle."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pandas as pd

from complaints.ledger import normalize
from complaints.penalties import penalties_summary
from complaints.periods import Period

if TYPE_CHECKING:
    from tasks.runs import RunContext


def penalties_figures(ctx: RunContext, month: Period) -> dict[str, Any] | None:
    """The month's fines summary, or None when no source has a penalties table."""
    for base in (ctx.staging, ctx.workdir):
        path = base / "extract" / "penalties.parquet"
        if path.is_file():
            return penalties_summary(normalize(pd.read_parquet(path), "penalties"), month)
    return None
