"""The one place that reads and writes `upload-state.json`.

The queue writes status changes and the uploader writes multipart progress,
from different threads; every change is a read-modify-write under one lock per
session and lands on disk atomically before `update` returns, so what the
file says is never behind what anyone was told.
"""

from __future__ import annotations

import dataclasses
import threading
import time
from pathlib import Path
from typing import Any

from app.jsonfile import Loaded
from app.models import UploadState, UploadStatus
from app.sessions import InvalidSessionId, load_upload_state, save_upload_state, session_paths


def now_ms() -> int:
    return int(time.time() * 1000)


class StateDamaged(Exception):
    """upload-state.json exists but cannot be read; it is never overwritten blindly."""


# One lock per session for the whole process, shared by every store of a data folder: the
# queue and the file-record sender (app/upload/records/) update the same file from their
# own threads through their own stores.
_LOCKS: dict[tuple[str, str], threading.RLock] = {}
_LOCKS_GUARD = threading.Lock()


class UploadStateStore:
    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self._folder = str(data_dir.absolute())
        # The last state this store wrote per session, so a status report needs no re-read.
        self._last_saved: dict[str, UploadState] = {}

    def lock(self, session_id: str) -> threading.RLock:
        with _LOCKS_GUARD:
            return _LOCKS.setdefault((self._folder, session_id), threading.RLock())

    def load(self, session_id: str) -> Loaded[UploadState]:
        try:
            paths = session_paths(self.data_dir, session_id)
        except InvalidSessionId as exc:  # a bad id, or a link where the session folder belongs
            return Loaded(problem=str(exc).rstrip("."))
        return load_upload_state(paths)

    def get(self, session_id: str) -> UploadState | None:
        """The state, None when there is none yet; raises StateDamaged for an unreadable file."""
        loaded = self.load(session_id)
        if loaded.problem:
            raise StateDamaged(loaded.problem)
        return loaded.value

    def save(self, state: UploadState) -> UploadState:
        with self.lock(state.session_id):
            state = dataclasses.replace(state, updated_at=now_ms())
            save_upload_state(session_paths(self.data_dir, state.session_id), state)
            self._last_saved[state.session_id] = state
            return state

    def last_saved(self, session_id: str) -> UploadState | None:
        """What this store last wrote for the session (None if it wrote nothing yet)."""
        return self._last_saved.get(session_id)

    def update(self, session_id: str, **changes: Any) -> UploadState:
        """Apply `changes` to the current state (creating it as not_uploaded) and persist."""
        with self.lock(session_id):
            current = self.get(session_id)
            if current is None:
                stamp = now_ms()
                current = UploadState(session_id=session_id, status="not_uploaded",
                                      created_at=stamp, updated_at=stamp)
            return self.save(dataclasses.replace(current, **changes))

    def set_status(self, session_id: str, status: UploadStatus, **changes: Any) -> UploadState:
        return self.update(session_id, status=status, **changes)
