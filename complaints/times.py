"""Times: everything is Asia/Shanghai local time, held tz-naive in memory (pure)."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

TZ = "Asia/Shanghai"  # the one time zone of the ledger, the figures and the documents
SHANGHAI = ZoneInfo(TZ)


def to_local(value: dt.datetime) -> dt.datetime:
    """An aware datetime converted to tz-naive Asia/Shanghai; a naive one is Shanghai already."""
    if value.tzinfo is not None:
        return value.astimezone(SHANGHAI).replace(tzinfo=None)
    return value


def parse_local(text: str) -> dt.datetime:
    """ISO time → tz-naive Asia/Shanghai. An explicit offset is converted; none means Shanghai already.

    A date alone means the start of that day.
    """
    try:
        value = dt.datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError as exc:
        raise ValueError(f"{text!r} is not an ISO-8601 time (e.g. 2026-10-08T09:00:00+08:00)") from exc
    return to_local(value)


def now_local() -> dt.datetime:
    """The current Asia/Shanghai time, tz-naive, to the second."""
    return dt.datetime.now(SHANGHAI).replace(tzinfo=None, microsecond=0)


def iso_local(value: dt.datetime) -> str:
    """A tz-naive local time as ISO-8601 with the +08:00 offset."""
    return value.replace(tzinfo=SHANGHAI).isoformat()
