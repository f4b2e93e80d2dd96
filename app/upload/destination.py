"""Where sessions are uploaded to, as the queue and the commands see it (the upper seam).

A `Destination` is one store reached one way: S3 with keys on this computer
(`app/upload/s3/`), or a backend that signs each request (`app/upload/backend/`). The queue,
the commands and the settings panel use this protocol only; `destination_for` picks the
implementation from `config.destination`. Each destination runs its uploads through the
shared multipart session (`app/upload/session/`) over its own `MultipartTransport`.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from app.models import UploadState
    from app.upload.config import UploadConfig
    from app.upload.session.progress import Progress
    from app.upload.session.state_store import UploadStateStore
    from app.upload.session.transport import HeldPart

class Destination(Protocol):
    """One configured store. Made cheaply (no network) from a data folder and its settings;
    every method that talks to the store raises `UploadError` with a sentence."""

    def describe(self) -> str:
        """The store in words for sentences: "the bucket 'x'", "the backend at host"."""
        ...

    def validate(self) -> dict[str, str]:
        """camelCase setting -> one sentence for each setting this destination cannot use;
        empty when it can upload (no request is sent)."""
        ...

    def test_connection(self, secrets: dict[str, str] | None = None) -> str | None:
        """None when the store can be reached and written to with these settings, else one
        sentence. `secrets` are typed but unsaved secrets (camelCase names) to try instead
        of the stored ones; they are never stored or shown."""
        ...

    def upload(self, session_id: str, store: UploadStateStore,
               on_progress: Callable[[Progress], None], cancel: threading.Event) -> UploadState:
        """Upload sessions/<id>/session.zip: resumable, verified, cancellable (the session's
        contract: app/upload/session/). Never changes status, retryCount or lastError."""
        ...

    def abort(self, session_id: str, store: UploadStateStore) -> None:
        """Abort the multipart upload recorded for the session (if any) and forget it."""
        ...

    def abort_upload(self, key: str, upload_id: str) -> None:
        """Abort one multipart upload known only by key and id (its session folder is gone)."""
        ...

    def list_parts(self, key: str, upload_id: str) -> dict[int, HeldPart]:
        """The parts the store holds for an unfinished upload: {partNumber: (etag, size)}."""
        ...


def describe(config: UploadConfig) -> str:
    """Where `config` uploads to, in words for a sentence, without making the destination:
    "the bucket 'name'" or "the backend at host"."""
    if config.destination_kind == "backend":
        from urllib.parse import urlsplit

        try:
            host = urlsplit(config.backend_url or "").hostname
        except ValueError:
            host = None
        return f"the backend at {host}" if host else "the backend"
    return f"the bucket '{config.bucket}'" if config.bucket else "the bucket"


def destination_for(data_dir: Path, config: UploadConfig) -> Destination:
    """The destination `config.destination` names ("s3" when absent); UploadError (config)
    with a sentence for one this build cannot upload to."""
    from app.upload.records.recording import with_file_record
    from app.upload.session.errors import ErrorKind, UploadError

    kind = config.destination_kind
    if kind == "s3":
        from app.upload.s3.destination import S3Destination

        return with_file_record(data_dir, config, S3Destination(data_dir, config))
    if kind == "backend":
        from app.upload.backend.destination import BackendDestination

        return with_file_record(data_dir, config, BackendDestination(data_dir, config))
    raise UploadError(ErrorKind.CONFIG,
                      f"The destination must be s3 or backend, not '{str(kind)[:40]}'.", "destination")
