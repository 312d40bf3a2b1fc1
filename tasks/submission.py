"""Recording a submission (FILINGS.md "The filing's life"): read the draft bundle (verified), read the
submitted DOCX, compare its figures with the draft's (``complaints.submission.figure_drift``) and archive
the record and the submitted file as a signed, write-once bag of kind ``submission`` in the same store.

A submission's id is ``submission-<filing>/<entity>/<period>/<recorded UTC stamp>-<run>``; its bag holds
``data/submission.json`` (the record) and ``data/submitted/<file name>`` (the file as submitted);
bag-info carries ``Kind: submission`` and ``Draft-Bundle`` (the draft's id), both signed, and
``bundles verify`` checks it like any bundle (identity: the record agrees with bag-info and the id).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
import shutil
import tempfile
import uuid
import zipfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from complaints.errors import Refused, UserError
from complaints.filings import FILINGS, ON_REQUEST
from complaints.settings import Settings
from complaints.submission import (
    KIND,
    DocumentText,
    Drift,
    draft_filing,
    figure_drift,
    submission_filing_part,
)
from complaints.times import SHANGHAI, iso_local, parse_local
from tasks.archive.bundle import (
    KIND_TAG,
    RUN_FILE,
    SUBMISSION_FILE,
    BundleRef,
    archive_bundle,
    list_committed,
    read_bag_info,
    verify_bag,
)
from tasks.archive.stores import LocalStore, Store, StoreError, new_bundle_id, parse_bundle_id
from tasks.runs import code_version, package_versions

SUBMITTED_DIR = "submitted"


def document_text(path: Path) -> DocumentText:
    """What the figure comparison reads of a filing document: a DOCX's body paragraphs and tables (cell
    texts) in document order (python-docx); an XLSX's sheets as tables (cell values, no paragraphs)."""
    if Path(path).suffix.lower() == ".xlsx":
        return _workbook_text(Path(path))
    import docx  # deferred: python-docx loads lxml (not needed by listings)
    from docx.opc.exceptions import PackageNotFoundError

    try:
        document = docx.Document(str(path))
    except (PackageNotFoundError, zipfile.BadZipFile, KeyError, ValueError) as exc:
        raise UserError(f"{path}: not a Word document (.docx) ({type(exc).__name__})") from None
    tables = [[[cell.text for cell in row.cells] for row in table.rows] for table in document.tables]
    return DocumentText(paragraphs=[p.text for p in document.paragraphs], tables=tables)


def _workbook_text(path: Path) -> DocumentText:
    from openpyxl import load_workbook  # deferred: only workbook filings need it

    def text(value: Any) -> str:
        if value is None:
            return ""
        if isinstance(value, float) and value.is_integer():
            return str(int(value))
        return str(value)

    try:
        workbook = load_workbook(str(path), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError) as exc:
        raise UserError(f"{path}: not an Excel workbook (.xlsx) ({type(exc).__name__})") from None
    try:
        tables = [[[text(v) for v in row] for row in sheet.iter_rows(values_only=True)]
                  for sheet in workbook.worksheets]
    finally:
        workbook.close()
    return DocumentText(paragraphs=(), tables=tables)


@dataclass(frozen=True)
class Draft:
    """A verified draft bundle: its id, run.json and the draft document's bytes and name."""

    bundle_id: str
    run: dict[str, Any]
    document_name: str
    document: bytes
    free_text: tuple[str, ...] = ()  # the officer's narrative passages, where the bundle carries them

    @property
    def finished_at(self) -> dt.datetime | None:
        text = self.run.get("finished_at")
        return parse_local(text) if text else None


@contextlib.contextmanager
def bag_copy(store: Store, bundle_id: str) -> Iterator[Path]:
    """The committed bag as a directory (the local store's own, read-only; else a temporary copy)."""
    if isinstance(store, LocalStore):
        yield store.path(bundle_id)
        return
    with tempfile.TemporaryDirectory(prefix="bundle-") as tmp:
        yield store.get(bundle_id, Path(tmp) / "bag")


def load_draft(store: Store, bundle_id: str, public_key: str | None) -> Draft:
    """The draft of ``bundle_id``, verified in full (checksums, signature, identity) before anything is
    read from it; a preview, a submission or a bundle without a DOCX is refused."""
    try:
        parsed = parse_bundle_id(bundle_id)
    except ValueError as exc:
        raise UserError(str(exc)) from None
    if parsed.preview:
        raise Refused(f"bundle {bundle_id} is a preview; a preview is never submitted")
    if parsed.filing not in (*FILINGS, *ON_REQUEST):
        if draft_filing(parsed.filing) is not None:
            raise UserError(f"{bundle_id} is a submission; give the id of the draft it records "
                            "(`complaints bundles list`)")
        if "preview" in parsed.filing.lower():
            raise Refused(f"bundle {bundle_id} is a preview; a preview is never submitted")
        kinds = ", ".join((*FILINGS, *ON_REQUEST))
        raise UserError(f"{bundle_id} is not a draft bundle of a filing ({kinds}); give the id "
                        "of the run's bundle (`complaints bundles list`)")
    if not store.exists(bundle_id):
        raise UserError(f"no committed bundle {bundle_id!r} in {store.describe()}")
    with bag_copy(store, bundle_id) as bag:
        problems = verify_bag(bag, public_key, bundle_id)
        if problems:
            raise Refused(f"bundle {bundle_id} does not verify, so no submission can derive from it: "
                          + "; ".join(problems[:3]) + (f" (and {len(problems) - 3} more)" if len(problems) > 3
                                                       else ""))
        info = read_bag_info(bag)
        run = json.loads((bag / RUN_FILE).read_text(encoding="utf-8")) if (bag / RUN_FILE).is_file() else {}
        if info.get(KIND_TAG) not in (None, "", "draft") or run.get("preview") is True:
            raise Refused(f"bundle {bundle_id} is a preview (a period not yet ended); a preview is never "
                          "submitted. Run the filing once the period has ended and submit that draft")
        filings = bag / "data" / "filings"
        documents = sorted(p for p in filings.glob("*") if p.suffix.lower() in (".docx", ".xlsx")) \
            if filings.is_dir() else []
        if not documents:
            raise UserError(f"bundle {bundle_id} holds no filing document (data/filings/*.docx or *.xlsx)")
        return Draft(bundle_id, run, documents[0].name, documents[0].read_bytes(), narrative_texts(bag))


def narrative_texts(bag: Path) -> tuple[str, ...]:
    """Every text of the narrative files a bundle carries (``data/narrative*/**.yaml``): the officer's
    own passages, which the officer may edit before submitting, figures included."""
    import yaml  # deferred: only submissions read narratives

    def leaves(value: Any) -> Iterator[str]:
        if isinstance(value, str):
            yield from (line.strip() for line in value.splitlines() if line.strip())
        elif isinstance(value, dict):
            for v in value.values():
                yield from leaves(v)
        elif isinstance(value, list):
            for v in value:
                yield from leaves(v)

    out: list[str] = []
    for path in sorted((bag / "data").glob("narrative*/**/*.y*ml")):
        try:
            out += leaves(yaml.safe_load(path.read_text(encoding="utf-8")))
        except (OSError, UnicodeDecodeError, yaml.YAMLError):
            continue  # a damaged narrative file exempts nothing
    return tuple(out)


def compare(draft: Draft, submitted: Path) -> list[Drift]:
    """The draft's figures that ``submitted`` changed or lacks."""
    suffix = Path(draft.document_name).suffix.lower()
    if Path(submitted).suffix.lower() != suffix:
        raise UserError(f"--document {submitted}: the draft is a {suffix} file ({draft.document_name}); "
                        f"submit the {suffix} file derived from it")
    with tempfile.TemporaryDirectory(prefix="draft-") as tmp:
        path = Path(tmp) / f"draft{suffix}"
        path.write_bytes(draft.document)
        return figure_drift(document_text(path), document_text(submitted), draft.free_text)


def unfinished_places(submitted: Path) -> list[str]:
    """Where the submitted document still carries 【待补充】 (or a preview mark)."""
    from complaints.submission import unfinished

    return unfinished(document_text(submitted))


def channels(settings: Settings) -> list[str]:
    """The channels a submission may name: the built-in ones and those configured."""
    from complaints.submission import CHANNELS

    return [*CHANNELS, *(c for c in settings.submission.channels if c not in CHANNELS)]


@dataclass(frozen=True)
class Submitted:
    """A recorded submission as the store committed it."""

    ref: BundleRef
    record: dict[str, Any]


def record_submission(store: Store, settings: Settings, draft: Draft, document: Path, *,
                      submitted_at: dt.datetime, channel: str, by: str, reference: str | None,
                      approver: dict[str, str] | None, accept_reason: str | None, drift: list[Drift],
                      workdir: Path, trigger: str = "cli", unfinished: Sequence[str] = ()) -> Submitted:
    """Archive the record and the submitted file as a signed submission bag; returns what was committed."""
    run_id = uuid.uuid4().hex
    recorded = dt.datetime.now(SHANGHAI).replace(microsecond=0)
    data = document.read_bytes()
    run = draft.run
    submission_id = new_bundle_id(submission_filing_part(run["filing"]), run["entity"], run["period"], run_id,
                                  recorded.astimezone(dt.UTC))
    name = Path(document.name).name
    record: dict[str, Any] = {
        "kind": KIND,
        "submission_id": submission_id,
        "run_id": run_id,
        "draft_bundle": draft.bundle_id,
        "filing": run["filing"], "entity": run["entity"], "entity_name": run.get("entity_name"),
        "period": run["period"], "as_of": run.get("as_of"),
        "draft_finished_at": run.get("finished_at"),
        "submitted_at": iso_local(submitted_at),
        "channel": channel, "reference": reference or None, "by": by,
        "approver": approver,
        "accepted_changes": bool(drift or unfinished) and accept_reason is not None,
        "accept_reason": accept_reason,
        "drift": [d.to_dict() for d in drift],
        "unfinished": list(unfinished),  # places still carrying 【待补充】 when submitted (with the reason)
        "document": {"name": name, "path": f"data/{SUBMITTED_DIR}/{name}", "bytes": len(data),
                     "sha512": hashlib.sha512(data).hexdigest(),
                     "draft_name": draft.document_name,
                     "draft_sha512": hashlib.sha512(draft.document).hexdigest()},
        "recorded_at": recorded.isoformat(),
        "trigger": trigger,
        "code_version": code_version(),
        "package_versions": package_versions(),
    }
    info = {
        "Kind": KIND, "Draft-Bundle": draft.bundle_id, "Filing": run["filing"], "Entity": run["entity"],
        "Period": run["period"], "Run-Id": run_id, "As-Of": run.get("as_of") or record["submitted_at"],
        "Trigger": trigger, "Code-Version": record["code_version"],
        "Package-Versions": record["package_versions"], "Started-At": record["recorded_at"],
        "Finished-At": record["recorded_at"], "Submitted-At": record["submitted_at"], "Channel": channel,
        "Submitted-By": by, "Reference": reference or "", "Document-Sha512": record["document"]["sha512"],
        "Approved-By": f"{approver['name']} ({approver['role']})" if approver else "",
        "Accepted-Changes": accept_reason or "",
    }
    staging_root = Path(workdir) / "runs" / f"submission-{run_id}"
    staging = staging_root / "bag"
    (staging / SUBMITTED_DIR).mkdir(parents=True)
    (staging / SUBMITTED_DIR / name).write_bytes(data)
    (staging / Path(SUBMISSION_FILE).name).write_text(
        json.dumps(record, ensure_ascii=False, indent=2, sort_keys=True, allow_nan=False) + "\n",
        encoding="utf-8")
    ref = archive_bundle(staging, submission_id, store, {k: v for k, v in info.items() if v},
                         settings.archive.signing)
    shutil.rmtree(staging_root, ignore_errors=True)  # committed: the store holds it now
    return Submitted(ref, record)


# ----------------------------------------------------------------------------------------- reading


@dataclass(frozen=True)
class SubmissionRef:
    """A committed submission as status and listings read it (from its signed record)."""

    submission_id: str
    draft_bundle: str
    filing: str
    entity: str
    period: str
    submitted_at: dt.datetime  # tz-naive Asia/Shanghai
    reference: str | None
    channel: str
    by: str


def read_submission(store: Store, submission_id: str) -> SubmissionRef:
    """The record of a committed submission (``StoreError``/``ValueError`` if unreadable)."""
    record = json.loads(store.read(submission_id, SUBMISSION_FILE).decode("utf-8"))
    return SubmissionRef(submission_id, record["draft_bundle"], record["filing"], record["entity"],
                         record["period"], parse_local(record["submitted_at"]), record.get("reference"),
                         record.get("channel", ""), record.get("by", ""))


def is_submission_id(bundle_id: str) -> bool:
    try:
        return draft_filing(parse_bundle_id(bundle_id).filing) is not None
    except ValueError:
        return False


def _is_preview(store: Store, bundle_id: str) -> bool:
    """A run's bundle whose run.json says ``"preview": true`` (never a draft that can be submitted)."""
    try:
        run = json.loads(store.read(bundle_id, RUN_FILE).decode("utf-8"))
    except (StoreError, ValueError, UnicodeDecodeError):
        return False  # no readable run.json: check_committed has judged the bundle already
    return isinstance(run, dict) and run.get("preview") is True


@dataclass(frozen=True)
class Archive:
    """The store's committed drafts (previews excluded) and submissions, and what could not be counted."""

    drafts: list[str]
    submissions: list[SubmissionRef]
    damaged: list[tuple[str, str]]
    signatures_checked: bool


def read_archive(store: Store, public_key: str | None) -> Archive:
    """Committed drafts (a filing's run bundles, previews never) and submissions (records read), sorted
    by id; damaged bundles and unreadable submission records apart (never counted)."""
    listing = list_committed(store, public_key)
    drafts: list[str] = []
    submissions: list[SubmissionRef] = []
    damaged = list(listing.damaged)
    for item in listing.committed:
        if getattr(item, "preview", False):
            continue
        bundle_id = str(getattr(item, "bundle_id", item))
        parsed = parse_bundle_id(bundle_id)
        if parsed.preview:
            continue
        if parsed.filing in (*FILINGS, *ON_REQUEST):
            if not _is_preview(store, bundle_id):
                drafts.append(bundle_id)
        elif draft_filing(parsed.filing) in (*FILINGS, *ON_REQUEST):
            try:
                submissions.append(read_submission(store, bundle_id))
            except (StoreError, ValueError, KeyError, UnicodeDecodeError) as exc:
                damaged.append((bundle_id, f"submission record unreadable ({type(exc).__name__}: {exc})"))
    return Archive(drafts, submissions, damaged, listing.signatures_checked)
