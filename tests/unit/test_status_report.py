"""A status report puts the queue's new state on a list item without reading the disk."""

from __future__ import annotations

from app.models import MultipartState, SessionListItem, UploadState
from app.upload.queue.status_report import StatusReport


def test_report_from_state_updates_the_item_as_a_fresh_read_would() -> None:
    state = UploadState(session_id="s1", status="failed", created_at=1, updated_at=2,
                        s3_key="k/s1.zip", bytes_uploaded=5, total_bytes=10, retry_count=3,
                        last_error="The server cannot be reached.", error_kind="network",
                        multipart=MultipartState(upload_id="u", part_size=5, file_size=10,
                                                 file_mtime_ns=0))
    item = SessionListItem(session_id="s1", created_at=1, is_exported=True,
                           upload_status="uploading", title="kept")
    updated = StatusReport.from_state(state).applied_to(item)
    assert updated.upload_status == "failed" and updated.retry_count == 3
    assert updated.last_upload_error == "The server cannot be reached."
    assert updated.multipart_upload_open and updated.s3_key == "k/s1.zip"
    assert updated.upload_progress == 50.0 and updated.title == "kept"
    assert not updated.damaged


def test_a_damaged_zip_reported_by_the_upload_marks_the_item_damaged() -> None:
    report = StatusReport("s1", "failed", last_error="The zip was changed.", error_kind="damaged")
    item = SessionListItem(session_id="s1", created_at=1, is_exported=True, upload_status="uploading")
    updated = report.applied_to(item)
    assert updated.damaged and updated.damaged_reason == "The zip was changed."
