"""SHA-256 of a whole file, read in blocks, shared by the zip export and the uploader."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path

BLOCK = 1024 * 1024


def file_sha256(path: Path, between_blocks: Callable[[], None] | None = None) -> str:
    """Hex SHA-256 of `path`; `between_blocks` runs before each block (a cancel check may raise)."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while True:
            if between_blocks is not None:
                between_blocks()
            block = handle.read(BLOCK)
            if not block:
                return digest.hexdigest()
            digest.update(block)
