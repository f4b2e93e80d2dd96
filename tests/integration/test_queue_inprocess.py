"""The upload queue (UploadQueue on its QThread) with the real engine against moto's S3 server,
a FaultProxy in between where faults are needed. Every signal re-reads every state file."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from app.upload.qt_queue import UploadQueue
from app.upload.queue.backoff import delay_bounds
from tests.factories import make_session
from tests.integration.queue_helpers import (
    QueueWatch,
    all_states_parse,
    assert_in_bucket,
    open_multipart_uploads,
    state,
)
from tests.s3support.proxy import Fault

MIB = 1024 * 1024
T0 = 1_700_000_000_000


@pytest.fixture
def make_queue(data_dir: Path) -> Iterator[Any]:
    queues: list[UploadQueue] = []

    def make() -> tuple[UploadQueue, QueueWatch]:
        queue = UploadQueue(data_dir)
        watch = QueueWatch(data_dir).connect_to(queue)
        queue.start()
        queues.append(queue)
        return queue, watch

    yield make
    for queue in queues:
        assert queue.shutdown()


def test_five_sessions_upload_one_at_a_time_in_order(qtbot, data_dir, s3_server, bucket, s3_config,
                                                      make_queue) -> None:
    config = s3_config()
    sizes = [64 * 1024, 6 * MIB, 200 * 1024, 12 * 1024, 300 * 1024]  # one multipart among them
    ids = [make_session(data_dir, T0 + i * 1000, zip_bytes=size) for i, size in enumerate(sizes)]
    queue, watch = make_queue()
    for session_id in ids:
        assert queue.enqueue(session_id) is None
    qtbot.waitUntil(lambda: all(watch.last(i) == "done" for i in ids), timeout=60_000)

    assert watch.max_parallel == 1
    assert [i for i, s, _ in watch.statuses if s == "uploading"] == ids  # FIFO
    assert watch.failures == [] and watch.wrong_thread == 0
    client = s3_server.client()
    for session_id in ids:
        assert_in_bucket(client, bucket, config, data_dir, session_id)
        final = state(data_dir, session_id)
        assert final.bytes_uploaded == final.total_bytes > 0 and final.multipart is None
        assert final.completed_at is not None
    assert open_multipart_uploads(client, bucket) == []
    assert max(watch.progress_count.values()) < 200  # throttled, not one per chunk


def test_transient_failures_back_off_then_poison_pill_while_others_pass(
        qtbot, data_dir, s3_server, bucket, s3_config, fault_proxy, make_queue) -> None:
    config = s3_config(endpoint_url=fault_proxy.endpoint_url, max_retries=3,
                       backoff_base_sec=0.2, backoff_cap_sec=1.0)
    # Every part upload fails with a 503: the multipart session can never finish, while a
    # small session (one PutObject) passes the proxy untouched.
    fault_proxy.inject(Fault.service_unavailable(), times=None, only="UploadPart")
    poison = make_session(data_dir, T0, zip_bytes=6 * MIB)
    small = make_session(data_dir, T0 + 1000, zip_bytes=100 * 1024)
    queue, watch = make_queue()
    assert queue.enqueue(poison) is None
    qtbot.waitUntil(lambda: watch.last(poison) == "pending" and len(watch.times(poison, "uploading")) == 1,
                    timeout=30_000)
    assert queue.enqueue(small) is None  # arrives while the poison session waits out its backoff
    qtbot.waitUntil(lambda: watch.last(poison) == "failed", timeout=60_000)

    assert watch.last(small) == "done"
    small_done = watch.times(small, "done")[0]
    assert small_done < watch.times(poison, "uploading")[-1]  # did not wait behind the poison pill
    # The delays written into the state grow as min(base * 2^n, cap) + jitter.
    waits = [s for s in watch.states_at_status if s.session_id == poison and s.status == "pending"
             and s.next_attempt_at is not None]
    assert [s.retry_count for s in waits] == [1, 2, 3]
    for n, waiting in enumerate(waits):
        low, high = delay_bounds(n, config.backoff_base_sec, config.backoff_cap_sec)
        assert waiting.next_attempt_at is not None
        written = (waiting.next_attempt_at - waiting.updated_at) / 1000
        assert low - 0.01 <= written <= high + 0.01
    # ... and the queue really waited that long before the next attempt.
    failures = [t for i, s, t in watch.statuses if i == poison and s == "pending"][1:]  # [0] = enqueue
    attempts = watch.times(poison, "uploading")[1:]
    assert len(attempts) == 3
    for n, (failed_at, retried_at) in enumerate(zip(failures, attempts, strict=True)):
        assert retried_at - failed_at >= delay_bounds(n, 0.2, 1.0)[0] - 0.01
    final = state(data_dir, poison)
    assert final.status == "failed" and final.retry_count == 3 and final.error_kind is not None
    assert final.last_error and watch.failures == [(poison, final.last_error)]
    assert_in_bucket(s3_server.client(), bucket, config, data_dir, small)


def test_permanent_error_fails_at_once_then_retry_after_the_fix_completes(
        qtbot, data_dir, s3_server, bucket, s3_config, fault_proxy, make_queue) -> None:
    config = s3_config(endpoint_url=fault_proxy.endpoint_url, max_retries=5,
                       backoff_base_sec=0.1, backoff_cap_sec=1.0)
    fault_proxy.inject(Fault.invalid_access_key(), times=None)
    sid = make_session(data_dir, T0, zip_bytes=6 * MIB)
    queue, watch = make_queue()
    with qtbot.waitSignal(queue.failed, timeout=2000) as blocker:
        assert queue.enqueue(sid) is None
    sentence = blocker.args[1]
    failed = state(data_dir, sid)
    assert failed.status == "failed" and failed.retry_count == 0
    assert failed.last_error == sentence and failed.error_kind == "invalid_credentials"
    assert "InvalidAccessKeyId" not in sentence and sentence.endswith(".") and len(sentence) < 200
    assert len(watch.times(sid, "uploading")) == 1  # no retries

    fault_proxy.clear()
    assert queue.retry(sid) is None
    qtbot.waitUntil(lambda: watch.last(sid) == "done", timeout=30_000)
    assert state(data_dir, sid).retry_count == 0
    assert_in_bucket(s3_server.client(), bucket, config, data_dir, sid)


def test_cancel_pending_and_uploading_leaves_nothing_open(
        qtbot, data_dir, s3_server, bucket, s3_config, fault_proxy, make_queue) -> None:
    s3_config(endpoint_url=fault_proxy.endpoint_url, concurrency=2)
    fault_proxy.throttle_bytes_per_sec = 2 * MIB  # slow uplink: the upload is still running
    running = make_session(data_dir, T0, zip_bytes=12 * MIB)
    waiting = make_session(data_dir, T0 + 1000, zip_bytes=6 * MIB)
    queue, watch = make_queue()
    queue.enqueue(running)
    queue.enqueue(waiting)
    client = s3_server.client()
    qtbot.waitUntil(lambda: len(open_multipart_uploads(client, bucket)) == 1
                    and watch.last(waiting) == "pending", timeout=30_000)

    with qtbot.waitSignal(queue.statusChanged, timeout=5000,
                          check_params_cb=lambda r: (r.session_id, r.status) == (waiting, "not_uploaded")):
        assert queue.cancel(waiting) is None
    with qtbot.waitSignal(queue.statusChanged, timeout=5000,
                          check_params_cb=lambda r: (r.session_id, r.status) == (running, "not_uploaded")):
        assert queue.cancel(running) is None
    assert open_multipart_uploads(client, bucket) == []
    for session_id in (running, waiting):
        final = state(data_dir, session_id)
        assert final.status == "not_uploaded" and final.multipart is None
    assert watch.times(waiting, "uploading") == []
    # Cancelling what is not queued is refused with a sentence and changes nothing.
    before = all_states_parse(data_dir)
    assert queue.cancel(running) == f"Session {running} is not queued or failed (it is not uploaded)."
    assert all_states_parse(data_dir) == before


def test_quit_mid_upload_keeps_the_multipart_and_the_next_start_sends_only_the_rest(
        qtbot, data_dir, s3_server, bucket, s3_config, fault_proxy) -> None:
    config = s3_config(endpoint_url=fault_proxy.endpoint_url, concurrency=1)
    fault_proxy.throttle_bytes_per_sec = 8 * MIB
    sid = make_session(data_dir, T0, zip_bytes=16 * MIB)  # 4 parts of 5 MiB
    first = UploadQueue(data_dir)
    watch = QueueWatch(data_dir).connect_to(first)
    first.start()
    first.enqueue(sid)
    qtbot.waitUntil(lambda: (s := state(data_dir, sid)).multipart is not None
                    and len(s.multipart.parts) >= 1, timeout=30_000)
    assert first.shutdown(timeout=2.0)  # stops within the 2 s promise
    interrupted = state(data_dir, sid)
    assert interrupted.status == "pending" and interrupted.multipart is not None
    client = s3_server.client()
    assert len(open_multipart_uploads(client, bucket)) == 1  # kept for resume
    on_server = {p["PartNumber"] for p in client.list_parts(
        Bucket=bucket, Key=interrupted.s3_key or "", UploadId=interrupted.multipart.upload_id
    ).get("Parts", [])}
    assert on_server

    fault_proxy.throttle_bytes_per_sec = None
    fault_proxy.reset_stats()
    second = UploadQueue(data_dir)
    watch = QueueWatch(data_dir).connect_to(second)
    second.start()  # restore picks the session up by itself
    try:
        qtbot.waitUntil(lambda: watch.last(sid) == "done", timeout=30_000)
    finally:
        assert second.shutdown()
    sent_again = set(fault_proxy.stats().parts_forwarded)
    assert sent_again.isdisjoint(on_server)
    assert sent_again | on_server == set(range(1, 5))
    assert_in_bucket(client, bucket, config, data_dir, sid)
    assert open_multipart_uploads(client, bucket) == []


def test_delete_after_upload_removes_only_the_uploaded_sessions_files(
        qtbot, data_dir, s3_server, bucket, s3_config, make_queue) -> None:
    s3_config(delete_after_upload=True)
    uploaded = make_session(data_dir, T0)
    untouched = make_session(data_dir, T0 + 1000)
    queue, watch = make_queue()
    queue.enqueue(uploaded)
    qtbot.waitUntil(lambda: watch.last(uploaded) == "done", timeout=30_000)
    qtbot.waitUntil(lambda: not (data_dir / "sessions" / uploaded / "session.zip").exists(), timeout=5000)
    left = sorted(p.name for p in (data_dir / "sessions" / uploaded).iterdir())
    assert left == ["session-meta.json", "upload-state.json"]
    assert (data_dir / "sessions" / untouched / "session.zip").exists()


def test_bad_enqueue_is_one_sentence_and_changes_nothing(data_dir, s3_config, make_queue) -> None:
    s3_config()
    not_exported = make_session(data_dir, T0, exported=False)
    queue, _ = make_queue()
    before = _snapshot(data_dir)
    for sid, expected in ((not_exported, "is not exported yet"), ("ghost", "There is no session ghost")):
        sentence = queue.enqueue(sid)
        assert sentence is not None and expected in sentence and sentence.count(". ") == 0
    after = _snapshot(data_dir)
    assert after == before


def _snapshot(data_dir: Path) -> dict[Path, bytes]:
    return {p: p.read_bytes() for p in (data_dir / "sessions").rglob("*") if p.is_file()}
