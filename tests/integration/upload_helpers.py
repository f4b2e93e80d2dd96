"""Helpers shared by the upload engine tests."""

from __future__ import annotations

import hashlib
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from app.sessions import session_paths
from app.upload.session.progress import Progress
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


CORRUPTIONS = ("flip", "flip_directory", "truncate", "append", "swap")


def corrupt_zip(data_dir: Path, session_id: str, how: str, other: str | None = None) -> None:
    """Damage a session's zip after export, the ways a disk, a sync or a person can:
    one byte flipped in a member's data or in the central directory, cut short, bytes
    appended, or the whole file swapped for another session's zip (same size, so only the
    SHA-256 can tell)."""
    path = session_paths(data_dir, session_id).zip
    data = bytearray(path.read_bytes())
    if how == "flip":
        data[len(data) // 3] ^= 0x01
    elif how == "flip_directory":
        # The first byte of the central directory (its offset is in the end record).
        start_dir = int.from_bytes(data[-22 + 16:-22 + 20], "little")
        data[start_dir] ^= 0xFF
    elif how == "truncate":
        del data[-100:]
    elif how == "append":
        data += b"appended after export"
    elif how == "swap":
        assert other is not None
        data = bytearray(session_paths(data_dir, other).zip.read_bytes())
    else:
        raise ValueError(how)
    path.write_bytes(bytes(data))


def object_keys(client: object, bucket: str) -> list[str]:
    listed = client.list_objects_v2(Bucket=bucket)  # type: ignore[attr-defined]
    return [o["Key"] for o in listed.get("Contents", [])]


def open_uploads(client: object, bucket: str) -> list[str]:
    listed = client.list_multipart_uploads(Bucket=bucket)  # type: ignore[attr-defined]
    return [u["UploadId"] for u in listed.get("Uploads", [])]
