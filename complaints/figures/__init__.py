"""The self-inspection figures of FIGURES.md with lineage (pure).

``compute_figures(ledger, period=..., as_of=..., calendar=..., rulebooks=...) -> FiguresResult`` and
``flatten(figures) -> [(dotted key, value)]`` for CSV; ``monthly_figures`` for the monthly publication
tables. ``catalogue``: every figure key's Chinese label, unit and direction (:class:`FigureSpec`).
"""

from complaints.figures._compute import compute_figures
from complaints.figures._monthly import month_rows, monthly_figures, region_category_table, summary_table
from complaints.figures._result import FiguresResult, flatten
from complaints.figures._trend import quarter_trend
from complaints.figures.catalogue import CATALOGUE, FigureSpec, label, lower_is_better, spec_for

__all__ = [
    "CATALOGUE",
    "FigureSpec",
    "FiguresResult",
    "compute_figures",
    "flatten",
    "label",
    "lower_is_better",
    "month_rows",
    "monthly_figures",
    "quarter_trend",
    "region_category_table",
    "spec_for",
    "summary_table",
]
