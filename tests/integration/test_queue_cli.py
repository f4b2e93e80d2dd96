"""The queue through the command line, across processes: hand-off of `cancel` to the process
that owns the queue, and kill -9 in the middle of `upload --wait` followed by `queue --wait`."""

from __future__ import annotations

import random
import signal
import subprocess
import sys
import time
from functools import partial
from pathlib import Path

import pytest

from app.upload.queue.lock import read_owner
from tests.factories import make_session
from tests.integration.queue_helpers import (
    all_states_parse,
    assert_in_bucket,
    cli,
    cli_env,
    maybe_state,
    open_multipart_uploads,
    poll,
    run_cli,
    sha256_file,
    start_cli,
    state,
)
from tests.s3support.proxy import Fault

MIB = 1024 * 1024
T0 = 1_700_000_000_000


def test_cli_validation_and_queued_hint(data_dir: Path, s3_config) -> None:
    s3_config()
    sid = make_session(data_dir, T0)
    not_exported = make_session(data_dir, T0 + 1, exported=False)
    bad = run_cli(data_dir, "upload", sid, not_exported)
    assert bad.returncode == 2 and "is not exported yet" in bad.stderr
    assert all_states_parse(data_dir) == {}  # nothing queued when any id is bad
    ok = run_cli(data_dir, "upload", sid)
    assert ok.returncode == 0, ok.stderr
    assert "queued; run `sessionrec queue --wait` or open the app to upload" in ok.stdout
    assert state(data_dir, sid).status == "pending"
    retry = run_cli(data_dir, "retry", sid)
    assert retry.returncode == 2 and "has not failed" in retry.stderr
    cancel = run_cli(data_dir, "cancel", sid)  # no owner: acts on disk
    assert cancel.returncode == 0, cancel.stderr
    assert state(data_dir, sid).status == "not_uploaded"


@pytest.mark.slow
def test_cancel_from_a_second_process_stops_the_owners_upload(
        data_dir: Path, s3_server, bucket, s3_config, fault_proxy) -> None:
    s3_config(endpoint_url=fault_proxy.endpoint_url, concurrency=2)
    fault_proxy.throttle_bytes_per_sec = 1 * MIB  # ~8 s for this zip: still running when we cancel
    sid = make_session(data_dir, T0, zip_bytes=16 * MIB)
    assert run_cli(data_dir, "upload", sid).returncode == 0  # pending, for the queue to pick up
    owner = start_cli(data_dir, "queue", "--wait")
    client = s3_server.client()
    try:
        poll(lambda: (s := maybe_state(data_dir, sid)) is not None and s.status == "uploading"
             and len(open_multipart_uploads(client, bucket)) == 1, timeout=30)
        assert read_owner(data_dir).pid == owner.pid
        all_states_parse(data_dir)
        started = time.monotonic()
        cancel = run_cli(data_dir, "cancel", sid, timeout=30)
        took = time.monotonic() - started
        if cancel.returncode != 0 and owner.poll() is None:
            owner.kill()
        assert cancel.returncode == 0, (cancel.stderr, owner.communicate(timeout=30))
        assert f"{sid}: cancelled" in cancel.stdout
        # The answer comes only after the owner stopped the upload and aborted it.
        assert state(data_dir, sid).status == "not_uploaded"
        assert open_multipart_uploads(client, bucket) == []
        _out, err = owner.communicate(timeout=30)
        assert owner.returncode == 0, err  # nothing left to do: the owner finishes
    finally:
        if owner.poll() is None:
            owner.kill()
            owner.wait()
    print(f"cancel handed over and done in {took:.2f} s (process start included)")
    assert state(data_dir, sid).multipart is None


@pytest.mark.slow
def test_kill_9_mid_upload_then_queue_wait_sends_only_missing_parts(
        data_dir: Path, s3_server, bucket, s3_config, fault_proxy) -> None:
    # One part at a time at 8 MiB/s: parts land at ~0.6, 1.25 and 1.4 s, so random kill
    # points fall before, between and after them.
    config = s3_config(endpoint_url=fault_proxy.endpoint_url, concurrency=1)
    client = s3_server.client()
    rng = random.Random(20240605)
    resumed_rounds = 0
    for round_no in range(10):
        sid = make_session(data_dir, T0 + round_no * 1000, zip_bytes=11 * MIB)  # 3 parts
        zip_sha = sha256_file(data_dir / "sessions" / sid / "session.zip")
        fault_proxy.throttle_bytes_per_sec = 8 * MIB
        fault_proxy.reset_stats()
        victim = start_cli(data_dir, "upload", sid, "--wait")
        try:
            poll(partial(_multipart_started, data_dir, sid), timeout=30, every=0.01)
            time.sleep(rng.uniform(0.1, 1.4))  # a random point inside the ~1.4 s upload
        finally:
            victim.send_signal(signal.SIGKILL)
            victim.wait()
        assert fault_proxy.wait_idle()  # a part the proxy was still forwarding has landed
        all_states_parse(data_dir)
        before = state(data_dir, sid)
        on_server: set[int] = set()
        if before.status != "done" and before.multipart is not None:
            try:
                listed = client.list_parts(Bucket=bucket, Key=before.s3_key or "",
                                           UploadId=before.multipart.upload_id)
                on_server = {p["PartNumber"] for p in listed.get("Parts", [])}
            except client.exceptions.NoSuchUpload:
                on_server = set()
        fault_proxy.throttle_bytes_per_sec = None
        fault_proxy.reset_stats()
        finisher = run_cli(data_dir, "queue", "--wait", timeout=120)
        assert finisher.returncode == 0, finisher.stderr
        after = state(data_dir, sid)
        assert after.status == "done" and after.multipart is None
        assert_in_bucket(client, bucket, config, data_dir, sid, zip_sha)
        if before.status != "done":
            sent_again = set(fault_proxy.stats().parts_forwarded)
            assert sent_again.isdisjoint(on_server), (round_no, sent_again, on_server)
            if on_server:
                resumed_rounds += 1
                assert sent_again | on_server == {1, 2, 3}
        assert open_multipart_uploads(client, bucket) == []
    print(f"{resumed_rounds} of 10 kills landed after at least one part was on the server")
    assert resumed_rounds >= 3  # the kill points really were mid-upload


def _multipart_started(data_dir: Path, session_id: str) -> bool:
    current = maybe_state(data_dir, session_id)
    return current is not None and current.status == "uploading" and current.multipart is not None


def test_upload_wait_exits_1_with_one_sentence_when_a_session_fails(
        data_dir: Path, s3_server, bucket, s3_config, fault_proxy) -> None:
    s3_config(endpoint_url=fault_proxy.endpoint_url)
    fault_proxy.inject(Fault.invalid_access_key(), times=None)
    failing = make_session(data_dir, T0)
    result = run_cli(data_dir, "upload", failing, "--wait")
    assert result.returncode == 1
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith(f"sessionrec: Session {failing} was not uploaded: ")
    assert last.count(". ") == 0 and "InvalidAccessKeyId" not in last
    assert state(data_dir, failing).status == "failed"
    fault_proxy.clear()
    assert run_cli(data_dir, "retry", failing).returncode == 0  # no owner: pending on disk
    done = run_cli(data_dir, "queue", "--wait")
    assert done.returncode == 0, done.stderr
    assert state(data_dir, failing).status == "done"


def _imported(stderr: str) -> set[str]:
    """Top-level module names in `python -X importtime` output."""
    names = set()
    for line in stderr.splitlines():
        if line.startswith("import time:") and line.count("|") == 2:
            names.add(line.rsplit("|", 1)[1].strip().split(".")[0])
    return names


def test_upload_wait_and_queue_wait_run_without_qt(data_dir: Path, s3_server, bucket,
                                                   s3_config) -> None:
    """A headless upload loads neither Qt nor the keyring (its secret is in credentials.json
    here) nor boto3/s3transfer: each costs a short-lived process time and memory."""
    config = s3_config()
    client = s3_server.client()
    heavy = {"PySide6", "shiboken6", "keyring", "boto3", "s3transfer"}
    first = make_session(data_dir, T0, zip_bytes=2 * MIB)
    result = subprocess.run([sys.executable, "-X", "importtime", *cli(data_dir, "upload", first,
                                                                     "--wait")[1:]],
                            env=cli_env(), capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    loaded = _imported(result.stderr)
    assert "botocore" in loaded  # the parser sees real imports
    assert loaded & heavy == set()
    assert_in_bucket(client, bucket, config, data_dir, first,
                     sha256_file(data_dir / "sessions" / first / "session.zip"))

    second = make_session(data_dir, T0 + 1)
    assert run_cli(data_dir, "upload", second).returncode == 0  # pending, for queue --wait
    result = subprocess.run([sys.executable, "-X", "importtime", *cli(data_dir, "queue",
                                                                     "--wait")[1:]],
                            env=cli_env(), capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    assert _imported(result.stderr) & heavy == set()
    assert state(data_dir, second).status == "done"


@pytest.mark.slow
def test_the_window_hands_cancel_to_a_command_line_owner(
        qtbot, data_dir: Path, s3_server, bucket, s3_config, fault_proxy) -> None:
    """The window's RemoteQueue (the window found the queue taken) and a `queue --wait`
    owner's plain socket server."""
    from app.upload.qt_ipc import RemoteQueue

    s3_config(endpoint_url=fault_proxy.endpoint_url, concurrency=2)
    fault_proxy.throttle_bytes_per_sec = 1 * MIB
    sid = make_session(data_dir, T0, zip_bytes=16 * MIB)
    assert run_cli(data_dir, "upload", sid).returncode == 0
    owner = start_cli(data_dir, "queue", "--wait")
    client = s3_server.client()
    try:
        poll(lambda: (s := maybe_state(data_dir, sid)) is not None and s.status == "uploading"
             and len(open_multipart_uploads(client, bucket)) == 1, timeout=30)
        # Blocks until the owner answered (the window calls it on its executor).
        assert RemoteQueue(data_dir).cancel(sid) is None
        assert state(data_dir, sid).status == "not_uploaded"
        assert open_multipart_uploads(client, bucket) == []
        _out, err = owner.communicate(timeout=30)
        assert owner.returncode == 0, err
    finally:
        if owner.poll() is None:
            owner.kill()
            owner.wait()
