"""Give freed frame memory back to the system now and then (glibc).

Each grab is a fresh 8 MB buffer (1080p BGRA) and each converted frame 3 MB, allocated on one
thread and freed on another. glibc keeps such freed blocks in the heap arenas of the threads
that allocated them, for reuse; over a recording that left ~5 MB more resident than needed
(1080p at 30 fps: peak RSS 145-146 against 140-141 MiB with this, same CPU). `malloc_trim(0)`
once a second returns the free pages of every arena. Fixing glibc's mmap threshold instead (so
every big block is its own mapping) got the same memory but cost 4-12 % of a core in page
faults, zeroing each new buffer, and dropped frames under load.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import sys
from collections.abc import Callable

_trim: Callable[[int], int] | None = None
_looked_up = False


def trim_heap() -> None:
    """`malloc_trim(0)` where the C library has it (glibc); nothing elsewhere."""
    global _trim, _looked_up
    if not _looked_up:
        _looked_up = True
        if sys.platform.startswith("linux"):
            try:
                function = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6").malloc_trim
            except (OSError, AttributeError):  # musl and others: nothing to do
                function = None
            if function is not None:
                function.argtypes = (ctypes.c_size_t,)
                function.restype = ctypes.c_int
                _trim = function
    if _trim is not None:
        _trim(0)
