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
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Literal, Protocol

from app.models import UploadState, UploadStatus
from app.paths import sessions_root
from app.retention import RetentionPolicy, apply_cleanup
from app.sessions import session_paths
from app.upload.queue import checks as queue_checks
from app.upload.queue.backoff import MAX_CAP_SEC, backoff_delay, max_delay
from app.upload.queue.ops import abort_and_reset, mark_pending
from app.upload.queue.restore import restore_queue
from app.upload.session.errors import SESSION_REMOVED_SENTENCE, ErrorKind, UploadCancelled, UploadError
from app.upload.session.progress import Progress, ProgressCallback
from app.upload.session.state_store import StateDamaged, UploadStateStore, now_ms

if TYPE_CHECKING:
    from app.upload.config import UploadConfig

log = logging.getLogger(__name__)

PROGRESS_INTERVAL_S = 0.1  # at most ~10 progress events per second per session (DESIGN §6)
SHUTDOWN_GRACE_S = 1.5  # the engine stops within 1 s of its cancel event; keep the 2 s promise
START_RETRY_S = 2.0  # a session whose start failed (its state could not be written) waits this long
START_ATTEMPTS = 3  # ... and after this many failed starts it fails, so a `--wait` always ends
# No wait of the loop is ever longer than the longest backoff (a timer never gets an absurd value).
MAX_WAIT_S = MAX_CAP_SEC * 1.1
LOOP_ERROR_PAUSE_S = 0.5  # after an unexpected error in the loop itself, so it can never spin

Reply = Callable[[str | None], None]
# Cancel stops a queued upload, or drops the multipart upload a failed one kept for Retry.
CANCELLABLE = ("pending", "uploading", "failed")


class QueueEvents(Protocol):
    """What the worker reports; called on the worker thread only.

    `failed` is sent whenever a session leaves the queue without being uploaded for any reason
    but a cancel: it failed for good, its folder was removed, or an unexpected error stopped
    it (then its state may not say `failed`, e.g. on a full disk). Anyone waiting for a
    session can therefore stop at `failed`, or at a status of done / failed / not_uploaded.
    """

    def status_changed(self, session_id: str, status: str) -> None: ...
    def progress(self, session_id: str, progress: Progress) -> None: ...
    def failed(self, session_id: str, sentence: str) -> None: ...
    def queue_changed(self) -> None: ...
    def idle(self) -> None: ...


UploadFn = Callable[[Path, str, "UploadConfig", UploadStateStore, ProgressCallback, threading.Event],
                    UploadState]
AbortFn = Callable[[Path, str, "UploadConfig", UploadStateStore], None]
# Abort a multipart upload known by (key, upload id) alone: its session folder is gone.
AbortIdFn = Callable[[Path, "UploadConfig", str, str], None]
ConfigFn = Callable[[Path], "tuple[UploadConfig | None, str | None]"]


@dataclass(frozen=True)
class Engine:
    """The upload engine's entry points (issue 4); injectable so the loop can be tested alone."""

    upload: UploadFn
    abort: AbortFn
    load_config: ConfigFn = queue_checks.load_valid_config
    abort_id: AbortIdFn | None = None


def real_engine() -> Engine:
    from app.upload.s3.destination import abort_multipart_upload, abort_session_upload, upload_session

    return Engine(upload=upload_session, abort=abort_session_upload, abort_id=abort_multipart_upload)


CommandKind = Literal["enqueue", "retry", "cancel", "shutdown", "progress", "finished", "wake"]


@dataclass
class _Command:
    kind: CommandKind
    session_id: str = ""
    reply: Reply | None = None
    progress: Progress | None = None
    outcome: _Outcome | None = None


@dataclass
class _Outcome:
    state: UploadState | None = None
    error: UploadError | None = None
    cancelled: bool = False


@dataclass
class _Running:
    session_id: str
    cancel: threading.Event
    config: UploadConfig
    thread: threading.Thread | None = None
    # Why the cancel event was set: "user" aborts the multipart upload, "shutdown" keeps it.
    stop_reason: Literal["user", "shutdown"] | None = None
    replies: list[Reply] = field(default_factory=list)


class SerialQueue:
    def __init__(self, data_dir: Path, events: QueueEvents, *, engine: Engine | None = None,
                 store: UploadStateStore | None = None,
                 monotonic: Callable[[], float] = time.monotonic) -> None:
        self.data_dir = data_dir
        self.store = store or UploadStateStore(data_dir)
        self._events = events
        self._engine = engine
        self._monotonic = monotonic
        self._commands: queue.Queue[_Command] = queue.Queue()
        # Worker-owned: queued ids in FIFO order (the running one included) and when each is due.
        self._order: list[str] = []
        self._due: dict[str, float] = {}
        self._running: _Running | None = None
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

    # ---- called from any thread -------------------------------------------------------

    def enqueue(self, session_id: str, reply: Reply | None = None) -> str | None:
        """Queue a session; returns one sentence (and changes nothing) when it cannot be."""
        problem = queue_checks.check_enqueueable(self.data_dir, self.store, session_id,
                                                 self._get_engine().load_config)
        if problem is None:
            self._post(_Command("enqueue", session_id, reply))
        return problem

    def retry(self, session_id: str, reply: Reply | None = None) -> str | None:
        """failed -> pending with retryCount 0; a sentence when the session has not failed."""
        problem = queue_checks.session_problem(self.data_dir, session_id)
        if problem:
            return problem
        status, problem = queue_checks.state_problem(self.store, session_id)
        if problem:
            return problem
        if status != "failed":
            return f"Session {session_id} has not failed (it is {_status_words(status)})."
        _, problem = self._load_config()
        if problem:
            return problem
        self._post(_Command("retry", session_id, reply))
        return None

    def cancel(self, session_id: str, reply: Reply | None = None) -> str | None:
        """pending/uploading/failed -> not_uploaded, the multipart upload aborted."""
        try:
            session_paths(self.data_dir, session_id)
        except ValueError as exc:
            return str(exc)
        status, problem = queue_checks.state_problem(self.store, session_id)
        if problem:
            return problem
        if status not in CANCELLABLE:
            return f"Session {session_id} is not queued or failed (it is {_status_words(status)})."
        self._post(_Command("cancel", session_id, reply))
        return None

    def request_shutdown(self) -> None:
        self._post(_Command("shutdown"))

    def wait_stopped(self, timeout: float | None = None) -> bool:
        return self._stopped.wait(timeout)

    def queued(self) -> tuple[list[str], str | None]:
        """(queued ids in order, the uploading id) as the worker last saw them."""
        with self._view_lock:
            return list(self._view[0]), self._view[1]

    def _post(self, command: _Command) -> None:
        self._commands.put(command)

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

    def _handle_guarded(self, command: _Command) -> None:
        try:
            self._handle(command)
        except Exception as exc:
            log.exception("upload queue: %s of %s failed; the queue keeps running", command.kind,
                          command.session_id)
            sentence = self._unexpected_sentence(command.session_id, command.kind, exc)
            if command.kind in ("enqueue", "retry"):
                # Whoever waits for this session must hear that it will not be uploaded.
                self._give_up(command.session_id, sentence)
            _answer(command.reply, sentence)

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

    def _handle(self, command: _Command) -> None:
        kind = command.kind
        if kind == "progress":
            if command.progress is not None:
                self._events.progress(command.session_id, command.progress)
        elif kind == "finished":
            assert command.outcome is not None
            self._finish(command.session_id, command.outcome)
        elif kind == "enqueue":
            self._do_enqueue(command.session_id, reset_retries=False, reply=command.reply)
        elif kind == "retry":
            self._do_enqueue(command.session_id, reset_retries=True, reply=command.reply)
        elif kind == "cancel":
            self._do_cancel(command.session_id, command.reply)
        elif kind == "shutdown":
            if not self._stopping:
                self._stop_deadline = self._monotonic() + SHUTDOWN_GRACE_S
            self._stopping = True
            if self._running is not None and self._running.stop_reason is None:
                self._running.stop_reason = "shutdown"
                self._running.cancel.set()

    # ---- transitions ----------------------------------------------------------------------

    def _set_status(self, session_id: str, status: UploadStatus, **changes: object) -> UploadState:
        state = self.store.set_status(session_id, status, **changes)
        self._events.status_changed(session_id, status)
        return state

    def _do_enqueue(self, session_id: str, reset_retries: bool, reply: Reply | None) -> None:
        if self._stopping:
            _answer(reply, "The upload queue is shutting down.")
            return
        if session_id in self._order:
            _answer(reply, None)  # already queued: nothing to change
            return
        problem = queue_checks.check_enqueueable(self.data_dir, self.store, session_id,
                                                 self._get_engine().load_config)
        config, config_problem = self._load_config()
        problem = problem or config_problem
        if problem or config is None:
            _answer(reply, problem)
            return
        state = self.store.get(session_id)
        if reset_retries and (state is None or state.status != "failed"):
            _answer(reply, f"Session {session_id} has not failed.")
            return
        pending = mark_pending(self.data_dir, self.store, session_id, config, reset_retries)
        self._remember_upload(session_id, pending)
        self._start_failures.pop(session_id, None)
        self._events.status_changed(session_id, "pending")
        self._was_idle = False
        self._order.append(session_id)
        self._due[session_id] = self._monotonic()
        self._events.queue_changed()
        _answer(reply, None)

    def _do_cancel(self, session_id: str, reply: Reply | None) -> None:
        running = self._running
        if running is not None and running.session_id == session_id:
            # The engine stops within 1 s; `_finish` aborts the multipart and answers.
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
            _answer(reply, f"The upload state of session {session_id} cannot be read ({exc}).")
            return
        if session_id not in self._order and (state is None or state.status not in CANCELLABLE):
            _answer(reply, f"Session {session_id} is not queued or failed.")
            return
        self._drop(session_id)
        self._abort_and_reset(session_id)
        self._events.queue_changed()
        _answer(reply, None)

    def _abort_and_reset(self, session_id: str) -> None:
        config, _ = self._load_config()
        abort_and_reset(self.data_dir, self.store, session_id, config, self._get_engine().abort)
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
            _answer(reply, SESSION_REMOVED_SENTENCE)

    def _abort_known(self, session_id: str, key: str, upload_id: str) -> None:
        engine = self._get_engine()
        config, _ = self._load_config()
        if engine.abort_id is None or config is None:
            return
        try:
            engine.abort_id(self.data_dir, config, key, upload_id)
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

    # ---- running one upload -----------------------------------------------------------------

    def _start_next_if_free(self) -> None:
        if self._running is not None:
            return
        now = self._monotonic()
        for session_id in self._order:
            if self._due.get(session_id, now) <= now:
                if self._session_gone(session_id):
                    self._removed(session_id, [])
                    return
                try:
                    self._start(session_id)
                except Exception as exc:
                    self._start_failed(session_id, exc)
                return

    def _start_failed(self, session_id: str, exc: Exception) -> None:
        """Most likely its state could not be written: try again a little later, a few times."""
        log.exception("upload queue: starting the upload of %s failed", session_id)
        failures = self._start_failures.get(session_id, 0) + 1
        if failures < START_ATTEMPTS:
            self._start_failures[session_id] = failures
            self._due[session_id] = self._monotonic() + START_RETRY_S
            return
        self._give_up(session_id, self._unexpected_sentence(session_id, "start", exc))

    def _start(self, session_id: str) -> None:
        self._was_idle = False
        config, problem = self._load_config()
        if config is None:
            self._fail(session_id, UploadError(ErrorKind.CONFIG, problem or "The settings are invalid."))
            return
        state = self._set_status(session_id, "uploading", last_attempt_at=now_ms(),
                                 next_attempt_at=None, max_retries=config.max_retries)
        self._events.progress(session_id, Progress(state.bytes_uploaded, state.total_bytes, 0.0, None))
        self._remember_upload(session_id, state)
        running = _Running(session_id, threading.Event(), config)
        running.thread = threading.Thread(target=self._upload_thread, args=(running,),
                                          name=f"upload-{session_id}", daemon=True)
        running.thread.start()
        # Set only once the thread runs: its outcome is a command, handled after this returns.
        self._running = running
        self._start_failures.pop(session_id, None)
        self._events.queue_changed()

    def _upload_thread(self, running: _Running) -> None:
        """Runs one engine call; everything it learns goes back to the worker as commands."""
        session_id = running.session_id
        last_sent = [0.0]
        throttle = threading.Lock()

        def on_progress(progress: Progress) -> None:
            now = time.monotonic()
            with throttle:
                final = progress.bytes_uploaded >= progress.total_bytes
                if not final and now - last_sent[0] < PROGRESS_INTERVAL_S:
                    return
                last_sent[0] = now
            self._post(_Command("progress", session_id, progress=progress))

        outcome = _Outcome()
        try:
            outcome.state = self._get_engine().upload(self.data_dir, session_id, running.config,
                                                      self.store, on_progress, running.cancel)
        except UploadCancelled:
            outcome.cancelled = True
        except UploadError as exc:
            outcome.error = exc
        except Exception as exc:  # a bug in the engine must not leave the session uploading forever
            log.exception("unexpected error uploading %s", session_id)
            outcome.error = UploadError(ErrorKind.UNKNOWN, "The upload stopped on an unexpected error.",
                                        type(exc).__name__)
        if running.cancel.is_set() and outcome.state is None:
            outcome.cancelled = True
        self._post(_Command("finished", session_id, outcome=outcome))

    def _finish(self, session_id: str, outcome: _Outcome) -> None:
        running = self._running
        if running is None or running.session_id != session_id:
            return  # a late outcome of an upload we already gave up on at shutdown
        self._running = None
        answer: str | None = None
        try:
            answer = self._settle(session_id, outcome, running)
        except Exception as exc:
            log.exception("upload queue: recording the outcome of %s failed", session_id)
            answer = self._unexpected_sentence(session_id, "finished", exc)
            self._give_up(session_id, answer)
        self._events.queue_changed()
        for reply in running.replies:
            _answer(reply, answer)

    def _settle(self, session_id: str, outcome: _Outcome, running: _Running) -> str | None:
        """Write what one engine call ended in; the sentence for waiting callers, or None."""
        error = outcome.error
        if (error is not None and error.kind == ErrorKind.SESSION_REMOVED) or \
                self._session_gone(session_id):
            # The engine aborted the multipart upload it was sending; nothing can be written.
            self._known_uploads.pop(session_id, None)
            self._removed(session_id, [])
            return SESSION_REMOVED_SENTENCE
        if outcome.cancelled or running.stop_reason is not None:
            if running.stop_reason == "user":
                self._drop(session_id)
                self._abort_and_reset(session_id)
                self._known_uploads.pop(session_id, None)
            else:
                # Quit: keep the multipart upload so the next start resumes it.
                self._set_status(session_id, "pending")
        elif outcome.state is not None:
            self._drop(session_id)
            self._known_uploads.pop(session_id, None)
            self._set_status(session_id, "done", completed_at=now_ms(), last_error=None,
                             error_kind=None, error_detail=None, next_attempt_at=None,
                             bytes_uploaded=outcome.state.total_bytes)
            self._events.progress(session_id, Progress(outcome.state.total_bytes,
                                                       outcome.state.total_bytes, 0.0, 0.0))
            self._apply_retention(running.config)
        else:
            error = error or UploadError(ErrorKind.UNKNOWN, "The upload stopped unexpectedly.")
            if error.permanent:
                self._fail(session_id, error)
            else:
                self._retry_later(session_id, error, running.config)
        return None

    def _retry_later(self, session_id: str, error: UploadError, config: UploadConfig) -> None:
        state = self.store.get(session_id)
        self._remember_upload(session_id, state)
        done_retries = state.retry_count if state else 0
        if done_retries >= config.max_retries:
            self._fail(session_id, error)
            return
        delay = backoff_delay(done_retries, config.backoff_base_sec, config.backoff_cap_sec)
        log.info("upload of %s failed (%s); retry %d in %.3f s", session_id, error.kind,
                 done_retries + 1, delay)
        self._set_status(session_id, "pending", retry_count=done_retries + 1,
                         next_attempt_at=now_ms() + int(delay * 1000), last_error=error.sentence,
                         error_kind=str(error.kind), error_detail=error.detail)
        self._due[session_id] = self._monotonic() + delay

    def _fail(self, session_id: str, error: UploadError) -> None:
        self._drop(session_id)
        # A failed session keeps its multipart upload (so Retry resumes it); Cancel aborts it.
        self._known_uploads.pop(session_id, None)
        self._set_status(session_id, "failed", last_error=error.sentence, error_kind=str(error.kind),
                         error_detail=error.detail, next_attempt_at=None)
        self._events.failed(session_id, error.sentence)

    def _give_up_on_running(self) -> None:
        """Shutdown: the engine did not stop in time; leave the session for the next start."""
        running = self._running
        if running is None:
            return
        log.warning("upload of %s did not stop in time; it resumes at the next start",
                    running.session_id)
        self._running = None
        # Not written: the engine thread may still write multipart progress; `uploading` on
        # disk is exactly what restore turns back into `pending`.

    def _apply_retention(self, config: UploadConfig) -> None:
        policy = RetentionPolicy(delete_after_upload=config.delete_after_upload,
                                 keep_uploaded=config.keep_uploaded)
        if not policy.enabled:
            return
        try:
            removed = apply_cleanup(self.data_dir, policy)
        except OSError as exc:
            log.warning("cleanup after upload failed: %s", exc)
            return
        for removed_id in removed:
            log.info("removed local files of uploaded session %s", removed_id)
        if removed:
            self._events.queue_changed()

    # ---- helpers ------------------------------------------------------------------------

    def _get_engine(self) -> Engine:
        if self._engine is None:
            self._engine = real_engine()
        return self._engine

    def _load_config(self) -> tuple[UploadConfig | None, str | None]:
        return self._get_engine().load_config(self.data_dir)

    def _publish_view(self) -> None:
        with self._view_lock:
            self._view = (list(self._order), self._running.session_id if self._running else None)


def _answer(reply: Reply | None, sentence: str | None) -> None:
    if reply is None:
        return
    try:
        reply(sentence)
    except Exception:
        log.exception("a queue reply callback failed")


def _status_words(status: str | None) -> str:
    return (status or "not_uploaded").replace("_", " ")
