"""The queue worker never dies and never loops: removed folders, failing state writes, absurd
numbers on disk or in the settings. Every case ends with the waiting side told (a `failed`
event) and the worker still serving other sessions."""

from __future__ import annotations

import errno
import shutil
import threading
import time
from pathlib import Path

import pytest

from app.models import MultipartState
from app.sessions import session_paths
from app.upload.queue.calls import DestinationCalls as Engine
from app.upload.queue.core import SerialQueue
from app.upload.queue.running import START_ATTEMPTS
from app.upload.session.errors import SESSION_REMOVED_SENTENCE, ErrorKind, UploadError
from app.upload.session.state_store import UploadStateStore
from tests.factories import make_session
from tests.unit.test_queue_core import FakeConfig, Recorder, ScriptedEngine, start, wait_for

T0 = 1_700_000_000_000


def stop(core: SerialQueue, thread: threading.Thread) -> None:
    core.request_shutdown()
    assert core.wait_stopped(3)
    thread.join(3)
    assert not thread.is_alive()


def test_a_folder_removed_while_waiting_leaves_the_queue_and_aborts_its_upload(
        data_dir: Path) -> None:
    sid = make_session(data_dir, T0)
    other = make_session(data_dir, T0 + 1000)
    scripted = ScriptedEngine(FakeConfig(backoff_base_sec=0.3, backoff_cap_sec=0.3))
    scripted.script[sid] = [UploadError(ErrorKind.SERVER, "The server had a problem.")]
    aborted: list[tuple[str, str]] = []

    def upload(*args, **kwargs):  # the failed attempt leaves a multipart upload behind
        store: UploadStateStore = args[3]
        if args[1] == sid:
            store.update(sid, s3_key=f"{sid}.zip", multipart=MultipartState(
                upload_id="UPLOAD-1", part_size=5 * 1024 * 1024, file_size=10, file_mtime_ns=1))
        return scripted.upload(*args, **kwargs)

    engine = Engine(upload=upload, abort=scripted.abort, load_config=scripted.load_config,
                    abort_id=lambda _d, _c, key, upload_id: aborted.append((key, upload_id)))
    events = Recorder(data_dir=None)
    core = SerialQueue(data_dir, events, engine=engine)
    thread = threading.Thread(target=core.run, daemon=True)
    thread.start()
    core.enqueue(sid)
    wait_for(lambda: ("pending" in [s for i, s in events.statuses if i == sid][1:]))
    shutil.rmtree(session_paths(data_dir, sid).root)  # during its backoff
    wait_for(lambda: events.failures == [(sid, SESSION_REMOVED_SENTENCE)])
    assert aborted == [(f"{sid}.zip", "UPLOAD-1")]
    assert [c[0] for c in scripted.calls] == [sid]  # never tried again
    assert core.enqueue(other) is None  # the worker goes on
    wait_for(lambda: events.status_of(other) == "done")
    assert core.queued() == ([], None)
    stop(core, thread)


def test_the_engine_reporting_a_removed_folder_tells_waiting_callers(data_dir: Path) -> None:
    sid = make_session(data_dir, T0)
    other = make_session(data_dir, T0 + 1000)
    scripted = ScriptedEngine(FakeConfig())

    def upload(data_dir_, session_id, config, store, on_progress, cancel):
        if session_id != sid:
            return scripted.upload(data_dir_, session_id, config, store, on_progress, cancel)
        cancel.wait(10)  # the real engine notices the removal itself, within a second
        shutil.rmtree(session_paths(data_dir, sid).root)
        raise UploadError(ErrorKind.SESSION_REMOVED, SESSION_REMOVED_SENTENCE)

    engine = Engine(upload=upload, abort=scripted.abort, load_config=scripted.load_config)
    events = Recorder(data_dir=data_dir)
    core = SerialQueue(data_dir, events, engine=engine)
    thread = threading.Thread(target=core.run, daemon=True)
    thread.start()
    core.enqueue(sid)
    wait_for(lambda: events.status_of(sid) == "uploading")
    events.data_dir = None  # the folder goes away: nothing on disk to compare events with
    answers: list[str | None] = []
    assert core.cancel(sid, answers.append) is None  # a waiting (handed-over) command
    wait_for(lambda: answers != [])
    assert answers == [SESSION_REMOVED_SENTENCE]
    assert events.failures == [(sid, SESSION_REMOVED_SENTENCE)]
    assert events.status_of(sid) == "uploading"  # nothing written for a folder that is gone
    assert scripted.aborted == []
    assert core.enqueue(other) is None
    wait_for(lambda: events.status_of(other) == "done")
    stop(core, thread)


def test_a_start_that_keeps_failing_fails_the_session_and_the_queue_goes_on(
        data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import app.upload.queue.running as queue_core

    monkeypatch.setattr(queue_core, "START_RETRY_S", 0.05)
    full = make_session(data_dir, T0)
    fine = make_session(data_dir, T0 + 1000)
    scripted = ScriptedEngine(FakeConfig())
    core, events, thread = start(data_dir, scripted)
    real_set_status = core.store.set_status
    tries = {"n": 0}

    def full_disk(session_id: str, status, **changes):
        if session_id == full and status in ("uploading", "failed"):
            tries["n"] += status == "uploading"
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_set_status(session_id, status, **changes)

    monkeypatch.setattr(core.store, "set_status", full_disk)
    assert core.enqueue(full) is None and core.enqueue(fine) is None
    wait_for(lambda: [i for i, _ in events.failures] == [full])
    assert tries["n"] == START_ATTEMPTS
    assert events.failures[0][1] == f"The upload of session {full} could not start: the disk is full."
    wait_for(lambda: events.status_of(fine) == "done")
    time.sleep(0.2)
    assert tries["n"] == START_ATTEMPTS  # it does not loop
    assert thread.is_alive()
    stop(core, thread)


def test_an_enqueue_that_cannot_write_its_state_tells_the_waiter(
        data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    sid = make_session(data_dir, T0)
    scripted = ScriptedEngine(FakeConfig())
    core, events, thread = start(data_dir, scripted)

    def full_disk(*_args, **_kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(core.store, "set_status", full_disk)
    answers: list[str | None] = []
    assert core.enqueue(sid, answers.append) is None  # the checks only read
    wait_for(lambda: answers != [])
    sentence = f"The upload of session {sid} could not be queued: the disk is full."
    assert answers == [sentence] and events.failures == [(sid, sentence)]
    assert scripted.calls == [] and thread.is_alive()
    stop(core, thread)


def test_a_state_far_in_the_future_waits_at_most_the_longest_backoff(data_dir: Path) -> None:
    sid = make_session(data_dir, T0, status="pending")
    store = UploadStateStore(data_dir)
    store.update(sid, next_attempt_at=10 ** 30)  # an OverflowError in a timer before
    clock = {"now": 1000.0}
    scripted = ScriptedEngine(FakeConfig(backoff_cap_sec=2.0))
    events = Recorder(data_dir=data_dir)
    core = SerialQueue(data_dir, events, engine=scripted.engine(), monotonic=lambda: clock["now"])
    thread = threading.Thread(target=core.run, daemon=True)
    thread.start()
    wait_for(lambda: core.queued()[0] == [sid])
    assert scripted.calls == []
    clock["now"] += 2.0 * 1.1 + 0.01  # the longest backoff of this config, jitter included
    core.enqueue(sid)  # any command wakes the loop, which then finds the session due
    wait_for(lambda: events.status_of(sid) == "done")
    stop(core, thread)


@pytest.mark.parametrize(("base", "cap"), [(1e10, 1e10), (1e308, 1e308), (float("inf"), float("nan"))])
def test_absurd_backoff_settings_neither_crash_nor_spin(data_dir: Path, base: float, cap: float) -> None:
    sid = make_session(data_dir, T0)
    scripted = ScriptedEngine(FakeConfig(max_retries=2, backoff_base_sec=base, backoff_cap_sec=cap))
    scripted.script[sid] = [UploadError(ErrorKind.SERVER, "Temporary.") for _ in range(5)]
    core, events, thread = start(data_dir, scripted)
    core.enqueue(sid)
    wait_for(lambda: events.status_of(sid) == "pending" and len(scripted.calls) == 1
             and UploadStateStore(data_dir).get(sid).retry_count == 1)  # type: ignore[union-attr]
    state = UploadStateStore(data_dir).get(sid)
    assert state is not None and state.next_attempt_at is not None
    assert state.next_attempt_at - state.updated_at <= 3600 * 1.1 * 1000 + 1000
    time.sleep(0.3)
    assert len(scripted.calls) == 1  # waiting, not a tight loop
    assert thread.is_alive()
    stop(core, thread)


def test_an_unexpected_engine_error_fails_only_that_session(data_dir: Path) -> None:
    bad = make_session(data_dir, T0)
    good = make_session(data_dir, T0 + 1000)
    scripted = ScriptedEngine(FakeConfig())
    original = scripted.upload

    def upload(*args, **kwargs):
        if args[1] == bad:
            raise ZeroDivisionError("a bug")
        return original(*args, **kwargs)

    engine = Engine(upload=upload, abort=scripted.abort, load_config=scripted.load_config)
    events = Recorder(data_dir=data_dir)
    core = SerialQueue(data_dir, events, engine=engine)
    thread = threading.Thread(target=core.run, daemon=True)
    thread.start()
    core.enqueue(bad)
    core.enqueue(good)
    wait_for(lambda: events.status_of(good) == "done" and events.status_of(bad) == "failed")
    assert events.failures == [(bad, "The upload stopped on an unexpected error.")]
    state = UploadStateStore(data_dir).get(bad)
    assert state is not None and state.error_kind == "unknown"
    assert thread.is_alive()
    stop(core, thread)
