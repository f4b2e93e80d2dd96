"""Running an owned queue from the command line until the work is done, without Qt.

The queue (`ThreadQueueHost`) reports on its worker thread; `QueueRunner` takes each report
into a thread-safe inbox and handles it on the main thread, which prints, decides when to
stop, and receives SIGINT/SIGTERM (Python runs signal handlers on the main thread only, so
the inbox is read in short slices).
"""

from __future__ import annotations

import queue
import signal
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

from app.upload.session.progress import Progress
from app.upload.session.state_store import StateDamaged

if TYPE_CHECKING:
    from app.commands.queue_support import ProgressPrinter
    from app.upload.queue.thread_host import ThreadQueueHost

TERMINAL = ("done", "failed", "not_uploaded")
SLICE_S = 0.2  # how long the main thread waits for a report before it looks at signals


class QueueRunner:
    """Runs the owned queue until the targets end (upload --wait) or it is idle (queue --wait)."""

    def __init__(self, host: ThreadQueueHost, targets: Iterable[str] | None,
                 out: ProgressPrinter) -> None:
        self.host = host
        self.targets = list(dict.fromkeys(targets)) if targets is not None else None
        self.out = out
        self.final: dict[str, str] = {}
        self.failures: dict[str, str] = {}
        self.interrupted = False
        self._done = False
        self._inbox: queue.Queue[Callable[[], None]] = queue.Queue()
        host.queue.listen(self)

    # ---- QueueEvents: called on the worker thread, handled on the main thread ------------

    def status_changed(self, session_id: str, status: str) -> None:
        self._inbox.put(lambda: self.on_status(session_id, status))

    def progress(self, session_id: str, progress: Progress) -> None:
        eta = -1.0 if progress.eta_sec is None else float(progress.eta_sec)
        self._inbox.put(lambda: self.on_progress(session_id, progress.bytes_uploaded,
                                                 progress.total_bytes, progress.bytes_per_sec, eta))

    def failed(self, session_id: str, sentence: str) -> None:
        self._inbox.put(lambda: self.on_failed(session_id, sentence))

    def queue_changed(self) -> None:
        pass

    def idle(self) -> None:
        self._inbox.put(self.on_idle)

    # ---- the main thread -----------------------------------------------------------------

    def on_status(self, session_id: str, status: str) -> None:
        state = None
        if status == "pending":
            try:
                state = self.host.queue.store.get(session_id)
            except (StateDamaged, OSError, ValueError):
                state = None
        self.out.status_of(session_id, state, status)
        if self.targets is not None and session_id in self.targets:
            if status in TERMINAL:
                self._ended(session_id, status)
            else:
                self.final.pop(session_id, None)
                self.failures.pop(session_id, None)

    def _ended(self, session_id: str, status: str) -> None:
        self.final[session_id] = status
        if self.targets is not None and all(t in self.final for t in self.targets):
            self._quit()

    def on_progress(self, session_id: str, done: int, total: int, rate: float, eta: float) -> None:
        self.out.progress(session_id, int(done), int(total), rate, eta)

    def on_failed(self, session_id: str, sentence: str) -> None:
        # Sent for every session that leaves the queue unuploaded, even when its state could
        # not be written (full disk, removed folder): a waiting command ends here too.
        self.failures[session_id] = sentence
        if self.targets is not None and session_id in self.targets:
            if self.final.get(session_id) != "failed":  # no status line said so yet
                self.out.status(session_id, "failed", sentence)
            self._ended(session_id, "failed")

    def on_idle(self) -> None:
        if self.targets is None:
            self._quit()

    def _quit(self) -> None:
        self._done = True

    def run(self) -> None:
        """Handle the started host's reports until done or interrupted; the host is closed
        on the way out (a running upload keeps its multipart upload)."""
        previous = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}

        def stop(_signum: int, _frame: object) -> None:
            self.interrupted = True
            self._quit()

        for sig in previous:
            signal.signal(sig, stop)
        try:
            while not self._done:
                try:
                    handle = self._inbox.get(timeout=SLICE_S)
                except queue.Empty:
                    continue
                handle()
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
            self.host.close()
