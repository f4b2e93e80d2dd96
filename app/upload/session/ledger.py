"""The plan of one multipart upload (its slices) and the ledger of the parts that are done."""

from __future__ import annotations

import dataclasses
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from app.models import MultipartState, UploadedPart
from app.upload.session.progress import Progress, ProgressMeter
from app.upload.session.state_store import UploadStateStore

log = logging.getLogger(__name__)

# Parts are persisted at most this often (plus at the end); progress follows the disk.
RECORD_INTERVAL_SEC = 0.25


@dataclass(frozen=True)
class Slice:
    """Part `number` (1-based): `length` bytes of the zip from `offset`."""

    number: int
    offset: int
    length: int


def slices(size: int, part_size: int) -> list[Slice]:
    count = max(1, -(-size // part_size))
    return [Slice(i + 1, i * part_size, min(part_size, size - i * part_size)) for i in range(count)]


class PartLedger:
    """Finished parts: persisted (throttled) first, reported after, never the other way.

    After `close()` nothing more is written, so a worker finishing late (after cancel) can
    never write parts back into a state the caller has since changed.
    """

    def __init__(self, store: UploadStateStore, session_id: str, multipart: MultipartState,
                 meter: ProgressMeter, on_progress: Callable[[Progress], None]) -> None:
        self.store = store
        self.session_id = session_id
        self.multipart = multipart
        self.parts = {p.part_number: p for p in multipart.parts}
        self.meter = meter
        self.on_progress = on_progress
        self._lock = threading.Lock()
        self._dirty = False
        self._closed = False
        self._last_flush = 0.0

    def add(self, part: UploadedPart, last: bool = False) -> None:
        with self._lock:
            if self._closed:
                return
            self.parts[part.part_number] = part
            self._dirty = True
            if last or time.monotonic() - self._last_flush >= RECORD_INTERVAL_SEC:
                self._flush()

    def flush_if_due(self) -> None:
        with self._lock:
            if self._dirty and not self._closed and \
                    time.monotonic() - self._last_flush >= RECORD_INTERVAL_SEC:
                self._flush()

    def close(self) -> None:
        with self._lock:
            if self._dirty and not self._closed:
                try:
                    self._flush()
                except Exception:  # a failing disk must not hide the original error
                    log.exception("recording finished parts failed")
            self._closed = True

    def confirmed_bytes(self) -> int:
        return sum(p.size or 0 for p in self.parts.values())

    def mark_verified(self) -> None:
        """Record that this file's SHA-256 matched, so a resume need not hash it again."""
        with self._lock:
            if self._closed or self.multipart.zip_verified:
                return
            self.multipart = dataclasses.replace(self.multipart, zip_verified=True)
            self._flush()

    def _flush(self) -> None:
        parts = sorted(self.parts.values(), key=lambda p: p.part_number)
        self.multipart = dataclasses.replace(self.multipart, parts=parts)
        confirmed = self.confirmed_bytes()
        self.store.update(self.session_id, multipart=self.multipart, bytes_uploaded=confirmed)
        self._dirty = False
        self._last_flush = time.monotonic()
        # Inside the lock so two workers can never report out of order.
        self.on_progress(self.meter.set_confirmed(confirmed))
