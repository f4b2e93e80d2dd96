"""The upload queue as a QObject whose work runs on one long-lived QThread (DESIGN §5, §6).

The logic is `SerialQueue` (Qt-free, `queue_core.py`); this file only gives it a QThread to
run on and turns its events into Qt signals. The signals are emitted on the worker thread,
so receivers living in the GUI thread get them queued: connect them to QObject methods
(slots), never to lambdas or plain functions, so Qt can deliver them on the right thread.

Progress travels as the engine's `Progress` and a status change as a `StatusReport` made from
the state the worker has just written (`object` signals: byte counts are Python ints, zips pass
2 GiB, which a C++ `int` cannot hold), so a receiver never re-reads the disk. The host
connects the file-record sender to `report_record`, so `fileRecordChanged` carries each
`RecordReport` the same way, from the sender's thread.
"""

from __future__ import annotations

import logging
from pathlib import Path

from PySide6.QtCore import QObject, QThread, Signal

from app.upload.queue.calls import DestinationCalls, Reply
from app.upload.queue.core import SerialQueue
from app.upload.queue.session_actions import SessionOp, act_one_by_one, delete_session
from app.upload.queue.status_report import RecordReport, StatusReport
from app.upload.session.progress import Progress
from app.upload.session.state_store import UploadStateStore

log = logging.getLogger(__name__)

SHUTDOWN_TIMEOUT_S = 2.0


class _Emitter:
    """QueueEvents -> the signals of one UploadQueue."""

    def __init__(self, owner: UploadQueue) -> None:
        self._owner = owner

    def status_changed(self, session_id: str, status: str) -> None:
        store = self._owner.store
        state = store.last_saved(session_id)
        if state is None or state.status != status:
            # Not written by this queue (restore reports what it found on disk): read it once.
            state = store.load(session_id).value
        if state is None or state.status != status:
            log.warning("no upload state of %s says %s; reported without details", session_id, status)
            report = StatusReport(session_id, status)  # type: ignore[arg-type]
        else:
            report = StatusReport.from_state(state)
        self._owner.statusChanged.emit(report)

    def progress(self, session_id: str, progress: Progress) -> None:
        self._owner.progress.emit(session_id, progress)

    def failed(self, session_id: str, sentence: str) -> None:
        self._owner.failed.emit(session_id, sentence)

    def queue_changed(self) -> None:
        self._owner.queueChanged.emit()

    def idle(self) -> None:
        self._owner.idle.emit()


class _WorkerThread(QThread):
    def __init__(self, core: SerialQueue, restore: bool) -> None:
        super().__init__()
        self._core = core
        self._restore = restore
        self.setObjectName("upload-queue")

    def run(self) -> None:
        self._core.run(restore=self._restore)


class UploadQueue(QObject):
    """Serial upload queue. Methods may be called from any thread; they never block on S3."""

    statusChanged = Signal(object)  # StatusReport
    progress = Signal(str, object)  # sessionId, Progress
    failed = Signal(str, str)
    queueChanged = Signal()
    # Nothing is uploading, pending or waiting out a backoff.
    idle = Signal()
    fileRecordChanged = Signal(object)  # RecordReport

    def __init__(self, data_dir: Path, *, engine: DestinationCalls | None = None,
                 store: UploadStateStore | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.data_dir = data_dir
        self.store = store or UploadStateStore(data_dir)
        self._engine = engine
        self._core = SerialQueue(data_dir, _Emitter(self), engine=engine, store=self.store)
        self._thread: _WorkerThread | None = None

    def start(self, restore: bool = True) -> None:
        """Start the worker; with `restore`, interrupted and pending sessions continue."""
        if self._thread is not None:
            return
        self._thread = _WorkerThread(self._core, restore)
        self._thread.start()

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.isRunning()

    def report_record(self, report: RecordReport) -> None:
        """Called by the file-record sender on its thread; receivers get it queued."""
        self.fileRecordChanged.emit(report)

    def enqueue(self, session_id: str, reply: Reply | None = None) -> str | None:
        return self._core.enqueue(session_id, reply)

    def retry(self, session_id: str, reply: Reply | None = None) -> str | None:
        return self._core.retry(session_id, reply)

    def cancel(self, session_id: str, reply: Reply | None = None) -> str | None:
        return self._core.cancel(session_id, reply)

    def delete(self, session_id: str) -> str | None:
        """Remove a session that is not queued; its unfinished multipart upload is aborted first."""
        if self._engine is None:
            from app.upload.queue.session_actions import real_delete

            return real_delete(self.data_dir, self.store, session_id)
        return delete_session(self.data_dir, self.store, session_id, self._engine.load_config,
                              self._engine.abort)

    def act_on_many(self, op: SessionOp, session_ids: list[str]) -> dict[str, str]:
        return act_one_by_one(self, op, session_ids)

    def queued(self) -> tuple[list[str], str | None]:
        return self._core.queued()

    def shutdown(self, timeout: float = SHUTDOWN_TIMEOUT_S) -> bool:
        """Stop the worker, keeping any running multipart upload for the next start.

        Returns False when the thread did not stop within `timeout` (it is a daemon-like
        worker: the state on disk is still consistent, restore picks it up).
        """
        thread = self._thread
        if thread is None:
            return True
        self._core.request_shutdown()
        stopped = self._core.wait_stopped(timeout)
        if stopped:
            thread.wait(max(1, int(timeout * 1000)))
            self._thread = None
        else:
            log.warning("the upload queue did not stop within %.1f s", timeout)
        return stopped
