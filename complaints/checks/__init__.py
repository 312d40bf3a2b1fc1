"""The quality-gate check catalogue (pure): stable ids, descriptions, severities and vectorised conditions.

The package, one job a module:

- :mod:`.model`: what a check is (:class:`Check`, severities, levels), builders for its recurring
  kinds, and the :class:`Registry` the catalogue is read through;
- :mod:`.conditions`: the named, vectorised condition functions and the gate's pandas procedures;
- :mod:`.ledger`, :mod:`.exposure`, :mod:`.events`: each table's checks, in catalogue order.

This module builds the one registry, once, from the three tables, and re-exports what callers use
(``from complaints import checks as C``: ``C.CATALOGUE``, ``C.BY_ID``, ``C.CONDITIONS``,
``C.suite_dict``, …). Every lookup is read-only. No I/O and no GX here.
"""

from __future__ import annotations

from complaints.checks import events as _events
from complaints.checks import exposure as _exposure
from complaints.checks import ledger as _ledger
from complaints.checks.conditions import (
    MOBILE_PATTERN,
    RESIDENT_ID_PATTERN,
    TAKES_CATEGORIES,
    both_repeat_and_escalation,
    circular_links,
    contains_pattern,
    dangling_link,
    escalation_of_dangling,
    escalation_of_self,
    exposure_gaps,
    extra_category_codes,
    is_member,
    mobile_in_text,
    parse_failures,
    positions_in,
    product_line_mismatch,
    regulator_channel_not_forwarded,
    repeat_of_dangling,
    repeat_of_self,
    required_columns_missing,
    resident_id_in_text,
    self_link,
)
from complaints.checks.events import EVENT_IN_LEDGER, EVENT_RECEIVED_AT
from complaints.checks.model import (
    AS_OF,
    CUSTOM_EXPECTATION,
    Check,
    Condition,
    Engine,
    FrozenDict,
    Level,
    Registry,
    Severity,
    TableChecks,
)

REGISTRY = Registry((_ledger.TABLE, _exposure.TABLE, _events.TABLE))

# The lookups are FrozenDicts, typed here as the dicts they are: mypy narrows ``cid in BY_ID``
# (``str | None`` -> ``str``, as tasks/quality/ relies on) for ``dict`` only, not for a subclass.
CATALOGUE: tuple[Check, ...] = REGISTRY.catalogue
BY_ID: dict[str, Check] = REGISTRY.by_id
# check id -> its condition (frame -> boolean "row fails" array), for the custom GX expectation
CONDITIONS: dict[str, Condition] = REGISTRY.conditions
PARSE_CHECK: dict[str, str] = REGISTRY.parse_check
COLUMNS_CHECK: dict[str, str] = REGISTRY.columns_check
KEY_COLUMNS: dict[str, tuple[str, ...]] = REGISTRY.key_columns
# Checks whose conditions take categorical text columns as they are (the identifier scans).
SCANS_CATEGORIES = frozenset(cid for cid, fn in CONDITIONS.items() if fn in TAKES_CATEGORIES)

checks_for = REGISTRY.checks_for
suite_dict = REGISTRY.suite_dict

__all__ = [
    "AS_OF",
    "BY_ID",
    "CATALOGUE",
    "COLUMNS_CHECK",
    "CONDITIONS",
    "CUSTOM_EXPECTATION",
    "EVENT_IN_LEDGER",
    "EVENT_RECEIVED_AT",
    "KEY_COLUMNS",
    "MOBILE_PATTERN",
    "PARSE_CHECK",
    "REGISTRY",
    "RESIDENT_ID_PATTERN",
    "SCANS_CATEGORIES",
    "Check",
    "Condition",
    "Engine",
    "FrozenDict",
    "Level",
    "Registry",
    "Severity",
    "TableChecks",
    "both_repeat_and_escalation",
    "checks_for",
    "circular_links",
    "contains_pattern",
    "dangling_link",
    "escalation_of_dangling",
    "escalation_of_self",
    "exposure_gaps",
    "extra_category_codes",
    "is_member",
    "mobile_in_text",
    "parse_failures",
    "positions_in",
    "product_line_mismatch",
    "regulator_channel_not_forwarded",
    "repeat_of_dangling",
    "repeat_of_self",
    "required_columns_missing",
    "resident_id_in_text",
    "self_link",
    "suite_dict",
]
