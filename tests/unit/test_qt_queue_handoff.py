"""UploadQueue's signals on its QThread and the local-socket hand-off, with the scripted engine."""

from __future__ import annotations

import threading
from pathlib import Path

from PySide6.QtCore import QObject, Slot

from app.upload.qt_host import QueueHost
from app.upload.queue.handoff import send_request, socket_name
from app.upload.queue.lock import QueueLock
from app.upload.queue.status_report import StatusReport
from app.upload.session.progress import Progress
from app.upload.session.state_store import UploadStateStore
from tests.factories import make_session
from tests.unit.test_queue_core import FakeConfig, ScriptedEngine


class Watcher(QObject):
    """Receives the queue's signals in the GUI thread, as the window does."""

    def __init__(self, data_dir: Path) -> None:
        super().__init__()
        self.data_dir = data_dir
        self.statuses: list[tuple[str, str]] = []
        self.progress: list[tuple[str, int, int]] = []
        self.threads: set[object] = set()

    @Slot(object)
    def on_status(self, report: StatusReport) -> None:
        session_id, status = report.session_id, report.status
        self.threads.add(threading.current_thread().name)
        self.statuses.append((session_id, status))
        assert UploadStateStore(self.data_dir).get(session_id) is not None

    @Slot(str, object)
    def on_progress(self, session_id: str, progress: Progress) -> None:
        done, total = progress.bytes_uploaded, progress.total_bytes
        assert isinstance(done, int) and isinstance(total, int)
        self.progress.append((session_id, done, total))

    def last(self, session_id: str) -> str | None:
        found = [s for i, s in self.statuses if i == session_id]
        return found[-1] if found else None


def test_signals_arrive_in_the_gui_thread_and_big_sizes_survive(qtbot, data_dir: Path) -> None:
    sid = make_session(data_dir, 1_700_000_000_000)
    scripted = ScriptedEngine(FakeConfig())
    big = 5 * 1024**3  # above 2**31: must not be truncated by a C++ int

    def upload(data_dir_, session_id, config, store, on_progress, cancel):
        from app.upload.session.progress import Progress
        on_progress(Progress(big, big, 1e6, 0.0))
        return store.update(session_id, bytes_uploaded=big, total_bytes=big)

    scripted.upload = upload  # type: ignore[method-assign]
    lock = QueueLock(data_dir)
    assert lock.acquire()
    host = QueueHost(data_dir, lock, engine=scripted.engine())
    watcher = Watcher(data_dir)
    host.queue.statusChanged.connect(watcher.on_status)
    host.queue.progress.connect(watcher.on_progress)
    host.start()
    try:
        assert host.queue.enqueue(sid) is None
        qtbot.waitUntil(lambda: watcher.last(sid) == "done", timeout=5000)
        assert watcher.threads == {threading.main_thread().name}
        assert (sid, big, big) in watcher.progress
    finally:
        assert host.close()


def test_cancel_is_handed_to_the_owner_and_answered_after_it_took_effect(qtbot, data_dir: Path) -> None:
    sid = make_session(data_dir, 1_700_000_000_000)
    scripted = ScriptedEngine(FakeConfig())
    scripted.hold[sid] = threading.Event()  # uploads until cancelled
    host = QueueHost.try_open(data_dir, engine=scripted.engine())
    assert host is not None
    assert QueueHost.try_open(data_dir) is None  # one owner per data dir
    watcher = Watcher(data_dir)
    host.queue.statusChanged.connect(watcher.on_status)
    host.start()
    answers: list[dict[str, str | None]] = []
    try:
        host.queue.enqueue(sid)
        qtbot.waitUntil(lambda: watcher.last(sid) == "uploading", timeout=5000)
        client = threading.Thread(target=lambda: answers.append(
            send_request(data_dir, "cancel", [sid, "no-such-session"])))
        client.start()
        qtbot.waitUntil(lambda: bool(answers), timeout=5000)
        client.join()
        assert answers[0][sid] is None
        assert answers[0]["no-such-session"] is not None
        # The answer came after the state was written.
        assert UploadStateStore(data_dir).get(sid).status == "not_uploaded"  # type: ignore[union-attr]
        assert scripted.aborted == [sid]
    finally:
        assert host.close()
    assert socket_name(data_dir).endswith("upload-queue.sock")


def test_a_command_line_upload_is_handed_to_the_window_owner(qtbot, data_dir: Path) -> None:
    """A `sessionrec upload` process (Qt-free client) and the window's QLocalServer."""
    import subprocess

    from app.upload.config import UploadConfig, save_config
    from app.upload.s3.credentials import save_secrets
    from tests.integration.queue_helpers import cli, cli_env

    save_config(data_dir, UploadConfig(bucket="bucket-for-handoff", region="us-east-1",
                                       endpoint_url="http://127.0.0.1:9", access_key_id="AKIDHANDOFF"))
    save_secrets(data_dir, secretAccessKey="handoff-secret-not-used-0000000000000000")
    sid = make_session(data_dir, 1_700_000_000_000)
    scripted = ScriptedEngine(FakeConfig())
    host = QueueHost.try_open(data_dir, engine=scripted.engine())
    assert host is not None
    watcher = Watcher(data_dir)
    host.queue.statusChanged.connect(watcher.on_status)
    host.start()
    try:
        proc = subprocess.Popen(cli(data_dir, "upload", sid), env=cli_env(), text=True,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        qtbot.waitUntil(lambda: proc.poll() is not None, timeout=60_000)
        out, err = proc.communicate()
        assert proc.returncode == 0, err
        assert f"{sid}: queued in the upload queue of process" in out
        qtbot.waitUntil(lambda: watcher.last(sid) == "done", timeout=5000)
        assert [c[0] for c in scripted.calls] == [sid]  # it ran in the window's queue
    finally:
        assert host.close()
