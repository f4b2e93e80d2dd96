"""Owning the queue of a data dir: the lock, the UploadQueue and the hand-off server together.

The window and the `--wait` commands use this; whoever holds it restores the queue from disk
(so work left by a dead owner continues) and answers the other processes.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject

from app.upload.qt_ipc import QueueServer
from app.upload.qt_queue import UploadQueue
from app.upload.queue.calls import DestinationCalls
from app.upload.queue.handoff import socket_name
from app.upload.queue.lock import QueueLock


class QueueHost(QObject):
    def __init__(self, data_dir: Path, lock: QueueLock, engine: DestinationCalls | None = None,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.data_dir = data_dir
        self.lock = lock
        self.queue = UploadQueue(data_dir, engine=engine, parent=self)
        self.server = QueueServer(data_dir, self.queue, parent=self)

    @classmethod
    def try_open(cls, data_dir: Path, engine: DestinationCalls | None = None,
                 parent: QObject | None = None) -> QueueHost | None:
        """Take the queue of `data_dir`; None when another process owns it."""
        lock = QueueLock(data_dir)
        if not lock.acquire(socket_name(data_dir)):
            return None
        return cls(data_dir, lock, engine, parent)

    def start(self, restore: bool = True) -> None:
        # Listen first: a request that arrives while restoring simply waits in the queue.
        if self.server.listen():
            self.lock.set_socket(self.server.name)  # clients read the full path from here
        self.queue.start(restore=restore)
        # File records still waiting on disk go out from the queue owner only (records/outbox.py);
        # what becomes of each reaches the window as the queue's fileRecordChanged.
        from app.upload.records.outbox import outbox_for

        outbox = outbox_for(self.data_dir)
        outbox.listen(self.queue.report_record)
        outbox.resume()

    def close(self, timeout: float = 2.0) -> bool:
        from app.upload.records.outbox import outbox_for

        outbox = outbox_for(self.data_dir)
        outbox.unlisten(self.queue.report_record)
        self.server.close()
        stopped = self.queue.shutdown(timeout)
        # After the queue, which may still store a record; unsent ones wait on disk.
        outbox.stop(timeout)
        self.lock.release()
        return stopped
