"""Notifier delivery against real local receivers on 127.0.0.1: an http.server webhook and a minimal
socketserver SMTP sink (aiosmtpd is not installed)."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import json
import re
import socket
import socketserver
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from complaints.calendar import build_calendar
from complaints.settings import FilingRules, Notifier
from complaints.watch import WatchReport, decide_one
from tasks.notify import Notice, channels, deliver, notice_for

SECRET = "tok-3f9a"  # embedded in the webhook URL path: must never appear in messages


@dataclass
class Received:
    requests: list[dict[str, Any]] = field(default_factory=list)
    mails: list[dict[str, Any]] = field(default_factory=list)


@pytest.fixture
def webhook() -> Iterator[tuple[str, Received, dict[str, int]]]:
    got = Received()
    control = {"status": 200}

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 (http.server API)
            body = self.rfile.read(int(self.headers["Content-Length"]))
            got.requests.append({"path": self.path, "type": self.headers["Content-Type"], "body": body})
            self.send_response(control["status"])
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/hooks/{SECRET}", got, control
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def _address(command: str) -> str:
    m = re.search(r"<([^>]*)>", command)
    return m.group(1) if m else ""


class _SMTPHandler(socketserver.StreamRequestHandler):
    """Just enough RFC 5321 for smtplib: EHLO, MAIL, RCPT, DATA, RSET, NOOP, QUIT; no STARTTLS/AUTH."""

    def _send(self, line: str) -> None:
        self.wfile.write(line.encode() + b"\r\n")

    def handle(self) -> None:
        got: Received = self.server.got  # type: ignore[attr-defined]
        self._send("220 sink ESMTP")
        sender, rcpts = "", list[str]()
        while True:
            raw = self.rfile.readline()
            if not raw:
                return
            cmd = raw.decode().strip()
            verb = cmd.split(" ", 1)[0].upper()
            if verb == "AUTH":
                got.mails.append({"command": verb})
            if verb == "EHLO":
                self._send("250-sink")
                self._send("250-8BITMIME")
                self._send("250 SIZE 1000000")
            elif verb == "HELO":
                self._send("250 sink")
            elif verb == "MAIL":
                sender, rcpts = _address(cmd), []
                self._send("250 OK")
            elif verb == "RCPT":
                rcpts.append(_address(cmd))
                self._send("250 OK")
            elif verb == "DATA":
                self._send("354 end with .")
                lines = []
                while (line := self.rfile.readline()) not in (b".\r\n", b""):
                    lines.append(line[1:] if line.startswith(b"..") else line)
                got.mails.append({"from": sender, "to": rcpts, "data": b"".join(lines)})
                self._send("250 queued")
            elif verb == "QUIT":
                self._send("221 bye")
                return
            elif verb in ("RSET", "NOOP"):
                self._send("250 OK")
            else:
                self._send("502 not implemented")


@pytest.fixture
def smtp_sink() -> Iterator[tuple[int, Received]]:
    got = Received()
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), _SMTPHandler)
    server.daemon_threads = True
    server.got = got  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield server.server_address[1], got
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def _notice() -> Notice:
    cal, rules, today = build_calendar(), FilingRules(), dt.date(2026, 10, 13)
    decisions = (decide_one(today, "quarterly", "2026Q3", "GD", "branch", cal, rules),
                 decide_one(today, "monthly", "2026-09", "HO", "head_office", cal, rules))
    return notice_for(WatchReport(today, decisions))


def test_webhook_posts_the_report_as_json(webhook: tuple[str, Received, dict[str, int]]) -> None:
    url, got, _ = webhook
    notice = _notice()
    out = deliver(Notifier(webhook_url_env="HOOK_URL"), notice, environ={"HOOK_URL": url})
    assert [(d.channel, d.ok) for d in out] == [("webhook", True)]
    assert SECRET not in out[0].detail
    (req,) = got.requests
    assert req["path"] == f"/hooks/{SECRET}" and req["type"].startswith("application/json")
    body = json.loads(req["body"].decode("utf-8"))
    assert body == json.loads(json.dumps(notice.payload))
    assert body["at_risk"][0] == {"filing": "quarterly", "period": "2026Q3", "entity": "GD",
                                  "level": "branch", "due": "2026-10-15", "state": "at_risk", "bundle": None,
                                  "drafts": 0, "submission": None, "submitted_at": None, "reference": None,
                                  "reason": None}
    assert body["late"][0]["period"] == "2026-09" and body["ok"] is False


Hook = tuple[str, Received, dict[str, int]]


def test_webhook_failures_are_reported_without_the_secret(webhook: Hook) -> None:
    url, got, control = webhook
    control["status"] = 500
    (res,) = deliver(Notifier(webhook_url_env="HOOK_URL"), _notice(), environ={"HOOK_URL": url})
    assert not res.ok and "HTTP 500" in res.detail and SECRET not in res.detail
    (missing,) = deliver(Notifier(webhook_url_env="HOOK_URL"), _notice(), environ={})
    assert not missing.ok and "HOOK_URL" in missing.detail
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{s.getsockname()[1]}/x/{SECRET}"
    (unreachable,) = deliver(Notifier(webhook_url_env="H"), _notice(), environ={"H": dead})
    assert not unreachable.ok and "unreachable" in unreachable.detail and SECRET not in unreachable.detail
    assert len(got.requests) == 1


def test_email_reaches_the_smtp_server(smtp_sink: tuple[int, Received]) -> None:
    port, got = smtp_sink
    notifier = Notifier(smtp_host="127.0.0.1", smtp_port=port, smtp_from="watcher@example.cn",
                        smtp_to=["compliance@example.cn", "cs@example.cn"])
    assert channels(notifier) == ["email"]
    (res,) = deliver(notifier, _notice(), environ={})
    assert res.ok, res.detail
    (mail,) = got.mails
    assert mail["from"] == "watcher@example.cn" and mail["to"] == ["compliance@example.cn", "cs@example.cn"]
    msg = email.message_from_bytes(mail["data"], policy=email.policy.default)
    assert "1 at risk" in msg["Subject"] and "投诉报送" in msg["Subject"]
    body = msg.get_body(("plain",))
    assert body is not None and "quarterly 2026Q3 GD due 2026-10-15" in body.get_content()
    (attachment,) = list(msg.iter_attachments())
    assert json.loads(attachment.get_content())["at_risk"][0]["period"] == "2026Q3"


def test_password_is_never_sent_unencrypted(smtp_sink: tuple[int, Received]) -> None:
    port, got = smtp_sink
    notifier = Notifier(smtp_host="127.0.0.1", smtp_port=port, smtp_from="w@example.cn",
                        smtp_to=["a@example.cn"], smtp_password_env="SMTP_PW")
    (res,) = deliver(notifier, _notice(), environ={"SMTP_PW": "hunter2"})
    assert not res.ok and "STARTTLS" in res.detail and "hunter2" not in res.detail
    assert got.mails == []  # neither AUTH nor a message reached the server
    (unset,) = deliver(notifier, _notice(), environ={})
    assert not unset.ok and "SMTP_PW" in unset.detail


def test_both_channels_and_a_dead_smtp_server(webhook: tuple[str, Received, dict[str, int]]) -> None:
    url, got, _ = webhook
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        dead_port = s.getsockname()[1]
    notifier = Notifier(webhook_url_env="HOOK_URL", smtp_host="127.0.0.1", smtp_port=dead_port,
                        smtp_from="w@example.cn", smtp_to=["a@example.cn"])
    out = deliver(notifier, _notice(), environ={"HOOK_URL": url})
    assert [(d.channel, d.ok) for d in out] == [("webhook", True), ("email", False)]
    assert f"127.0.0.1:{dead_port}" in out[1].detail and len(got.requests) == 1
