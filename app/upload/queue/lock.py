"""One upload queue per data dir (DESIGN §7).

The owner holds an exclusive `fcntl.flock` on `<data-dir>/upload-queue.lock` for as long as
its queue runs, and writes its pid and socket name into the file for people and clients.
The kernel drops a flock when its process dies (even on kill -9), so a dead owner never
blocks anyone: the next process takes the lock over and restores the queue from disk. The
pid in the file is informative only; the lock itself is the truth.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import time
from dataclasses import dataclass
from pathlib import Path

from app.filelock import try_lock_file
from app.jsonfile import read_json

log = logging.getLogger(__name__)

LOCK_FILE = "upload-queue.lock"


def lock_path(data_dir: Path) -> Path:
    return data_dir / LOCK_FILE


@dataclass(frozen=True)
class LockOwner:
    pid: int | None
    socket: str | None
    since: int | None


def read_owner(data_dir: Path) -> LockOwner:
    """What the lock file says about its owner (may be stale; see `QueueLock.held_elsewhere`)."""
    # read_json opens regular files only and never blocks: the lock file may be anything.
    raw = read_json(lock_path(data_dir), lambda value: value).value
    if not isinstance(raw, dict):
        return LockOwner(None, None, None)
    pid, socket, since = raw.get("pid"), raw.get("socket"), raw.get("since")
    return LockOwner(pid if isinstance(pid, int) else None,
                     socket if isinstance(socket, str) else None,
                     since if isinstance(since, int) else None)


class QueueLock:
    """The queue lock of one data dir. `acquire()` never blocks."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self.path = lock_path(data_dir)
        self._fd: int | None = None

    @property
    def held(self) -> bool:
        return self._fd is not None

    def acquire(self, socket_name: str | None = None) -> bool:
        """Take the lock; False when another process (or another QueueLock) holds it."""
        if self._fd is not None:
            return True
        # try_lock_file never truncates: that would wipe the current owner's record.
        fd = try_lock_file(self.path, 0o600)
        if fd is None:
            return False
        self._fd = fd
        self._write_owner(socket_name)
        return True

    def _write_owner(self, socket_name: str | None) -> None:
        assert self._fd is not None
        record = json.dumps({"pid": os.getpid(), "socket": socket_name,
                             "since": int(time.time() * 1000)}).encode()
        # In place (not an atomic rename): the flock belongs to this inode. The record is only
        # informative, so a full disk leaves it empty rather than failing the lock.
        try:
            os.ftruncate(self._fd, 0)
            os.pwrite(self._fd, record + b"\n", 0)
        except OSError as exc:
            log.warning("could not write the queue owner into %s: %s", self.path.name, exc)

    def set_socket(self, socket_name: str) -> None:
        if self._fd is not None:
            self._write_owner(socket_name)

    def release(self) -> None:
        if self._fd is None:
            return
        fd, self._fd = self._fd, None
        with contextlib.suppress(OSError):
            os.ftruncate(fd, 0)
        os.close(fd)  # closing drops the flock

    def __enter__(self) -> QueueLock:
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()
