"""One status change of a session's upload, carrying what the session list shows of it.

The queue sends one of these with every status change, made from the state it has just
written, so the window updates the card from the report and never re-reads the disk. The
file-record sender (app/upload/records/outbox.py) sends a `RecordReport` the same way each
time it writes a record: stored, delivered, or an attempt that failed with its sentence.
It is a report of its own because it changes no upload status (a "done" report would tell
the window the upload finished again), and the record and the status are written by two
threads, so neither report may carry the other's fields from a moment ago."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from app.models import FileRecordState, SessionListItem, UploadState, UploadStatus


@dataclass(frozen=True)
class StatusReport:
    session_id: str
    status: UploadStatus
    last_error: str | None = None
    error_kind: str | None = None
    error_detail: str | None = None
    retry_count: int = 0
    next_attempt_at: int | None = None
    bytes_uploaded: int = 0
    total_bytes: int = 0
    s3_key: str | None = None
    multipart_open: bool = False

    @classmethod
    def from_state(cls, state: UploadState) -> StatusReport:
        return cls(session_id=state.session_id, status=state.status, last_error=state.last_error,
                   error_kind=state.error_kind, error_detail=state.error_detail,
                   retry_count=state.retry_count, next_attempt_at=state.next_attempt_at,
                   bytes_uploaded=state.bytes_uploaded, total_bytes=state.total_bytes,
                   s3_key=state.s3_key, multipart_open=state.multipart is not None)

    @property
    def damage(self) -> str | None:
        """Why the session is damaged, when the upload found its zip is not what was recorded
        (the same rule as the list's reading of upload-state.json)."""
        if self.status == "failed" and self.error_kind == "damaged":
            return self.last_error or "the zip does not match what was recorded"
        return None

    def applied_to(self, item: SessionListItem) -> SessionListItem:
        """`item` with this upload status (its recording files are as they were)."""
        damaged, reason = item.damaged, item.damaged_reason
        damage = self.damage
        if damage and damage not in (reason or ""):
            damaged, reason = True, f"{reason}; {damage}" if reason else damage
        percent = None if self.total_bytes <= 0 else \
            max(0.0, min(100.0, 100.0 * self.bytes_uploaded / self.total_bytes))
        return dataclasses.replace(
            item, upload_status=self.status, last_upload_error=self.last_error,
            error_kind=self.error_kind, error_detail=self.error_detail,
            retry_count=self.retry_count, next_attempt_at=self.next_attempt_at,
            bytes_uploaded=self.bytes_uploaded, total_bytes=self.total_bytes,
            upload_progress=percent, s3_key=self.s3_key, multipart_upload_open=self.multipart_open,
            damaged=damaged, damaged_reason=reason)


@dataclass(frozen=True)
class RecordReport:
    """Where a session's file record stands, as the list shows it (fileRecordDelivered,
    fileRecordError)."""

    session_id: str
    delivered: bool
    error: str | None = None
    waiting_for_setting: bool = False

    @classmethod
    def from_record(cls, session_id: str, record: FileRecordState) -> RecordReport:
        delivered = not record.pending
        return cls(session_id, delivered, None if delivered else record.last_error,
                   not delivered and record.waiting_for_setting)

    def applied_to(self, item: SessionListItem) -> SessionListItem:
        return dataclasses.replace(item, file_record_delivered=self.delivered,
                                   file_record_error=self.error,
                                   file_record_waiting_for_setting=self.waiting_for_setting or None)
