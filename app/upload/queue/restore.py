"""What the queue picks up again when it starts (DESIGN §5 "Restore at start").

- `uploading` means the last owner stopped mid-upload (quit, crash, kill -9): it becomes
  `pending` and keeps its `multipart` record, so the engine resumes the same upload
  (ListParts reconciles; only missing parts are sent; a changed zip starts fresh).
- `pending` is re-queued as it is, keeping a `nextAttemptAt` backoff that has not run out.
- `failed` with a transient error kind and retries left is re-queued (an owner that died
  between recording the failure and scheduling the retry); permanent failures, and
  failures at maxRetries, stay `failed` until the user clicks Retry.
Sessions are re-queued in the order they were recorded (session `createdAt`).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from app.models import UploadState
from app.sessions import iter_session_paths, load_meta
from app.upload.session.errors import PERMANENT_KINDS, ErrorKind
from app.upload.session.state_store import StateDamaged, UploadStateStore

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class StoredSession:
    session_id: str
    created_at: int
    state: UploadState | None


def is_transient_failure(state: UploadState) -> bool:
    if state.status != "failed" or state.error_kind is None:
        return False
    try:
        kind = ErrorKind(state.error_kind)
    except ValueError:
        return False  # a kind we do not know: let a person decide (Retry)
    return kind not in PERMANENT_KINDS and state.retry_count < state.max_retries


def should_requeue(state: UploadState | None) -> bool:
    if state is None:
        return False
    if state.status in ("pending", "uploading"):
        return True
    return is_transient_failure(state)


def plan_restore(sessions: Iterable[StoredSession]) -> list[str]:
    """Ids to put back in the queue, oldest recording first."""
    chosen = [s for s in sessions if should_requeue(s.state)]
    chosen.sort(key=lambda s: (s.created_at, s.session_id))
    return [s.session_id for s in chosen]


def read_stored_sessions(data_dir: Path, store: UploadStateStore) -> list[StoredSession]:
    """Every session with a readable state; damaged ones are logged and left alone."""
    found: list[StoredSession] = []
    for paths in iter_session_paths(data_dir):
        try:
            state = store.get(paths.session_id)
        except StateDamaged as exc:
            log.warning("not restoring %s: %s", paths.session_id, exc)
            continue
        if state is None:
            continue
        meta = load_meta(paths).value
        created = meta.created_at if meta is not None else state.created_at
        found.append(StoredSession(paths.session_id, created, state))
    return found


def restore_queue(data_dir: Path, store: UploadStateStore) -> list[str]:
    """Move interrupted and retryable sessions back to `pending`; returns them in queue order."""
    ids = plan_restore(read_stored_sessions(data_dir, store))
    for session_id in ids:
        state = store.get(session_id)
        if state is None or state.status == "pending":
            continue
        # uploading -> pending keeps `multipart`: the engine continues that upload.
        store.set_status(session_id, "pending")
        log.info("restored %s from %s to pending", session_id, state.status)
    return ids
