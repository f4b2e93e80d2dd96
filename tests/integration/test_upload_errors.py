"""Every error class produced for real and mapped to its kind and sentence (DESIGN §5).

Wrong key / wrong secret / missing permission come from moto with IAM checks on (a child
process); missing bucket and a stopped server are real; 503, SlowDown, resets and stalls
come from the FaultProxy. Expired credentials and clock skew cannot be produced by moto, so
the proxy answers with S3's own error codes for those (the mapping is what is tested).
"""

from __future__ import annotations

import shutil
import socket
import threading
from pathlib import Path
from typing import Any

import pytest

from app.sessions import session_paths
from app.upload.config import UploadConfig, save_config
from app.upload.s3.credentials import save_secrets
from app.upload.s3.destination import upload_session
from app.upload.session.errors import ErrorKind, UploadError
from app.upload.session.multipart import PART_ATTEMPTS
from app.upload.session.state_store import UploadStateStore
from tests.integration.upload_helpers import MIB, ProgressLog, session_with_zip
from tests.s3support.proxy import Fault, FaultProxy
from tests.s3support.server import S3Server

SENTENCES = {
    ErrorKind.INVALID_CREDENTIALS: ("access key", "secret"),
    ErrorKind.ACCESS_DENIED: ("not allowed",),
    ErrorKind.BUCKET_NOT_FOUND: ("does not exist",),
    ErrorKind.CREDENTIALS_EXPIRED: ("expired",),
    ErrorKind.CLOCK_SKEW: ("clock",),
    ErrorKind.NETWORK: ("cannot be reached",),
    ErrorKind.TIMEOUT: ("answering in time",),
    ErrorKind.SERVER: ("temporary problem",),
    ErrorKind.THROTTLED: ("slow down",),
    ErrorKind.CONNECTION_RESET: ("cut off",),
    ErrorKind.ZIP_MISSING: ("missing",),
    ErrorKind.DISK_READ: ("could not be read",),
    ErrorKind.DAMAGED: ("is not uploaded",),
}


def _upload(data_dir: Path, session_id: str, config: UploadConfig) -> UploadError:
    with pytest.raises(UploadError) as caught:
        upload_session(data_dir, session_id, config, UploadStateStore(data_dir), ProgressLog(),
                       threading.Event())
    error = caught.value
    assert any(word in error.sentence for word in SENTENCES[error.kind]), error.sentence
    assert error.sentence.endswith(".") and "\n" not in error.sentence
    return error


@pytest.fixture
def auth_proxy(auth_s3_server: S3Server) -> Any:
    proxy = FaultProxy(auth_s3_server.host, auth_s3_server.port)
    yield proxy
    proxy.stop()


@pytest.fixture
def auth_bucket(auth_s3_server: S3Server) -> Any:
    client = auth_s3_server.client()
    client.create_bucket(Bucket="auth-bucket")
    yield "auth-bucket"
    for obj in client.list_objects_v2(Bucket="auth-bucket").get("Contents", []):
        client.delete_object(Bucket="auth-bucket", Key=obj["Key"])
    client.delete_bucket(Bucket="auth-bucket")


def _auth_config(data_dir: Path, proxy: FaultProxy, bucket: str, key: str, secret: str) -> UploadConfig:
    config = UploadConfig(bucket=bucket, region="us-east-1", endpoint_url=proxy.endpoint_url,
                          access_key_id=key, read_timeout_sec=10)
    save_config(data_dir, config)
    save_secrets(data_dir, secretAccessKey=secret)
    return config


@pytest.mark.parametrize(("who", "size", "kind", "code"), [
    ("wrong-key", 12 * MIB, ErrorKind.INVALID_CREDENTIALS, "InvalidAccessKeyId"),
    ("wrong-secret", 12 * MIB, ErrorKind.INVALID_CREDENTIALS, "SignatureDoesNotMatch"),
    ("reader", 12 * MIB, ErrorKind.ACCESS_DENIED, "AccessDenied"),
    ("reader", 100_000, ErrorKind.ACCESS_DENIED, "AccessDenied"),
])
def test_auth_errors_are_permanent_and_not_retried(data_dir: Path, auth_s3_server: S3Server,
                                                   auth_proxy: FaultProxy, auth_bucket: str,
                                                   who: str, size: int, kind: ErrorKind,
                                                   code: str) -> None:
    writer = auth_s3_server.users["writer"]
    key, secret = {
        "wrong-key": ("SRNOSUCHKEY000000000", writer.secret_access_key),
        "wrong-secret": (writer.access_key_id, "not-the-secret-000000000000000000000000"),
        "reader": (auth_s3_server.users["reader"].access_key_id,
                   auth_s3_server.users["reader"].secret_access_key),
    }[who]
    config = _auth_config(data_dir, auth_proxy, auth_bucket, key, secret)
    session_id = session_with_zip(data_dir, size)
    error = _upload(data_dir, session_id, config)
    assert error.kind == kind and error.permanent
    assert error.detail is not None and code in error.detail
    stats = auth_proxy.stats()
    # Permanent: exactly one request was refused, nothing was retried.
    assert sum(stats.requests[op] for op in ("CreateMultipartUpload", "PutObject", "UploadPart")) == 1


def test_missing_bucket(data_dir: Path, s3_config: Any) -> None:
    config = s3_config(bucket="no-such-bucket-here")
    error = _upload(data_dir, session_with_zip(data_dir, 100_000), config)
    assert error.kind == ErrorKind.BUCKET_NOT_FOUND and error.permanent
    assert "no-such-bucket-here" in error.sentence


def test_server_not_running(data_dir: Path, s3_config: Any) -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    config = s3_config(endpoint_url=f"http://127.0.0.1:{port}")
    error = _upload(data_dir, session_with_zip(data_dir, 100_000), config)
    assert error.kind == ErrorKind.NETWORK and not error.permanent


@pytest.mark.parametrize(("fault", "kind"), [
    (Fault.service_unavailable(), ErrorKind.SERVER),
    (Fault.error(500, "InternalError", "We encountered an internal error."), ErrorKind.SERVER),
    (Fault.slow_down(), ErrorKind.THROTTLED),
    (Fault.reset_mid_body(), ErrorKind.CONNECTION_RESET),
])
def test_transient_part_errors_retry_a_bounded_number_of_times(
        data_dir: Path, s3_config: Any, fault_proxy: FaultProxy, fault: Fault, kind: ErrorKind) -> None:
    config = s3_config(endpoint_url=fault_proxy.endpoint_url, concurrency=1)
    session_id = session_with_zip(data_dir, 12 * MIB)
    fault_proxy.inject(fault, times=None, only="UploadPart")
    error = _upload(data_dir, session_id, config)
    assert error.kind == kind and not error.permanent
    assert fault_proxy.stats().part_requests[1] == PART_ATTEMPTS


def test_stall_times_out(data_dir: Path, s3_config: Any, fault_proxy: FaultProxy) -> None:
    config = s3_config(endpoint_url=fault_proxy.endpoint_url, read_timeout_sec=1.0)
    fault_proxy.inject(Fault.stall(60), times=None, only="CreateMultipartUpload")
    error = _upload(data_dir, session_with_zip(data_dir, 12 * MIB), config)
    assert error.kind == ErrorKind.TIMEOUT and not error.permanent


def test_one_transient_failure_is_absorbed(data_dir: Path, s3_config: Any, s3_server: S3Server,
                                           bucket: str, fault_proxy: FaultProxy) -> None:
    config = s3_config(endpoint_url=fault_proxy.endpoint_url)
    session_id = session_with_zip(data_dir, 12 * MIB)
    fault_proxy.inject(Fault.reset_mid_body(), times=1, only="UploadPart")
    state = upload_session(data_dir, session_id, config, UploadStateStore(data_dir), ProgressLog(),
                           threading.Event())
    assert state.bytes_uploaded == state.total_bytes
    assert sum(fault_proxy.stats().part_requests.values()) == 4  # 3 parts + 1 retry


@pytest.mark.parametrize(("fault", "kind"), [
    (Fault.error(400, "ExpiredToken", "The provided token has expired."), ErrorKind.CREDENTIALS_EXPIRED),
    (Fault.error(403, "RequestTimeTooSkewed", "The difference is too large."), ErrorKind.CLOCK_SKEW),
    (Fault.invalid_access_key(), ErrorKind.INVALID_CREDENTIALS),
])
def test_injected_permanent_errors(data_dir: Path, s3_config: Any, fault_proxy: FaultProxy,
                                   fault: Fault, kind: ErrorKind) -> None:
    config = s3_config(endpoint_url=fault_proxy.endpoint_url)
    fault_proxy.inject(fault, times=None, only="UploadPart")
    error = _upload(data_dir, session_with_zip(data_dir, 12 * MIB), config)
    assert error.kind == kind and error.permanent
    # Each part tried once at most: no retries of a permanent error.
    assert all(n == 1 for n in fault_proxy.stats().part_requests.values())


def test_zip_missing(data_dir: Path, s3_config: Any) -> None:
    config = s3_config()
    session_id = session_with_zip(data_dir, 1000)
    session_paths(data_dir, session_id).zip.unlink()
    error = _upload(data_dir, session_id, config)
    assert error.kind == ErrorKind.ZIP_MISSING and error.permanent


def test_a_folder_in_place_of_the_zip_is_refused(data_dir: Path, s3_config: Any) -> None:
    config = s3_config()
    session_id = session_with_zip(data_dir, 1000)
    zip_path = session_paths(data_dir, session_id).zip
    zip_path.unlink()
    zip_path.mkdir()  # also when running as root: only regular files are opened
    try:
        error = _upload(data_dir, session_id, config)
    finally:
        shutil.rmtree(zip_path)
    assert error.kind == ErrorKind.DAMAGED and "a folder" in error.sentence


def test_disk_read_error(data_dir: Path, s3_config: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    import errno
    import os

    config = s3_config()
    session_id = session_with_zip(data_dir, 1000)

    def failing_preadv(*_args: Any) -> int:
        raise OSError(errno.EIO, "Input/output error")

    monkeypatch.setattr(os, "preadv", failing_preadv)  # a failing disk, also when running as root
    error = _upload(data_dir, session_id, config)
    assert error.kind == ErrorKind.DISK_READ and "Input/output error" in error.sentence
