"""Reading the zip in slices: cancel checks, a bandwidth cap, and part checksums.

Each part is read straight from the file as it is sent (`SliceReader`: one pread per read
into the bytes it returns, no intermediate buffer for the 128 KiB reads urllib3 makes), so
memory stays near concurrency x read size rather than the file size. Every `read` checks the cancel
and stop events, so a part in flight stops at its next block; the bandwidth limiter waits
on the cancel event too, so a throttled upload still stops at once.

Everything reads one descriptor of the zip, opened once per upload through app/session_files.py
(`pread` needs no shared position, so the parts read it in parallel): what is hashed and what is
sent are the same file, even if another file is renamed over its path meanwhile.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import io
import os
import threading
import time
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

# Largest single read; botocore signs in 1 MiB reads and urllib3 sends in 128 KiB ones.
READ_BLOCK = 1024 * 1024
# The checksum pass reads into one reused buffer of this size (no allocation per block).
DIGEST_BLOCK = 256 * 1024
# Reads at least this big go straight from the file into the returned bytes (one copy);
# smaller ones (8-16 KiB from a plain http.client) are served from a buffer of SMALL_FILL.
DIRECT_READ_MIN = 64 * 1024
SMALL_FILL = 256 * 1024


class ReaderStopped(Exception):
    """Raised from a read because cancel or stop was set; the request it feeds is dropped."""


class SharedFd:
    """One open descriptor used by the threads of an upload, closed after its last user.

    A worker stuck in a dead socket may read again after its upload gave up; it must never
    find the number closed and reused by another file (whose bytes it would then send)."""

    def __init__(self, fd: int) -> None:
        self._fd = fd
        self._users = 0
        self._closing = False
        self._lock = threading.Lock()

    @contextlib.contextmanager
    def use(self) -> Iterator[int]:
        with self._lock:
            if self._closing:
                raise ReaderStopped
            self._users += 1
        try:
            yield self._fd
        finally:
            with self._lock:
                self._users -= 1
                last = self._closing and self._users == 0
            if last:
                os.close(self._fd)

    def close(self) -> None:
        with self._lock:
            if self._closing:
                return
            self._closing = True
            last = self._users == 0
        if last:
            os.close(self._fd)


class BandwidthLimiter:
    """A shared pace for all parts: bytes are let through at most `rate` per second."""

    def __init__(self, rate: int, burst_sec: float = 0.25) -> None:
        self.rate = rate
        self.burst = burst_sec
        self._next = time.monotonic()
        self._lock = threading.Lock()

    def consume(self, n: int, cancel: threading.Event) -> None:
        with self._lock:
            now = time.monotonic()
            start = max(self._next, now - self.burst)
            self._next = start + n / self.rate
            wait = self._next - now - self.burst
        if wait > 0 and cancel.wait(wait):
            raise ReaderStopped


@dataclass(frozen=True)
class SliceDigest:
    checksum: str | None  # base64 of the configured algorithm's digest (None: not sent)
    raw: bytes | None     # the raw digest, for the composite checksum
    md5_hex: str | None   # what S3 (and moto) give as the part's ETag; only when asked for


def _hasher(algorithm: str | None) -> tuple[object, bool]:
    if algorithm == "SHA256":
        return hashlib.sha256(), False
    if algorithm == "SHA1":
        return hashlib.sha1(), False
    return 0, algorithm == "CRC32"


class _Stoppers:
    def __init__(self, *events: threading.Event) -> None:
        self.events = events

    def check(self) -> None:
        for event in self.events:
            if event.is_set():
                raise ReaderStopped


def digest_slice(fd: int, offset: int, length: int, algorithm: str | None,
                 *events: threading.Event, with_md5: bool = False,
                 also: Iterable[Any] = ()) -> SliceDigest:
    """Checksum (and MD5 if asked) of one slice of the open file `fd`, read in blocks.

    Every hash object in `also` is fed the same bytes (the whole-file SHA-256 rides along, so
    the file is read once for both). Stops with ReaderStopped when one of `events` is set.
    """
    md5 = hashlib.md5(usedforsecurity=False) if with_md5 else None
    crc = 0
    hasher, is_crc = _hasher(algorithm)
    extra = list(also)
    stoppers = _Stoppers(*events)
    buffer = bytearray(min(DIGEST_BLOCK, max(length, 1)))
    view = memoryview(buffer)
    try:
        done = 0
        while done < length:
            stoppers.check()
            want = min(len(buffer), length - done)
            got = os.preadv(fd, [view[:want]], offset + done)
            if got <= 0:
                raise OSError(5, "the file is shorter than expected")
            block = view[:got]
            done += got
            if md5 is not None:
                md5.update(block)
            if is_crc:
                crc = zlib.crc32(block, crc)
            elif algorithm in ("SHA256", "SHA1"):
                hasher.update(block)  # type: ignore[attr-defined]
            for other in extra:
                other.update(block)
    finally:
        view.release()
    raw: bytes | None
    if is_crc:
        raw = crc.to_bytes(4, "big")
    elif algorithm in ("SHA256", "SHA1"):
        raw = hasher.digest()  # type: ignore[attr-defined]
    else:
        raw = None
    return SliceDigest(base64.b64encode(raw).decode() if raw else None, raw,
                       md5.hexdigest() if md5 is not None else None)


def composite_checksum(algorithm: str, raws: list[bytes]) -> str:
    """S3's checksum of a multipart object: the checksum of the parts' raw checksums."""
    joined = b"".join(raws)
    if algorithm == "CRC32":
        raw = zlib.crc32(joined).to_bytes(4, "big")
    elif algorithm == "SHA256":
        raw = hashlib.sha256(joined).digest()
    else:
        raw = hashlib.sha1(joined).digest()
    return base64.b64encode(raw).decode()


def composite_etag(md5_hexes: list[str]) -> str:
    joined = b"".join(bytes.fromhex(h) for h in md5_hexes)
    return f"{hashlib.md5(joined, usedforsecurity=False).hexdigest()}-{len(md5_hexes)}"


class SeekableView(io.RawIOBase):
    """A read-only stream over `length` bytes with its own position (reads are the subclass's:
    pread at an offset, so many views can share one descriptor)."""

    def __init__(self, length: int) -> None:
        super().__init__()
        self._length = length
        self._pos = 0

    def __len__(self) -> int:
        return self._length

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._pos

    def seek(self, pos: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._pos, io.SEEK_END: self._length}[whence]
        self._pos = min(max(base + pos, 0), self._length)
        return self._pos


class SliceReader(SeekableView):
    """A seekable file-like view of bytes [offset, offset+length) of the open file `fd`.

    botocore reads it once to sign (over plain http) and once to send; `sending` is switched
    on by the client's before-send hook so only the sending pass is paced by the limiter.
    The descriptor belongs to the caller: closing the reader leaves it open.
    """

    def __init__(self, fd: int, offset: int, length: int, cancel: threading.Event,
                 stop: threading.Event, limiter: BandwidthLimiter | None = None) -> None:
        super().__init__(length)
        self._fd = fd
        self._offset = offset
        self._cancel = cancel
        self._stoppers = _Stoppers(cancel, stop)
        self._limiter = limiter
        self.sending = False
        self._small = b""  # buffer for small reads, starting at file position _small_start
        self._small_start = 0

    def _admit(self, size: int | None) -> int:
        """How many bytes the next read may return, after the cancel checks and the pace."""
        self._stoppers.check()
        if size is None or size < 0:
            size = READ_BLOCK
        size = min(size, self._length - self._pos, READ_BLOCK)
        if size > 0 and self.sending and self._limiter is not None:
            self._limiter.consume(size, self._cancel)
            self._stoppers.check()
        return size

    def read(self, size: int | None = -1) -> bytes:
        if size is None or size < 0:
            chunks = []
            while chunk := self.read(READ_BLOCK):
                chunks.append(chunk)
            return b"".join(chunks)
        size = self._admit(size)
        if size <= 0:
            return b""
        if size >= DIRECT_READ_MIN:
            data = os.pread(self._fd, size, self._offset + self._pos)
        else:
            start = self._pos - self._small_start
            if start < 0 or start + size > len(self._small):
                fill = min(SMALL_FILL, self._length - self._pos)
                self._small = os.pread(self._fd, fill, self._offset + self._pos)
                if len(self._small) != fill:
                    raise OSError(5, "the file is shorter than expected")
                self._small_start, start = self._pos, 0
            data = self._small[start:start + size]
        if len(data) != size:
            raise OSError(5, "the file is shorter than expected")
        self._pos += size
        return data

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        # Straight from the file into the caller's buffer: no intermediate bytes.
        size = self._admit(len(buffer))
        if size <= 0:
            return 0
        with memoryview(buffer) as view:
            got = os.preadv(self._fd, [view[:size]], self._offset + self._pos)
        if got != size:
            raise OSError(5, "the file is shorter than expected")
        self._pos += size
        return size

