"""Non-blocking exclusive `flock` on a file: the kernel drops it when the holder dies."""

from __future__ import annotations

import fcntl
import os
from pathlib import Path


def try_lock_file(path: Path, mode: int, extra_flags: int = 0) -> int | None:
    """Open `path` and take an exclusive flock without waiting; the fd, or None when held.

    Never truncates: the current holder may have written its details into the file.
    """
    return lock_or_close(os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC | extra_flags, mode))


def lock_or_close(fd: int) -> int | None:
    """Take an exclusive flock on an open `fd` without waiting: `fd`, or None (and `fd` closed)
    when another process holds it."""
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        return None
    except BaseException:
        os.close(fd)
        raise
    return fd
