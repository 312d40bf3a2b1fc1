"""Where the on-request filings to track come from, for ``complaints status`` and the watcher.

Three sources, merged (:func:`complaints.on_request.merge_items`): the rectification requirement files in
``filings.requirements_dir`` (tracked from the day the officer saves the requirement), the forwarded cases
of a ledger when the caller has one (the watcher, after its extract), and the items recorded in the
``run.json`` of every draft bundle of a forwarded-case or rectification report.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from complaints.calendar import UnknownCalendarYear, WorkCalendar
from complaints.deadlines import at_risk_from
from complaints.errors import UserError
from complaints.filings import ON_REQUEST
from complaints.on_request import OnRequestItem, forwarded_items, item_states, merge_items, rectification_item
from tasks.archive.bundle import RUN_FILE
from tasks.archive.stores import Store, StoreError, parse_bundle_id
from tasks.config_files import Loaded

Key = tuple[str, str, str]


def drafts_index(committed: Sequence[str]) -> dict[Key, list[str]]:
    """(filing, entity, key) → the committed on-request bundle ids, oldest first."""
    out: dict[Key, list[tuple[dt.datetime, str]]] = {}
    for bundle_id in committed:
        parsed = parse_bundle_id(bundle_id)
        if parsed.filing in ON_REQUEST:
            key = (parsed.filing, parsed.entity, parsed.period)
            out.setdefault(key, []).append((parsed.created, bundle_id))
    return {k: [b for _, b in sorted(v)] for k, v in out.items()}


def _item(data: Any) -> OnRequestItem | None:
    if not isinstance(data, dict) or data.get("filing") not in ON_REQUEST:
        return None

    def day(v: Any) -> dt.date | None:
        return dt.date.fromisoformat(v) if isinstance(v, str) and v else None

    try:
        return OnRequestItem(
            data["filing"], str(data["entity"]), str(data["period"]), str(data.get("title", "")),
            day(data.get("received")), day(data.get("due")), str(data.get("addressee") or ""),
            data.get("error"))
    except (KeyError, ValueError):
        return None


def items_from_bundles(store: Store, drafts: dict[Key, list[str]]) -> list[OnRequestItem]:
    """The item each key's latest draft recorded (its due date as computed when it was drafted)."""
    items = []
    for ids in drafts.values():
        try:
            run = json.loads(store.read(ids[-1], RUN_FILE).decode("utf-8"))
        except (StoreError, UnicodeDecodeError, ValueError):
            continue
        item = _item(run.get("subject")) if isinstance(run, dict) else None
        if item is not None:
            items.append(item)
    return items


def items_from_requirements(loaded: Loaded, workdir: Path) -> tuple[list[OnRequestItem], list[str]]:
    """(items, problems): one item per requirement YAML in ``filings.requirements_dir``; a file that
    cannot be read is a problem naming it, never a failure of the whole status."""
    from tasks.render.rectification import load_requirement  # deferred: pulls in python-docx

    settings = loaded.settings
    directory = Path(settings.filings.requirements_dir)
    directory = directory if directory.is_absolute() else workdir / directory
    items, problems = [], []
    for path in sorted([*directory.glob("*.yaml"), *directory.glob("*.yml")]) if directory.is_dir() else []:
        try:
            req = load_requirement(path)
            entity = str(req.get("entity") or settings.head_office.code)
            settings.entity(entity)
            items.append(rectification_item(req, entity, settings.filings))
        except (UserError, ValueError) as exc:
            problems.append(f"{path}: {exc}")
    return items, problems


def items_from_ledger(ledger: pd.DataFrame, loaded: Loaded, calendar: WorkCalendar) -> list[OnRequestItem]:
    """The forwarded cases of ``ledger`` (the decision's due date as the report's when no office limit)."""
    from tasks.render.forwarded import due_date  # deferred: pulls in python-docx
    from tasks.rulebooks import load_rulebooks

    rows = ledger[ledger["regulator_forwarded"].fillna(False).astype(bool)]
    if rows.empty:
        return []
    rulebooks = load_rulebooks(loaded.resolve(loaded.settings.rulebooks_dir))
    cases = [{**row.to_dict(), "decision_due": due_date(row, calendar, rulebooks)[0]}
             for _, row in rows.iterrows()]
    return forwarded_items(cases, loaded.settings.filings)


def submitted_days(submissions: Iterable[Any]) -> dict[Key, dt.date]:
    """(filing, entity, key) → the day of its first recorded submission (the one that decides filed or
    filed_late), from ``tasks.submission.SubmissionRef``-like records."""
    first: dict[Key, dt.date] = {}
    for sub in sorted(submissions, key=lambda s: s.submitted_at):
        first.setdefault((sub.filing, sub.entity, sub.period), sub.submitted_at.date())
    return first


def on_request_status(loaded: Loaded, workdir: Path, store: Store, committed: Sequence[str], today: dt.date,
                      calendar: WorkCalendar, ledger: pd.DataFrame | None = None,
                      submitted: dict[Key, dt.date] | None = None) -> tuple[list[dict[str, Any]], list[str]]:
    """(rows, problems): every tracked on-request filing with its due date and state (``item_states``)."""
    drafts = drafts_index(committed)
    required, problems = items_from_requirements(loaded, workdir)
    forwarded = items_from_ledger(ledger, loaded, calendar) if ledger is not None else []
    items = merge_items(required, forwarded, items_from_bundles(store, drafts))
    rules = loaded.settings.filings

    def risk(due: dt.date) -> dt.date:
        try:
            return at_risk_from(due, calendar, rules)
        except UnknownCalendarYear:  # a year without a schedule: natural days, never a failure
            return due - dt.timedelta(days=rules.at_risk_working_days)

    levels = {e.code: e.level for e in loaded.settings.entities}
    rows = item_states(items, drafts, submitted or {}, today, risk)
    for row in rows:
        row["level"] = levels.get(row["entity"])
    return rows, problems
