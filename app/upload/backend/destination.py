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

from app.upload.backend.settings import PROTOCOLS, BackendSettings, backend_settings
from app.upload.config import MAX_PART_SIZE, UploadConfig, is_loopback_host
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

    @property
    def settings(self) -> BackendSettings:
        if self._settings is None:
            self._settings = backend_settings(self.data_dir, self.config)
        return self._settings

    def describe(self) -> str:
        return f"the backend at {self.settings.host}"

    def validate(self) -> dict[str, str]:
        return backend_problems(self.settings, bool(getattr(self.config, "allow_http", False)))

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
        return run_upload(self.data_dir, session_id, config, self.transport, store, on_progress,
                          cancel)

    def abort(self, session_id: str, store: UploadStateStore) -> None:
        abort_recorded(self.data_dir, session_id, self.config, self.transport, store)

    def abort_upload(self, key: str, upload_id: str) -> None:
        abort_known(self.transport, key, upload_id)

    def list_parts(self, key: str, upload_id: str) -> dict[int, HeldPart]:
        return self.transport().list_parts(key, upload_id)

    def transport(self) -> MultipartTransport:
        """A new transport for one upload call (its own connection pool and part URLs)."""
        from app.upload.backend.companion import CompanionTransport
        from app.upload.backend.simple import SimpleTransport

        if self.settings.protocol == "companion":
            return CompanionTransport(self.settings)
        return SimpleTransport(self.settings)


def backend_problems(settings: BackendSettings, allow_http: bool) -> dict[str, str]:
    """camelCase setting -> sentence, for each backend setting that cannot work."""
    from urllib.parse import urlsplit

    problems: dict[str, str] = {}
    url = settings.url
    parts = urlsplit(url)
    if not url:
        problems["backendUrl"] = "The backend URL is required when destination is backend."
    elif parts.scheme not in ("https", "http") or not parts.hostname:
        problems["backendUrl"] = "The backend URL must start with https:// and name a host."
    elif parts.scheme == "http" and not allow_http and not is_loopback_host(parts.hostname):
        problems["backendUrl"] = ("The backend URL must use https (plain http only to this "
                                  "computer, unless allowHttp is on).")
    if settings.protocol not in PROTOCOLS:
        problems["backendProtocol"] = "The backend protocol must be simple or companion."
    # Companion checks no token itself (a proxy in front of it may); the simple contract does.
    if not settings.token and settings.protocol == "simple":
        problems["backendToken"] = ("The backend token is missing; set it with "
                                    "`sessionrec config set backendToken`.")
    if settings.protocol == "simple":
        for name, path in (("authCheckPath", settings.auth_check_path),
                           ("presignPath", settings.presign_path),
                           ("fileRecordPath", settings.file_record_path)):
            if not path.startswith("/") or any(c.isspace() for c in path) or ".." in path:
                problems[name] = "A backend path must start with / and hold no spaces or '..'."
    return problems
