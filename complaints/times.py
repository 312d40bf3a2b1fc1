"""Times: everything is Asia/Shanghai local time, held tz-naive in memory (pure)."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from complaints.errors import UserError
from complaints.periods import FIRST_YEAR, LAST_YEAR

TZ = "Asia/Shanghai"  # the one time zone of the ledger, the figures and the documents
SHANGHAI = ZoneInfo(TZ)


class TimeOutOfRange(UserError):
    """A time that parses but whose Asia/Shanghai local year is outside the supported years."""


def to_local(value: dt.datetime) -> dt.datetime:
    """An aware datetime converted to tz-naive Asia/Shanghai; a naive one is Shanghai already."""
    if value.tzinfo is not None:
        return value.astimezone(SHANGHAI).replace(tzinfo=None)
    return value


def parse_local(text: str) -> dt.datetime:
    """ISO time → tz-naive Asia/Shanghai. An explicit offset is converted; none means Shanghai already.

    A date alone means the start of that day. A text that does not parse, or a time whose local year lies
    outside :data:`~complaints.periods.FIRST_YEAR`..:data:`~complaints.periods.LAST_YEAR` (``0001-01-01``,
    ``9999-12-31T23:59:59-14:00``, whose conversion overflows), is a :class:`UserError`.
    """
    try:
        value = dt.datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError as exc:
        raise UserError(f"{text!r} is not an ISO-8601 time (e.g. 2026-10-08T09:00:00+08:00)") from exc
    try:
        local = to_local(value)
    except (OverflowError, ValueError):  # past year 9999 or before year 1 once converted
        local = None
    if local is None or not FIRST_YEAR <= local.year <= LAST_YEAR:
        raise TimeOutOfRange(f"{text!r} is outside the years {FIRST_YEAR}-{LAST_YEAR} (Asia/Shanghai time)")
    return local


def now_local() -> dt.datetime:
    """The current Asia/Shanghai time, tz-naive, to the second."""
    return dt.datetime.now(SHANGHAI).replace(tzinfo=None, microsecond=0)


def iso_local(value: dt.datetime) -> str:
    """A tz-naive local time as ISO-8601 with the +08:00 offset."""
    return value.replace(tzinfo=SHANGHAI).isoformat()
