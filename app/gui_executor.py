"""The window's one background worker for disk and network work (a Qt module).

Everything the GUI must not wait for — reading the session list or one session, deleting,
writing titles, loading and saving the settings, Test Connection, share links, hand-off
requests, the queue's checks — is submitted here and runs on one worker thread, one task at
a time in the order submitted (as Anki does with its collection). So a delete, a refresh and
a reload never overlap: a refresh submitted after a delete reads the folder after it is gone.

Results come back through a queued signal on a QObject that lives in the GUI thread, so
`on_done`/`on_error` always run on the GUI thread. The thread exists only while there is
work: it ends when the queue is empty and a new one starts with the next task, so an idle
window (or a test that is over) has no worker left running.
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QObject, Signal, Slot

log = logging.getLogger(__name__)

WORKER_NAME = "sessionrec-gui-work"


@dataclass
class _Task:
    work: Callable[[], Any]
    on_done: Callable[[Any], None] | None
    on_error: Callable[[BaseException], None] | None
    name: str


class GuiExecutor(QObject):
    """Runs submitted work serially off the GUI thread; callbacks come back on the GUI thread."""

    _finished = Signal(object, bool, object)  # task, ok, result or exception

    def __init__(self, name: str = WORKER_NAME, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._name = name
        self._tasks: deque[_Task] = deque()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._finished.connect(self._deliver)

    def submit(self, work: Callable[[], Any], on_done: Callable[[Any], None] | None = None,
               on_error: Callable[[BaseException], None] | None = None,
               name: str = "task") -> None:
        """Queue `work`; `on_done(result)` or `on_error(exc)` runs on the GUI thread after it."""
        with self._lock:
            self._tasks.append(_Task(work, on_done, on_error, name))
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name=self._name, daemon=True)
                self._thread.start()

    def idle(self) -> bool:
        """Nothing is queued or running."""
        with self._lock:
            return self._thread is None

    def wait_idle(self, timeout: float) -> bool:
        """Block until the worker has finished everything submitted (tests, shutdown)."""
        with self._lock:
            thread = self._thread
        if thread is None:
            return True
        thread.join(timeout)
        return not thread.is_alive()

    def _run(self) -> None:
        while True:
            with self._lock:
                if not self._tasks:
                    self._thread = None
                    return
                task = self._tasks.popleft()
            try:
                result = task.work()
            except BaseException as exc:  # reported to the GUI, never swallowed
                log.exception("background task %s failed", task.name)
                self._finished.emit(task, False, exc)
                continue
            self._finished.emit(task, True, result)

    @Slot(object, bool, object)
    def _deliver(self, task: _Task, ok: bool, value: object) -> None:
        callback: Callable[[Any], None] | None = task.on_done if ok else task.on_error
        if callback is not None:
            callback(value)

