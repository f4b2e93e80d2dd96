"""Backoff arithmetic, restore planning and the one-queue-per-data-dir lock."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from app.models import UploadState
from app.upload.queue.backoff import backoff_delay, base_delay, delay_bounds
from app.upload.queue.lock import QueueLock, read_owner
from app.upload.queue.restore import StoredSession, plan_restore, restore_queue
from app.upload.session.state_store import UploadStateStore
from tests.factories import make_session


def test_backoff_doubles_until_the_cap() -> None:
    assert [base_delay(n, 1.0, 300.0) for n in range(10)] == [1, 2, 4, 8, 16, 32, 64, 128, 256, 300]
    assert base_delay(5000, 1.0, 300.0) == 300.0
    assert base_delay(3, 0.01, 0.05) == 0.05


@given(st.integers(0, 2000), st.floats(0, 10), st.floats(0, 1000), st.floats(0, 1))
def test_backoff_stays_within_its_bounds(n: int, base: float, cap: float, r: float) -> None:
    low, high = delay_bounds(n, base, cap)
    assert low <= backoff_delay(n, base, cap, rng=lambda: r) <= high
    assert high <= cap * 1.1 + 1e-9


def _state(status: str, kind: str | None = None, retries: int = 0) -> UploadState:
    return UploadState(session_id="s", status=status, created_at=1, updated_at=1,  # type: ignore[arg-type]
                       error_kind=kind, retry_count=retries, max_retries=3)


def test_plan_restore_rules_and_order() -> None:
    sessions = [
        StoredSession("late-pending", 30, _state("pending")),
        StoredSession("early-uploading", 10, _state("uploading")),
        StoredSession("transient-failed", 20, _state("failed", "server", 1)),
        StoredSession("transient-at-max", 5, _state("failed", "network", 3)),
        StoredSession("permanent", 1, _state("failed", "access_denied")),
        StoredSession("unknown-kind", 2, _state("failed", "something-new")),
        StoredSession("done", 3, _state("done")),
        StoredSession("never", 4, None),
    ]
    assert plan_restore(sessions) == ["early-uploading", "transient-failed", "late-pending"]


def test_restore_queue_keeps_the_multipart_record(data_dir: Path) -> None:
    sid = make_session(data_dir, 1_700_000_000_000, status="uploading")
    store = UploadStateStore(data_dir)
    from app.models import MultipartState
    store.update(sid, multipart=MultipartState("up-1", 5 * 1024 * 1024, 10, 1))
    assert restore_queue(data_dir, store) == [sid]
    state = store.get(sid)
    assert state is not None and state.status == "pending" and state.multipart is not None


def test_lock_is_exclusive_and_records_the_owner(data_dir: Path) -> None:
    first, second = QueueLock(data_dir), QueueLock(data_dir)
    assert first.acquire("sock")
    assert not second.acquire()
    assert read_owner(data_dir).pid == os.getpid()
    assert read_owner(data_dir).socket == "sock"
    first.release()
    assert second.acquire()
    second.release()


def test_a_killed_owner_leaves_the_lock_free(data_dir: Path) -> None:
    code = ("import sys, time; from pathlib import Path; from app.upload.queue.lock import QueueLock;"
            "assert QueueLock(Path(sys.argv[1])).acquire(); print('held', flush=True); time.sleep(60)")
    root = Path(__file__).resolve().parents[2]
    child = subprocess.Popen([sys.executable, "-c", code, str(data_dir)], cwd=root,
                             env={**os.environ, "PYTHONPATH": str(root)}, stdout=subprocess.PIPE)
    try:
        assert child.stdout is not None and child.stdout.readline().strip() == b"held"
        assert not QueueLock(data_dir).acquire()
        assert read_owner(data_dir).pid == child.pid
    finally:
        child.kill()
        child.wait()
    lock = QueueLock(data_dir)
    assert lock.acquire()  # taken over from the dead owner
    assert read_owner(data_dir).pid == os.getpid()
    lock.release()
