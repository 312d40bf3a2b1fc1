"""Re-render a draft from an archived bundle (``complaints render BUNDLE_ID``): no extraction, no quality
gate. The bundle is fetched and verified, its payload (extract, quality results, figures, lineage,
configuration, rules, calendar) is copied into the new run's staging directory, so the new bundle is
self-contained and reproducible like the first, and the accepted rows, the gate's outcome and the figures
are rebuilt from those files for the render stage:

* accepted ledger = the bundled extract normalised (``complaints.ledger.normalize``, as the gate does)
  without the rows the gate quarantined (``quality/quarantine.parquet``, ``row_number`` = position + 1);
* the checks' outcome = ``quality/validation.json``; the reconciliation = ``quality/reconciliation.json``;
* figures = ``figures/figures.json`` and ``figures/lineage.parquet``; the trend is recomputed from the
  accepted rows (as ``compute`` does); due date, accepted risk and empty period from ``run.json``.

What the document is made from (company, entities, targets, rendering options) is the bundle's own
configuration; where the templates and the narrative are is the current one's (they are what changed).
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pandas as pd

from complaints import ledger as L
from complaints.errors import Refused
from complaints.figures import FiguresResult, quarter_trend
from complaints.periods import Period
from complaints.settings import Settings
from tasks.archive.bundle import verify_bag
from tasks.archive.stores import open_store, parse_bundle_id
from tasks.config_files import Loaded, read_yaml
from tasks.runs import RunContext
from tasks.stages import Computed, trend_quarters

#: payload parts a re-render makes anew (the rest is copied from the source bundle as it is)
RENEWED = ("filings", "logs", "narratives", "run.json")


class BundleUnusable(Refused):
    """The source bundle does not verify or lacks what a re-render needs (the message says which)."""


@dataclass
class ArchivedGate:
    """What the render and archive stages read of a gate result, rebuilt from a bundle."""

    ledger: pd.DataFrame
    results: list[Any]
    reconciliation: dict[str, Any]
    accept_risk: str | None


@dataclass
class Source:
    """An archived bundle fetched for a re-render: its payload directory and what it says of its run."""

    bundle_id: str
    data: Path  # the bag's data/ directory
    run: dict[str, Any]
    settings: Settings

    @property
    def period(self) -> Period:
        return Period.parse(str(self.run["period"]))


def fetch(loaded: Loaded, workdir: Path, bundle_id: str, dest: Path) -> Source:
    """Copy ``bundle_id`` from the configured store into ``dest``, verify it (checksums, signature,
    identity) and read its run.json and configuration."""
    try:
        parse_bundle_id(bundle_id)
    except ValueError as exc:
        raise BundleUnusable(str(exc)) from None
    store = open_store(loaded.settings.archive, workdir)
    bag = store.get(bundle_id, dest)
    problems = verify_bag(bag, loaded.settings.archive.signing.public_key, bundle_id)
    if problems:
        raise BundleUnusable(f"bundle {bundle_id} does not verify, nothing was rendered: "
                             + "; ".join(problems[:5]) + (" …" if len(problems) > 5 else ""))
    data = bag / "data"
    for rel in ("run.json", "figures/figures.json", "figures/lineage.parquet", "extract/ledger.parquet",
                "quality/validation.json", "quality/reconciliation.json", "config/complaints.yaml"):
        if not (data / rel).is_file():
            raise BundleUnusable(f"bundle {bundle_id} has no {rel}: it cannot be re-rendered (a bundle of "
                                 "an older release?); run the filing again instead")
    run = json.loads((data / "run.json").read_text(encoding="utf-8"))
    settings = Settings.model_validate(read_yaml(data / "config" / "complaints.yaml"))
    return Source(bundle_id, data, run, settings)


def stage_payload(source: Source, staging: Path) -> None:
    """The source bundle's data, rules, calendar, configuration and figures into the new staging dir."""
    staging.mkdir(parents=True, exist_ok=True)
    for entry in sorted(source.data.iterdir()):
        if entry.name in RENEWED:
            continue
        if entry.is_dir():
            shutil.copytree(entry, staging / entry.name, dirs_exist_ok=True)
        else:
            shutil.copyfile(entry, staging / entry.name)
    for p in staging.rglob("*"):  # the store's copies are read-only; the new bag is made in place
        p.chmod(0o755 if p.is_dir() else 0o644)


def accepted_ledger(data: Path) -> pd.DataFrame:
    """The gate's accepted ledger rows, rebuilt from the bundled extract and quarantine (module doc)."""
    raw = pd.read_parquet(data / "extract" / "ledger.parquet")
    norm = L.normalize(raw, "ledger")
    quarantine = data / "quality" / "quarantine.parquet"
    drop: set[int] = set()
    if quarantine.is_file():
        q = pd.read_parquet(quarantine, columns=["table", "row_number"])
        drop = {int(n) - 1 for n in q.loc[q["table"] == "ledger", "row_number"]}
    keep = [i not in drop for i in range(len(norm))]
    helper = [c for c in norm.columns if str(c).startswith("_ledger_")]
    return norm.loc[keep].drop(columns=helper).reset_index(drop=True)


def rebuild(ctx: RunContext, source: Source) -> tuple[ArchivedGate, Computed]:
    """The gate's outcome and the computed figures of ``source`` as the render stage takes them."""
    data, run = source.data, source.run
    ledger = accepted_ledger(data)
    validation = json.loads((data / "quality" / "validation.json").read_text(encoding="utf-8"))
    results = [SimpleNamespace(**r) for r in validation.get("results", [])]
    reconciliation = json.loads((data / "quality" / "reconciliation.json").read_text(encoding="utf-8"))
    if len(ledger) != reconciliation["ledger"]["accepted"]:
        raise BundleUnusable(f"bundle {source.bundle_id}: the extract less the quarantine gives "
                             f"{len(ledger)} rows, the gate accepted "
                             f"{reconciliation['ledger']['accepted']}; re-run the filing instead")
    gate = ArchivedGate(ledger, results, reconciliation, run.get("accept_risk"))
    figures = json.loads((data / "figures" / "figures.json").read_text(encoding="utf-8"))
    lineage = pd.read_parquet(data / "figures" / "lineage.parquet")
    trend = [] if ctx.filing == "monthly" else quarter_trend(
        ledger, trend_quarters(ctx.period), entity=ctx.entity.code,
        head_office=source.settings.head_office.code)
    due = run.get("due")
    measured = data / "figures" / "rectification.json"  # what the run measured (annual, items configured)
    rectification = json.loads(measured.read_text(encoding="utf-8")) if measured.is_file() else []
    computed = Computed(FiguresResult(figures, lineage), trend, dt.date.fromisoformat(due) if due else None,
                        run.get("due_error"), run.get("accept_empty"), rectification)
    extract = data / "extract" / "extract.json"
    if extract.is_file():  # what the extraction left out, said again in the new draft's run.json
        for s in json.loads(extract.read_text(encoding="utf-8")).get("sources") or []:
            for name in s.get("unreadable") or []:
                ctx.incomplete.append(f"source {s.get('name')}: {name} could not be read and was left out")
    return gate, computed
