"""`.recording.lock`: an exclusive flock held for a recording's whole life (and its export).

Crash recovery (run by every `sessionrec list`, `record` and the window) tries the lock without
blocking and leaves a session alone while someone holds it, so a recording in progress in another
process is never "recovered". The kernel drops the lock when the holder dies, even on kill -9.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from pathlib import Path

from app import session_files
from app.filelock import lock_or_close
from app.sessions import LOCK_FILE

__all__ = ["LOCK_FILE", "SessionLock"]


class SessionLock:
    def __init__(self, session_root: Path) -> None:
        self.root = session_root
        self.path = session_root / LOCK_FILE
        self._fd: int | None = None

    def try_acquire(self) -> bool:
        """Take the lock without waiting; False when another process holds it. Opened through
        the trust rule: a link or FIFO named .recording.lock raises UnsafeFile (an OSError)."""
        self._fd = lock_or_close(session_files.open_fd(self.root, LOCK_FILE, os.O_RDWR | os.O_CREAT))
        return self._fd is not None

    def release(self) -> None:
        if self._fd is not None:
            with contextlib.suppress(OSError):
                fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None

    @property
    def held(self) -> bool:
        return self._fd is not None
