"""What `upload`, `queue`, `retry` and `cancel` share: finding the queue's owner, handing a
command over to it, progress output, and following another process's upload on disk.
Running an owned queue is `queue_runner.py`; none of it needs Qt.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

from app.commands.context import EXIT_FAILED, EXIT_OK, EXIT_USAGE, fail
from app.format import human_duration, human_rate, human_size, next_try_text
from app.models import UploadState
from app.paths import sessions_root
from app.upload.queue.handoff import HandOffError, send_request
from app.upload.queue.lock import QueueLock, read_owner
from app.upload.session.errors import SESSION_REMOVED_SENTENCE
from app.upload.session.state_store import StateDamaged, UploadStateStore, now_ms

TERMINAL = ("done", "failed", "not_uploaded")
OWNER_WAIT_S = 5.0
OWNER_CHECK_S = 1.0  # how often a command following another process's upload checks it still runs


class Owned:
    """Either we hold the queue lock (`lock`), or another process owns the queue (`pid`)."""

    def __init__(self, lock: QueueLock | None, pid: int | None) -> None:
        self.lock = lock
        self.pid = pid


def take_or_find_owner(data_dir: Path) -> Owned:
    lock = QueueLock(data_dir)
    if lock.acquire():
        return Owned(lock, None)
    return Owned(None, read_owner(data_dir).pid)


def hand_off(data_dir: Path, op: str, ids: list[str]) -> dict[str, str | None]:
    """Send `op` to the owner, retrying briefly while it is still starting its server."""
    deadline = time.monotonic() + OWNER_WAIT_S
    while True:
        try:
            return send_request(data_dir, op, ids, connect_timeout_s=1.0)
        except HandOffError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


class ProgressPrinter:
    """A one-line progress bar on a terminal; plain lines (at most one a second) otherwise."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.tty = stream.isatty()
        self._last_line = 0.0
        self._bar_open = False

    def status_of(self, session_id: str, state: UploadState | None, status: str) -> None:
        """A status line; a session waiting for its next try says why and when."""
        detail = ""
        if status == "pending" and state is not None:
            detail = next_try_text(state.last_error, state.next_attempt_at, now_ms()) or ""
        self.status(session_id, status, detail)

    def status(self, session_id: str, status: str, detail: str = "") -> None:
        self._end_bar()
        words = status.replace("_", " ")
        print(f"{session_id}: {words}{(' - ' + detail) if detail else ''}", file=self.stream, flush=True)

    def progress(self, session_id: str, done: int, total: int, rate: float, eta: float) -> None:
        percent = 100.0 * done / total if total > 0 else 100.0
        eta_text = human_duration(eta) if eta >= 0 else "?"
        text = (f"{session_id}: {percent:5.1f}%  {human_size(done)} of {human_size(total)}  "
                f"{human_rate(rate)}  ETA {eta_text}")
        if self.tty:
            width = 24
            filled = int(width * percent / 100)
            self.stream.write(f"\r[{'#' * filled}{'.' * (width - filled)}] {text}\x1b[K")
            self.stream.flush()
            self._bar_open = True
            return
        now = time.monotonic()
        if now - self._last_line >= 1.0 or done >= total:
            self._last_line = now
            print(text, file=self.stream, flush=True)

    def _end_bar(self) -> None:
        if self._bar_open:
            self.stream.write("\n")
            self._bar_open = False


def hand_off_one(data_dir: Path, op: str, session_id: str, done: str) -> int:
    """Hand one command to the owning process; print `done` or fail with its answer."""
    try:
        answer = hand_off(data_dir, op, [session_id]).get(session_id)
    except HandOffError as exc:
        return fail(str(exc), EXIT_FAILED)
    if answer:
        return fail(answer, EXIT_USAGE)
    print(f"{session_id}: {done}")
    return EXIT_OK

@dataclass
class FollowResult:
    """How sessions another process uploaded ended; `lock` is set when that process went away
    and this one took the queue over (the caller then runs the rest itself)."""

    final: dict[str, str] = field(default_factory=dict)
    sentences: dict[str, str] = field(default_factory=dict)
    lock: QueueLock | None = None


def wait_on_disk(data_dir: Path, ids: list[str], out: ProgressPrinter,
                 poll_s: float = 0.25) -> FollowResult:
    """Follow sessions that another process is uploading, by reading their state files.

    Ends when each id ended (done, failed, not uploaded, or its folder removed), or when the
    owning process is gone (its lock is free: this process takes it and returns it)."""
    store = UploadStateStore(data_dir)
    result = FollowResult()
    seen: dict[str, tuple[str, int, int | None]] = {}
    next_owner_check = time.monotonic() + OWNER_CHECK_S
    while len(result.final) < len(ids):
        for session_id in ids:
            if session_id in result.final:
                continue
            if not (sessions_root(data_dir) / session_id).is_dir():
                result.final[session_id] = "failed"
                result.sentences[session_id] = SESSION_REMOVED_SENTENCE
                out.status(session_id, "failed", SESSION_REMOVED_SENTENCE)
                continue
            try:
                state = store.get(session_id)
            except StateDamaged:
                continue  # mid-replace on some filesystems; read again next round
            if state is None:
                continue
            key = (state.status, state.bytes_uploaded, state.next_attempt_at)
            if seen.get(session_id) != key:
                previous = seen.get(session_id, ("", 0, None))
                if (previous[0], previous[2]) != (state.status, state.next_attempt_at):
                    out.status_of(session_id, state, state.status)
                elif state.status == "uploading":
                    out.progress(session_id, state.bytes_uploaded, state.total_bytes, 0.0, -1.0)
                seen[session_id] = key
            if state.status in TERMINAL:
                result.final[session_id] = state.status
        if len(result.final) >= len(ids):
            break
        if time.monotonic() >= next_owner_check:
            next_owner_check = time.monotonic() + OWNER_CHECK_S
            lock = QueueLock(data_dir)
            if lock.acquire():
                result.lock = lock  # the owner stopped (or crashed): carry on ourselves
                return result
        time.sleep(poll_s)
    return result


def failure_sentence(data_dir: Path, session_id: str, status: str,
                     known: dict[str, str] | None = None) -> str:
    sentence = (known or {}).get(session_id)
    if status == "not_uploaded" and not sentence:
        return f"The upload of session {session_id} was cancelled."
    if not sentence:
        try:
            state = UploadStateStore(data_dir).get(session_id)
        except (StateDamaged, OSError, ValueError):
            state = None
        sentence = state.last_error if state and state.last_error else "the upload failed"
    return f"Session {session_id} was not uploaded: {sentence.rstrip('.')}."
