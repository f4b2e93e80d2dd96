"""Object options against moto's S3 server: storage class, server-side encryption, tags and the
bucket-owner ACL on single PUT and multipart uploads alike; and an upload whose state was lost is
recognised in the bucket and not sent again."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest

from app.sessions import session_paths
from app.upload.s3.destination import upload_session
from app.upload.session.errors import ErrorKind, UploadError
from app.upload.session.state_store import UploadStateStore
from tests.integration.upload_helpers import MIB, ProgressLog, session_with_zip
from tests.s3support.proxy import FaultProxy
from tests.s3support.server import S3Server

SENDING = ("PutObject", "CreateMultipartUpload", "UploadPart", "CompleteMultipartUpload")


def _upload(data_dir: Path, session_id: str, config: Any, log: ProgressLog | None = None) -> Any:
    return upload_session(data_dir, session_id, config, UploadStateStore(data_dir),
                          log or ProgressLog(), threading.Event())


@pytest.mark.parametrize("size", [300_000, 12 * MIB], ids=["single-put", "multipart"])
def test_storage_class_encryption_tags_and_acl_are_on_the_object(
        data_dir: Path, s3_config: Any, s3_server: S3Server, bucket: str, size: int) -> None:
    config = s3_config(storage_class="STANDARD_IA", server_side_encryption="AES256",
                       object_tags={"team": "qa", "case": "checkout 4711"},
                       acl="bucket-owner-full-control")
    session_id = session_with_zip(data_dir, size)
    state = _upload(data_dir, session_id, config)
    assert state.bytes_uploaded == state.total_bytes
    client = s3_server.client()
    head = client.head_object(Bucket=bucket, Key=str(state.s3_key))
    assert head["StorageClass"] == "STANDARD_IA"
    assert head["ServerSideEncryption"] == "AES256"
    tags = client.get_object_tagging(Bucket=bucket, Key=str(state.s3_key))["TagSet"]
    assert {t["Key"]: t["Value"] for t in tags} == {"team": "qa", "case": "checkout 4711"}
    grants = client.get_object_acl(Bucket=bucket, Key=str(state.s3_key))["Grants"]
    assert any(g["Permission"] == "FULL_CONTROL" for g in grants)


def test_kms_encryption_with_a_key_id(data_dir: Path, s3_config: Any, s3_server: S3Server,
                                      bucket: str) -> None:
    key_id = "1234abcd-12ab-34cd-56ef-1234567890ab"
    config = s3_config(server_side_encryption="aws:kms", sse_kms_key_id=key_id)
    session_id = session_with_zip(data_dir, 12 * MIB)
    state = _upload(data_dir, session_id, config)
    head = s3_server.client().head_object(Bucket=bucket, Key=str(state.s3_key))
    assert head["ServerSideEncryption"] == "aws:kms"
    assert str(head["SSEKMSKeyId"]).endswith(key_id)


def test_defaults_send_no_options(data_dir: Path, s3_config: Any, s3_server: S3Server,
                                  bucket: str) -> None:
    config = s3_config()
    state = _upload(data_dir, session_with_zip(data_dir, 300_000), config)
    client = s3_server.client()
    head = client.head_object(Bucket=bucket, Key=str(state.s3_key))
    assert head.get("StorageClass", "STANDARD") == "STANDARD"
    assert client.get_object_tagging(Bucket=bucket, Key=str(state.s3_key))["TagSet"] == []


@pytest.mark.parametrize("size", [300_000, 12 * MIB], ids=["single-put", "multipart"])
def test_lost_state_is_recognised_as_uploaded_with_nothing_sent(
        data_dir: Path, s3_config: Any, fault_proxy: FaultProxy, size: int) -> None:
    config = s3_config(endpoint_url=fault_proxy.endpoint_url)
    session_id = session_with_zip(data_dir, size)
    first = _upload(data_dir, session_id, config)
    assert fault_proxy.stats().body_bytes  # the first upload did send the zip
    session_paths(data_dir, session_id).upload_state.unlink()  # lost

    fault_proxy.reset_stats()
    log = ProgressLog()
    again = _upload(data_dir, session_id, config, log)
    stats = fault_proxy.stats()
    assert sum(stats.requests[op] for op in SENDING) == 0
    assert sum(stats.body_bytes.values()) == 0  # 0 bytes sent
    assert stats.requests["HeadObject"] == 1
    assert again.s3_key == first.s3_key and again.bytes_uploaded == again.total_bytes == first.total_bytes
    assert log.values[-1] == first.total_bytes


def test_a_different_zip_under_the_same_key_is_uploaded(
        data_dir: Path, s3_config: Any, fault_proxy: FaultProxy, s3_server: S3Server,
        bucket: str) -> None:
    config = s3_config(endpoint_url=fault_proxy.endpoint_url)
    session_id = session_with_zip(data_dir, 300_000)
    first = _upload(data_dir, session_id, config)
    paths = session_paths(data_dir, session_id)
    paths.upload_state.unlink()
    # Exported again with the same size and other bytes (as a re-export would record it): the
    # object's zip-sha256 no longer matches.
    import dataclasses
    import hashlib

    from app.sessions import load_meta, save_meta

    data = bytearray(paths.zip.read_bytes())
    data[40] ^= 0xFF  # inside the stored member, so the zip stays readable
    paths.zip.write_bytes(bytes(data))
    meta = load_meta(paths).value
    assert meta is not None
    save_meta(paths, dataclasses.replace(meta, zip_sha256=hashlib.sha256(data).hexdigest()))
    fault_proxy.reset_stats()
    _upload(data_dir, session_id, config)
    assert fault_proxy.stats().requests["PutObject"] == 1
    body = s3_server.client().get_object(Bucket=bucket, Key=str(first.s3_key))["Body"].read()
    assert body == bytes(data)


def test_options_the_store_ignores_fail_with_a_sentence(data_dir: Path, s3_config: Any,
                                                        fault_proxy: FaultProxy) -> None:
    # A store that drops the storage class header (as some S3-compatible ones do).
    config = s3_config(endpoint_url=fault_proxy.endpoint_url, storage_class="GLACIER_IR")
    fault_proxy.drop_request_headers = {"x-amz-storage-class"}
    session_id = session_with_zip(data_dir, 300_000)
    with pytest.raises(UploadError) as caught:
        _upload(data_dir, session_id, config)
    assert caught.value.kind == ErrorKind.CONFIG and caught.value.permanent
    assert "storage class STANDARD instead of GLACIER_IR" in caught.value.sentence


def test_lost_state_through_the_queue_and_the_command_line(
        data_dir: Path, s3_config: Any, fault_proxy: FaultProxy) -> None:
    from tests.integration.queue_helpers import run_cli, state

    s3_config(endpoint_url=fault_proxy.endpoint_url, storage_class="STANDARD_IA")
    session_id = session_with_zip(data_dir, 300_000)
    assert run_cli(data_dir, "upload", session_id, "--wait").returncode == 0
    session_paths(data_dir, session_id).upload_state.unlink()
    fault_proxy.reset_stats()
    again = run_cli(data_dir, "upload", session_id, "--wait")
    assert again.returncode == 0, again.stderr
    assert state(data_dir, session_id).status == "done"
    stats = fault_proxy.stats()
    assert sum(stats.requests[op] for op in SENDING) == 0 and sum(stats.body_bytes.values()) == 0
