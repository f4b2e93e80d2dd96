"""The command line's Qt-free queue runner: reports handled on the main thread, stop when the
targets ended or the queue is idle, SIGTERM quits like the window (multipart kept)."""

from __future__ import annotations

import io
import os
import signal
import threading
from pathlib import Path

from app.commands.queue_runner import QueueRunner
from app.commands.queue_support import ProgressPrinter
from app.upload.queue.lock import QueueLock
from app.upload.queue.thread_host import ThreadQueueHost
from app.upload.session.state_store import UploadStateStore
from tests.factories import make_session
from tests.unit.test_queue_core import FakeConfig, ScriptedEngine, wait_for


class MainThreadPrinter(ProgressPrinter):
    def __init__(self) -> None:
        super().__init__(io.StringIO())
        self.threads: set[str] = set()

    def status(self, session_id: str, status: str, detail: str = "") -> None:
        self.threads.add(threading.current_thread().name)
        super().status(session_id, status, detail)


def test_runs_until_the_targets_ended_printing_on_the_main_thread(data_dir: Path) -> None:
    ids = [make_session(data_dir, 1_700_000_000_000 + i) for i in range(2)]
    scripted = ScriptedEngine(FakeConfig())
    host = ThreadQueueHost.try_open(data_dir, engine=scripted.engine())
    assert host is not None
    out = MainThreadPrinter()
    runner = QueueRunner(host, ids, out)
    for session_id in ids:
        assert host.queue.enqueue(session_id) is None
    host.start()
    runner.run()
    assert runner.final == {i: "done" for i in ids} and not runner.interrupted
    assert out.threads == {threading.main_thread().name}
    text = out.stream.getvalue()  # type: ignore[attr-defined]
    assert f"{ids[0]}: uploading" in text and f"{ids[1]}: done" in text
    assert QueueLock(data_dir).acquire()  # closed on the way out: the lock is free again


def test_queue_wait_stops_when_idle(data_dir: Path) -> None:
    host = ThreadQueueHost.try_open(data_dir, engine=ScriptedEngine(FakeConfig()).engine())
    assert host is not None
    runner = QueueRunner(host, None, MainThreadPrinter())
    host.start()
    runner.run()  # nothing to do: returns at the first idle
    assert runner.final == {} and not runner.interrupted


def test_sigterm_quits_and_keeps_the_upload_for_the_next_start(data_dir: Path) -> None:
    sid = make_session(data_dir, 1_700_000_000_000)
    scripted = ScriptedEngine(FakeConfig())
    scripted.hold[sid] = threading.Event()  # runs until stopped
    host = ThreadQueueHost.try_open(data_dir, engine=scripted.engine())
    assert host is not None
    runner = QueueRunner(host, [sid], MainThreadPrinter())
    host.queue.enqueue(sid)
    host.start()
    store = UploadStateStore(data_dir)

    def kill_when_uploading() -> None:
        wait_for(lambda: (s := store.get(sid)) is not None and s.status == "uploading")
        os.kill(os.getpid(), signal.SIGTERM)

    killer = threading.Thread(target=kill_when_uploading)
    previous = signal.getsignal(signal.SIGTERM)
    killer.start()
    runner.run()
    killer.join()
    assert runner.interrupted
    assert signal.getsignal(signal.SIGTERM) == previous  # restored
    assert store.get(sid).status == "pending"  # type: ignore[union-attr]
    assert scripted.aborted == []  # quit keeps the multipart upload
