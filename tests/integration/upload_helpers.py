"""Helpers shared by the upload engine tests."""

from __future__ import annotations

import hashlib
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from app.sessions import session_paths
from app.upload.progress import Progress
from tests.factories import make_session

MIB = 1024 * 1024


def session_with_zip(data_dir: Path, size_bytes: int) -> str:
    """A finished session whose zip is `size_bytes` +- a few hundred bytes of random data."""
    return make_session(data_dir, created_at=int(time.time() * 1000), zip_bytes=size_bytes)


def zip_bytes(data_dir: Path, session_id: str) -> bytes:
    return session_paths(data_dir, session_id).zip.read_bytes()


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@dataclass
class ProgressLog:
    """Collects progress reports (from any thread) for later checks."""

    reports: list[Progress] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __call__(self, progress: Progress) -> None:
        with self.lock:
            self.reports.append(progress)

    @property
    def values(self) -> list[int]:
        with self.lock:
            return [p.bytes_uploaded for p in self.reports]
