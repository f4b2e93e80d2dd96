"""The backend destination from the command line: real Uppy Companion (npm) + moto, the
seed's simple contract against a local test backend, `config test`, kill -9 and resume."""

from __future__ import annotations

import hashlib
import json
import signal
import time
from pathlib import Path
from typing import Any

import pytest

from app.paths import config_path, credentials_path
from app.upload.config import UploadConfig, save_config
from app.upload.secrets import save_secrets
from app.upload.session.part_reader import composite_etag
from tests.integration.queue_helpers import maybe_state, run_cli, start_cli, state
from tests.integration.upload_helpers import MIB, session_with_zip, zip_bytes
from tests.s3support.backend_fixtures import BACKEND_TOKEN, WEBHOOK_SECRET
from tests.s3support.backend_server import SimpleBackend
from tests.s3support.companion import CompanionServer
from tests.s3support.proxy import FaultProxy
from tests.s3support.server import S3Server
from tests.s3support.webhook_receiver import WebhookReceiver

PART = 5 * MIB


def companion_config(data_dir: Path, companion: CompanionServer, **extra: Any) -> UploadConfig:
    config = UploadConfig(destination="backend", backend_url=companion.url,
                          backend_protocol="companion", part_size_bytes=PART, concurrency=2,
                          backoff_base_sec=0.1, backoff_cap_sec=1.0, **extra)
    save_config(data_dir, config)
    return config


def simple_config(data_dir: Path, backend: SimpleBackend, token: str = BACKEND_TOKEN,
                  **extra: Any) -> UploadConfig:
    config = UploadConfig(destination="backend", backend_url=backend.url,
                          backend_protocol="simple", backoff_base_sec=0.1, backoff_cap_sec=1.0,
                          **extra)
    save_config(data_dir, config)
    save_secrets(data_dir, backendToken=token)
    return config


def no_aws_key_on_this_computer(data_dir: Path) -> None:
    written = json.loads(config_path(data_dir).read_text())
    assert not (written.get("accessKeyId") or written.get("profile") or written.get("bucket"))
    if credentials_path(data_dir).exists():
        stored = json.loads(credentials_path(data_dir).read_text())
        assert not {"secretAccessKey", "sessionToken"} & set(stored)


def list_item(data_dir: Path, session_id: str) -> dict[str, Any]:
    result = run_cli(data_dir, "list", "--json")
    assert result.returncode == 0, result.stderr
    return next(i for i in json.loads(result.stdout) if i["sessionId"] == session_id)


@pytest.mark.slow
def test_killed_companion_upload_resumes_with_only_missing_parts(
        data_dir: Path, companion: CompanionServer, companion_proxy: FaultProxy,
        s3_server: S3Server, companion_bucket: str, webhook_receiver: WebhookReceiver) -> None:
    # The webhook makes the file record, which must name the bucket after the resume too.
    companion_config(data_dir, companion, webhook_url=webhook_receiver.url)
    save_secrets(data_dir, webhookSecret=WEBHOOK_SECRET)
    no_aws_key_on_this_computer(data_dir)
    session_id = session_with_zip(data_dir, 60 * MIB)  # 12 parts
    total_parts = -(-len(zip_bytes(data_dir, session_id)) // PART)
    companion_proxy.throttle_bytes_per_sec = 10 * MIB  # slow enough to kill it mid-upload
    proc = start_cli(data_dir, "upload", session_id, "--wait")
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        found = maybe_state(data_dir, session_id)
        if found and found.multipart and len(found.multipart.parts) >= 3:
            break
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.communicate()
    assert companion_proxy.wait_idle()
    killed = state(data_dir, session_id)
    assert killed.status == "uploading" and killed.multipart is not None and killed.s3_key
    # What Companion said at create is on disk for the process that resumes.
    assert killed.multipart.bucket == companion_bucket
    recorded = {p.part_number for p in killed.multipart.parts}
    assert 3 <= len(recorded) < total_parts
    # Parts may have reached S3 after the last state write: those count as held too.
    held = {p["PartNumber"] for p in s3_server.client().list_parts(
        Bucket=companion_bucket, Key=killed.s3_key, UploadId=killed.multipart.upload_id)["Parts"]}
    assert recorded <= held

    companion_proxy.throttle_bytes_per_sec = None
    companion_proxy.reset_stats()
    result = run_cli(data_dir, "queue", "--wait")
    assert result.returncode == 0, result.stderr
    assert set(companion_proxy.stats().part_requests) == set(range(1, total_parts + 1)) - held
    final = state(data_dir, session_id)
    assert final.status == "done" and final.multipart is None and final.s3_key == killed.s3_key
    answer = s3_server.client().get_object(Bucket=companion_bucket, Key=final.s3_key)
    data = zip_bytes(data_dir, session_id)
    assert answer["Body"].read() == data
    assert answer["ETag"].strip('"') == composite_etag(
        [hashlib.md5(data[i:i + PART]).hexdigest() for i in range(0, len(data), PART)])
    assert not s3_server.client().list_multipart_uploads(Bucket=companion_bucket).get("Uploads")
    no_aws_key_on_this_computer(data_dir)
    # The resuming process never created the upload, yet its record knows the bucket.
    assert webhook_receiver.accepted == {session_id: 1}
    record = webhook_receiver.records[session_id]
    assert record["bucket"] == companion_bucket and record["key"] == final.s3_key


def test_cancel_from_the_cli_aborts_through_companion(
        data_dir: Path, companion: CompanionServer, companion_proxy: FaultProxy,
        s3_server: S3Server, companion_bucket: str) -> None:
    companion_config(data_dir, companion)
    session_id = session_with_zip(data_dir, 30 * MIB)
    companion_proxy.throttle_bytes_per_sec = 5 * MIB
    proc = start_cli(data_dir, "upload", session_id, "--wait")
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        found = maybe_state(data_dir, session_id)
        if found and found.multipart and found.multipart.parts:
            break
        time.sleep(0.05)
    upload_id = state(data_dir, session_id).multipart.upload_id  # type: ignore[union-attr]
    cancelled = run_cli(data_dir, "cancel", session_id)
    assert cancelled.returncode == 0, cancelled.stderr
    proc.communicate(timeout=60)
    after = state(data_dir, session_id)
    assert after.status == "not_uploaded" and after.multipart is None
    uploads = s3_server.client().list_multipart_uploads(Bucket=companion_bucket).get("Uploads", [])
    assert upload_id not in {u["UploadId"] for u in uploads}


def test_config_test_checks_companion(data_dir: Path, companion: CompanionServer) -> None:
    companion_config(data_dir, companion)
    result = run_cli(data_dir, "config", "test")
    assert result.returncode == 0, result.stderr
    assert f"the backend at 127.0.0.1:{companion.port}" in result.stdout


def test_simple_contract_upload_and_file_record(data_dir: Path, simple_backend: SimpleBackend,
                                                s3_server: S3Server, bucket: str) -> None:
    simple_config(data_dir, simple_backend)
    no_aws_key_on_this_computer(data_dir)
    session_id = session_with_zip(data_dir, 12 * MIB)  # one PUT, whatever the size
    result = run_cli(data_dir, "upload", session_id, "--wait")
    assert result.returncode == 0, result.stderr
    final = state(data_dir, session_id)
    assert final.status == "done" and final.s3_key
    data = zip_bytes(data_dir, session_id)
    stored = s3_server.client().get_object(Bucket=bucket, Key=final.s3_key)
    assert stored["Body"].read() == data and stored["ContentType"] == "application/zip"
    presigns = simple_backend.presigns()
    assert len(presigns) == 1 and presigns[0].authorized
    assert json.loads(presigns[0].body) == {"key": final.s3_key, "contentType": "application/zip"}
    # The record came second, once, under the session's id.
    assert list(simple_backend.records) == [session_id]
    record = simple_backend.records[session_id]["record"]
    assert record["sessionId"] == session_id and record["key"] == final.s3_key
    assert record["size"] == len(data) and record["zipSha256"] == hashlib.sha256(data).hexdigest()
    assert {"createdAt", "durationMs", "actionCount", "screenshotCount", "appVersion",
            "host"} <= set(record)
    assert final.file_record is not None and final.file_record.pending == []
    assert list_item(data_dir, session_id)["fileRecordDelivered"] is True
    assert BACKEND_TOKEN not in result.stdout + result.stderr


def test_simple_contract_refused_token(data_dir: Path, simple_backend: SimpleBackend) -> None:
    simple_config(data_dir, simple_backend, token="not-the-token-of-this-backend")
    tested = run_cli(data_dir, "config", "test")
    assert tested.returncode == 1
    assert "reachable, but it refused the token" in tested.stderr
    session_id = session_with_zip(data_dir, 1 * MIB)
    result = run_cli(data_dir, "upload", session_id, "--wait")
    assert result.returncode == 1
    failed = state(data_dir, session_id)
    # Permanent: no retry with backoff, the sentence says what to do.
    assert failed.status == "failed" and failed.retry_count == 0
    assert failed.last_error is not None and "refused the token" in failed.last_error
    assert "not-the-token-of-this-backend" not in result.stderr + (failed.last_error or "")


def test_simple_contract_config_test_ok(data_dir: Path, simple_backend: SimpleBackend) -> None:
    simple_config(data_dir, simple_backend)
    tested = run_cli(data_dir, "config", "test")
    assert tested.returncode == 0, tested.stderr
    assert [r.path for r in simple_backend.requests] == [simple_backend.auth_check_path]


def test_simple_contract_transient_presign_failure_retries(
        data_dir: Path, simple_backend: SimpleBackend, s3_server: S3Server, bucket: str) -> None:
    simple_config(data_dir, simple_backend)
    simple_backend.fail_next(simple_backend.presign_path, 2, status=502)
    session_id = session_with_zip(data_dir, 1 * MIB)
    result = run_cli(data_dir, "upload", session_id, "--wait")
    assert result.returncode == 0, result.stderr
    final = state(data_dir, session_id)
    assert final.status == "done" and final.retry_count == 2
    assert len(simple_backend.presigns()) == 3
    assert list(simple_backend.records) == [session_id]
