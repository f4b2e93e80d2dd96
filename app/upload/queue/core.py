"""The serial upload queue's logic, Qt-free (DESIGN §5, §6).

`SerialQueue.run()` is the body of the queue's one long-lived worker thread (a QThread in
`qt_queue.py`). It is an event loop over a thread-safe command queue: callers on any thread
post enqueue / retry / cancel / shutdown; the upload of the current session runs on its own
short-lived thread and posts its progress and its outcome back into the same queue. So the
worker is never blocked by an upload: a cancel or a shutdown is handled at once, and every
status transition is made by the worker alone, in order, through `UploadStateStore`.

Waiting for a backoff is the loop's `get(timeout=...)`: the timeout is the time until the
next waiting session is due. A session waiting out its backoff keeps its place in the FIFO
order but does not block the sessions behind it.

Where the rest lives: transitions.py (entering and leaving the queue), running.py (one
upload at a time and how it ends), calls.py (the destination calls and the events).
"""

from __future__ import annotations

import logging
import queue
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from app.sessions import session_paths
from app.upload.queue import checks
from app.upload.queue.backoff import MAX_CAP_SEC, max_delay
from app.upload.queue.calls import Reply
from app.upload.queue.commands import Command, answer, status_words
from app.upload.queue.restore import restore_queue
from app.upload.queue.running import QueueRunning
from app.upload.queue.transitions import CANCELLABLE
from app.upload.session.state_store import now_ms

if TYPE_CHECKING:
    from app.upload.config import UploadConfig

log = logging.getLogger(__name__)

SHUTDOWN_GRACE_S = 1.5  # an upload stops within 1 s of its cancel event; keep the 2 s promise
# No wait of the loop is ever longer than the longest backoff (a timer never gets an absurd value).
MAX_WAIT_S = MAX_CAP_SEC * 1.1
LOOP_ERROR_PAUSE_S = 0.5  # after an unexpected error in the loop itself, so it can never spin

__all__ = ["CANCELLABLE", "SerialQueue"]


class SerialQueue(QueueRunning):
    # ---- called from any thread -------------------------------------------------------

    def enqueue(self, session_id: str, reply: Reply | None = None, *,
                checked: UploadConfig | None = None) -> str | None:
        """Queue a session; returns one sentence (and changes nothing) when it cannot be.

        `checked`: the settings the caller's own `checks.check_for_queue` of this session
        returned, so the same checks are not run (and the settings not loaded) again."""
        config = checked
        if config is None:
            config, problem = checks.check_for_queue(self.data_dir, self.store, session_id,
                                                     self._get_calls().load_config)
            if problem:
                return problem
        self._post(Command("enqueue", session_id, reply, config=config))
        return None

    def retry(self, session_id: str, reply: Reply | None = None) -> str | None:
        """failed -> pending with retryCount 0; a sentence when the session has not failed."""
        problem = checks.session_problem(self.data_dir, session_id)
        if problem:
            return problem
        status, problem = checks.state_problem(self.store, session_id)
        if problem:
            return problem
        if status != "failed":
            return f"Session {session_id} has not failed (it is {status_words(status)})."
        config, problem = self._load_config()
        if problem:
            return problem
        self._post(Command("retry", session_id, reply, config=config))
        return None

    def cancel(self, session_id: str, reply: Reply | None = None) -> str | None:
        """pending/uploading/failed -> not_uploaded, the multipart upload aborted."""
        try:
            session_paths(self.data_dir, session_id)
        except ValueError as exc:
            return str(exc)
        status, problem = checks.state_problem(self.store, session_id)
        if problem:
            return problem
        if status not in CANCELLABLE:
            return f"Session {session_id} is not queued or failed (it is {status_words(status)})."
        self._post(Command("cancel", session_id, reply))
        return None

    def request_shutdown(self) -> None:
        self._post(Command("shutdown"))

    def wait_stopped(self, timeout: float | None = None) -> bool:
        return self._stopped.wait(timeout)

    def queued(self) -> tuple[list[str], str | None]:
        """(queued ids in order, the uploading id) as the worker last saw them."""
        with self._view_lock:
            return list(self._view[0]), self._view[1]

    # ---- the worker thread --------------------------------------------------------------

    def run(self, restore: bool = True) -> None:
        try:
            if restore:
                self._guarded("restoring the queue", self._restore)
            while True:
                try:
                    if self._loop_once():
                        break
                except Exception:
                    # The loop itself must never die (every `--wait` would hang): log, pause, go on.
                    log.exception("upload queue: unexpected error in the loop; it keeps running")
                    time.sleep(LOOP_ERROR_PAUSE_S)
        finally:
            self._publish_view()
            self._stopped.set()

    def _loop_once(self) -> bool:
        """One turn of the loop; True when the worker should end."""
        if not self._stopping:
            self._start_next_if_free()
        self._publish_view()
        if self._stopping and self._running is None:
            return True
        try:
            command = self._commands.get(timeout=self._wait_timeout())
        except queue.Empty:
            command = None
        if command is not None:
            self._handle_guarded(command)
        if (self._stopping and self._running is not None
                and self._monotonic() >= self._stop_deadline):
            self._give_up_on_running()
        return False

    def _guarded(self, what: str, step: Callable[[], None]) -> bool:
        """Run one step; a failure (a full disk, an unreadable state file) is logged and the
        worker lives on, so one bad session or a passing disk problem never stops the queue."""
        try:
            step()
        except Exception:
            log.exception("upload queue: %s failed; the queue keeps running", what)
            return False
        return True

    def _handle_guarded(self, command: Command) -> None:
        try:
            self._handle(command)
        except Exception as exc:
            log.exception("upload queue: %s of %s failed; the queue keeps running", command.kind,
                          command.session_id)
            sentence = self._unexpected_sentence(command.session_id, command.kind, exc)
            if command.kind in ("enqueue", "retry"):
                # Whoever waits for this session must hear that it will not be uploaded.
                self._give_up(command.session_id, sentence)
            answer(command.reply, sentence)

    def _restore(self) -> None:
        ids = restore_queue(self.data_dir, self.store)
        config, _ = self._load_config()
        # A nextAttemptAt on disk is never trusted beyond the longest backoff.
        longest = max_delay(config.backoff_cap_sec if config is not None else MAX_CAP_SEC)
        stamp = now_ms()
        for session_id in ids:
            state = self.store.get(session_id)
            wait_s = 0.0
            if state is not None and state.next_attempt_at is not None:
                wait_s = min(max(0.0, (state.next_attempt_at - stamp) / 1000.0), longest)
            self._remember_upload(session_id, state)
            self._order.append(session_id)
            self._due[session_id] = self._monotonic() + wait_s
            self._events.status_changed(session_id, "pending")
        if ids:
            self._events.queue_changed()

    def _wait_timeout(self) -> float | None:
        if self._stopping:
            return max(0.0, self._stop_deadline - self._monotonic())
        if self._running is not None:
            return None  # its outcome arrives as a command
        waiting = [self._due[i] for i in self._order if i in self._due]
        if not waiting:
            if not self._was_idle:
                self._was_idle = True
                self._events.idle()
            return None
        return min(max(0.0, min(waiting) - self._monotonic()), MAX_WAIT_S)

    def _handle(self, command: Command) -> None:
        kind = command.kind
        if kind == "progress":
            if command.progress is not None:
                self._events.progress(command.session_id, command.progress)
        elif kind == "finished":
            assert command.outcome is not None
            self._finish(command.session_id, command.outcome)
        elif kind in ("enqueue", "retry"):
            self._do_enqueue(command.session_id, reset_retries=kind == "retry",
                             reply=command.reply, config=command.config)
        elif kind == "cancel":
            self._do_cancel(command.session_id, command.reply)
        elif kind == "shutdown":
            if not self._stopping:
                self._stop_deadline = self._monotonic() + SHUTDOWN_GRACE_S
            self._stopping = True
            if self._running is not None and self._running.stop_reason is None:
                self._running.stop_reason = "shutdown"
                self._running.cancel.set()
