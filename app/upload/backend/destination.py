"""`BackendDestination`: uploads signed by a backend (the simple contract or Uppy Companion).

The desktop holds a bearer token, no AWS key. Uploads run through the shared multipart
session (app/upload/session/) over `SimpleTransport` or `CompanionTransport`.
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from app.upload.backend.settings import BackendSettings, backend_settings
from app.upload.config import MAX_PART_SIZE, UploadConfig
from app.upload.session.upload import abort_known, abort_recorded, run_upload

if TYPE_CHECKING:
    from app.models import UploadState
    from app.upload.session.progress import Progress
    from app.upload.session.state_store import UploadStateStore
    from app.upload.session.transport import HeldPart, MultipartTransport


class BackendDestination:
    def __init__(self, data_dir: Path, config: UploadConfig,
                 settings: BackendSettings | None = None) -> None:
        self.data_dir = data_dir
        self.config = config
        self._settings = settings
        self._last: MultipartTransport | None = None
        # The bucket the upload being resumed was created in (upload-state.json).
        self._resumed_bucket: str | None = None

    @property
    def settings(self) -> BackendSettings:
        if self._settings is None:
            self._settings = backend_settings(self.data_dir, self.config)
        return self._settings

    def describe(self) -> str:
        return f"the backend at {self.settings.host}"

    def validate(self) -> dict[str, str]:
        from app.upload.config import validate_config

        problems = validate_config(self.config)
        # Companion checks no token itself (a proxy in front of it may); the simple contract does.
        if self.settings.protocol == "simple" and not self.settings.token:
            problems["backendToken"] = ("The backend token is missing; set it with "
                                        "`sessionrec config set backendToken`.")
        return problems

    def test_connection(self, secrets: dict[str, str] | None = None) -> str | None:
        from app.upload.backend.connection import test_connection

        settings = self.settings
        if secrets and secrets.get("backendToken"):
            settings = dataclasses.replace(settings, token=secrets["backendToken"])
        return test_connection(settings)

    def upload(self, session_id: str, store: UploadStateStore,
               on_progress: Callable[[Progress], None], cancel: threading.Event) -> UploadState:
        config = self.config
        if self.settings.protocol == "simple":
            # One PUT per zip (simple.py): parts as big as S3 allows make every zip "single".
            config = dataclasses.replace(config, part_size_bytes=MAX_PART_SIZE)
        self._resumed_bucket = _recorded_bucket(store, session_id)
        return run_upload(self.data_dir, session_id, config, self.transport, store, on_progress,
                          cancel)

    def abort(self, session_id: str, store: UploadStateStore) -> None:
        abort_recorded(self.data_dir, session_id, self.config, self.transport, store)

    def abort_upload(self, key: str, upload_id: str) -> None:
        abort_known(self.transport, key, upload_id)

    def list_parts(self, key: str, upload_id: str) -> dict[int, HeldPart]:
        return self.transport().list_parts(key, upload_id)

    @property
    def bucket(self) -> str | None:
        """The bucket the backend named (Companion does, when it creates an upload): told in
        this process, else remembered in the multipart record of the upload resumed."""
        return getattr(self._last, "bucket", None) or self._resumed_bucket

    def transport(self) -> MultipartTransport:
        """A new transport for one upload call (its own connection pool and part URLs)."""
        from app.upload.backend.companion import CompanionTransport
        from app.upload.backend.simple import SimpleTransport

        made: MultipartTransport = (CompanionTransport(self.settings)
                                    if self.settings.protocol == "companion"
                                    else SimpleTransport(self.settings))
        self._last = made
        return made


def _recorded_bucket(store: UploadStateStore, session_id: str) -> str | None:
    from app.upload.session.state_store import StateDamaged

    try:
        known = store.get(session_id)
    except StateDamaged:
        return None  # the upload says why; the record just does not know the bucket
    return known.multipart.bucket if known is not None and known.multipart is not None else None
