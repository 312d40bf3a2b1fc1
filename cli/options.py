"""Option types and parsers the commands share (one definition each)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated

import typer

from complaints.errors import UserError
from complaints.times import TimeOutOfRange, now_local, parse_local

ConfigOpt = Annotated[Path | None, typer.Option(
    "--config", help="configuration file (default: $COMPLAINTS_CONFIG or config/complaints.yaml)")]
WorkdirOpt = Annotated[Path, typer.Option("--workdir", help="working directory (outputs, archive, runs)")]
AsOfOpt = Annotated[str | None, typer.Option(
    "--as-of", help="ISO time the figures describe (default: now, Asia/Shanghai)")]
CalendarOpt = Annotated[list[Path] | None, typer.Option("--calendar", help="extra calendar year file (YAML)")]
PublicKeyOpt = Annotated[Path | None, typer.Option("--public-key", help="Ed25519 public key (PEM); default "
                                                   "archive.signing.public_key", dir_okay=False, exists=True)]
JsonOpt = Annotated[bool, typer.Option("--json", help="print JSON instead of a table")]


def parse_as_of(text: str | None) -> dt.datetime:
    """``--as-of`` → tz-naive Asia/Shanghai local time (an explicit offset is converted; none means local;
    a date alone is the start of that day); ``None`` or empty → now."""
    if not text:
        return now_local()
    try:
        return parse_local(text.strip().replace("z", "Z"))
    except TimeOutOfRange as exc:  # parses, but its local time is out of range (or overflows)
        raise UserError(f"--as-of {exc}") from exc
    except ValueError as exc:
        raise UserError(f"--as-of {text!r} is not an ISO date or time such as 2026-10-08 or "
                        f"2026-10-15T09:00+08:00") from exc
