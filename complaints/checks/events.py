"""The events table's checks (``E…``), in catalogue order.

``tests/domain/test_checks_catalogue.py`` pins the ids, their order, severities and levels.
"""

from __future__ import annotations

from complaints import ledger as L
from complaints.checks.model import Check, TableChecks, in_set, not_future, not_null

# Helper columns the gate adds to the events frame before validation (dropped afterwards).
EVENT_IN_LEDGER = "_ledger_has_complaint"
EVENT_RECEIVED_AT = "_ledger_received_at"

CHECKS: tuple[Check, ...] = (
    Check(
        id="E000",
        table="events",
        level="row",
        severity="blocking",
        description_zh="取值无法解析(日期格式错误)",
        description_en="a value cannot be parsed (bad date)",
        columns=(),
        engine="pandas",
    ),
    Check(
        id="E100",
        table="events",
        level="table",
        severity="blocking",
        description_zh="缺少必填列",
        description_en="a required column is missing",
        columns=(),
        engine="pandas",
    ),
    not_null(id="E001", table="events", column="complaint_id"),
    not_null(id="E002", table="events", column="at"),
    not_null(id="E003", table="events", column="kind"),
    in_set(id="E004", table="events", column="kind", codes=L.EVENT_KINDS),
    not_future(id="E005", table="events", column="at"),
    Check(
        id="E006",
        table="events",
        level="row",
        severity="blocking",
        description_zh="事件须对应台账中已有的投诉编号",
        description_en="an event must belong to a complaint_id of the ledger",
        columns=("complaint_id",),
        gx_type="expect_column_values_to_be_in_set",
        gx_kwargs={"column": EVENT_IN_LEDGER, "value_set": [True]},
    ),
    Check(
        id="E007",
        table="events",
        level="row",
        severity="warning",
        description_zh="事件时间早于投诉收到时间",
        description_en="an event is dated before its complaint was received",
        columns=("complaint_id", "at"),
        gx_type="expect_column_pair_values_a_to_be_greater_than_b",
        gx_kwargs={
            "column_A": "at",
            "column_B": EVENT_RECEIVED_AT,
            "or_equal": True,
            "ignore_row_if": "either_value_is_missing",
        },
    ),
    Check(
        id="E008",
        table="events",
        level="table",
        severity="warning",
        description_zh="重复的处理事件(同一投诉、时间、类型)",
        description_en="duplicate event (same complaint, time and kind)",
        columns=("complaint_id", "at", "kind"),
        gx_type="expect_compound_columns_to_be_unique",
        gx_kwargs={"column_list": ["complaint_id", "at", "kind"]},
    ),
)

TABLE = TableChecks(
    table="events",
    checks=CHECKS,
    parse_check="E000",
    columns_check="E100",
    key_columns=("complaint_id", "at", "kind"),
)
