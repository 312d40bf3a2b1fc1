"""The on-request filings (forwarded-case and rectification reports) in ``complaints status``: one call
from the status command, kept apart so the periodic filings' status can change without touching it."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from rich.table import Table

from complaints.calendar import WorkCalendar
from tasks.archive.stores import Store
from tasks.config_files import Loaded
from tasks.on_request_status import on_request_status

STATE_ZH = {"open": "未到期", "at_risk": "临近到期", "late": "已逾期", "filed": "已报送",
            "filed_late": "逾期报送",
            "unknown": "到期日未知"}


def on_request_rows(loaded: Loaded, workdir: Path, store: Store, committed: list[str], today: dt.date,
                    calendar: WorkCalendar, submitted: dict[tuple[str, str, str], dt.date] | None = None
                    ) -> tuple[list[dict[str, Any]], list[str]]:
    """(rows, problems) of the tracked on-request filings (``tasks.on_request_status``): ``committed``
    the committed bundle ids (other kinds are ignored), ``submitted`` (filing, entity, key) → the day
    its submission was recorded."""
    return on_request_status(loaded, workdir, store, committed, today, calendar, submitted=submitted)


def on_request_table(rows: list[dict[str, Any]], today: dt.date) -> Table:
    table = Table(title=f"按需报告 (on-request filings) · today {today}")
    for name in ("filing", "key", "entity", "title", "due", "state", "drafts", "bundle"):
        table.add_column(name, no_wrap=name not in ("bundle", "title"))
    for r in rows:
        table.add_row(r["filing"], r["period"], r["entity"], r["title"], r["due"] or "—",
                      f"{r['state']} {STATE_ZH.get(r['state'], '')}", str(r["drafts"]), r["bundle"] or "")
    return table
