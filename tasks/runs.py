"""The stages of one filing run as plain functions of a :class:`RunContext` (no Prefect here).

Each stage writes its part of the evidence bundle into the run's staging directory (layout:
``tasks/archive/bundle.py`` / FILINGS.md) and returns plain values. ``tasks/stages.py`` wraps them as Prefect
tasks; ``flows/`` composes them.
"""

from __future__ import annotations

import contextvars
import datetime as dt
import errno
import fcntl
import json
import logging
import os
import shutil
import socket
import subprocess
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from complaints.calendar import WorkCalendar
from complaints.errors import Refused
from complaints.masking import mask_value
from complaints.periods import Period
from complaints.settings import Entity, redact, redact_text
from complaints.times import iso_local, now_local
from tasks.config_files import PROJECT_ROOT, Loaded, read_yaml

log = logging.getLogger("complaints.run")

PACKAGES = ("complaints", "prefect", "pandas", "numpy", "pyarrow", "great_expectations", "SQLAlchemy",
            "python-docx", "docxtpl", "openpyxl", "matplotlib", "boto3", "chinesecalendar", "bagit",
            "cryptography")


BY_ENV = "COMPLAINTS_BY"  # who runs it (``complaints run … --by NAME`` sets it for the flow it starts)


def current_person(by: str | None = None) -> str:
    """Who did it: ``by`` when given, else ``$COMPLAINTS_BY``, else the operating-system user."""
    for name in (by, os.environ.get(BY_ENV)):
        if name and name.strip():
            return " ".join(name.split())
    try:
        import getpass

        return getpass.getuser()
    except (OSError, KeyError, ImportError):  # no user name for this uid (containers)
        return f"uid {os.getuid()}" if hasattr(os, "getuid") else "unknown"


class RunBlocked(Refused):
    """The quality gate stopped the filing; the message says why and where the details are."""


class RunLocked(Refused):
    """Another run of the same filing, entity and period is in progress (the message names it)."""


@dataclass
class RunContext:
    """Everything a stage needs to know about the run it belongs to."""

    filing: str  # "quarterly" | "annual"
    period: Period
    entity: Entity
    as_of: dt.datetime  # tz-naive Asia/Shanghai
    loaded: Loaded
    workdir: Path
    calendar: WorkCalendar
    trigger: str = "cli"
    accept_risk: str | None = None
    run_id: str = field(default_factory=lambda: uuid.uuid4().hex)
    started_at: dt.datetime = field(default_factory=now_local)
    flow_run_id: str | None = None  # the Prefect flow run, when the stages run inside one
    by: str = field(default_factory=current_person)  # the person (--by, $COMPLAINTS_BY or the OS user)
    # reasons found before rendering that the filing needs a person (e.g. a branch file left unread)
    incomplete: list[str] = field(default_factory=list)
    # a preview of a period not yet ended: marked on every page, archived apart, never submitted
    preview: bool = False
    # ``complaints render``: the bundle whose accepted data and figures this run re-renders (no extract)
    rendered_from: str | None = None
    output: Path | None = None  # where the documents go instead of <workdir>/output/<period>/<entity>

    @property
    def run_dir(self) -> Path:
        return self.workdir / "runs" / self.run_id

    @property
    def staging(self) -> Path:
        return self.run_dir / "bundle"

    @property
    def output_dir(self) -> Path:
        """Where the officer finds the filing documents and the data owners the quarantine workbook."""
        if self.output is not None:
            return self.output
        return self.workdir / "output" / self.period.code / self.entity.code

    @property
    def is_head_office(self) -> bool:
        return self.entity.level == "head_office"

    def describe(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id, "filing": self.filing, "period": self.period.code,
            "entity": self.entity.code, "entity_name": self.entity.name, "as_of": iso_local(self.as_of),
            "trigger": self.trigger, "by": self.by, "started_at": iso_local(self.started_at),
            "config_file": str(self.loaded.path), "accept_risk": self.accept_risk,
            "flow_run_id": self.flow_run_id, "pid": os.getpid(), "host": socket.gethostname(),
            "preview": self.preview,
            **({"rendered_from": self.rendered_from} if self.rendered_from else {}),
        }

    @property
    def lock_path(self) -> Path:
        return self.workdir / "locks" / f"{self.filing}-{self.entity.code}-{self.period.code}.lock"


def code_version() -> str:
    """``git describe`` of the checkout when there is one, else the installed package version."""
    try:
        out = subprocess.run(["git", "-C", str(PROJECT_ROOT), "describe", "--always", "--dirty", "--tags"],
                             capture_output=True, text=True, timeout=10, check=True)
        return out.stdout.strip() or metadata.version("complaints")
    except (OSError, subprocess.SubprocessError):
        return metadata.version("complaints")


def package_versions() -> dict[str, str]:
    versions = {}
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return versions


def write_json(path: Path, data: Any) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    # allow_nan=False: a NaN or infinity is not JSON; an evidence file must never carry one
    path.write_text(json.dumps(data, ensure_ascii=False, indent=2, sort_keys=True, default=str,
                               allow_nan=False) + "\n", encoding="utf-8")
    return path


def stage_inputs(ctx: RunContext, rulebook_files: list[Path]) -> None:
    """Copy the configuration (secrets removed), source mappings, rule sets and calendar used."""
    staging = ctx.staging
    (staging / "config" / "sources").mkdir(parents=True, exist_ok=True)
    raw = read_yaml(ctx.loaded.path)
    bulletins = ctx.loaded.resolve(ctx.loaded.settings.benchmarks.bulletins)
    if bulletins.is_file():  # the reference data the benchmark used, where the bundled settings find it
        (staging / "config" / "benchmarks").mkdir(parents=True, exist_ok=True)
        shutil.copyfile(bulletins, staging / "config" / "benchmarks" / "bulletins.yaml")
        raw.setdefault("benchmarks", {})["bulletins"] = "benchmarks/bulletins.yaml"
    (staging / "config" / "complaints.yaml").write_text(
        yaml.safe_dump(redact(raw), allow_unicode=True, sort_keys=False), encoding="utf-8")
    for rel in ctx.loaded.settings.sources:
        src = ctx.loaded.resolve(rel)
        data = redact(read_yaml(src))
        (staging / "config" / "sources" / src.name).write_text(
            yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    (staging / "rules").mkdir(parents=True, exist_ok=True)
    for path in rulebook_files:
        shutil.copyfile(path, staging / "rules" / path.name)
    write_json(staging / "calendar" / "calendar.json", ctx.calendar.to_mapping())


def write_frames(directory: Path, frames: dict[str, pd.DataFrame]) -> dict[str, Path]:
    """Each frame as ``<name>.parquet``, two at a time (Arrow encodes and compresses without the GIL: the
    1M-row ledger, its 5M events and the exposure in 1.2 s instead of 1.5 s)."""
    directory.mkdir(parents=True, exist_ok=True)
    out = {name: directory / f"{name}.parquet" for name in frames}
    with ThreadPoolExecutor(max_workers=2, thread_name_prefix="parquet") as pool:
        for done in [pool.submit(frame.to_parquet, out[name], index=False) for name, frame in frames.items()]:
            done.result()  # a failed write raises here
    return out


# ------------------------------------------------------------------------------------------ run lock

@contextmanager
def run_lock(ctx: RunContext) -> Iterator[Path]:
    """Hold ``<workdir>/locks/<filing>-<entity>-<period>.lock`` (``fcntl.flock``) for the whole run.

    A second run of the same filing, entity and period is refused at once with :class:`RunLocked`
    naming the holder (run id, Prefect flow run, pid, host, start time). The kernel releases the lock
    when the holder exits, however it exits (SIGKILL included): a stale lock file is harmless.
    Runs of other entities or periods are not affected.
    """
    path = ctx.lock_path
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            if exc.errno not in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                raise
            raise RunLocked(_locked_message(ctx, path)) from None
        holder = {**{k: ctx.describe()[k] for k in ("run_id", "flow_run_id", "pid", "host", "trigger")},
                  "started_at": iso_local(ctx.started_at)}
        os.ftruncate(fd, 0)
        os.pwrite(fd, (json.dumps(holder) + "\n").encode(), 0)
        try:
            yield path
        finally:
            os.ftruncate(fd, 0)
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


def _locked_message(ctx: RunContext, path: Path) -> str:
    try:
        holder = json.loads(path.read_text(encoding="utf-8") or "{}")
    except (OSError, ValueError):
        holder = {}
    who = ", ".join(f"{k.replace('_', ' ')} {holder[k]}" for k in
                    ("run_id", "flow_run_id", "pid", "host", "started_at", "trigger") if holder.get(k))
    return (f"another run of the {ctx.filing} filing for {ctx.entity.code} {ctx.period.code} is in "
            f"progress ({who or 'holder unknown'}; lock {path}). Nothing was done by this run: wait for "
            "that run to finish (`complaints status` shows when it is filed), then re-run if needed.")


def disk_full_message(exc: OSError, workdir: str | Path | None = None) -> str:
    """One line for ENOSPC / EDQUOT / EFBIG: what failed, which file, what to do."""
    what = {errno.ENOSPC: "no space left on the device", errno.EDQUOT: "disk quota exceeded",
            errno.EFBIG: "file too large (over the process's file-size limit)"}.get(
        exc.errno or 0, exc.strerror or str(exc))
    where = f" while writing {exc.filename}" if exc.filename else ""
    wd = f" in {workdir}" if workdir else " in the working directory"
    return (f"{what}{where}. Nothing was filed: no bundle was committed by this run. Free space{wd} "
            "(old `runs/<run id>/` staging directories may be deleted) and run the filing again.")


DISK_FULL_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EFBIG})


_DISK_FULL_TEXTS = ("No space left on device", "File too large", "Disk quota exceeded")


def disk_full_error(exc: BaseException | None) -> OSError | None:
    """The ENOSPC / EDQUOT / EFBIG ``OSError`` in ``exc`` or its cause chain (also one a library such as
    pyarrow raised without an errno, recognised by its text), else None."""
    for _ in range(10):
        if exc is None:
            return None
        if isinstance(exc, OSError) and (exc.errno in DISK_FULL_ERRNOS
                                         or any(t in str(exc) for t in _DISK_FULL_TEXTS)):
            return exc
        exc = exc.__cause__ or exc.__context__
    return None


def is_disk_full(exc: BaseException | None) -> bool:
    return disk_full_error(exc) is not None


# ------------------------------------------------------------------------------------------- run log

_CURRENT_RUN: contextvars.ContextVar[str | None] = contextvars.ContextVar("complaints_run", default=None)


class _ThisRun(logging.Filter):
    """Keep only records emitted while this run is current (runs of other entities may share threads'
    loggers in one process)."""

    def __init__(self, run_id: str) -> None:
        super().__init__()
        self.run_id = run_id

    def filter(self, record: logging.LogRecord) -> bool:
        return _CURRENT_RUN.get() == self.run_id


def safe_log_text(text: str) -> str:
    """A log line as it may be stored: credentials in URLs removed, personal identifiers masked."""
    return mask_value(redact_text(text))


def _redact_record(record: logging.LogRecord) -> logging.LogRecord:
    try:
        message = record.getMessage()
    except Exception:  # noqa: BLE001 - a broken format string is logging's to report, as before
        return record
    safe = safe_log_text(message)
    if safe != message:
        record.msg, record.args = safe, None
    return record


_RECORD_FACTORY: list[Any] = []


def install_log_redaction() -> None:
    """Redact every log record as it is created, so no handler sees a password or a raw identifier:
    ``logs/run.log``, the console and Prefect's API log handler alike (Prefect attaches its handlers to
    loggers we do not own, so a filter on our handler would not cover them). Installed once per process."""
    if _RECORD_FACTORY:
        return
    previous = logging.getLogRecordFactory()
    _RECORD_FACTORY.append(previous)

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        return _redact_record(previous(*args, **kwargs))

    logging.setLogRecordFactory(factory)


def attach_run_log(ctx: RunContext) -> logging.Handler:
    """Send this run's log records (ours and Prefect's) to ``logs/run.log`` in the staging directory.

    Records of other runs in the same process (parallel entity subflows) are filtered out.
    """
    path = ctx.staging / "logs" / "run.log"
    path.parent.mkdir(parents=True, exist_ok=True)
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.setLevel(logging.INFO)
    handler.addFilter(_ThisRun(ctx.run_id))
    handler._complaints_token = _CURRENT_RUN.set(ctx.run_id)  # type: ignore[attr-defined]
    install_log_redaction()
    for name in ("complaints", "prefect.flow_runs", "prefect.task_runs"):
        lg = logging.getLogger(name)
        lg.addHandler(handler)
        if lg.level == logging.NOTSET or lg.level > logging.INFO:
            lg.setLevel(logging.INFO)
    return handler


def detach_run_log(handler: logging.Handler) -> None:
    for name in ("complaints", "prefect.flow_runs", "prefect.task_runs"):
        logging.getLogger(name).removeHandler(handler)
    handler.close()
    token = getattr(handler, "_complaints_token", None)
    if token is not None:
        try:
            _CURRENT_RUN.reset(token)
        except ValueError:  # reset from another context: just clear it
            _CURRENT_RUN.set(None)
