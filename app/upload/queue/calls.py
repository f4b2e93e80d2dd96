"""What the queue calls to upload and abort, and what it reports: its two seams.

`DestinationCalls` is the bundle the worker calls for each session, injectable so the loop
can be tested with a scripted stand-in; `destination_calls()` wires it to the `Destination`
that `config.destination` names (app/upload/destination.py), so the queue never knows which
store it uploads to. `QueueEvents` is what the worker reports.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from app.upload.queue import checks
from app.upload.session.progress import Progress, ProgressCallback
from app.upload.session.state_store import UploadStateStore

if TYPE_CHECKING:
    from app.models import UploadState
    from app.upload.config import UploadConfig

Reply = Callable[[str | None], None]


class QueueEvents(Protocol):
    """What the worker reports; called on the worker thread only.

    `failed` is sent whenever a session leaves the queue without being uploaded for any reason
    but a cancel: it failed for good, its folder was removed, or an unexpected error stopped
    it (then its state may not say `failed`, e.g. on a full disk). Anyone waiting for a
    session can therefore stop at `failed`, or at a status of done / failed / not_uploaded.
    """

    def status_changed(self, session_id: str, status: str) -> None: ...
    def progress(self, session_id: str, progress: Progress) -> None: ...
    def failed(self, session_id: str, sentence: str) -> None: ...
    def queue_changed(self) -> None: ...
    def idle(self) -> None: ...


UploadFn = Callable[[Path, str, "UploadConfig", UploadStateStore, ProgressCallback, threading.Event],
                    "UploadState"]
AbortFn = Callable[[Path, str, "UploadConfig", UploadStateStore], None]
# Abort a multipart upload known by (key, upload id) alone: its session folder is gone.
AbortIdFn = Callable[[Path, "UploadConfig", str, str], None]
ConfigFn = Callable[[Path], "tuple[UploadConfig | None, str | None]"]


@dataclass(frozen=True)
class DestinationCalls:
    """The calls the queue makes on the configured destination, one session at a time."""

    upload: UploadFn
    abort: AbortFn
    load_config: ConfigFn = checks.load_valid_config
    abort_id: AbortIdFn | None = None


def destination_calls() -> DestinationCalls:
    """The real calls: each goes to `destination_for(data_dir, config)`."""
    return DestinationCalls(upload=_upload, abort=_abort, abort_id=_abort_id)


def _upload(data_dir: Path, session_id: str, config: UploadConfig, store: UploadStateStore,
            on_progress: ProgressCallback, cancel: threading.Event) -> UploadState:
    from app.upload.destination import destination_for

    return destination_for(data_dir, config).upload(session_id, store, on_progress, cancel)


def _abort(data_dir: Path, session_id: str, config: UploadConfig, store: UploadStateStore) -> None:
    from app.upload.destination import destination_for

    destination_for(data_dir, config).abort(session_id, store)


def _abort_id(data_dir: Path, config: UploadConfig, key: str, upload_id: str) -> None:
    from app.upload.destination import destination_for

    destination_for(data_dir, config).abort_upload(key, upload_id)
