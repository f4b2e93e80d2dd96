"""The file-record sender: delivers pending records on its own thread, never in the upload slot.

Why a thread of its own rather than a step of the upload: a record is small but its target
may be down for hours; inside the serial upload slot it would hold every later session back
(or, given up on, turn a verified upload into a failure). Here the queue moves on as soon as
the object is verified; the record waits in upload-state.json (`fileRecord`, written before
the queue hears "done") and this sender retries it with the queue's backoff (backoffBaseSec,
backoffCapSec) until every target accepted it.

- `mark_pending` (called by records.recording after a verified upload) stores the document
  and wakes the sender;
- `resume` (the queue owner's start) picks up every record still pending on disk, so a
  record survives a crash or a restart; only the process that owns the queue sends, so two
  processes never race for one record (and the Idempotency-Key makes a repeat harmless);
- `settle` (the `--wait` commands, before they exit) waits until nothing is due: each record
  is delivered, or it used up this run's maxRetries attempts; it stays pending on disk
  and the next run tries again. A record never fails for good;
- `listen` (the window's queue host) is told a `RecordReport` after every write of a record,
  on the thread that wrote it (the upload worker for `mark_pending`, else the sender's), so
  the card follows delivery without reading the disk. A listener must hand the report to
  its own thread (the Qt host emits a signal).
"""

from __future__ import annotations

import dataclasses
import logging
import threading
import time
from collections.abc import Callable
from pathlib import Path

from app.models import FileRecordState, UploadState
from app.sessions import iter_session_paths
from app.upload.config import UploadConfig, load_config
from app.upload.queue.backoff import backoff_delay
from app.upload.queue.status_report import RecordReport
from app.upload.records.document import record_targets, unset_sentence
from app.upload.session.errors import ErrorKind, UploadError
from app.upload.session.state_store import StateDamaged, UploadStateStore, now_ms

log = logging.getLogger(__name__)

RecordListener = Callable[[RecordReport], None]

_outboxes: dict[str, RecordOutbox] = {}
_outboxes_guard = threading.Lock()


def outbox_for(data_dir: Path) -> RecordOutbox:
    """The one sender of this data folder in this process."""
    key = str(data_dir.absolute())
    with _outboxes_guard:
        box = _outboxes.get(key)
        if box is None:
            box = _outboxes[key] = RecordOutbox(data_dir)
        return box


class RecordOutbox:
    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self.store = UploadStateStore(data_dir)
        self._wake = threading.Condition()
        self._pending: set[str] = set()
        # Attempts made by this process per session: at maxRetries a record rests until the
        # next start (still pending on disk).
        self._tries: dict[str, int] = {}
        # Every session this process had a record to send for: what a `--wait` command reports
        # on, without reading every session's state again.
        self._seen: set[str] = set()
        self._busy = False
        self._resuming = 0  # resume scans still reading the data folder
        self._thread: threading.Thread | None = None
        self._listeners: list[RecordListener] = []
        self._stopping = False

    # ---- what others call -----------------------------------------------------------------

    def listen(self, listener: RecordListener) -> None:
        with self._wake:
            self._listeners.append(listener)

    def unlisten(self, listener: RecordListener) -> None:
        with self._wake:
            if listener in self._listeners:
                self._listeners.remove(listener)

    def mark_pending(self, session_id: str, body: str, targets: list[str]) -> None:
        record = FileRecordState(body=body, pending=list(targets))
        # Told before the sender can see the session, so "pending" never arrives after
        # "delivered".
        self._tell(self.store.update(session_id, file_record=record))
        self._tries.pop(session_id, None)
        self.poke(session_id)

    def resume(self) -> None:
        """Queue every record still pending on disk (the queue owner's start). The scan reads
        every session's state, so it runs on a thread of its own, never the caller's (the
        window's start); `settle` waits for it."""
        with self._wake:
            self._stopping = False  # a new start of the queue owner
            self._resuming += 1
        threading.Thread(target=self._resume_scan, name="file-records-resume", daemon=True).start()

    def _resume_scan(self) -> None:
        try:
            for paths in iter_session_paths(self.data_dir):
                try:
                    state = self.store.get(paths.session_id)
                except StateDamaged:
                    continue
                if state is None or state.file_record is None or not state.file_record.pending:
                    continue
                with self._wake:  # (an RLock: poke takes it again)
                    if self._stopping:  # the owner closed meanwhile: the rest waits on disk
                        break
                    self.poke(paths.session_id)
        except Exception:  # a scan that fails leaves the records on disk for the next start
            log.exception("looking for file records to send failed")
        finally:
            with self._wake:
                self._resuming -= 1
                self._wake.notify_all()

    def poke(self, session_id: str) -> None:
        with self._wake:
            self._stopping = False
            self._pending.add(session_id)
            self._seen.add(session_id)
            self._wake.notify_all()
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="file-records",
                                                daemon=True)
                self._thread.start()

    def seen(self) -> list[str]:
        """The sessions this process had a file record to send for, in id order."""
        with self._wake:
            return sorted(self._seen)

    def settle(self, timeout: float | None = None) -> bool:
        """Wait until no record is due in this run; True unless `timeout` ran out first."""
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._wake:
            while self._busy or self._due_soon():
                left = None if deadline is None else deadline - time.monotonic()
                if left is not None and left <= 0:
                    return False
                self._wake.wait(0.1 if left is None else min(left, 0.1))
        return True

    def stop(self, timeout: float = 2.0) -> bool:
        """End the sender (the window closes): what is pending stays on disk for the next
        start. True when its thread ended within `timeout`."""
        with self._wake:
            self._stopping = True
            self._pending.clear()
            self._tries.clear()
            self._wake.notify_all()
            thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)
        return thread is None or not thread.is_alive()

    # ---- the sender thread ----------------------------------------------------------------

    def _due_soon(self) -> bool:
        return bool(self._pending) or self._resuming > 0

    def _run(self) -> None:
        while True:
            with self._wake:
                if not self._pending:
                    self._busy = False
                    self._wake.notify_all()
                    self._thread = None
                    return
                self._busy = True
                sessions = sorted(self._pending)
            config = _config(self.data_dir)
            waits = []
            for session_id in sessions:
                if self._stopping:
                    break
                wait = self._attempt(session_id, config)
                if wait is not None:
                    waits.append(wait)
            with self._wake:
                self._busy = False
                self._wake.notify_all()
                if waits and not self._stopping:
                    self._wake.wait(min(waits))  # or until a new record is poked (or stop)

    def _attempt(self, session_id: str, config: UploadConfig | None) -> float | None:
        """Try the record of one session if it is due; seconds until it is due again, or
        None when it is done with (delivered, gone, or resting until the next run)."""
        # Imported here: the HTTP side is needed only when a record is sent, and every
        # `upload --wait` loads this module.
        from app.upload.records.deliver import deliver

        try:
            state = self.store.get(session_id)
        except StateDamaged:
            state = None
        record = state.file_record if state is not None else None
        if record is None or not record.pending or config is None:
            self._drop(session_id)
            return None
        configured = record_targets(config)
        due = [t for t in record.pending if t in configured]
        unset = [t for t in record.pending if t not in configured]
        if not due:
            # Its target was removed from the settings: kept (never lost) and said plainly,
            # but not tried; setting one again sends it (the next resume or poke).
            self._wait_for_setting(session_id, record, record.delivered, unset)
            return None
        now = now_ms()
        if record.next_attempt_at is not None and record.next_attempt_at > now:
            return (record.next_attempt_at - now) / 1000
        delivered, problem = list(record.delivered), None
        pending = list(record.pending)
        for target in due:
            try:
                deliver(self.data_dir, config, target, session_id, record.body)
            except UploadError as error:
                problem = error
                continue
            except Exception:  # an unexpected failure must not end the sender
                log.exception("session %s: sending its file record failed", session_id)
                problem = UploadError(ErrorKind.UNKNOWN, "Sending the file record failed for an "
                                                         "unexpected reason; see the log.")
                continue
            pending.remove(target)
            delivered.append(target)
            log.info("session %s: file record delivered to %s", session_id, target)
        attempts = record.attempts + (1 if problem else 0)
        if problem is None and unset:
            self._wait_for_setting(session_id, record, delivered, unset)
            return None
        if problem is None:
            self._tell(self.store.update(session_id, file_record=dataclasses.replace(
                record, pending=[], delivered=delivered, attempts=record.attempts,
                next_attempt_at=None, last_error=None, delivered_at=now_ms(),
                waiting_for_setting=False)))
            self._drop(session_id)
            return None
        delay = backoff_delay(attempts - 1, config.backoff_base_sec, config.backoff_cap_sec)
        log.warning("session %s: file record not delivered (%s); next try in %.1f s",
                    session_id, problem.detail or problem.kind.value, delay)
        self._tell(self.store.update(session_id, file_record=dataclasses.replace(
            record, pending=pending, delivered=delivered, attempts=attempts,
            next_attempt_at=now_ms() + int(delay * 1000), last_error=problem.sentence,
            waiting_for_setting=False)))
        tries = self._tries.get(session_id, 0) + 1
        self._tries[session_id] = tries
        if tries > config.max_retries:
            log.info("session %s: file record rests until the next start", session_id)
            self._drop(session_id)
            return None
        return delay

    def _wait_for_setting(self, session_id: str, record: FileRecordState, delivered: list[str],
                          unset: list[str]) -> None:
        sentence = unset_sentence(unset)
        waiting = dataclasses.replace(record, pending=unset, delivered=delivered,
                                      next_attempt_at=None, last_error=sentence,
                                      waiting_for_setting=True)
        if waiting != record:  # a record already waiting is not written (or told) again
            log.info("session %s: file record waits for a setting (%s)", session_id,
                     ", ".join(unset))
            self._tell(self.store.update(session_id, file_record=waiting))
        self._drop(session_id)

    def _tell(self, state: UploadState) -> None:
        if state.file_record is None:
            return
        report = RecordReport.from_record(state.session_id, state.file_record)
        with self._wake:
            listeners = list(self._listeners)
        for listener in listeners:
            try:
                listener(report)
            except Exception:  # a listener's failure must not end the sender or the upload
                log.exception("a file-record listener failed")

    def _drop(self, session_id: str) -> None:
        with self._wake:
            self._pending.discard(session_id)
            self._wake.notify_all()


def _config(data_dir: Path) -> UploadConfig | None:
    loaded = load_config(data_dir)
    return loaded.value


# How long a `--wait` command waits for file records before it exits (they stay pending).
SETTLE_S = 60.0


def settle_records(data_dir: Path, timeout: float = SETTLE_S) -> None:
    """For the `--wait` commands: give pending records up to `timeout` (or this run's
    maxRetries) to go out, then say on stderr which ones still wait."""
    import sys

    box = outbox_for(data_dir)
    box.settle(timeout)
    store = UploadStateStore(data_dir)
    for session_id in box.seen():
        try:
            state = store.get(session_id)
        except StateDamaged:
            continue
        record = state.file_record if state is not None else None
        if record is not None and record.pending and state is not None and state.status == "done":
            if record.waiting_for_setting:
                print(f"sessionrec: session {session_id} is uploaded; {record.last_error}",
                      file=sys.stderr)
                continue
            why = f" ({record.last_error.rstrip('.')})" if record.last_error else ""
            print(f"sessionrec: session {session_id} is uploaded, but its file record is "
                  f"not delivered yet{why}; it is sent again at the next start.", file=sys.stderr)
