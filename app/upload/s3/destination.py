"""`S3Destination`: the bucket in the settings, reached with botocore and local credentials."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from app.models import UploadState
    from app.upload.config import UploadConfig
    from app.upload.session.progress import Progress
    from app.upload.session.state_store import UploadStateStore
    from app.upload.session.transport import HeldPart


class S3Destination:
    def __init__(self, data_dir: Path, config: UploadConfig) -> None:
        self.data_dir = data_dir
        self.config = config

    def describe(self) -> str:
        return f"the bucket '{self.config.bucket}'"

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
        from app.upload.session.engine import upload_session

        return upload_session(self.data_dir, session_id, self.config, store, on_progress, cancel)

    def abort(self, session_id: str, store: UploadStateStore) -> None:
        from app.upload.session.engine import abort_session_upload

        abort_session_upload(self.data_dir, session_id, self.config, store)

    def abort_upload(self, key: str, upload_id: str) -> None:
        from app.upload.session.engine import abort_multipart_upload

        abort_multipart_upload(self.data_dir, self.config, key, upload_id)

    def list_parts(self, key: str, upload_id: str) -> dict[int, HeldPart]:
        raise NotImplementedError  # filled in when the S3 transport is split out of the engine
