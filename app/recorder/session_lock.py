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

from app.filelock import try_lock_file

LOCK_FILE = ".recording.lock"


class SessionLock:
    def __init__(self, session_root: Path) -> None:
        self.path = session_root / LOCK_FILE
        self._fd: int | None = None

    def try_acquire(self) -> bool:
        self._fd = try_lock_file(self.path, 0o644, os.O_NOFOLLOW)
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
