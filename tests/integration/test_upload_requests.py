"""What one upload asks of the server, counted by the proxy: every request it makes and
which of them wait for `Expect: 100-continue`."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest

from app.upload.s3.destination import upload_session
from app.upload.session.errors import UploadCancelled
from app.upload.session.state_store import UploadStateStore
from tests.integration.upload_helpers import MIB, ProgressLog, session_with_zip, zip_bytes
from tests.s3support.proxy import FaultProxy
from tests.s3support.server import S3Server


def _upload(data_dir: Path, config: Any, session_id: str) -> None:
    state = upload_session(data_dir, session_id, config, UploadStateStore(data_dir), ProgressLog(),
                           threading.Event())
    assert state.multipart is None and state.bytes_uploaded == state.total_bytes


def test_a_single_put_is_verified_by_its_own_answer(data_dir: Path, s3_config: Any,
                                                   s3_server: S3Server, bucket: str,
                                                   fault_proxy: FaultProxy) -> None:
    config = s3_config(endpoint_url=fault_proxy.endpoint_url)
    session_id = session_with_zip(data_dir, 300_000)
    _upload(data_dir, config, session_id)
    stats = fault_proxy.stats()
    # One request: the ETag in PutObject's answer is the MD5 of the bytes we sent, so no
    # HeadObject is needed; the PUT itself still waits for the server's go-ahead.
    assert +stats.requests == {"PutObject": 1}
    assert stats.expect_continue["PutObject"] == 1
    assert s3_server.client().get_object(Bucket=bucket, Key=f"{session_id}.zip")["Body"].read() == \
        zip_bytes(data_dir, session_id)


def test_a_multipart_upload_sends_its_parts_without_waiting_for_a_go_ahead(
        data_dir: Path, s3_config: Any, s3_server: S3Server, bucket: str,
        fault_proxy: FaultProxy) -> None:
    config = s3_config(endpoint_url=fault_proxy.endpoint_url, part_size_bytes=5 * MIB,
                       concurrency=3)
    session_id = session_with_zip(data_dir, 12 * MIB)  # 3 parts
    _upload(data_dir, config, session_id)
    stats = fault_proxy.stats()
    # moto's CompleteMultipartUpload answer has no checksum, so HeadObject still checks the
    # object (against S3, the answer's composite checksum does and HeadObject is skipped).
    assert +stats.requests == {"CreateMultipartUpload": 1, "UploadPart": 3,
                               "CompleteMultipartUpload": 1, "HeadObject": 1}
    assert stats.expect_continue["UploadPart"] == 0  # the Create just proved access
    assert s3_server.client().get_object(Bucket=bucket, Key=f"{session_id}.zip")["Body"].read() == \
        zip_bytes(data_dir, session_id)


def test_a_resumed_upload_lists_its_parts_once_and_sends_the_rest(
        data_dir: Path, s3_config: Any, s3_server: S3Server, bucket: str,
        fault_proxy: FaultProxy) -> None:
    config = s3_config(endpoint_url=fault_proxy.endpoint_url, part_size_bytes=5 * MIB,
                       concurrency=1)
    session_id = session_with_zip(data_dir, 12 * MIB)
    cancel = threading.Event()
    store = UploadStateStore(data_dir)

    def cancel_after_first_part(progress: Any) -> None:
        if progress.bytes_uploaded >= 5 * MIB:
            cancel.set()

    with pytest.raises(UploadCancelled):
        upload_session(data_dir, session_id, config, store, cancel_after_first_part, cancel)
    assert store.get(session_id).multipart is not None  # type: ignore[union-attr]
    fault_proxy.reset_stats()
    _upload(data_dir, config, session_id)
    stats = fault_proxy.stats()
    assert stats.requests["ListParts"] == 1 and stats.requests["CreateMultipartUpload"] == 0
    assert set(stats.parts_forwarded) == {2, 3}
    assert stats.expect_continue["UploadPart"] == 0  # ListParts proved access
