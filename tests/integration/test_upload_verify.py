"""Verify before upload, against moto over HTTP: a zip that is not the one the recorder wrote
is never uploaded (no object, no open multipart upload), a verified resume does not hash
again, and a session folder removed mid-upload ends the call with its upload aborted."""

from __future__ import annotations

import dataclasses
import os
import shutil
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from app.sessions import load_meta, save_meta, session_paths
from app.upload.s3.destination import upload_session
from app.upload.session import zip_verify
from app.upload.session.errors import SESSION_REMOVED_SENTENCE, ErrorKind, UploadCancelled, UploadError
from app.upload.session.state_store import UploadStateStore
from tests.integration.upload_helpers import (
    CORRUPTIONS,
    MIB,
    ProgressLog,
    corrupt_zip,
    object_keys,
    open_uploads,
    session_with_zip,
)
from tests.s3support.proxy import FaultProxy
from tests.s3support.server import S3Server


def _upload(data_dir: Path, session_id: str, config: Any, on_progress: Any = None,
            cancel: threading.Event | None = None) -> Any:
    return upload_session(data_dir, session_id, config, UploadStateStore(data_dir),
                          on_progress or ProgressLog(), cancel or threading.Event())


@pytest.mark.parametrize("size", [200_000, 12 * MIB], ids=["single", "multipart"])
@pytest.mark.parametrize("how", CORRUPTIONS)
def test_a_damaged_zip_is_never_uploaded(data_dir: Path, s3_config: Any, s3_server: S3Server,
                                         bucket: str, how: str, size: int) -> None:
    config = s3_config()
    session_id = session_with_zip(data_dir, size)
    other = session_with_zip(data_dir, size)
    corrupt_zip(data_dir, session_id, how, other)
    with pytest.raises(UploadError) as caught:
        _upload(data_dir, session_id, config)
    error = caught.value
    assert error.kind == ErrorKind.DAMAGED and error.permanent
    assert error.sentence.startswith(f"The zip of session {session_id} ")
    assert error.sentence.endswith(", so it is not uploaded.")
    client = s3_server.client()
    assert object_keys(client, bucket) == [] and open_uploads(client, bucket) == []
    state = UploadStateStore(data_dir).get(session_id)
    assert state is None or (state.multipart is None and state.bytes_uploaded == 0)


@pytest.mark.parametrize("how", ["truncate", "append", "flip_directory"])
def test_size_and_directory_damage_is_found_before_the_first_byte(
        data_dir: Path, s3_config: Any, bucket: str, fault_proxy: FaultProxy, how: str) -> None:
    config = s3_config(endpoint_url=fault_proxy.endpoint_url)
    session_id = session_with_zip(data_dir, 12 * MIB)
    corrupt_zip(data_dir, session_id, how)
    if how != "flip_directory":  # the size alone tells; with the size "fixed" the directory does
        paths = session_paths(data_dir, session_id)
        meta = load_meta(paths).value
        assert meta is not None
        save_meta(paths, dataclasses.replace(meta, file_size_bytes=paths.zip.stat().st_size))
    with pytest.raises(UploadError) as caught:
        _upload(data_dir, session_id, config)
    assert caught.value.kind == ErrorKind.DAMAGED
    stats = fault_proxy.stats()
    if how == "append":
        # zipfile finds the directory even with bytes after it: only the SHA-256 can tell, and
        # the upload was aborted before completing.
        assert stats.requests["CompleteMultipartUpload"] == 0
        assert stats.requests["AbortMultipartUpload"] == 1
    else:
        assert sum(stats.requests.values()) == 0, stats.requests  # nothing was sent at all


def test_a_hash_mismatch_stops_the_parts_early(data_dir: Path, s3_config: Any, bucket: str,
                                                fault_proxy: FaultProxy) -> None:
    config = s3_config(endpoint_url=fault_proxy.endpoint_url, concurrency=2)
    fault_proxy.throttle_bytes_per_sec = 10 * MIB  # the hash pass is ~100x faster than this
    session_id = session_with_zip(data_dir, 60 * MIB)  # 12 parts
    corrupt_zip(data_dir, session_id, "flip")
    with pytest.raises(UploadError) as caught:
        _upload(data_dir, session_id, config)
    assert caught.value.kind == ErrorKind.DAMAGED
    fault_proxy.wait_idle()
    stats = fault_proxy.stats()
    assert len(stats.part_requests) <= 4, stats.part_requests  # the first parts at most
    assert stats.requests["CompleteMultipartUpload"] == 0


def test_metadata_without_a_recorded_hash_is_refused(data_dir: Path, s3_config: Any,
                                                     s3_server: S3Server, bucket: str) -> None:
    config = s3_config()
    session_id = session_with_zip(data_dir, 1000)
    paths = session_paths(data_dir, session_id)
    meta = load_meta(paths).value
    assert meta is not None
    save_meta(paths, dataclasses.replace(meta, zip_sha256=None))
    with pytest.raises(UploadError) as caught:
        _upload(data_dir, session_id, config)
    assert caught.value.kind == ErrorKind.DAMAGED and "SHA-256" in caught.value.sentence
    assert object_keys(s3_server.client(), bucket) == []


@pytest.mark.parametrize("what", ["symlink", "fifo", "folder_symlink"])
def test_links_and_fifos_are_refused_and_nothing_outside_is_read(
        data_dir: Path, tmp_path: Path, s3_config: Any, s3_server: S3Server, bucket: str,
        what: str) -> None:
    config = s3_config()
    session_id = session_with_zip(data_dir, 1000)
    paths = session_paths(data_dir, session_id)
    victim = tmp_path / "victim.zip"
    shutil.copy(paths.zip, victim)  # a valid zip with the recorded hash, outside the folder
    before = (victim.read_bytes(), victim.stat().st_mtime_ns)
    if what == "symlink":
        paths.zip.unlink()
        paths.zip.symlink_to(victim)
    elif what == "fifo":
        paths.zip.unlink()
        os.mkfifo(paths.zip)
    else:
        moved = tmp_path / "elsewhere"
        shutil.move(paths.root, moved)
        paths.root.symlink_to(moved, target_is_directory=True)
    started = time.monotonic()
    with pytest.raises(UploadError) as caught:
        _upload(data_dir, session_id, config)
    assert time.monotonic() - started < 5  # a FIFO never blocks
    assert caught.value.kind == ErrorKind.DAMAGED, caught.value
    assert object_keys(s3_server.client(), bucket) == []
    assert (victim.read_bytes(), victim.stat().st_mtime_ns) == before
    if what == "folder_symlink":
        assert not (tmp_path / "elsewhere" / "upload-state.json").exists()  # nothing written there


def test_a_verified_resume_does_not_hash_again_and_a_touched_zip_does(
        data_dir: Path, s3_config: Any, s3_server: S3Server, bucket: str,
        monkeypatch: pytest.MonkeyPatch) -> None:
    config = s3_config(concurrency=1)
    session_id = session_with_zip(data_dir, 16 * MIB)  # 4 parts
    passes: list[int] = []
    original_start = zip_verify.SequentialDigests.start

    def counting_start(self: zip_verify.SequentialDigests) -> zip_verify.SequentialDigests:
        passes.append(1)
        return original_start(self)

    monkeypatch.setattr(zip_verify.SequentialDigests, "start", counting_start)
    store = UploadStateStore(data_dir)

    def interrupt() -> None:
        cancel = threading.Event()

        def on_progress(progress: Any) -> None:
            current = store.get(session_id)
            if progress.bytes_uploaded >= 5 * MIB and current and current.multipart and \
                    current.multipart.zip_verified:
                cancel.set()
        with pytest.raises(UploadCancelled):
            _upload(data_dir, session_id, config, on_progress, cancel)

    interrupt()
    assert passes == [1]
    state = store.get(session_id)
    assert state is not None and state.multipart is not None and state.multipart.zip_verified
    # The same file (size, mtime, ctime): resumed without a second pass over it.
    os.chmod(session_paths(data_dir, session_id).zip, 0o600)  # ... but a chmod touches the ctime
    resumed = _upload(data_dir, session_id, config)
    assert passes == [1, 1]  # ctime moved: checked again before completing
    assert resumed.status == "not_uploaded" and resumed.multipart is None  # the queue sets status
    body = s3_server.client().get_object(Bucket=bucket, Key=str(resumed.s3_key))["Body"].read()
    assert body == session_paths(data_dir, session_id).zip.read_bytes()


def test_an_unchanged_verified_zip_resumes_without_hashing(
        data_dir: Path, s3_config: Any, s3_server: S3Server, bucket: str,
        monkeypatch: pytest.MonkeyPatch) -> None:
    config = s3_config(concurrency=1)
    session_id = session_with_zip(data_dir, 16 * MIB)
    store = UploadStateStore(data_dir)
    cancel = threading.Event()

    def on_progress(progress: Any) -> None:
        current = store.get(session_id)
        if progress.bytes_uploaded >= 5 * MIB and current and current.multipart and \
                current.multipart.zip_verified:
            cancel.set()
    with pytest.raises(UploadCancelled):
        _upload(data_dir, session_id, config, on_progress, cancel)

    def no_second_pass(self: Any) -> Any:
        raise AssertionError("an unchanged, verified zip was hashed again")

    monkeypatch.setattr(zip_verify.SequentialDigests, "start", no_second_pass)
    done = _upload(data_dir, session_id, config)
    assert done.bytes_uploaded == done.total_bytes
    head = s3_server.client().head_object(Bucket=bucket, Key=str(done.s3_key))
    assert head["ContentLength"] == session_paths(data_dir, session_id).zip.stat().st_size


def test_a_zip_written_to_during_its_upload_is_not_completed(
        data_dir: Path, s3_config: Any, s3_server: S3Server, bucket: str,
        fault_proxy: FaultProxy) -> None:
    config = s3_config(endpoint_url=fault_proxy.endpoint_url, concurrency=1)
    fault_proxy.throttle_bytes_per_sec = 20 * MIB
    session_id = session_with_zip(data_dir, 16 * MIB)
    path = session_paths(data_dir, session_id).zip
    written = threading.Event()

    def on_progress(progress: Any) -> None:
        if progress.bytes_uploaded >= 5 * MIB and not written.is_set():
            with path.open("r+b") as handle:  # in place: the same inode the upload reads
                handle.seek(100)
                handle.write(handle.read(1))  # the same byte: only the mtime tells
            written.set()
    with pytest.raises(UploadError) as caught:
        _upload(data_dir, session_id, config, on_progress)
    assert written.is_set()
    assert caught.value.kind == ErrorKind.INTEGRITY and not caught.value.permanent
    assert "changed while it was being uploaded" in caught.value.sentence
    client = s3_server.client()
    assert object_keys(client, bucket) == [] and open_uploads(client, bucket) == []


def test_a_folder_removed_mid_upload_ends_it_within_two_seconds(
        data_dir: Path, s3_config: Any, s3_server: S3Server, bucket: str,
        fault_proxy: FaultProxy) -> None:
    config = s3_config(endpoint_url=fault_proxy.endpoint_url, concurrency=2)
    fault_proxy.throttle_bytes_per_sec = 4 * MIB  # ~10 s for the whole zip
    session_id = session_with_zip(data_dir, 40 * MIB)
    root = session_paths(data_dir, session_id).root
    removed_at: list[float] = []

    def on_progress(progress: Any) -> None:
        if progress.bytes_uploaded >= 5 * MIB and not removed_at:
            shutil.rmtree(root)
            removed_at.append(time.monotonic())
    with pytest.raises(UploadError) as caught:
        _upload(data_dir, session_id, config, on_progress)
    took = time.monotonic() - removed_at[0]
    assert caught.value.kind == ErrorKind.SESSION_REMOVED
    assert caught.value.sentence == SESSION_REMOVED_SENTENCE
    assert took < 2.0, took
    client = s3_server.client()
    assert open_uploads(client, bucket) == [] and object_keys(client, bucket) == []
    assert not root.exists()  # nothing recreated it (no state written into a missing folder)
