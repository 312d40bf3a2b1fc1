"""The CLI's one error boundary: an error a user or the world can cause becomes one line and an exit code.

The codes are :data:`complaints.errors.EXIT_CODES` (README, "Exit codes"). A project error carries its
own code; a full disk and a failing object-store endpoint are said in one line with exit 1; a
``ValueError``/``OSError`` from a library fed a user's argument or file is exit 2. Anything else is a bug
and keeps its traceback.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import typer
from rich.console import Console
from rich.markup import escape

from complaints.errors import ComplaintsError, UserError
from complaints.masking import mask_value
from complaints.settings import redact_text
from tasks.runs import disk_full_error, disk_full_message, is_disk_full

err = Console(stderr=True)

# raised by libraries on a user's argument or file (a date that does not parse, a path that is missing)
_USER_LIBRARY_ERRORS: tuple[type[BaseException], ...] = (ValueError, FileNotFoundError, PermissionError,
                                                         IsADirectoryError, NotADirectoryError)


def is_store_failure(exc: BaseException | None) -> bool:
    """An object-store endpoint that failed after the client's retries (5xx, timeouts, resets)."""
    return exc is not None and (type(exc).__module__.split(".")[0] in ("botocore", "boto3", "s3transfer")
                                or isinstance(exc, ConnectionError))


def is_user_error(exc: BaseException | None) -> bool:
    """Whether ``exc`` is said in one line (not a bug): a project error, a library's refusal of a user's
    argument or file, a full disk / file-size limit (ENOSPC, EDQUOT, EFBIG) or a failing object store."""
    return exc is not None and (isinstance(exc, (ComplaintsError, *_USER_LIBRARY_ERRORS))
                                or is_disk_full(exc) or is_store_failure(exc))


def exit_code(exc: BaseException) -> int:
    if isinstance(exc, ComplaintsError):
        return exc.exit_code
    if is_disk_full(exc) or is_store_failure(exc):
        return 1
    return UserError.exit_code


def user_message(exc: BaseException, workdir: str | None = None) -> str:
    full = disk_full_error(exc)
    if full is not None:
        return disk_full_message(full, workdir)
    if is_store_failure(exc) and not isinstance(exc, ComplaintsError):
        return (f"the archive's object store failed ({type(exc).__name__}: {' '.join(str(exc).split())}). "
                "Nothing was committed, so no bundle is listed for this run. Check the endpoint (archive.s3 "
                "in the configuration) and run the filing again.")
    return str(exc)


def fail(message: str, code: int = UserError.exit_code) -> typer.Exit:
    """Print ``error: message`` (credentials redacted, personal data masked) and return the Exit to raise."""
    err.print(f"[red]error:[/red] {escape(mask_value(redact_text(message)))}", highlight=False,
              soft_wrap=True)
    return typer.Exit(code)


class _NoUserTracebacks(logging.Filter):
    """Prefect logs a failed task with its traceback; for errors the user can fix, the message suffices."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.exc_info and is_user_error(record.exc_info[1]):
            record.exc_info, record.exc_text = None, None
        return True


def quiet_user_tracebacks() -> None:
    quiet = _NoUserTracebacks()
    for name in ["prefect", *logging.root.manager.loggerDict]:
        if name.startswith("prefect"):
            logger = logging.getLogger(name)
            for handler in logger.handlers:
                if not any(isinstance(f, _NoUserTracebacks) for f in handler.filters):
                    handler.addFilter(quiet)


@contextmanager
def one_line_errors(workdir: Any = None, code: int | None = None) -> Iterator[None]:
    """Errors a user or the world can cause become one ``error:`` line and their exit code (or ``code``);
    anything else propagates with its traceback."""
    quiet_user_tracebacks()
    try:
        yield
    except (typer.Exit, typer.Abort):
        raise
    except Exception as exc:
        if not is_user_error(exc):
            raise
        raise fail(user_message(exc, None if workdir is None else str(workdir)),
                   exit_code(exc) if code is None else code) from None


class BoundaryGroup(typer.core.TyperGroup):
    """The root command group: every command runs inside :func:`one_line_errors`."""

    def invoke(self, ctx: Any) -> Any:  # typer's vendored click.Context
        with one_line_errors(ctx.params.get("workdir")):
            return super().invoke(ctx)
