"""Overdue rectification items (溯源整改) in ``complaints status``: one call from the status command, kept
apart so the filings' status can change without touching it."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from rich.table import Table

from complaints.rectification import STATUS_ZH, overdue_items
from complaints.settings import RectificationItem


def rectification_rows(items: Sequence[RectificationItem], today: dt.date,
                       head_office: str) -> list[dict[str, Any]]:
    """The overdue items (past due, not done) as status rows shaped like the others': ``filing``
    (rectification_item), ``period`` (the item's id, as an on-request filing's key), ``entity`` (the branch
    it targets, else the head office), ``state`` (overdue), plus title, owner, due, status, days_overdue."""
    branch = {i.id: i.branch for i in items}
    return [{"filing": "rectification_item", "period": r["id"], "entity": branch[r["id"]] or head_office,
             "state": "overdue", **r} for r in overdue_items(items, today)]


def rectification_table(rows: list[dict[str, Any]], today: dt.date) -> Table:
    table = Table(title=f"整改事项已逾期 (overdue rectification items) · today {today}")
    for name in ("item", "title", "owner", "due", "status", "days overdue"):
        table.add_column(name, no_wrap=name not in ("title", "owner"))
    for r in rows:
        table.add_row(r["id"], r["title"], r["owner"], r["due"],
                      f"{r['status']} {STATUS_ZH.get(r['status'], '')}", f"[bold red]{r['days_overdue']}[/]")
    return table
