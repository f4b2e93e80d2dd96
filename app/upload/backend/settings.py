"""What the backend destination needs from the settings, in one frozen record.

`backendUrl`, `backendProtocol` (`simple` | `companion`), the simple contract's three paths
(config.py has the seed's defaults), the bearer token (app/upload/secrets.py, never in
upload-config.json) and the request timeouts shared with the S3 path.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from app.upload.config import (
    DEFAULT_AUTH_CHECK_PATH,
    DEFAULT_FILE_RECORD_PATH,
    DEFAULT_PRESIGN_PATH,
    UploadConfig,
)


@dataclass(frozen=True)
class BackendSettings:
    url: str
    protocol: str = "simple"
    token: str | None = None
    auth_check_path: str = DEFAULT_AUTH_CHECK_PATH
    presign_path: str = DEFAULT_PRESIGN_PATH
    file_record_path: str = DEFAULT_FILE_RECORD_PATH
    connect_timeout_sec: float = 10.0
    read_timeout_sec: float = 60.0

    def __repr__(self) -> str:  # never print the token by accident
        return f"BackendSettings(url={self.url!r}, protocol={self.protocol!r})"

    @property
    def host(self) -> str:
        return urlsplit(self.url).netloc or self.url

    def endpoint(self, path: str) -> str:
        return self.url.rstrip("/") + "/" + path.lstrip("/")


def backend_settings(data_dir: Path, config: UploadConfig,
                     secrets: dict[str, str] | None = None) -> BackendSettings:
    """The backend settings of `config`, the token from `secrets` (typed, unsaved) or the
    secret store."""
    token = (secrets or {}).get("backendToken") or stored_secret(data_dir, "backendToken")
    return BackendSettings(
        url=config.backend_url or "", protocol=config.protocol, token=token,
        auth_check_path=config.auth_check, presign_path=config.presign,
        file_record_path=config.file_record, connect_timeout_sec=config.connect_timeout_sec,
        read_timeout_sec=config.read_timeout_sec)


def stored_secret(data_dir: Path, name: str) -> str | None:
    """`backendToken` or `webhookSecret` from the keyring or credentials.json."""
    from app.upload.secrets import load_secrets

    stored = load_secrets(data_dir)
    return stored.backend_token if name == "backendToken" else stored.webhook_secret
