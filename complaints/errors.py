"""The project's one error tree.

Every error the project raises on purpose derives from :class:`ComplaintsError` and says, in one line,
what went wrong and what to do. The CLI (``cli/errors.py``) turns any of them into that line and the
class's ``exit_code``, never a traceback:

- :class:`UserError` (exit 2): something a user or a file can fix — arguments, configuration, input
  files, narratives, templates. :class:`UnknownCalendarYear` (exit 3) is one: a date needs a year whose
  working-day calendar is not known yet.
- :class:`Refused` (exit 1): the command ran and the answer is no — a quality gate blocked the filing,
  another run holds the lock.
- :class:`InfraError` (exit 1): something outside the user's input failed — the source database, the
  object store, the notifier, a suite file of the installation, a missing font.

Anything else that escapes is a bug and keeps its traceback.
"""

from __future__ import annotations


class ComplaintsError(Exception):
    """Root of the project's errors; ``exit_code`` is what the CLI exits with."""

    exit_code = 1


class UserError(ComplaintsError, ValueError):
    """A user, an argument or a file caused it and can fix it (exit 2)."""

    exit_code = 2


class Refused(ComplaintsError, RuntimeError):
    """The command did its work and the answer is no (exit 1)."""

    exit_code = 1


class InfraError(ComplaintsError, RuntimeError):
    """A system the run depends on failed: database, object store, notifier, installation (exit 1)."""

    exit_code = 1


class ConfigError(UserError):
    """A configuration file is missing, unreadable or invalid; the message names file and key."""


class UnknownCalendarYear(UserError):
    """A date needs a year whose working-day calendar is not known (exit 3): add its year file."""

    exit_code = 3

    def __init__(self, year: int) -> None:
        self.year = year
        super().__init__(
            f"the working-day calendar for {year} is not known: its holiday schedule (the State "
            f"Council's notice) has not been supplied. Add config/calendar/{year}.yaml with `year`, "
            f"`holidays`, `workdays` and `source`, or pass --calendar FILE."
        )


EXIT_CODES: tuple[tuple[int, str], ...] = (
    (0, "done"),
    (1, "the command ran and the answer is no (a check, verify or diff failed; the quality gate blocked "
        "the filing; another run holds the lock), or a system it depends on failed (database, object "
        "store, disk, notifier)"),
    (2, "fix something you gave it: arguments, configuration, input files, narratives, templates"),
    (3, "a date needs a year whose working-day calendar is not known: add config/calendar/YYYY.yaml"),
)
