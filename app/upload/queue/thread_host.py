"""Owning the queue of a data dir without Qt: the lock, the queue on a plain thread and the
hand-off server together. The command line (`upload --wait`, `queue --wait`) uses this, so
an upload from a script never loads Qt; the window keeps `qt_host.QueueHost` (a QThread
and a QLocalServer). Both serve the same hand-off protocol on the same socket path, so
either kind of owner answers either kind of client.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path
from typing import TYPE_CHECKING

from app.upload.queue.calls import DestinationCalls, QueueEvents, Reply
from app.upload.queue.core import SerialQueue
from app.upload.queue.handoff import listen_path
from app.upload.queue.handoff_server import HandOffServer
from app.upload.queue.lock import QueueLock
from app.upload.session.progress import Progress
from app.upload.session.state_store import UploadStateStore

if TYPE_CHECKING:
    from app.upload.config import UploadConfig

log = logging.getLogger(__name__)

SHUTDOWN_TIMEOUT_S = 2.0


class _Relay:
    """QueueEvents -> every listener, on the worker thread; a failing listener is logged and
    never breaks the worker's transition."""

    def __init__(self) -> None:
        self.listeners: list[QueueEvents] = []

    def _each(self, call: str, *args: object) -> None:
        for listener in list(self.listeners):
            try:
                getattr(listener, call)(*args)
            except Exception:
                log.exception("an upload queue listener failed in %s", call)

    def status_changed(self, session_id: str, status: str) -> None:
        self._each("status_changed", session_id, status)

    def progress(self, session_id: str, progress: Progress) -> None:
        self._each("progress", session_id, progress)

    def failed(self, session_id: str, sentence: str) -> None:
        self._each("failed", session_id, sentence)

    def queue_changed(self) -> None:
        self._each("queue_changed")

    def idle(self) -> None:
        self._each("idle")


class ThreadQueue:
    """`SerialQueue` on one long-lived plain thread. Methods may be called from any thread;
    listeners are called on the worker thread (hand what they get to their own thread)."""

    def __init__(self, data_dir: Path, *, engine: DestinationCalls | None = None,
                 store: UploadStateStore | None = None) -> None:
        self.data_dir = data_dir
        self._relay = _Relay()
        self._core = SerialQueue(data_dir, self._relay, engine=engine, store=store)
        self.store = self._core.store
        self._thread: threading.Thread | None = None

    def listen(self, events: QueueEvents) -> None:
        self._relay.listeners.append(events)

    def start(self, restore: bool = True) -> None:
        if self._thread is not None:
            return
        # A daemon: a worker that does not stop in time must not keep the process alive
        # (the state on disk is consistent; restore picks it up).
        self._thread = threading.Thread(target=self._core.run, kwargs={"restore": restore},
                                        name="upload-queue", daemon=True)
        self._thread.start()

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def enqueue(self, session_id: str, reply: Reply | None = None, *,
                checked: UploadConfig | None = None) -> str | None:
        return self._core.enqueue(session_id, reply, checked=checked)

    def retry(self, session_id: str, reply: Reply | None = None) -> str | None:
        return self._core.retry(session_id, reply)

    def cancel(self, session_id: str, reply: Reply | None = None) -> str | None:
        return self._core.cancel(session_id, reply)

    def queued(self) -> tuple[list[str], str | None]:
        return self._core.queued()

    def shutdown(self, timeout: float = SHUTDOWN_TIMEOUT_S) -> bool:
        """Stop the worker, keeping any running multipart upload for the next start."""
        thread = self._thread
        if thread is None:
            return True
        self._core.request_shutdown()
        stopped = self._core.wait_stopped(timeout)
        if stopped:
            thread.join(timeout)
            self._thread = None
        else:
            log.warning("the upload queue did not stop within %.1f s", timeout)
        return stopped


class ThreadQueueHost:
    def __init__(self, data_dir: Path, lock: QueueLock, engine: DestinationCalls | None = None) -> None:
        self.data_dir = data_dir
        self.lock = lock
        self.queue = ThreadQueue(data_dir, engine=engine)
        self.server = HandOffServer(data_dir, self.queue)

    @classmethod
    def try_open(cls, data_dir: Path, engine: DestinationCalls | None = None) -> ThreadQueueHost | None:
        """Take the queue of `data_dir`; None when another process owns it."""
        lock = QueueLock(data_dir)
        if not lock.acquire(listen_path(data_dir)):
            return None
        return cls(data_dir, lock, engine)

    def start(self, restore: bool = True) -> None:
        # Listen first: a request that arrives while restoring simply waits in the queue.
        if self.server.listen():
            self.lock.set_socket(self.server.name)
        self.queue.start(restore=restore)
        # File records still waiting on disk go out from the queue owner only (records/outbox.py).
        from app.upload.records.outbox import outbox_for

        outbox_for(self.data_dir).resume()

    def close(self, timeout: float = SHUTDOWN_TIMEOUT_S) -> bool:
        self.server.close()
        stopped = self.queue.shutdown(timeout)
        self.lock.release()
        return stopped

