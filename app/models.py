"""The on-disk records of DESIGN §4 as typed dataclasses (camelCase on disk)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from app.jsonfile import SchemaError
from app.jsonrecord import JsonRecord

SCHEMA_VERSION = 1

UploadStatus = Literal["not_uploaded", "pending", "uploading", "done", "failed"]
UPLOAD_STATUSES: tuple[UploadStatus, ...] = (
    "not_uploaded", "pending", "uploading", "done", "failed",
)


def _check_schema_version(version: int, name: str) -> None:
    if version < 1:
        raise SchemaError(f"{name}.schemaVersion must be 1 or more")
    if version > SCHEMA_VERSION:
        raise SchemaError(
            f"{name} was written by a newer sessionrec (schema {version}); update sessionrec"
        )


@dataclass(frozen=True)
class ScreenRect(JsonRecord):
    x: int
    y: int
    width: int
    height: int


@dataclass(frozen=True)
class PauseSpan(JsonRecord):
    """A pause in a recording, as ms since session start on the session clock."""

    start_ms: int
    end_ms: int | None = None


@dataclass(frozen=True)
class SessionMeta(JsonRecord):
    session_id: str
    created_at: int
    schema_version: int = SCHEMA_VERSION
    app_version: str = ""
    ended_at: int | None = None
    action_count: int = 0
    screenshot_count: int = 0
    fps: float = 0.0
    screen: ScreenRect | None = None
    duration_ms: int = 0
    frame_count: int = 0
    dropped_frames: int = 0
    video_ref: str | None = None
    zip_path: str | None = None
    file_size_bytes: int | None = None
    zip_sha256: str | None = None
    recovered: bool = False
    mask_keys: bool = False
    # The recording options, as chosen (optional: sessions recorded before they were kept).
    monitor: str | None = None  # "1", "2", ... or "all"
    monitor_name: str | None = None
    screenshot_every_sec: float | None = None
    pauses: list[PauseSpan] = field(default_factory=list)
    # One sentence when the recording stopped on an error (disk full, capture stalled).
    error: str | None = None
    # Set by the person (card, `rename`, `record --title`); see app/session_texts.py.
    title: str | None = None
    note: str | None = None

    def __post_init__(self) -> None:
        _check_schema_version(self.schema_version, "session-meta")
        if self.action_count < 0 or self.screenshot_count < 0 or self.frame_count < 0:
            raise SchemaError("session-meta counts must not be negative")


@dataclass(frozen=True)
class UploadedPart(JsonRecord):
    part_number: int
    etag: str
    checksum: str | None = None
    size: int | None = None


@dataclass(frozen=True)
class MultipartState(JsonRecord):
    upload_id: str
    part_size: int
    file_size: int
    file_mtime_ns: int
    parts: list[UploadedPart] = field(default_factory=list)
    # The zip's ctime when the upload began: touched since means "check the SHA-256 again".
    file_ctime_ns: int | None = None
    # The zip's SHA-256 matched session-meta.json for this file (size, mtime, ctime).
    zip_verified: bool = False
    # The bucket the destination named when it created the upload (Uppy Companion does), so
    # the file record knows it after a resume in another process.
    bucket: str | None = None


@dataclass(frozen=True)
class FileRecordState(JsonRecord):
    """The file record of a verified upload, kept until every target accepted it
    (app/upload/records/; docs/FORMATS.md)."""

    # The exact JSON document sent each time (the webhook's signature covers these bytes).
    body: str
    # Targets still to be told: "fileRecord" (the backend's fileRecordPath), "webhook".
    pending: list[str] = field(default_factory=list)
    delivered: list[str] = field(default_factory=list)
    attempts: int = 0
    next_attempt_at: int | None = None
    last_error: str | None = None
    delivered_at: int | None = None
    # Every pending target has no setting now (the webhook was removed, or the destination is
    # no longer the simple backend): nothing is sent, no attempt counted, until one is set.
    waiting_for_setting: bool = False


@dataclass(frozen=True)
class UploadState(JsonRecord):
    session_id: str
    status: UploadStatus
    created_at: int
    updated_at: int
    schema_version: int = SCHEMA_VERSION
    s3_key: str | None = None
    bytes_uploaded: int = 0
    total_bytes: int = 0
    retry_count: int = 0
    max_retries: int = 10
    last_error: str | None = None
    error_kind: str | None = None
    # Sanitised technical detail (error code, HTTP status) for a tooltip; never raw SDK text.
    error_detail: str | None = None
    last_attempt_at: int | None = None
    next_attempt_at: int | None = None
    completed_at: int | None = None
    multipart: MultipartState | None = None
    file_record: FileRecordState | None = None

    def __post_init__(self) -> None:
        _check_schema_version(self.schema_version, "upload-state")
        if self.bytes_uploaded < 0 or self.total_bytes < 0:
            raise SchemaError("upload-state byte counts must not be negative")

    @property
    def progress_percent(self) -> float | None:
        if self.total_bytes <= 0:
            return None
        return max(0.0, min(100.0, 100.0 * self.bytes_uploaded / self.total_bytes))


@dataclass(frozen=True)
class SessionListItem(JsonRecord):
    """What `sessionrec list --json` prints and the session list shows."""

    session_id: str
    created_at: int
    is_exported: bool
    upload_status: UploadStatus
    damaged: bool = False
    damaged_reason: str | None = None
    ended_at: int | None = None
    action_count: int = 0
    screenshot_count: int = 0
    duration_ms: int = 0
    file_size_bytes: int | None = None
    zip_path: str | None = None
    upload_progress: float | None = None
    bytes_uploaded: int = 0
    total_bytes: int = 0
    last_upload_error: str | None = None
    error_kind: str | None = None
    error_detail: str | None = None
    retry_count: int = 0
    next_attempt_at: int | None = None
    recovered: bool = False
    has_local_files: bool = True
    # The session folder holds a (non-empty) video file: the card offers Play.
    has_video: bool = False
    s3_key: str | None = None
    title: str | None = None
    note: str | None = None
    # The state records a multipart upload the bucket still holds (a failed session keeps it
    # so that Retry resumes it; Cancel aborts it).
    multipart_upload_open: bool = False
    # The object is done but its file record (fileRecordPath / webhookUrl) is not accepted
    # yet: False. True once every target took it; None when no record is sent.
    file_record_delivered: bool | None = None
    file_record_error: str | None = None
    file_record_waiting_for_setting: bool | None = None

    def to_json(self) -> dict[str, object]:
        # `damaged` is part of the contract even when false.
        out = super().to_json()
        out["damaged"] = self.damaged
        return out
