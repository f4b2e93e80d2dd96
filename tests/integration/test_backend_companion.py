"""Uploads through the real Uppy Companion (npm) to moto: no AWS key on the desktop side."""

from __future__ import annotations

import hashlib
import threading
from pathlib import Path
from typing import Any

import pytest

from app.upload.backend.destination import BackendDestination
from app.upload.config import UploadConfig
from app.upload.session.errors import ErrorKind, UploadCancelled, UploadError
from app.upload.session.part_reader import composite_etag
from app.upload.session.state_store import UploadStateStore
from tests.integration.upload_helpers import MIB, ProgressLog, session_with_zip, zip_bytes
from tests.s3support.companion import CompanionServer
from tests.s3support.proxy import Fault, FaultProxy
from tests.s3support.server import S3Server

PART = 5 * MIB


def destination(data_dir: Path, companion: CompanionServer, **config: Any) -> BackendDestination:
    values: dict[str, Any] = {"destination": "backend", "backend_url": companion.url,
                              "backend_protocol": "companion", "part_size_bytes": PART,
                              "concurrency": 4}
    values.update(config)
    return BackendDestination(data_dir, UploadConfig(**values))


def open_uploads(s3_server: S3Server, bucket: str) -> list[Any]:
    return s3_server.client().list_multipart_uploads(Bucket=bucket).get("Uploads", [])


def _stored(s3_server: S3Server, bucket: str, key: str) -> tuple[bytes, str]:
    answer = s3_server.client().get_object(Bucket=bucket, Key=key)
    return answer["Body"].read(), answer["ETag"].strip('"')


def _expected_etag(data: bytes, part: int = PART) -> str:
    return composite_etag([hashlib.md5(data[i:i + part]).hexdigest()
                           for i in range(0, len(data), part)])


@pytest.mark.slow
def test_60_mib_zip_through_companion(data_dir: Path, companion: CompanionServer,
                                      companion_proxy: FaultProxy, s3_server: S3Server,
                                      companion_bucket: str) -> None:
    session_id = session_with_zip(data_dir, 60 * MIB)
    store = UploadStateStore(data_dir)
    log = ProgressLog()
    state = destination(data_dir, companion).upload(session_id, store, log, threading.Event())
    data = zip_bytes(data_dir, session_id)
    assert state.s3_key and state.s3_key.endswith(".zip") and state.multipart is None
    stored, etag = _stored(s3_server, companion_bucket, state.s3_key)
    assert stored == data  # byte-identical
    assert etag == _expected_etag(data)  # the object's ETag: MD5 of the parts' MD5s, "-N"
    assert not [u for u in open_uploads(s3_server, companion_bucket) if u["Key"] == state.s3_key]
    parts = -(-len(data) // PART)
    assert set(companion_proxy.stats().part_requests) == set(range(1, parts + 1))
    assert max(log.values) == len(data)


def test_small_zip_is_one_part(data_dir: Path, companion: CompanionServer,
                               companion_proxy: FaultProxy, s3_server: S3Server,
                               companion_bucket: str) -> None:
    session_id = session_with_zip(data_dir, 1 * MIB)
    store = UploadStateStore(data_dir)
    state = destination(data_dir, companion).upload(session_id, store, ProgressLog(),
                                                    threading.Event())
    assert state.s3_key and session_id in state.s3_key
    assert _stored(s3_server, companion_bucket, state.s3_key)[0] == zip_bytes(data_dir, session_id)
    assert companion_proxy.stats().part_requests == {1: 1}


def test_expired_part_urls_are_signed_again(data_dir: Path, companion: CompanionServer,
                                            companion_proxy: FaultProxy, s3_server: S3Server,
                                            companion_bucket: str) -> None:
    session_id = session_with_zip(data_dir, 22 * MIB)  # 5 parts, signed in one batch
    store = UploadStateStore(data_dir)
    # S3's own answer to a presigned URL past its X-Amz-Expires (what the checker gives for
    # a URL that is really out of time, see test_backend_support), for three part PUTs; every
    # other URL is checked for real (SigV4 signature and expiry).
    companion_proxy.inject(Fault.error(403, "AccessDenied", "Request has expired"), times=3,
                           only="UploadPart")
    dest = destination(data_dir, companion, concurrency=2)
    made: list[Any] = []
    original = dest.transport

    def transport() -> Any:
        made.append(original())
        return made[-1]

    dest.transport = transport  # type: ignore[method-assign]
    state = dest.upload(session_id, store, ProgressLog(), threading.Event())
    assert _stored(s3_server, companion_bucket, str(state.s3_key))[0] == \
        zip_bytes(data_dir, session_id)
    assert companion_proxy.stats().faults["error"] == 3
    assert made[0].resigned == 3  # signed again, each on its own ...
    assert state.retry_count == 0 and state.last_error is None  # ... and never a failure
    assert set(companion_proxy.presign_checker.checked) == {"ok"}


def test_cancel_then_abort_leaves_nothing_open(data_dir: Path, companion: CompanionServer,
                                               companion_proxy: FaultProxy, s3_server: S3Server,
                                               companion_bucket: str) -> None:
    session_id = session_with_zip(data_dir, 30 * MIB)
    store = UploadStateStore(data_dir)
    companion_proxy.throttle_bytes_per_sec = 10 * MIB
    cancel = threading.Event()

    def on_progress(progress: Any) -> None:
        if progress.bytes_uploaded >= PART:
            cancel.set()

    dest = destination(data_dir, companion, concurrency=2)
    with pytest.raises(UploadCancelled):
        dest.upload(session_id, store, on_progress, cancel)
    state = store.get(session_id)
    assert state is not None and state.multipart is not None and state.s3_key
    assert [u for u in open_uploads(s3_server, companion_bucket)
            if u["UploadId"] == state.multipart.upload_id]
    dest.abort(session_id, store)
    assert not [u for u in open_uploads(s3_server, companion_bucket)
                if u["UploadId"] == state.multipart.upload_id]
    after = store.get(session_id)
    assert after is not None and after.multipart is None


def test_unreachable_companion_is_transient(data_dir: Path) -> None:
    session_id = session_with_zip(data_dir, 1 * MIB)
    dest = BackendDestination(data_dir, UploadConfig(
        destination="backend", backend_url="http://127.0.0.1:9", backend_protocol="companion",
        connect_timeout_sec=2))
    with pytest.raises(UploadError) as caught:
        dest.upload(session_id, UploadStateStore(data_dir), ProgressLog(), threading.Event())
    assert caught.value.kind == ErrorKind.NETWORK and not caught.value.permanent
    assert "cannot be reached" in caught.value.sentence
