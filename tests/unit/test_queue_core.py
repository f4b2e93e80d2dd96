"""The queue loop (Qt-free core) with a scripted engine: ordering, backoff, cancel, shutdown.

The real engine against a real S3 server is in tests/integration/test_queue_*.py; here the
engine is a stand-in so each rule of DESIGN §5 can be driven exactly.
"""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from app.models import UploadState
from app.upload.queue.backoff import delay_bounds
from app.upload.queue.calls import DestinationCalls as Engine
from app.upload.queue.core import SerialQueue
from app.upload.session.errors import ErrorKind, UploadCancelled, UploadError
from app.upload.session.progress import Progress
from app.upload.session.state_store import UploadStateStore
from tests.factories import make_session


@dataclass(frozen=True)
class FakeConfig:
    max_retries: int = 3
    backoff_base_sec: float = 0.05
    backoff_cap_sec: float = 0.3
    delete_after_upload: bool = False
    keep_uploaded: int | None = None


@dataclass
class Recorder:
    statuses: list[tuple[str, str]] = field(default_factory=list)
    failures: list[tuple[str, str]] = field(default_factory=list)
    progress_events: list[tuple[str, Progress]] = field(default_factory=list)
    idle_count: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)
    data_dir: Path | None = None

    def status_changed(self, session_id: str, status: str) -> None:
        with self.lock:
            self.statuses.append((session_id, status))
        if self.data_dir is not None:  # the file on disk agrees with the event, and parses
            state = UploadStateStore(self.data_dir).get(session_id)
            assert state is not None and state.status == status

    def progress(self, session_id: str, progress: Progress) -> None:
        self.progress_events.append((session_id, progress))

    def failed(self, session_id: str, sentence: str) -> None:
        self.failures.append((session_id, sentence))

    def queue_changed(self) -> None:
        pass

    def idle(self) -> None:
        self.idle_count += 1

    def status_of(self, session_id: str) -> str | None:
        with self.lock:
            found = [s for i, s in self.statuses if i == session_id]
        return found[-1] if found else None


class ScriptedEngine:
    """upload(): runs `duration_s` unless its session's script says to raise first."""

    def __init__(self, config: FakeConfig, duration_s: float = 0.05) -> None:
        self.config = config
        self.duration_s = duration_s
        self.script: dict[str, list[UploadError]] = {}
        self.calls: list[tuple[str, float]] = []
        self.aborted: list[str] = []
        self.hold: dict[str, threading.Event] = {}

    def upload(self, data_dir, session_id, config, store, on_progress, cancel) -> UploadState:
        self.calls.append((session_id, time.monotonic()))
        errors = self.script.get(session_id)
        if errors:
            raise errors.pop(0)
        size = 1000
        store.update(session_id, total_bytes=size)
        deadline = time.monotonic() + self.duration_s
        gate = self.hold.get(session_id)
        while time.monotonic() < deadline or (gate is not None and not gate.is_set()):
            if cancel.wait(0.01):
                raise UploadCancelled()
            on_progress(Progress(500, size, 1.0, 1.0))
        return store.update(session_id, bytes_uploaded=size, total_bytes=size)

    def abort(self, data_dir, session_id, config, store) -> None:
        self.aborted.append(session_id)
        store.update(session_id, multipart=None, bytes_uploaded=0)

    def load_config(self, data_dir: Path):
        return self.config, None

    def engine(self) -> Engine:
        return Engine(upload=self.upload, abort=self.abort, load_config=self.load_config)


def start(data_dir: Path, scripted: ScriptedEngine, restore: bool = True):
    events = Recorder(data_dir=data_dir)
    core = SerialQueue(data_dir, events, engine=scripted.engine())
    thread = threading.Thread(target=core.run, args=(restore,), daemon=True)
    thread.start()
    return core, events, thread


def wait_for(predicate: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached")
        time.sleep(0.005)


def transient() -> UploadError:
    return UploadError(ErrorKind.SERVER, "The storage service had a temporary problem.", "HTTP 503")


def test_serial_fifo_and_done(data_dir: Path) -> None:
    ids = [make_session(data_dir, 1_700_000_000_000 + i) for i in range(4)]
    scripted = ScriptedEngine(FakeConfig())
    core, events, _thread = start(data_dir, scripted)
    for session_id in ids:
        assert core.enqueue(session_id) is None
    wait_for(lambda: all(events.status_of(i) == "done" for i in ids))
    assert [c[0] for c in scripted.calls] == ids
    uploading = 0
    for _, status in events.statuses:  # never two at once
        uploading += status == "uploading"
        uploading -= status == "done"
        assert uploading <= 1
    # throttled: well under one progress event per 10 ms of fake work
    core.request_shutdown()
    assert core.wait_stopped(3)


def test_bad_enqueue_changes_nothing(data_dir: Path) -> None:
    not_exported = make_session(data_dir, 1_700_000_000_000, exported=False)
    core, _events, _ = start(data_dir, ScriptedEngine(FakeConfig()))
    assert core.enqueue(not_exported) == f"Session {not_exported} is not exported yet."
    assert core.enqueue("nope") == "There is no session nope."
    assert "is not a session id" in (core.enqueue("../x") or "")
    assert UploadStateStore(data_dir).get(not_exported) is None
    core.request_shutdown()
    assert core.wait_stopped(3)


def test_backoff_grows_then_poison_pill_without_blocking_others(data_dir: Path) -> None:
    bad = make_session(data_dir, 1_700_000_000_000)
    good = make_session(data_dir, 1_700_000_001_000)
    config = FakeConfig(max_retries=3, backoff_base_sec=0.1, backoff_cap_sec=0.25)
    scripted = ScriptedEngine(config)
    scripted.script[bad] = [transient() for _ in range(10)]
    core, events, _ = start(data_dir, scripted)
    core.enqueue(bad)
    wait_for(lambda: len(scripted.calls) >= 1)
    core.enqueue(good)
    wait_for(lambda: events.status_of(bad) == "failed")
    bad_calls = [t for i, t in scripted.calls if i == bad]
    assert len(bad_calls) == 1 + config.max_retries
    for n, (before, after) in enumerate(itertools.pairwise(bad_calls)):
        low, _high = delay_bounds(n, config.backoff_base_sec, config.backoff_cap_sec)
        assert after - before >= low * 0.95
    assert events.status_of(good) == "done"
    good_call = next(t for i, t in scripted.calls if i == good)
    assert bad_calls[0] < good_call < bad_calls[1]  # ran during the first backoff
    state = UploadStateStore(data_dir).get(bad)
    assert state is not None and state.retry_count == config.max_retries
    assert state.last_error == "The storage service had a temporary problem."
    assert events.failures == [(bad, state.last_error)]
    core.request_shutdown()
    assert core.wait_stopped(3)


def test_permanent_error_fails_at_once_and_retry_resets(data_dir: Path) -> None:
    sid = make_session(data_dir, 1_700_000_000_000)
    scripted = ScriptedEngine(FakeConfig())
    scripted.script[sid] = [UploadError(ErrorKind.INVALID_CREDENTIALS, "The access key is not valid.")]
    core, events, _ = start(data_dir, scripted)
    core.enqueue(sid)
    wait_for(lambda: events.status_of(sid) == "failed")
    state = UploadStateStore(data_dir).get(sid)
    assert state is not None and state.retry_count == 0 and state.error_kind == "invalid_credentials"
    assert core.retry(sid) is None
    wait_for(lambda: events.status_of(sid) == "done")
    assert UploadStateStore(data_dir).get(sid).retry_count == 0  # type: ignore[union-attr]
    assert "is not queued or failed (it is done)" in (core.cancel(sid) or "")
    core.request_shutdown()
    assert core.wait_stopped(3)


def test_cancel_of_a_failed_session_aborts_its_upload(data_dir: Path) -> None:
    """A failed session keeps its multipart upload for Retry; Cancel drops it."""
    sid = make_session(data_dir, 1_700_000_000_000)
    scripted = ScriptedEngine(FakeConfig())
    scripted.script[sid] = [UploadError(ErrorKind.ACCESS_DENIED, "Not allowed.")]
    core, events, _ = start(data_dir, scripted)
    core.enqueue(sid)
    wait_for(lambda: events.status_of(sid) == "failed")
    answers: list[str | None] = []
    assert core.cancel(sid, answers.append) is None
    wait_for(lambda: answers == [None])
    assert scripted.aborted == [sid]
    state = UploadStateStore(data_dir).get(sid)
    assert state is not None and state.status == "not_uploaded" and state.retry_count == 0
    core.request_shutdown()
    assert core.wait_stopped(3)


def test_cancel_pending_and_uploading(data_dir: Path) -> None:
    first = make_session(data_dir, 1_700_000_000_000)
    second = make_session(data_dir, 1_700_000_001_000)
    scripted = ScriptedEngine(FakeConfig())
    scripted.hold[first] = threading.Event()  # runs until cancelled
    core, events, _ = start(data_dir, scripted)
    core.enqueue(first)
    core.enqueue(second)
    wait_for(lambda: events.status_of(first) == "uploading" and events.status_of(second) == "pending")
    answers: list[str | None] = []
    assert core.cancel(second, answers.append) is None
    wait_for(lambda: events.status_of(second) == "not_uploaded")
    assert core.cancel(first, answers.append) is None
    wait_for(lambda: events.status_of(first) == "not_uploaded")
    wait_for(lambda: len(answers) == 2)
    assert answers == [None, None]
    assert sorted(scripted.aborted) == sorted([first, second])
    assert [c[0] for c in scripted.calls] == [first]
    core.request_shutdown()
    assert core.wait_stopped(3)


def test_shutdown_keeps_upload_for_restore(data_dir: Path) -> None:
    sid = make_session(data_dir, 1_700_000_000_000)
    scripted = ScriptedEngine(FakeConfig())
    scripted.hold[sid] = threading.Event()
    core, events, _ = start(data_dir, scripted)
    core.enqueue(sid)
    wait_for(lambda: events.status_of(sid) == "uploading")
    core.request_shutdown()
    assert core.wait_stopped(2.5)
    assert UploadStateStore(data_dir).get(sid).status == "pending"  # type: ignore[union-attr]
    assert scripted.aborted == []
    scripted.hold[sid].set()
    core2, events2, _ = start(data_dir, scripted)
    wait_for(lambda: events2.status_of(sid) == "done")
    core2.request_shutdown()
    assert core2.wait_stopped(3)


@pytest.mark.parametrize("status", ["uploading", "pending"])
def test_restore_requeues(data_dir: Path, status: str) -> None:
    sid = make_session(data_dir, 1_700_000_000_000, status=status)  # type: ignore[arg-type]
    scripted = ScriptedEngine(FakeConfig())
    core, events, _ = start(data_dir, scripted)
    wait_for(lambda: events.status_of(sid) == "done")
    assert events.statuses[0] == (sid, "pending")
    core.request_shutdown()
    assert core.wait_stopped(3)


def test_a_failed_state_write_does_not_stop_the_queue(
        data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A full disk when the queue writes `uploading`: that session waits and is tried again,
    the worker lives on, and the other session is not held up."""
    import errno

    first = make_session(data_dir, 1_700_000_000_000)
    second = make_session(data_dir, 1_700_000_001_000)
    scripted = ScriptedEngine(FakeConfig())
    core, events, thread = start(data_dir, scripted)
    real_set_status = core.store.set_status
    failures = {"left": 1}

    def flaky_set_status(session_id: str, status, **changes):
        if session_id == first and status == "uploading" and failures["left"]:
            failures["left"] -= 1
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_set_status(session_id, status, **changes)

    monkeypatch.setattr(core.store, "set_status", flaky_set_status)
    assert core.enqueue(first) is None
    assert core.enqueue(second) is None
    wait_for(lambda: events.status_of(first) == "done" and events.status_of(second) == "done")
    assert failures["left"] == 0, "the injected failure never happened"
    assert thread.is_alive()
    # The failed start did not hold up the second session.
    assert [c[0] for c in scripted.calls] == [second, first]
    core.request_shutdown()
    assert core.wait_stopped(3)
