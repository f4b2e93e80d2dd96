"""State transitions shared by the queue worker and the commands that act on disk directly
(when no process owns the queue). Callers hold the queue lock or are the queue's worker."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from app import session_files
from app.models import UploadState
from app.sessions import ZIP_FILE, session_paths
from app.upload.session.errors import UploadError
from app.upload.session.state_store import UploadStateStore

if TYPE_CHECKING:
    from app.upload.config import UploadConfig

log = logging.getLogger(__name__)

AbortFn = Callable[[Path, str, "UploadConfig", UploadStateStore], None]


def mark_pending(data_dir: Path, store: UploadStateStore, session_id: str, config: UploadConfig,
                 reset_retries: bool) -> UploadState:
    """Write `pending` for a session that passed the enqueue checks."""
    state = store.get(session_id)
    info = session_files.stat_regular(session_paths(data_dir, session_id).root, ZIP_FILE)
    zip_size = info.st_size if info is not None else 0
    changes: dict[str, object] = dict(
        max_retries=config.max_retries, last_error=None, error_kind=None, error_detail=None,
        next_attempt_at=None, total_bytes=zip_size,
    )
    if reset_retries or state is None or state.status != "pending":
        changes["retry_count"] = 0
    return store.set_status(session_id, "pending", **changes)


def abort_and_reset(data_dir: Path, store: UploadStateStore, session_id: str,
                    config: UploadConfig | None, abort: AbortFn) -> UploadState:
    """Abort the session's multipart upload (nothing left billed), then `not_uploaded`.

    Without usable settings the abort cannot be sent; the multipart record then stays in
    the state so a later upload resumes (or aborts) it, and `lastError` says so.
    """
    note: str | None = None
    if config is not None:
        try:
            abort(data_dir, session_id, config, store)
        except UploadError as exc:
            from app.upload.destination import describe

            log.warning("could not abort the multipart upload of %s: %s", session_id, exc)
            note = f"The unfinished upload could not be removed from {describe(config)}: {exc.sentence}"
    else:
        state = store.get(session_id)
        if state is not None and state.multipart is not None:
            note = "The unfinished upload could not be removed: the settings are not valid."
    return store.set_status(session_id, "not_uploaded", retry_count=0, next_attempt_at=None,
                            last_error=note, error_kind=None, error_detail=None)
