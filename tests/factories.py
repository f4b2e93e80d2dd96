"""Builders for realistic sessions on disk, shared by tests and bench scripts."""

from __future__ import annotations

import hashlib
import json
import os
import zipfile
from pathlib import Path

from app.models import SessionMeta, UploadState, UploadStatus
from app.sessions import new_session_id, save_meta, save_upload_state, session_paths


def make_session(
    data_dir: Path,
    created_at: int,
    *,
    session_id: str | None = None,
    exported: bool = True,
    status: UploadStatus | None = None,
    actions: int = 20,
    zip_bytes: int = 2048,
) -> str:
    """Write a finished session like the recorder does: meta, actions, frames, zip, marker."""
    session_id = session_id or new_session_id(created_at)
    paths = session_paths(data_dir, session_id)
    paths.root.mkdir(parents=True)
    paths.screenshots_dir.mkdir()
    paths.video_dir.mkdir()
    with paths.actions.open("w") as handle:
        for i in range(actions):
            handle.write(json.dumps({"t": i * 100, "type": "move", "x": i, "y": i, "frame": i}) + "\n")
    with paths.frames.open("w") as handle:
        for i in range(actions):
            handle.write(json.dumps({"index": i, "t": i * 100}) + "\n")
    (paths.video_dir / "screen.mp4").write_bytes(os.urandom(256))
    meta = SessionMeta(
        session_id=session_id,
        created_at=created_at,
        ended_at=created_at + 60_000,
        app_version="test",
        action_count=actions,
        screenshot_count=1,
        fps=10,
        duration_ms=60_000,
        frame_count=600,
        video_ref="video/screen.mp4",
    )
    if exported:
        with zipfile.ZipFile(paths.zip, "w") as archive:
            archive.writestr("payload.bin", os.urandom(zip_bytes))
        paths.exported_marker.write_text("")
        # As the recorder's export does: the zip's size and SHA-256 go into the meta.
        meta = SessionMeta(**{**meta.__dict__, "zip_path": "session.zip",
                              "file_size_bytes": paths.zip.stat().st_size,
                              "zip_sha256": hashlib.sha256(paths.zip.read_bytes()).hexdigest()})
    save_meta(paths, meta)
    if status is not None:
        size = paths.zip.stat().st_size if exported else 0
        save_upload_state(paths, UploadState(
            session_id=session_id, status=status, created_at=created_at, updated_at=created_at,
            total_bytes=size, bytes_uploaded=size if status == "done" else 0,
            completed_at=created_at if status == "done" else None,
        ))
    return session_id
