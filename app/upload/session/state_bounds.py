"""Every number read from upload-state.json, moved into its documented bounds (docs/FORMATS.md).

The file is untrusted input like the rest of the data folder. A number outside its bounds is
clamped and logged (once per session, field and value) rather than making the session
unreadable: a `nextAttemptAt` a century ahead becomes "at most the longest backoff from now",
so no timer, countdown or float conversion ever sees it. A multipart record with an
impossible number is dropped (the next attempt starts a fresh upload).
"""

from __future__ import annotations

import dataclasses
import logging
import re
import threading
import time

from app.models import FileRecordState, MultipartState, UploadState
from app.upload.queue.backoff import max_delay

log = logging.getLogger(__name__)

MAX_RETRY_COUNT = 1000
MAX_RETRIES = 100
MAX_OBJECT_BYTES = 5 * 1024 ** 4   # S3's largest object
MIN_PART_BYTES = 5 * 1024 ** 2
MAX_PART_BYTES = 5 * 1024 ** 3
MAX_PARTS = 10_000
MAX_EPOCH_MS = 253_402_300_799_999  # 9999-12-31, the last instant a date can show
MAX_NS = 2 ** 63 - 1
MAX_AHEAD_MS = int(max_delay(3600.0) * 1000)  # the longest backoff the settings allow
# S3's bucket names, with the leeway of legacy us-east-1 names (capitals, underscores, 255).
_BUCKET_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{1,253}[A-Za-z0-9]")

_logged: set[tuple[str, str, str]] = set()
_logged_lock = threading.Lock()


def bounded_state(state: UploadState, now_ms: int | None = None) -> UploadState:
    """`state` with every number inside its bounds (the same object when nothing changed)."""
    now_ms = int(time.time() * 1000) if now_ms is None else now_ms
    changes: dict[str, object] = {}

    def clamp(name: str, value: int | None, low: int, high: int) -> None:
        if value is None or low <= value <= high:
            return
        fixed = min(max(value, low), high)
        changes[name] = fixed
        _log(state.session_id, name, value, fixed)

    clamp("retry_count", state.retry_count, 0, MAX_RETRY_COUNT)
    clamp("max_retries", state.max_retries, 0, MAX_RETRIES)
    clamp("total_bytes", state.total_bytes, 0, MAX_OBJECT_BYTES)
    total = int(changes.get("total_bytes", state.total_bytes))  # type: ignore[call-overload]
    clamp("bytes_uploaded", state.bytes_uploaded, 0, total)
    for name in ("created_at", "updated_at", "last_attempt_at", "completed_at"):
        clamp(name, getattr(state, name), 0, MAX_EPOCH_MS)
    clamp("next_attempt_at", state.next_attempt_at, 0, min(now_ms + MAX_AHEAD_MS, MAX_EPOCH_MS))
    if state.multipart is not None and not _multipart_ok(state.multipart):
        changes["multipart"] = None
        _log(state.session_id, "multipart", "out-of-bounds numbers", "none (a fresh upload)")
    elif state.multipart is not None and state.multipart.bucket is not None \
            and not bucket_name_ok(state.multipart.bucket):
        # Only the record's bucket is lost (it reads null); the upload itself resumes.
        changes["multipart"] = dataclasses.replace(state.multipart, bucket=None)
        _log(state.session_id, "multipart.bucket", state.multipart.bucket, "null")
    if state.file_record is not None:
        record = _bounded_record(state.file_record, now_ms)
        if record is not state.file_record:
            changes["file_record"] = record
            _log(state.session_id, "fileRecord", "out-of-bounds fields", "bounded")
    return dataclasses.replace(state, **changes) if changes else state  # type: ignore[arg-type]


RECORD_TARGETS = ("fileRecord", "webhook")
MAX_RECORD_BODY = 16 * 1024


def _bounded_record(record: FileRecordState, now_ms: int) -> FileRecordState | None:
    """A file record inside its bounds; None (no record to send) when its document is too
    big to be ours. Unknown targets are dropped; numbers are clamped."""
    if len(record.body) > MAX_RECORD_BODY:
        return None
    pending = [t for t in record.pending if t in RECORD_TARGETS][:len(RECORD_TARGETS)]
    delivered = [t for t in record.delivered if t in RECORD_TARGETS][:len(RECORD_TARGETS)]
    attempts = min(max(record.attempts, 0), MAX_RETRY_COUNT)
    ahead = min(now_ms + MAX_AHEAD_MS, MAX_EPOCH_MS)
    next_at = record.next_attempt_at
    if next_at is not None:
        next_at = min(max(next_at, 0), ahead)
    delivered_at = record.delivered_at
    if delivered_at is not None:
        delivered_at = min(max(delivered_at, 0), MAX_EPOCH_MS)
    last_error = record.last_error[:500] if record.last_error else record.last_error
    bounded = dataclasses.replace(record, pending=pending, delivered=delivered, attempts=attempts,
                                  next_attempt_at=next_at, delivered_at=delivered_at,
                                  last_error=last_error)
    return record if bounded == record else bounded


def bucket_name_ok(name: str) -> bool:
    """A name a bucket can have (what a destination reports is checked like the file)."""
    return _BUCKET_NAME.fullmatch(name) is not None


def _multipart_ok(multipart: MultipartState) -> bool:
    if not MIN_PART_BYTES <= multipart.part_size <= MAX_PART_BYTES:
        return False
    if not 0 <= multipart.file_size <= MAX_OBJECT_BYTES:
        return False
    if not 0 <= multipart.file_mtime_ns <= MAX_NS:
        return False
    if multipart.file_ctime_ns is not None and not 0 <= multipart.file_ctime_ns <= MAX_NS:
        return False
    if len(multipart.parts) > MAX_PARTS:
        return False
    return all(1 <= p.part_number <= MAX_PARTS and (p.size is None or 0 <= p.size <= MAX_PART_BYTES)
               for p in multipart.parts)


def _log(session_id: str, name: str, value: object, fixed: object) -> None:
    shown = str(value) if len(str(value)) <= 40 else str(value)[:40] + "..."
    with _logged_lock:
        key = (session_id, name, shown)
        if key in _logged:
            return
        _logged.add(key)
    log.warning("upload-state.json of %s: %s = %s is outside its bounds; using %s",
                session_id, name, shown, fixed)
