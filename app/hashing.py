"""SHA-256 of a whole file, read in blocks, shared by the zip export and the uploader."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

from app import session_files

BLOCK = 1024 * 1024


def stream_sha256(handle: BinaryIO, between_blocks: Callable[[], None] | None = None) -> str:
    """Hex SHA-256 of what is left to read in `handle`; `between_blocks` runs before each block
    (a cancel check may raise)."""
    digest = hashlib.sha256()
    while True:
        if between_blocks is not None:
            between_blocks()
        block = handle.read(BLOCK)
        if not block:
            return digest.hexdigest()
        digest.update(block)


def file_sha256(path: Path, between_blocks: Callable[[], None] | None = None) -> str:
    """Hex SHA-256 of `path`, opened through the trust rule (never a link, only a regular file,
    never blocking on a FIFO: UnsafeFile, an OSError, otherwise)."""
    with session_files.open_path(path) as handle:
        return stream_sha256(handle, between_blocks)
