"""The file record's document (docs/FORMATS.md "File record") and where it goes.

Built once, when the upload is verified, and stored as text in upload-state.json
(`fileRecord.body`), so every retry sends the same bytes and the webhook's signature covers
exactly what the receiver reads.
"""

from __future__ import annotations

import json
import socket
from pathlib import Path
from typing import Any

from app import __version__
from app.models import UploadState
from app.sessions import load_meta, session_paths
from app.upload.config import UploadConfig

FILE_RECORD = "fileRecord"  # the backend's fileRecordPath (simple protocol)
WEBHOOK = "webhook"         # webhookUrl (any destination)
MAX_BODY = 16 * 1024


def record_targets(config: UploadConfig) -> list[str]:
    """Where the record of an upload with these settings must be delivered."""
    targets = []
    if config.destination_kind == "backend" and config.protocol == "simple":
        targets.append(FILE_RECORD)
    if config.webhook_url:
        targets.append(WEBHOOK)
    return targets


def unset_sentence(targets: list[str]) -> str:
    """Why a record whose pending targets have no setting now is not sent (plain words)."""
    if targets == [WEBHOOK]:
        return "No webhook is set; the file record will be sent when one is (webhookUrl)."
    if targets == [FILE_RECORD]:
        return ("The backend's file-record endpoint is no longer set; the file record will be "
                "sent when the destination is the backend's simple contract again.")
    return ("Neither the webhook nor the backend's file-record endpoint is set; the file "
            "record will be sent when one is.")


def record_document(data_dir: Path, state: UploadState, bucket: str | None,
                    uploaded_at: int) -> str:
    """The record of the verified upload `state` describes, as compact JSON text."""
    meta = load_meta(session_paths(data_dir, state.session_id)).value
    document: dict[str, Any] = {
        "sessionId": state.session_id,
        "bucket": bucket,
        "key": state.s3_key,
        "size": state.total_bytes,
        "zipSha256": meta.zip_sha256 if meta else None,
        "createdAt": meta.created_at if meta else None,
        "uploadedAt": uploaded_at,
        "durationMs": meta.duration_ms if meta else None,
        "actionCount": meta.action_count if meta else None,
        "screenshotCount": meta.screenshot_count if meta else None,
        "title": meta.title if meta else None,
        "appVersion": __version__,
        "host": socket.gethostname()[:255],
    }
    return json.dumps(document, separators=(",", ":"), ensure_ascii=False)
