"""The stages of an on-request filing (forwarded-case report, rectification report): extract → render →
archive, as for the periodic filings (``tasks/stages.py``), with a case or a requirement in place of a period.

A run stages its inputs under ``<workdir>/runs/<run id>/bundle`` (the case's ledger row, masked unless
``archive.include_personal_data``, and its events; or the requirement and the figures it cites; the rule
sets and calendar used), writes the document under a versioned name that never overwrites an earlier draft,
copies it into the bundle and commits a signed BagIt bundle ``<filing>/<entity>/<key>/<time>-<run>`` to the
configured store. The bundle is an ordinary draft: ``complaints submit BUNDLE_ID`` records its submission.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import shutil
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from complaints.calendar import WorkCalendar
from complaints.filings import ON_REQUEST_KINDS, OnRequest
from complaints.masking import mask_frame
from complaints.on_request import OnRequestItem
from complaints.settings import Entity
from complaints.times import TZ, iso_local, now_local
from tasks.archive.bundle import BundleRef, archive_bundle, bag_info_from_run
from tasks.archive.stores import new_bundle_id, open_store
from tasks.config_files import Loaded
from tasks.render.common import safe_filename
from tasks.runs import code_version, package_versions, write_frames, write_json

log = logging.getLogger("complaints.run")


@dataclass
class OnRequestRun:
    """One run of an on-request filing for one case or requirement (``item``)."""

    item: OnRequestItem
    entity: Entity
    loaded: Loaded
    workdir: Path
    as_of: dt.datetime
    trigger: str = "cli"
    by: str | None = None
    run_id: str = field(default_factory=lambda: uuid.uuid4().hex)
    started_at: dt.datetime = field(default_factory=now_local)

    @property
    def filing(self) -> OnRequest:
        return self.item.filing

    @property
    def staging(self) -> Path:
        return self.workdir / "runs" / self.run_id / "bundle"

    @property
    def output_dir(self) -> Path:
        return self.workdir / "output" / self.filing / self.entity.code / self.item.key

    def describe(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id, "filing": self.filing, "period": self.item.key, "entity": self.entity.code,
            "entity_name": self.entity.name, "as_of": iso_local(self.as_of), "trigger": self.trigger,
            "started_at": iso_local(self.started_at), "config_file": str(self.loaded.path), "by": self.by,
        }


def draft_path(run: OnRequestRun, stem: str) -> Path:
    """``<output dir>/<stem>_v<N>.docx`` with the first N not yet used: a re-run never overwrites a draft
    the officer may have edited."""
    run.output_dir.mkdir(parents=True, exist_ok=True)
    n = 1
    while (path := run.output_dir / f"{safe_filename(stem)}-v{n}.docx").exists():  # as the filings: -vN
        n += 1
    return path


def stage_rules(run: OnRequestRun, rulebook_files: list[Path], calendar: WorkCalendar) -> None:
    """The rule sets and the calendar the due dates were computed with."""
    (run.staging / "rules").mkdir(parents=True, exist_ok=True)
    for path in rulebook_files:
        shutil.copyfile(path, run.staging / "rules" / path.name)
    write_json(run.staging / "calendar" / "calendar.json", calendar.to_mapping())


def extract_case(run: OnRequestRun, case: pd.Series, events: pd.DataFrame | None) -> None:
    """Stage the forwarded case's ledger row and its events (personal data masked unless configured)."""
    row = pd.DataFrame([case]).reset_index(drop=True)
    mine = pd.DataFrame()
    if events is not None and not events.empty:
        mine = events[events["complaint_id"].astype(str) == str(case["complaint_id"])].reset_index(drop=True)
    if not run.loaded.settings.archive.include_personal_data:
        row = mask_frame(row)
    write_frames(run.staging / "extract", {"case": row, "events": mine})


def extract_requirement(run: OnRequestRun, requirement: Mapping[str, Any],
                        figures: Mapping[str, Any] | None, baseline: Mapping[str, Any] | None,
                        items: list[dict[str, Any]] | None = None) -> None:
    """Stage the requirement (as read), the figures that show the baseline and the effect, and the
    rectification items linked to it as measured (``rectification.json``)."""
    target = run.staging / "extract"
    target.mkdir(parents=True, exist_ok=True)
    (target / "requirement.yaml").write_text(
        yaml.safe_dump(json.loads(json.dumps(dict(requirement), default=str)), allow_unicode=True,
                       sort_keys=True), encoding="utf-8")
    for name, data in (("figures", figures), ("baseline", baseline)):
        if data is not None:
            write_json(target / f"{name}.json", data)
    if items:
        write_json(target / "rectification.json", items)


def publish(run: OnRequestRun, document: Path) -> None:
    """Copy the rendered document into the bundle, byte for byte."""
    (run.staging / "filings").mkdir(parents=True, exist_ok=True)
    shutil.copyfile(document, run.staging / "filings" / document.name)


def archive(run: OnRequestRun, incomplete: list[str]) -> BundleRef:
    """Write run.json (with the item and its due date), bag, sign, commit."""
    settings = run.loaded.settings
    store = open_store(settings.archive, run.workdir)
    bundle_id = new_bundle_id(run.filing, run.entity.code, run.item.key, run.run_id, dt.datetime.now(dt.UTC))
    item = run.item
    record = {
        **run.describe(),
        "finished_at": iso_local(now_local()),
        "code_version": code_version(),
        "package_versions": package_versions(),
        "title_zh": ON_REQUEST_KINDS[run.filing].title_zh,
        "subject": item.to_dict(),
        "due": item.due.isoformat() if item.due else None,
        "due_error": item.error,
        "incomplete": incomplete,
        "timezone": TZ,
    }
    write_json(run.staging / "run.json", record)
    ref = archive_bundle(run.staging, bundle_id, store, bag_info_from_run(record), settings.archive.signing)
    log.info("archived bundle %s (%d files) at %s", ref.bundle_id, ref.files, ref.location)
    return ref
