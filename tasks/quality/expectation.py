"""The custom GX expectation: rows must pass a catalogue condition (links, extra categories, identifiers).

GX registers an expectation type when its class is defined: :mod:`tasks.quality.suites` imports this
module so that ``expect_rows_to_pass_catalogue_check`` is known before any suite loads.
"""

from __future__ import annotations

from typing import Any, Literal

import pandas as pd
from great_expectations.execution_engine import PandasExecutionEngine
from great_expectations.expectations.expectation import MulticolumnMapExpectation
from great_expectations.expectations.metrics.map_metric_provider import (
    MulticolumnMapMetricProvider,
    multicolumn_condition_partial,
)

from complaints import checks as C
from tasks.quality.frames import _from_gx


class MulticolumnValuesPassCatalogueCheck(MulticolumnMapMetricProvider):  # type: ignore[misc]
    """Map metric: a row is expected when ``complaints.checks.CONDITIONS[check_id]`` does not flag it."""

    condition_metric_name = "multicolumn_values.pass_catalogue_check"
    condition_domain_keys = (
        "batch_id",
        "table",
        "column_list",
        "row_condition",
        "condition_parser",
        "ignore_row_if",
    )
    condition_value_keys = ("check_id",)

    @multicolumn_condition_partial(engine=PandasExecutionEngine)  # type: ignore[misc]
    def _pandas(cls, column_list: pd.DataFrame, check_id: str, **kwargs: Any) -> pd.Series:
        # identifier scans take the categorical columns as they are (searched once per category):
        # turned back into text, the 11 columns of L062/L063 cost ~220 MB per million rows
        frame = column_list if check_id in C.SCANS_CATEGORIES else _from_gx(column_list)
        fails = C.CONDITIONS[check_id](frame)
        return pd.Series(~fails, index=column_list.index)


class ExpectRowsToPassCatalogueCheck(MulticolumnMapExpectation):  # type: ignore[misc]
    """Expect every row to pass the vectorised catalogue check ``check_id`` over ``column_list``."""

    check_id: str
    ignore_row_if: Literal["all_values_are_missing", "any_value_is_missing", "never"] = "never"
    map_metric = "multicolumn_values.pass_catalogue_check"
    success_keys = ("check_id", "mostly")
