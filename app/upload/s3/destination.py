"""`S3Destination`: the bucket in the settings, reached with botocore and local credentials.

`upload_session`, `abort_session_upload` and `abort_multipart_upload` are the same calls for
code that holds an S3 config rather than a `Destination` (tests, benches).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from app.upload.config import UploadConfig
from app.upload.session.upload import abort_known, abort_recorded, run_upload

if TYPE_CHECKING:
    from app.models import UploadState
    from app.upload.session.progress import Progress
    from app.upload.session.state_store import UploadStateStore
    from app.upload.session.transport import HeldPart


class S3Destination:
    def __init__(self, data_dir: Path, config: UploadConfig) -> None:
        self.data_dir = data_dir
        self.config = config

    def describe(self) -> str:
        from app.upload.destination import describe

        return describe(self.config)

    def validate(self) -> dict[str, str]:
        from app.upload.config import validate_config

        return validate_config(self.config)

    def test_connection(self, secrets: dict[str, str] | None = None) -> str | None:
        from app.upload.s3.connection import test_connection
        from app.upload.s3.credentials import StoredSecrets

        stored = None
        if secrets is not None:
            stored = StoredSecrets(secrets.get("secretAccessKey"), secrets.get("sessionToken"),
                                   "none")
        return test_connection(self.data_dir, self.config, stored)

    def upload(self, session_id: str, store: UploadStateStore,
               on_progress: Callable[[Progress], None], cancel: threading.Event) -> UploadState:
        return upload_session(self.data_dir, session_id, self.config, store, on_progress, cancel)

    def abort(self, session_id: str, store: UploadStateStore) -> None:
        abort_session_upload(self.data_dir, session_id, self.config, store)

    def abort_upload(self, key: str, upload_id: str) -> None:
        abort_multipart_upload(self.data_dir, self.config, key, upload_id)

    def list_parts(self, key: str, upload_id: str) -> dict[int, HeldPart]:
        return self._connect()().list_parts(key, upload_id)

    def _connect(self) -> Callable[[], S3Transport]:
        return _connector(self.data_dir, self.config)


def _connector(data_dir: Path, config: UploadConfig) -> Callable[[], S3Transport]:
    def connect() -> S3Transport:
        from app.upload.s3.transport import S3Transport

        return S3Transport(data_dir, config)
    return connect


def upload_session(data_dir: Path, session_id: str, config: UploadConfig, store: UploadStateStore,
                   on_progress: Callable[[Progress], None], cancel: threading.Event) -> UploadState:
    """Upload sessions/<id>/session.zip to the bucket (app/upload/session/upload.py)."""
    return run_upload(data_dir, session_id, config, _connector(data_dir, config), store,
                      on_progress, cancel)


def abort_session_upload(data_dir: Path, session_id: str, config: UploadConfig,
                         store: UploadStateStore) -> None:
    """Abort the multipart upload recorded for the session (if any) and forget it."""
    abort_recorded(data_dir, session_id, config, _connector(data_dir, config), store)


def abort_multipart_upload(data_dir: Path, config: UploadConfig, key: str, upload_id: str) -> None:
    """Abort one multipart upload known only by key and id (its session folder is gone)."""
    abort_known(_connector(data_dir, config), key, upload_id)


if TYPE_CHECKING:
    from app.upload.s3.transport import S3Transport
