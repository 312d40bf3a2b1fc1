"""Notifications of the deadline watcher: what is due, at risk, late or failed, to a webhook and/or e-mail.

Configuration is ``schedules.notifier`` (:class:`complaints.settings.Notifier`). Secrets never sit in
the configuration: the webhook URL comes from the environment variable named by ``webhook_url_env``
(the URL usually embeds a token) and the SMTP password from ``smtp_password_env``.

* webhook: ``POST`` of the report as JSON (``Content-Type: application/json; charset=utf-8``), any
  2xx answer is success;
* e-mail: :mod:`smtplib`; port 465 uses implicit TLS, otherwise STARTTLS when the server offers it;
  with a password configured the login is the ``smtp_from`` address and the password is never sent
  over a connection that is not encrypted (delivery fails with a clear message instead).

:func:`deliver` never raises: every channel's outcome is returned as a :class:`Delivery`, so the
watcher can report a failed notification in its own state (Prefect UI) instead of dying silently.
"""

from __future__ import annotations

import json
import os
import smtplib
import ssl
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import Any

from complaints.errors import InfraError
from complaints.settings import Notifier
from complaints.watch import WatchReport


class NotifyError(InfraError):
    """A notification could not be delivered (the message never contains a secret)."""


@dataclass(frozen=True)
class Notice:
    """One notification: a subject line, a plain-text body and the JSON payload for webhooks."""

    subject: str
    text: str
    payload: Mapping[str, Any]


@dataclass(frozen=True)
class Delivery:
    """The outcome of one channel: ``channel`` is ``webhook`` or ``email``."""

    channel: str
    ok: bool
    detail: str


def _redacted_url(url: str) -> str:
    """Scheme, host and port only: webhook paths and queries often carry the token."""
    parts = urllib.parse.urlsplit(url)
    host = parts.hostname or "?"
    return f"{parts.scheme}://{host}{f':{parts.port}' if parts.port else ''}/…"


def send_webhook(url: str, payload: Mapping[str, Any], timeout: float = 10.0) -> int:
    """POST ``payload`` as UTF-8 JSON to ``url``; returns the HTTP status (2xx) or raises NotifyError."""
    if urllib.parse.urlsplit(url).scheme not in ("http", "https"):
        raise NotifyError("the webhook URL must start with http:// or https://")
    body = json.dumps(payload, ensure_ascii=False, default=str).encode("utf-8")
    request = urllib.request.Request(
        url, data=body, method="POST",
        headers={"Content-Type": "application/json; charset=utf-8", "User-Agent": "complaints-watcher"},
    )
    where = _redacted_url(url)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 (scheme checked)
            status = int(response.status)
    except urllib.error.HTTPError as exc:
        raise NotifyError(f"webhook {where} answered HTTP {exc.code}") from None
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise NotifyError(f"webhook {where} unreachable: {reason}") from None
    if not 200 <= status < 300:
        raise NotifyError(f"webhook {where} answered HTTP {status}")
    return status


def build_email(notifier: Notifier, notice: Notice) -> EmailMessage:
    """The e-mail for ``notice`` (UTF-8 text body, the JSON payload attached)."""
    if not notifier.smtp_from or not notifier.smtp_to:
        raise NotifyError("schedules.notifier.smtp_from and smtp_to are needed to send e-mail")
    msg = EmailMessage()
    msg["Subject"] = notice.subject
    msg["From"] = notifier.smtp_from
    msg["To"] = ", ".join(notifier.smtp_to)
    msg["Date"] = formatdate(localtime=False)
    msg["Message-ID"] = make_msgid(domain=notifier.smtp_from.rpartition("@")[2] or None)
    msg.set_content(notice.text, charset="utf-8")
    msg.add_attachment(json.dumps(notice.payload, ensure_ascii=False, indent=2, default=str).encode("utf-8"),
                       maintype="application", subtype="json", filename="deadline-watch.json")
    return msg


def send_email(notifier: Notifier, notice: Notice, password: str | None = None,
               timeout: float = 20.0) -> None:
    """Send ``notice`` through ``notifier.smtp_host``; raises NotifyError (without secrets) on failure."""
    if not notifier.smtp_host:
        raise NotifyError("schedules.notifier.smtp_host is not configured")
    msg = build_email(notifier, notice)
    host, port = notifier.smtp_host, notifier.smtp_port
    context = ssl.create_default_context()
    try:
        smtp: smtplib.SMTP
        if port == 465:
            smtp = smtplib.SMTP_SSL(host, port, timeout=timeout, context=context)
        else:
            smtp = smtplib.SMTP(host, port, timeout=timeout)
        with smtp:
            smtp.ehlo()
            encrypted = port == 465
            if not encrypted and smtp.has_extn("starttls"):
                smtp.starttls(context=context)
                smtp.ehlo()
                encrypted = True
            if password:
                if not encrypted:
                    raise NotifyError(
                        f"SMTP server {host}:{port} offers no STARTTLS: refusing to send the password "
                        "unencrypted (use port 465 or a server with STARTTLS, or no password)")
                smtp.login(notifier.smtp_from or "", password)
            refused = smtp.send_message(msg)
    except NotifyError:
        raise
    except smtplib.SMTPAuthenticationError as exc:
        raise NotifyError(f"SMTP server {host}:{port} refused the login ({exc.smtp_code})") from None
    except (smtplib.SMTPException, OSError) as exc:
        raise NotifyError(f"SMTP server {host}:{port}: {type(exc).__name__}: {exc}") from None
    if refused:
        raise NotifyError(f"SMTP server {host}:{port} refused recipients: {', '.join(sorted(refused))}")


def channels(notifier: Notifier) -> list[str]:
    """The configured channels (``webhook``, ``email``), in delivery order."""
    out = []
    if notifier.webhook_url_env:
        out.append("webhook")
    if notifier.smtp_host:
        out.append("email")
    return out


def deliver(notifier: Notifier, notice: Notice, environ: Mapping[str, str] | None = None) -> list[Delivery]:
    """Send ``notice`` to every configured channel; never raises (each outcome is returned)."""
    env = os.environ if environ is None else environ
    out: list[Delivery] = []
    if notifier.webhook_url_env:
        url = env.get(notifier.webhook_url_env, "").strip()
        if not url:
            out.append(Delivery("webhook", False, f"environment variable {notifier.webhook_url_env} "
                                                  "(schedules.notifier.webhook_url_env) is not set"))
        else:
            try:
                status = send_webhook(url, notice.payload)
                out.append(Delivery("webhook", True, f"{_redacted_url(url)} HTTP {status}"))
            except NotifyError as exc:
                out.append(Delivery("webhook", False, str(exc)))
    if notifier.smtp_host:
        password = None
        if notifier.smtp_password_env:
            password = env.get(notifier.smtp_password_env) or None
            if password is None:
                out.append(Delivery("email", False, f"environment variable {notifier.smtp_password_env} "
                                                    "(schedules.notifier.smtp_password_env) is not set"))
                return out
        try:
            send_email(notifier, notice, password)
            out.append(Delivery("email", True, f"{notifier.smtp_host}:{notifier.smtp_port} → "
                                               f"{', '.join(notifier.smtp_to)}"))
        except NotifyError as exc:
            out.append(Delivery("email", False, str(exc)))
    return out


def notice_for(report: WatchReport) -> Notice:
    """The notification of a watcher report (subject, plain text, JSON payload)."""
    return Notice(subject=report.subject(), text=report.text(), payload=report.payload())
