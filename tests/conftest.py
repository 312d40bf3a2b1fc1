"""Test-wide settings and shared fixtures."""

import contextlib
import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

# Prefect's ephemeral server logs "Stopping temporary server" at interpreter exit, after pytest has closed
# its captured streams ("--- Logging error ---"); tests need Prefect's warnings and errors only.
os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120")
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")


S3_SERVER_KIND = "rgw" if os.environ.get("COMPLAINTS_TEST_S3_URL") else "moto"


@dataclass
class S3Server:
    """An S3 endpoint over HTTP on loopback: Ceph RGW when ``$COMPLAINTS_TEST_S3_URL`` is set (with
    ``AWS_ACCESS_KEY_ID`` / ``AWS_SECRET_ACCESS_KEY``; ``scripts/rgw.sh start``), else moto's server.
    ``bucket`` is an Object Lock bucket with a name unique to this run (locked objects stay)."""

    kind: str  # "rgw" | "moto"
    url: str
    version: str
    bucket: str = ""

    def client(self) -> Any:
        import boto3

        return boto3.client("s3", endpoint_url=self.url, region_name="us-east-1")

    def new_bucket(self, hint: str, object_lock: bool = True, versioning: bool = False,
                   default_retention: dict[str, Any] | None = None) -> str:
        """A fresh bucket (``<hint>-<kind>-<random>``), with Object Lock (hence versioning) by default."""
        name = f"{hint}-{self.kind}-{uuid.uuid4().hex[:12]}"[:63]
        c = self.client()
        c.create_bucket(Bucket=name, **({"ObjectLockEnabledForBucket": True} if object_lock else {}))
        if versioning and not object_lock:
            c.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
        if default_retention:
            c.put_object_lock_configuration(Bucket=name, ObjectLockConfiguration={
                "ObjectLockEnabled": "Enabled", "Rule": {"DefaultRetention": default_retention}})
        return name


def _swap_env(values: dict[str, str]) -> dict[str, str | None]:
    saved = {k: os.environ.get(k) for k in (*values, "AWS_SESSION_TOKEN")}
    os.environ.update(values)
    os.environ.pop("AWS_SESSION_TOKEN", None)
    return saved


def _restore_env(saved: dict[str, str | None]) -> None:
    for k, v in saved.items():
        if v is None:
            os.environ.pop(k, None)
        else:
            os.environ[k] = v


@contextlib.contextmanager
def _moto() -> Iterator[S3Server]:
    import moto
    from moto.server import ThreadedMotoServer

    saved = _swap_env({"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                       "AWS_DEFAULT_REGION": "us-east-1"})
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield S3Server("moto", f"http://{host}:{port}", moto.__version__)
    finally:
        server.stop()
        _restore_env(saved)


@contextlib.contextmanager
def _rgw() -> Iterator[S3Server]:
    url = os.environ["COMPLAINTS_TEST_S3_URL"]
    missing = [k for k in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY") if not os.environ.get(k)]
    if missing:
        pytest.fail(f"COMPLAINTS_TEST_S3_URL={url} is set but {', '.join(missing)} is not "
                    "(eval \"$(scripts/rgw.sh start)\" exports all three)")
    saved = _swap_env({"AWS_DEFAULT_REGION": os.environ.get("AWS_DEFAULT_REGION") or "us-east-1"})
    try:
        yield S3Server("rgw", url, os.environ.get("COMPLAINTS_TEST_S3_VERSION", "unknown"))
    finally:
        _restore_env(saved)


@pytest.fixture(scope="session", params=[S3_SERVER_KIND])
def s3_server(request: pytest.FixtureRequest) -> Iterator[S3Server]:
    """The S3 server of this run (test ids end in ``[rgw]`` or ``[moto]``) with a fresh Object Lock
    bucket for the shared tests."""
    with (_rgw() if request.param == "rgw" else _moto()) as server:
        server.bucket = server.new_bucket("complaints-test")
        yield server


@pytest.fixture(scope="session")
def moto_s3() -> Iterator[S3Server]:
    """moto's server whatever ``$COMPLAINTS_TEST_S3_URL`` says: for tests that need what only it does."""
    with _moto() as server:
        server.bucket = server.new_bucket("complaints-test")
        yield server


@pytest.fixture(scope="session")
def s3_endpoint(s3_server: S3Server) -> str:
    """The endpoint URL of ``s3_server`` (its bucket is ``s3_server.bucket``)."""
    return s3_server.url


def pytest_report_header(config: pytest.Config) -> str:
    if S3_SERVER_KIND == "rgw":
        return (f"S3 tests: Ceph RGW {os.environ.get('COMPLAINTS_TEST_S3_VERSION', '?')} at "
                f"{os.environ['COMPLAINTS_TEST_S3_URL']}")
    return "S3 tests: moto's server (set COMPLAINTS_TEST_S3_URL for a real one: scripts/rgw.sh)"


@pytest.fixture
def after_source_query(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """``listen(fn)``: call ``fn(statement)`` right after each statement a source read executes, on both
    reading paths (SQLAlchemy's ``after_cursor_execute`` event; ADBC's execute, before the result is
    streamed); so a test can kill the connection or commit rows in the middle of an extraction. The
    listeners are removed at the end of the test."""
    import sqlalchemy as sa

    from tasks.sources import sql

    listeners: list[Any] = []
    original = sql._adbc_execute

    def listen(fn: Any) -> None:
        def on_sa(conn: Any, cursor: Any, statement: str, *_: Any) -> None:
            fn(statement)

        sa.event.listen(sa.engine.Engine, "after_cursor_execute", on_sa)
        listeners.append(on_sa)
        previous = sql._adbc_execute

        def on_adbc(cursor: Any, statement: str, params: list[Any]) -> Any:
            reader = previous(cursor, statement, params)
            fn(statement)
            return reader

        monkeypatch.setattr(sql, "_adbc_execute", on_adbc)

    def stop() -> None:
        while listeners:
            sa.event.remove(sa.engine.Engine, "after_cursor_execute", listeners.pop())
        monkeypatch.setattr(sql, "_adbc_execute", original)

    listen.stop = stop  # type: ignore[attr-defined]
    yield listen
    stop()
