"""What the backend destination needs from the settings, in one frozen record.

`backendUrl`, `backendProtocol` (`simple` | `companion`), the simple contract's three paths
(defaults from the seed's contract), the bearer token (stored like the secret key, never in
upload-config.json) and the request timeouts shared with the S3 path.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

if TYPE_CHECKING:
    from app.upload.config import UploadConfig

PROTOCOLS = ("simple", "companion")
DEFAULT_AUTH_CHECK_PATH = "/api/admin/auth/me"
DEFAULT_PRESIGN_PATH = "/api/admin/content/aws/uploadUrl"
DEFAULT_FILE_RECORD_PATH = "/api/admin/files"


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
        url=str(getattr(config, "backend_url", None) or ""),
        protocol=str(getattr(config, "backend_protocol", None) or "simple"),
        token=token,
        auth_check_path=str(getattr(config, "auth_check_path", None) or DEFAULT_AUTH_CHECK_PATH),
        presign_path=str(getattr(config, "presign_path", None) or DEFAULT_PRESIGN_PATH),
        file_record_path=str(getattr(config, "file_record_path", None)
                             or DEFAULT_FILE_RECORD_PATH),
        connect_timeout_sec=config.connect_timeout_sec,
        read_timeout_sec=config.read_timeout_sec,
    )


def stored_secret(data_dir: Path, name: str) -> str | None:
    from app.upload.s3.credentials import load_secrets

    stored = load_secrets(data_dir)
    attr = {"backendToken": "backend_token", "webhookSecret": "webhook_secret"}[name]
    value = getattr(stored, attr, None)
    return str(value) if value else None
