"""Running one upload at a time: start the next due session, follow its thread, settle its end.

The upload call runs on its own short-lived thread and posts its progress and outcome back
as commands, so the worker is never blocked by the network.
"""

from __future__ import annotations

import logging
import threading
import time

from app.retention import RetentionPolicy, apply_cleanup
from app.upload.config import UploadConfig
from app.upload.queue.backoff import backoff_delay
from app.upload.queue.commands import Command, Outcome, Running, answer
from app.upload.queue.transitions import QueueTransitions
from app.upload.session.errors import SESSION_REMOVED_SENTENCE, ErrorKind, UploadCancelled, UploadError
from app.upload.session.progress import Progress
from app.upload.session.state_store import now_ms

log = logging.getLogger(__name__)

PROGRESS_INTERVAL_S = 0.1  # at most ~10 progress events per second per session (DESIGN §6)
START_RETRY_S = 2.0  # a session whose start failed (its state could not be written) waits this long
START_ATTEMPTS = 3  # ... and after this many failed starts it fails, so a `--wait` always ends


class QueueRunning(QueueTransitions):
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
        # The one load of upload-config.json for this attempt: the upload, its outcome
        # (backoff, retention) and a user cancel all use it.
        config, problem = self._load_config()
        if config is None:
            self._fail(session_id, UploadError(ErrorKind.CONFIG, problem or "The settings are invalid."))
            return
        state = self._set_status(session_id, "uploading", last_attempt_at=now_ms(),
                                 next_attempt_at=None, max_retries=config.max_retries)
        self._events.progress(session_id, Progress(state.bytes_uploaded, state.total_bytes, 0.0, None))
        self._remember_upload(session_id, state)
        running = Running(session_id, threading.Event(), config)
        running.thread = threading.Thread(target=self._upload_thread, args=(running,),
                                          name=f"upload-{session_id}", daemon=True)
        running.thread.start()
        # Set only once the thread runs: its outcome is a command, handled after this returns.
        self._running = running
        self._start_failures.pop(session_id, None)
        self._events.queue_changed()

    def _upload_thread(self, running: Running) -> None:
        """Runs one upload call; everything it learns goes back to the worker as commands."""
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
            self._post(Command("progress", session_id, progress=progress))

        outcome = Outcome()
        try:
            outcome.state = self._get_calls().upload(self.data_dir, session_id, running.config,
                                                     self.store, on_progress, running.cancel)
        except UploadCancelled:
            outcome.cancelled = True
        except UploadError as exc:
            outcome.error = exc
        except Exception as exc:  # a bug in the upload must not leave the session uploading forever
            log.exception("unexpected error uploading %s", session_id)
            outcome.error = UploadError(ErrorKind.UNKNOWN, "The upload stopped on an unexpected error.",
                                        type(exc).__name__)
        if running.cancel.is_set() and outcome.state is None:
            outcome.cancelled = True
        self._post(Command("finished", session_id, outcome=outcome))

    def _finish(self, session_id: str, outcome: Outcome) -> None:
        running = self._running
        if running is None or running.session_id != session_id:
            return  # a late outcome of an upload we already gave up on at shutdown
        self._running = None
        sentence: str | None = None
        try:
            sentence = self._settle(session_id, outcome, running)
        except Exception as exc:
            log.exception("upload queue: recording the outcome of %s failed", session_id)
            sentence = self._unexpected_sentence(session_id, "finished", exc)
            self._give_up(session_id, sentence)
        self._events.queue_changed()
        for reply in running.replies:
            answer(reply, sentence)

    def _settle(self, session_id: str, outcome: Outcome, running: Running) -> str | None:
        """Write what one upload call ended in; the sentence for waiting callers, or None."""
        error = outcome.error
        if (error is not None and error.kind == ErrorKind.SESSION_REMOVED) or \
                self._session_gone(session_id):
            # The upload aborted the multipart upload it was sending; nothing can be written.
            self._known_uploads.pop(session_id, None)
            self._removed(session_id, [])
            return SESSION_REMOVED_SENTENCE
        if outcome.cancelled or running.stop_reason is not None:
            if running.stop_reason == "user":
                self._drop(session_id)
                self._abort_and_reset(session_id, running.config)
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
        """Shutdown: the upload did not stop in time; leave the session for the next start."""
        running = self._running
        if running is None:
            return
        log.warning("upload of %s did not stop in time; it resumes at the next start",
                    running.session_id)
        self._running = None
        # Not written: the upload thread may still write multipart progress; `uploading` on
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
