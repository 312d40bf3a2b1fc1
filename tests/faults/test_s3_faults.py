"""The S3 endpoint fails mid-upload: 500s and timeouts, on the real wire.

The run's S3 server (Ceph RGW with ``$COMPLAINTS_TEST_S3_URL``, else moto's; the test id says which)
sits behind a small HTTP proxy written here that forwards every request and, by plan, answers some
uploads of bag files (``PUT …/data/…``) with a 500 or holds the response past the client's read timeout
(``COMPLAINTS_S3_READ_TIMEOUT=1``) after the server has stored the object. botocore retries
(``AWS_MAX_ATTEMPTS=2`` here), then the archive task retries. The faults are the proxy's, so RGW needs
no fault injection of its own.
"""

from __future__ import annotations

import http.client
import json
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import boto3
import pytest
from conftest import Workdir, assert_consistent, one_clear_error

pytestmark = [pytest.mark.s3, pytest.mark.slow]
Plan = Callable[[str, str, int], "str | None"]  # (method, path, n-th bag upload) -> None | "500" | "stall"


class FaultProxy:
    """A forwarding HTTP proxy for one upstream with a fault plan for bag-file uploads."""

    def __init__(self, upstream: tuple[str, int]) -> None:
        self.upstream = upstream
        self.plan: Plan = lambda method, path, n: None
        self.uploads = 0
        self.bucket = ""
        self.injected: list[str] = []
        self.lock = threading.Lock()
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _body(self) -> bytes:
                if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
                    out = b""
                    while True:
                        size = int(self.rfile.readline().split(b";")[0].strip(), 16)
                        if size == 0:
                            while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                                pass
                            return out
                        out += self.rfile.read(size)
                        self.rfile.readline()
                return self.rfile.read(int(self.headers.get("Content-Length") or 0))

            def _handle(self) -> None:
                body = self._body()
                fault = None
                if self.command == "PUT" and "/data/" in self.path:
                    with proxy.lock:
                        proxy.uploads += 1
                        fault = proxy.plan(self.command, self.path, proxy.uploads)
                        if fault:
                            proxy.injected.append(f"{fault} {self.path}")
                if fault == "500":
                    payload = (b"<?xml version='1.0' encoding='UTF-8'?><Error><Code>InternalError</Code>"
                               b"<Message>injected</Message></Error>")
                    self.send_response(500)
                    self.send_header("Content-Type", "application/xml")
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                    return
                headers = {k: v for k, v in self.headers.items()
                           if k.lower() not in ("transfer-encoding", "content-length", "connection")}
                headers["Content-Length"] = str(len(body))
                conn = http.client.HTTPConnection(*proxy.upstream, timeout=30)
                conn.request(self.command, self.path, body=body, headers=headers)
                resp = conn.getresponse()
                data = resp.read()
                conn.close()
                if fault == "stall":  # moto has stored it; the answer comes after the client gave up
                    time.sleep(2.5)
                try:
                    self.send_response(resp.status)
                    for k, v in resp.getheaders():
                        if k.lower() not in ("transfer-encoding", "content-length", "connection", "server",
                                             "date"):
                            self.send_header(k, v)
                    # a HEAD's length is the object's, not the (empty) body's
                    length = resp.getheader("Content-Length", "0") if self.command == "HEAD" else len(data)
                    self.send_header("Content-Length", str(length))
                    self.end_headers()
                    if self.command != "HEAD":
                        self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass

            do_GET = do_PUT = do_POST = do_HEAD = do_DELETE = _handle  # noqa: N815

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05},
                                       daemon=True)
        self.thread.start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(5)


@pytest.fixture
def s3(s3_server: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[FaultProxy]:
    for k, v in {"AWS_MAX_ATTEMPTS": "2", "COMPLAINTS_S3_READ_TIMEOUT": "1",
                 "COMPLAINTS_S3_CONNECT_TIMEOUT": "2"}.items():
        monkeypatch.setenv(k, v)
    host, port = s3_server.url.removeprefix("http://").rsplit(":", 1)
    proxy = FaultProxy((host, int(port)))
    proxy.bucket = s3_server.new_bucket("complaints-faults")
    try:
        yield proxy
    finally:
        proxy.close()


def test_s3_500s_and_timeouts_mid_upload(workdir: Workdir, s3: FaultProxy) -> None:
    public_key = (workdir.path / "keys" / "signing-key.pub.pem").read_text(encoding="utf-8")
    workdir.edit_config(archive={
        "store": "s3", "signing": {"public_key": public_key},
        "s3": {"endpoint_url": s3.url, "bucket": s3.bucket, "prefix": "bundles/",
               "object_lock_mode": "COMPLIANCE", "retention_days": 1}})

    # 1. the endpoint breaks for good after a few files: every retry fails, nothing is committed
    s3.plan = lambda method, path, n: "500" if n > 3 else None
    broken = workdir.cli(*workdir.run_args("HO"))
    message = one_clear_error(broken, "object store failed", "Nothing was committed", "run the filing again")
    assert "500" in message or "InternalError" in message
    attempts = {p.split("/data/")[1].split("/")[3] for p in (i.split(" ", 1)[1] for i in s3.injected)}
    # the archive task tried three times (two task retries) under the one id its sealed bag signs ...
    assert len(attempts) == 1 and len(s3.injected) >= 3
    assert assert_consistent(workdir, "HO", filed=0) == []  # ... and none of them is listed
    raw = boto3.client("s3", endpoint_url=s3.url, region_name="us-east-1")
    stale = raw.list_objects_v2(Bucket=s3.bucket, Prefix="bundles/data/")["KeyCount"]
    assert stale >= 3  # uploaded parts of the failed attempts exist, invisible without a commit marker

    # 2. transient faults: one 500 and one response held past the read timeout; botocore retries
    s3.uploads, s3.injected = 0, []
    s3.plan = lambda method, path, n: {2: "500", 5: "stall"}.get(n)
    ok = workdir.cli(*workdir.run_args("HO"), "--json")
    assert ok.exit_code == 0, ok.output
    assert [i.split(" ")[0] for i in s3.injected] == ["500", "stall"]
    summary = json.loads(ok.stdout[ok.stdout.index("{"):])
    assert summary["bundle_location"].startswith(f"s3://{s3.bucket}/bundles/data/")
    assert assert_consistent(workdir, "HO", filed=1) == [summary["bundle"]]
