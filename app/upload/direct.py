"""One session uploaded now, in the calling thread, with status kept in upload-state.json.

This is what `sessionrec upload ID --wait` runs until the serial queue takes over; the
queue reuses `run_engine` for the engine call itself.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

from app.models import UploadState
from app.upload.config import UploadConfig
from app.upload.engine import upload_session
from app.upload.errors import UploadError
from app.upload.progress import Progress
from app.upload.state_store import UploadStateStore, now_ms


def run_engine(data_dir: Path, session_id: str, config: UploadConfig, store: UploadStateStore,
               on_progress: Callable[[Progress], None], cancel: threading.Event) -> UploadState:
    """The engine call with the status bookkeeping around one attempt."""
    store.set_status(session_id, "uploading", last_attempt_at=now_ms(), max_retries=config.max_retries)
    try:
        upload_session(data_dir, session_id, config, store, on_progress, cancel)
    except UploadError as error:
        store.set_status(session_id, "failed", last_error=error.sentence, error_kind=error.kind.value,
                         error_detail=error.detail)
        raise
    return store.set_status(session_id, "done", completed_at=now_ms(), last_error=None,
                            error_kind=None, error_detail=None, next_attempt_at=None)
