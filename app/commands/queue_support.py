"""What `upload`, `queue`, `retry` and `cancel` share: finding the queue's owner, handing a
command over to it, progress output, and following another process's upload on disk.
Running an owned queue is `queue_runner.py`; none of it needs Qt.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import TextIO

from app.commands.context import EXIT_FAILED, EXIT_OK, EXIT_USAGE, fail
from app.format import human_duration, human_rate, human_size
from app.upload.handoff import HandOffError, send_request
from app.upload.queue_lock import QueueLock, read_owner
from app.upload.state_store import StateDamaged, UploadStateStore

TERMINAL = ("done", "failed", "not_uploaded")
OWNER_WAIT_S = 5.0


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

def wait_on_disk(data_dir: Path, ids: list[str], out: ProgressPrinter,
                 poll_s: float = 0.25) -> dict[str, str]:
    """Follow sessions that another process is uploading, by reading their state files."""
    store = UploadStateStore(data_dir)
    final: dict[str, str] = {}
    seen: dict[str, tuple[str, int]] = {}
    while len(final) < len(ids):
        for session_id in ids:
            if session_id in final:
                continue
            try:
                state = store.get(session_id)
            except StateDamaged:
                continue  # mid-replace on some filesystems; read again next round
            if state is None:
                continue
            key = (state.status, state.bytes_uploaded)
            if seen.get(session_id) != key:
                if seen.get(session_id, ("", 0))[0] != state.status:
                    out.status(session_id, state.status)
                elif state.status == "uploading":
                    out.progress(session_id, state.bytes_uploaded, state.total_bytes, 0.0, -1.0)
                seen[session_id] = key
            if state.status in TERMINAL:
                final[session_id] = state.status
        if len(final) < len(ids):
            time.sleep(poll_s)
    return final


def failure_sentence(data_dir: Path, session_id: str, status: str) -> str:
    if status == "not_uploaded":
        return f"The upload of session {session_id} was cancelled."
    try:
        state = UploadStateStore(data_dir).get(session_id)
    except StateDamaged:
        state = None
    reason = state.last_error if state and state.last_error else "the upload failed"
    return f"Session {session_id} was not uploaded: {reason.rstrip('.')}."
