"""The worker's state and the transitions it makes when a session enters or leaves the queue.

`SerialQueue` (core.py) builds on this; everything here runs on the worker thread, except
`__init__`. Status changes go through `UploadStateStore` and are reported as events.
"""

from __future__ import annotations

import errno
import logging
import os
import queue
import stat
import threading
import time
from collections.abc import Callable
from pathlib import Path

from app.models import UploadState, UploadStatus
from app.paths import sessions_root
from app.upload.config import UploadConfig
from app.upload.queue import checks
from app.upload.queue.calls import DestinationCalls, QueueEvents, Reply, destination_calls
from app.upload.queue.commands import Command, Running, answer
from app.upload.queue.ops import abort_and_reset, mark_pending
from app.upload.session.errors import SESSION_REMOVED_SENTENCE, ErrorKind
from app.upload.session.state_store import StateDamaged, UploadStateStore

log = logging.getLogger(__name__)

# Cancel stops a queued upload, or drops the multipart upload a failed one kept for Retry.
CANCELLABLE = ("pending", "uploading", "failed")


class QueueTransitions:
    def __init__(self, data_dir: Path, events: QueueEvents, *,
                 engine: DestinationCalls | None = None, store: UploadStateStore | None = None,
                 monotonic: Callable[[], float] = time.monotonic) -> None:
        self.data_dir = data_dir
        self.store = store or UploadStateStore(data_dir)
        self._events = events
        self._calls = engine
        self._monotonic = monotonic
        self._commands: queue.Queue[Command] = queue.Queue()
        # Worker-owned: queued ids in FIFO order (the running one included) and when each is due.
        self._order: list[str] = []
        self._due: dict[str, float] = {}
        self._running: Running | None = None
        self._start_failures: dict[str, int] = {}
        # (key, uploadId) of each queued session's open multipart upload, as last read from its
        # state: if the folder (and with it the state) disappears, the upload can still be aborted.
        self._known_uploads: dict[str, tuple[str, str]] = {}
        self._stopping = False
        self._stop_deadline = 0.0
        self._stopped = threading.Event()
        self._was_idle = False
        # A copy other threads may read (the CLI asks "is it still queued?").
        self._view_lock = threading.Lock()
        self._view: tuple[list[str], str | None] = ([], None)

    # ---- entering and leaving ------------------------------------------------------------

    def _set_status(self, session_id: str, status: UploadStatus, **changes: object) -> UploadState:
        state = self.store.set_status(session_id, status, **changes)
        self._events.status_changed(session_id, status)
        return state

    def _do_enqueue(self, session_id: str, reset_retries: bool, reply: Reply | None,
                    config: UploadConfig | None) -> None:
        """Queue a session the caller checked (with `config`). Only its state is read again:
        it may have changed between the caller's check and this turn of the worker."""
        if self._stopping:
            answer(reply, "The upload queue is shutting down.")
            return
        if session_id in self._order:
            answer(reply, None)  # already queued: nothing to change
            return
        if config is None:
            config, problem = self._load_config()
            if config is None:
                answer(reply, problem)
                return
        status, problem = checks.state_problem(self.store, session_id)
        if problem:
            answer(reply, problem)
            return
        if status == "done":
            answer(reply, f"Session {session_id} is already uploaded.")
            return
        if reset_retries and status != "failed":
            answer(reply, f"Session {session_id} has not failed.")
            return
        pending = mark_pending(self.data_dir, self.store, session_id, config, reset_retries)
        self._remember_upload(session_id, pending)
        self._start_failures.pop(session_id, None)
        self._events.status_changed(session_id, "pending")
        self._was_idle = False
        self._order.append(session_id)
        self._due[session_id] = self._monotonic()
        self._events.queue_changed()
        answer(reply, None)

    def _do_cancel(self, session_id: str, reply: Reply | None) -> None:
        running = self._running
        if running is not None and running.session_id == session_id:
            # The upload stops within 1 s; `_finish` aborts the multipart and answers.
            if running.stop_reason != "shutdown":
                running.stop_reason = "user"
            if reply is not None:
                running.replies.append(reply)
            running.cancel.set()
            return
        if self._session_gone(session_id):
            self._removed(session_id, [reply] if reply is not None else [])
            return
        try:
            state = self.store.get(session_id)
        except StateDamaged as exc:
            answer(reply, f"The upload state of session {session_id} cannot be read ({exc}).")
            return
        if session_id not in self._order and (state is None or state.status not in CANCELLABLE):
            answer(reply, f"Session {session_id} is not queued or failed.")
            return
        self._drop(session_id)
        self._abort_and_reset(session_id)
        self._events.queue_changed()
        answer(reply, None)

    def _abort_and_reset(self, session_id: str, config: UploadConfig | None = None) -> None:
        if config is None:
            config, _ = self._load_config()
        abort_and_reset(self.data_dir, self.store, session_id, config, self._get_calls().abort)
        self._events.status_changed(session_id, "not_uploaded")

    def _drop(self, session_id: str) -> None:
        if session_id in self._order:
            self._order.remove(session_id)
        self._due.pop(session_id, None)
        self._start_failures.pop(session_id, None)

    def _give_up(self, session_id: str, sentence: str) -> None:
        """Take a session out of the queue after an unexpected error, telling every waiter.

        Writing `failed` is tried, but may fail too (a full disk): the `failed` event is sent
        either way, so a `--wait` command ends with the sentence."""
        self._drop(session_id)
        self._known_uploads.pop(session_id, None)
        try:
            self._set_status(session_id, "failed", last_error=sentence, error_kind=str(ErrorKind.UNKNOWN),
                             error_detail=None, next_attempt_at=None)
        except Exception:
            log.exception("could not record the failure of %s", session_id)
        self._events.failed(session_id, sentence)
        self._events.queue_changed()

    def _removed(self, session_id: str, replies: list[Reply]) -> None:
        """The session folder is gone: abort what is left on the server, tell every waiter."""
        self._drop(session_id)
        known = self._known_uploads.pop(session_id, None)
        log.warning("session %s: its folder was removed; it leaves the upload queue", session_id)
        if known is not None:
            self._abort_known(session_id, *known)
        self._events.failed(session_id, SESSION_REMOVED_SENTENCE)
        self._events.queue_changed()
        for reply in replies:
            answer(reply, SESSION_REMOVED_SENTENCE)

    def _abort_known(self, session_id: str, key: str, upload_id: str) -> None:
        calls = self._get_calls()
        config, _ = self._load_config()
        if calls.abort_id is None or config is None:
            return
        try:
            calls.abort_id(self.data_dir, config, key, upload_id)
            log.info("session %s: aborted its unfinished upload", session_id)
        except Exception:
            log.exception("could not abort the unfinished upload of removed session %s", session_id)

    def _remember_upload(self, session_id: str, state: UploadState | None) -> None:
        if state is not None and state.multipart is not None and state.s3_key:
            self._known_uploads[session_id] = (state.s3_key, state.multipart.upload_id)
        else:
            self._known_uploads.pop(session_id, None)

    def _session_gone(self, session_id: str) -> bool:
        try:
            info = os.lstat(sessions_root(self.data_dir) / session_id)
        except FileNotFoundError:
            return True
        except OSError:
            return False
        return not stat.S_ISDIR(info.st_mode)

    def _unexpected_sentence(self, session_id: str, what: str, exc: BaseException) -> str:
        if self._session_gone(session_id):
            return SESSION_REMOVED_SENTENCE
        verb = {"enqueue": "be queued", "retry": "be queued again", "cancel": "be cancelled",
                "start": "start", "finished": "be finished"}.get(what, "go on")
        if isinstance(exc, OSError) and exc.errno == errno.ENOSPC:
            return f"The upload of session {session_id} could not {verb}: the disk is full."
        if isinstance(exc, OSError):
            return f"The upload of session {session_id} could not {verb}: {exc.strerror or exc}."
        if isinstance(exc, StateDamaged):
            return f"The upload state of session {session_id} cannot be read ({exc})."
        return (f"The upload of session {session_id} could not {verb} because of an unexpected "
                f"error ({type(exc).__name__}); see the log.")

    # ---- helpers ------------------------------------------------------------------------

    def _get_calls(self) -> DestinationCalls:
        if self._calls is None:
            self._calls = destination_calls()
        return self._calls

    def _load_config(self) -> tuple[UploadConfig | None, str | None]:
        return self._get_calls().load_config(self.data_dir)

    def _post(self, command: Command) -> None:
        self._commands.put(command)

    def _publish_view(self) -> None:
        with self._view_lock:
            self._view = (list(self._order), self._running.session_id if self._running else None)
