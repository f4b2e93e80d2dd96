"""Resume: an interrupted upload continues from upload-state.json; only missing parts go again."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from app.sessions import session_paths
from app.upload.s3.destination import abort_session_upload, upload_session
from app.upload.session.errors import UploadCancelled
from app.upload.session.progress import Progress
from app.upload.session.state_store import UploadStateStore
from tests.integration.upload_helpers import MIB, ProgressLog, session_with_zip, zip_bytes
from tests.s3support.proxy import Fault, FaultProxy
from tests.s3support.server import REPO_ROOT, S3Server

PART = 5 * MIB


def _cancel_after(parts: int, cancel: threading.Event, log: ProgressLog) -> Any:
    def on_progress(progress: Progress) -> None:
        log(progress)
        if progress.bytes_uploaded >= parts * PART:
            cancel.set()
    return on_progress


def _interrupt(data_dir: Path, session_id: str, config: Any, parts: int) -> Any:
    """Run the engine until `parts` parts are recorded, then cancel (without abort)."""
    store = UploadStateStore(data_dir)
    cancel = threading.Event()
    log = ProgressLog()
    with pytest.raises(UploadCancelled):
        upload_session(data_dir, session_id, config, store, _cancel_after(parts, cancel, log), cancel)
    state = store.get(session_id)
    assert state is not None and state.multipart is not None
    assert state.status == "not_uploaded"  # the engine never touches status
    return state


@pytest.mark.slow
def test_cancelled_upload_resumes_sending_only_missing_parts(
        data_dir: Path, s3_config: Any, s3_server: S3Server, bucket: str,
        fault_proxy: FaultProxy) -> None:
    config = s3_config(endpoint_url=fault_proxy.endpoint_url, concurrency=2)
    session_id = session_with_zip(data_dir, 40 * MIB)  # 9 parts
    fault_proxy.throttle_bytes_per_sec = 20 * MIB  # slow enough that cancel lands mid-upload
    state = _interrupt(data_dir, session_id, config, parts=2)
    recorded = {p.part_number for p in state.multipart.parts}
    assert len(recorded) >= 2
    # A part in flight at cancel may still have reached the server from socket buffers;
    # resume must reuse those too (ListParts + MD5), so compare with what S3 holds.
    assert fault_proxy.wait_idle()
    held = {p["PartNumber"] for p in s3_server.client().list_parts(
        Bucket=bucket, Key=str(state.s3_key), UploadId=state.multipart.upload_id)["Parts"]}
    assert recorded <= held and len(held - recorded) <= config.concurrency

    fault_proxy.throttle_bytes_per_sec = None
    fault_proxy.reset_stats()
    log = ProgressLog()
    done = upload_session(data_dir, session_id, config, UploadStateStore(data_dir), log,
                          threading.Event())
    second = fault_proxy.stats()
    all_parts = set(range(1, 10))
    assert set(second.part_requests) == all_parts - held
    assert all(n == 1 for n in second.part_requests.values())
    assert second.requests["ListParts"] == 1 and second.requests["CreateMultipartUpload"] == 0
    assert log.values[0] >= len(recorded) * PART  # progress starts where it stopped
    assert log.values == sorted(log.values)
    client = s3_server.client()
    assert client.get_object(Bucket=bucket, Key=str(done.s3_key))["Body"].read() == \
        zip_bytes(data_dir, session_id)
    assert client.list_multipart_uploads(Bucket=bucket).get("Uploads", []) == []


def test_parts_on_server_but_not_in_state_are_reused(data_dir: Path, s3_config: Any, bucket: str,
                                                     fault_proxy: FaultProxy) -> None:
    """A crash between S3's answer and our write: ListParts + MD5 recognise the part."""
    import dataclasses

    config = s3_config(endpoint_url=fault_proxy.endpoint_url, concurrency=1)
    session_id = session_with_zip(data_dir, 16 * MIB)  # 4 parts
    fault_proxy.throttle_bytes_per_sec = 20 * MIB
    state = _interrupt(data_dir, session_id, config, parts=2)
    store = UploadStateStore(data_dir)
    # Forget what we recorded, as if the process died before writing it.
    store.update(session_id, multipart=dataclasses.replace(state.multipart, parts=[]),
                 bytes_uploaded=0)
    fault_proxy.throttle_bytes_per_sec = None
    fault_proxy.reset_stats()
    assert fault_proxy.wait_idle()
    upload_session(data_dir, session_id, config, store, ProgressLog(), threading.Event())
    resent = set(fault_proxy.stats().part_requests)
    assert {p.part_number for p in state.multipart.parts}.isdisjoint(resent)


def test_no_such_upload_starts_fresh(data_dir: Path, s3_config: Any, s3_server: S3Server,
                                     bucket: str, fault_proxy: FaultProxy) -> None:
    config = s3_config(endpoint_url=fault_proxy.endpoint_url, concurrency=1)
    session_id = session_with_zip(data_dir, 16 * MIB)
    fault_proxy.throttle_bytes_per_sec = 20 * MIB
    state = _interrupt(data_dir, session_id, config, parts=1)
    # Aborted elsewhere (or expired by a lifecycle rule).
    s3_server.client().abort_multipart_upload(Bucket=bucket, Key=str(state.s3_key),
                                              UploadId=state.multipart.upload_id)
    fault_proxy.throttle_bytes_per_sec = None
    fault_proxy.reset_stats()
    done = upload_session(data_dir, session_id, config, UploadStateStore(data_dir), ProgressLog(),
                          threading.Event())
    stats = fault_proxy.stats()
    assert stats.requests["CreateMultipartUpload"] == 1
    assert set(stats.part_requests) == {1, 2, 3, 4}
    assert s3_server.client().get_object(Bucket=bucket, Key=str(done.s3_key))["Body"].read() == \
        zip_bytes(data_dir, session_id)


def _changed_after_one_part(data_dir: Path, config: Any, fault_proxy: FaultProxy
                            ) -> tuple[str, Any]:
    """A 16 MiB session whose upload stopped after one part, then exported again with other
    bytes: (its id, the stopped attempt's state)."""
    session_id = session_with_zip(data_dir, 16 * MIB)
    fault_proxy.throttle_bytes_per_sec = 20 * MIB
    old = _interrupt(data_dir, session_id, config, parts=1)
    zip_path = session_paths(data_dir, session_id).zip
    reexport(data_dir, session_id, zip_path.read_bytes() + os.urandom(1000))
    fault_proxy.throttle_bytes_per_sec = None
    return session_id, old


def test_changed_zip_aborts_old_upload_and_starts_over(data_dir: Path, s3_config: Any,
                                                       s3_server: S3Server, bucket: str,
                                                       fault_proxy: FaultProxy) -> None:
    config = s3_config(endpoint_url=fault_proxy.endpoint_url, concurrency=1)
    session_id, old = _changed_after_one_part(data_dir, config, fault_proxy)
    done = upload_session(data_dir, session_id, config, UploadStateStore(data_dir), ProgressLog(),
                          threading.Event())
    client = s3_server.client()
    open_ids = [u["UploadId"] for u in client.list_multipart_uploads(Bucket=bucket).get("Uploads", [])]
    assert old.multipart.upload_id not in open_ids
    assert fault_proxy.stats().requests["AbortMultipartUpload"] == 1
    assert client.get_object(Bucket=bucket, Key=str(done.s3_key))["Body"].read() == \
        zip_bytes(data_dir, session_id)


def reexport(data_dir: Path, session_id: str, data: bytes) -> None:
    """A new zip with its size and SHA-256 in the meta, as an export writes them."""
    import dataclasses
    import hashlib

    from app.sessions import load_meta, save_meta

    paths = session_paths(data_dir, session_id)
    paths.zip.write_bytes(data)
    meta = load_meta(paths).value
    assert meta is not None
    save_meta(paths, dataclasses.replace(meta, file_size_bytes=len(data),
                                         zip_sha256=hashlib.sha256(data).hexdigest()))


def test_abort_session_upload_leaves_nothing_open(data_dir: Path, s3_config: Any,
                                                  s3_server: S3Server, bucket: str,
                                                  fault_proxy: FaultProxy) -> None:
    config = s3_config(endpoint_url=fault_proxy.endpoint_url, concurrency=1)
    session_id = session_with_zip(data_dir, 16 * MIB)
    fault_proxy.throttle_bytes_per_sec = 20 * MIB
    _interrupt(data_dir, session_id, config, parts=1)
    store = UploadStateStore(data_dir)
    abort_session_upload(data_dir, session_id, config, store)
    state = store.get(session_id)
    assert state is not None and state.multipart is None and state.bytes_uploaded == 0
    assert s3_server.client().list_multipart_uploads(Bucket=bucket).get("Uploads", []) == []
    abort_session_upload(data_dir, session_id, config, store)  # nothing left: still fine


@pytest.mark.slow
def test_killed_cli_upload_resumes(data_dir: Path, s3_config: Any, s3_server: S3Server,
                                   bucket: str, fault_proxy: FaultProxy) -> None:
    s3_config(endpoint_url=fault_proxy.endpoint_url, concurrency=2)
    session_id = session_with_zip(data_dir, 30 * MIB)  # 6 parts
    fault_proxy.throttle_bytes_per_sec = 15 * MIB
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    cmd = [sys.executable, "-m", "app", "--data-dir", str(data_dir), "upload", session_id, "--wait"]
    proc = subprocess.Popen(cmd, cwd=REPO_ROOT, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    store = UploadStateStore(data_dir)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        state = store.get(session_id)
        if state and state.multipart and len(state.multipart.parts) >= 2:
            break
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.communicate()
    assert fault_proxy.wait_idle()
    killed = store.get(session_id)
    assert killed is not None and killed.multipart is not None and killed.status == "uploading"
    recorded = {p.part_number for p in killed.multipart.parts}
    total_parts = -(-len(zip_bytes(data_dir, session_id)) // PART)
    assert 2 <= len(recorded) < total_parts
    # Parts may have completed on the server after the last state write: those count too.
    held = {p["PartNumber"] for p in s3_server.client().list_parts(
        Bucket=bucket, Key=str(killed.s3_key), UploadId=killed.multipart.upload_id)["Parts"]}
    assert recorded <= held

    fault_proxy.throttle_bytes_per_sec = None
    fault_proxy.reset_stats()
    result = subprocess.run(cmd, cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert set(fault_proxy.stats().part_requests) == set(range(1, total_parts + 1)) - held
    final = store.get(session_id)
    assert final is not None and final.status == "done" and final.multipart is None
    assert s3_server.client().get_object(Bucket=bucket, Key=str(final.s3_key))["Body"].read() == \
        zip_bytes(data_dir, session_id)


def test_changed_zip_retries_an_abort_that_failed_for_a_moment(data_dir: Path, s3_config: Any,
                                                               s3_server: S3Server, bucket: str,
                                                               fault_proxy: FaultProxy) -> None:
    # A server still writing the stopped attempt's part may fail the abort once (moto: HTTP 500).
    config = s3_config(endpoint_url=fault_proxy.endpoint_url, concurrency=1)
    session_id, old = _changed_after_one_part(data_dir, config, fault_proxy)
    fault_proxy.reset_stats()
    fault_proxy.inject(Fault.error(500, "InternalError"), times=1, only="AbortMultipartUpload")
    done = upload_session(data_dir, session_id, config, UploadStateStore(data_dir), ProgressLog(),
                          threading.Event())
    assert fault_proxy.stats().requests["AbortMultipartUpload"] == 2
    open_ids = [u["UploadId"] for u in s3_server.client().list_multipart_uploads(Bucket=bucket)
                .get("Uploads", [])]
    assert old.multipart.upload_id not in open_ids
    assert s3_server.client().get_object(Bucket=bucket, Key=str(done.s3_key))["Body"].read() == \
        zip_bytes(data_dir, session_id)

