"""`with_file_record`: a Destination that queues a file record after every verified upload.

It wraps whichever destination the settings name, so S3 and the backend get records the
same way. The record is stored in upload-state.json before the queue hears "done" (so it
survives any crash from then on) and sent by the outbox's own thread (outbox.py).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from app.upload.config import UploadConfig
from app.upload.records.document import record_document, record_targets
from app.upload.records.outbox import outbox_for
from app.upload.session.state_store import now_ms

if TYPE_CHECKING:
    from app.models import UploadState
    from app.upload.destination import Destination
    from app.upload.session.progress import Progress
    from app.upload.session.state_store import UploadStateStore


class RecordingDestination:
    def __init__(self, data_dir: Path, config: UploadConfig, inner: Destination) -> None:
        self.data_dir = data_dir
        self.config = config
        self.inner = inner

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    def upload(self, session_id: str, store: UploadStateStore,
               on_progress: Callable[[Progress], None], cancel: threading.Event) -> UploadState:
        state = self.inner.upload(session_id, store, on_progress, cancel)
        targets = record_targets(self.config)
        if targets:
            body = record_document(self.data_dir, state, self._bucket(), now_ms())
            outbox_for(self.data_dir).mark_pending(session_id, body, targets)
            state = store.get(session_id) or state
        return state

    def _bucket(self) -> str | None:
        if self.config.destination_kind != "backend":
            return self.config.bucket
        return getattr(self.inner, "bucket", None)


def with_file_record(data_dir: Path, config: UploadConfig, inner: Destination) -> Destination:
    if not record_targets(config):
        return inner
    return RecordingDestination(data_dir, config, inner)
