"""Where the secrets of the upload settings live (DESIGN §4): keyring, else credentials.json.

The S3 secret access key and session token, the backend's bearer token and the webhook's
signing secret go to the OS keyring when a backend works; otherwise to `credentials.json`
(mode 0600) beside the config, and `storage_warning` gives the sentence the settings panel
shows. They never go into `upload-config.json`, and every secret is registered with
`app.logs.register_secret` as soon as it is loaded or saved, so the log scrubber masks it.
"""

from __future__ import annotations

import contextlib
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from app.jsonfile import read_json, write_json_atomic
from app.logs import register_secret
from app.paths import credentials_path

log = logging.getLogger(__name__)

Storage = Literal["keyring", "file", "none"]
# Every secret of the settings, by its camelCase name (none of them is in upload-config.json).
SECRET_FIELDS = ("secretAccessKey", "sessionToken", "backendToken", "webhookSecret")
FILE_WARNING = ("No system keyring is available, so the secret key is stored in credentials.json "
                "in the data folder (readable only by you).")


def _service(data_dir: Path) -> str:
    # One keyring entry per data folder, so two data folders never share or clobber secrets.
    return f"sessionrec:{data_dir.resolve()}"


@dataclass(frozen=True)
class StoredSecrets:
    secret_access_key: str | None
    session_token: str | None
    storage: Storage
    backend_token: str | None = None
    webhook_secret: str | None = None

    def __repr__(self) -> str:  # never print a secret by accident
        return f"StoredSecrets(storage={self.storage!r})"


def _read_file(data_dir: Path) -> dict[str, str]:
    loaded = read_json(credentials_path(data_dir), lambda raw: raw)
    if loaded.problem:
        log.warning("credentials.json is unreadable: %s", loaded.problem)
    value = loaded.value
    if not isinstance(value, dict):
        return {}
    return {k: v for k, v in value.items() if k in SECRET_FIELDS and isinstance(v, str) and v}


def _write_file(data_dir: Path, values: dict[str, str]) -> None:
    path = credentials_path(data_dir)
    if values:
        write_json_atomic(path, values, mode=0o600)
    else:
        path.unlink(missing_ok=True)


def _keyring_get(data_dir: Path, name: str) -> tuple[bool, str | None]:
    """(keyring usable, value)."""
    try:
        import keyring

        return True, keyring.get_password(_service(data_dir), name)
    except Exception as exc:  # any backend failure means "no keyring"
        log.info("keyring not usable (%s); using credentials.json", type(exc).__name__)
        return False, None


def _keyring_set(data_dir: Path, name: str, value: str | None) -> bool:
    try:
        import keyring
        import keyring.errors

        if value:
            keyring.set_password(_service(data_dir), name, value)
        else:
            with contextlib.suppress(keyring.errors.PasswordDeleteError):
                keyring.delete_password(_service(data_dir), name)
        return True
    except Exception as exc:
        log.info("keyring not usable (%s); using credentials.json", type(exc).__name__)
        return False


def save_secrets(data_dir: Path, **changes: str | None) -> Storage:
    """Store secrets by their camelCase names (SECRET_FIELDS; None or "" removes one).

    Tries the keyring first; when it fails, everything goes to credentials.json instead.
    Secrets are kept together: once the keyring takes a change, the secrets still in the
    file move there too, so the file never holds half of a key and token pair.
    """
    unknown = set(changes) - set(SECRET_FIELDS)
    if unknown:
        raise ValueError(f"not a secret field: {sorted(unknown)}")
    for value in changes.values():
        register_secret(value)
    file_values = _read_file(data_dir)
    if all(_keyring_set(data_dir, name, value) for name, value in changes.items()):
        # Secrets now in the keyring must not linger in the file.
        for name in changes:
            file_values.pop(name, None)
        for name in list(file_values):
            if _keyring_set(data_dir, name, file_values[name]):
                file_values.pop(name)
        _write_file(data_dir, file_values)
        return "keyring"
    for name, value in changes.items():
        if value:
            file_values[name] = value
        else:
            file_values.pop(name, None)
    _write_file(data_dir, file_values)
    return "file"


def load_secrets(data_dir: Path) -> StoredSecrets:
    """The stored secrets. When credentials.json holds any, it holds them all (see
    `save_secrets`), and the keyring is not asked: loading it costs a short-lived upload
    process ~13 MiB and ~0.1 s, and on a desktop it may wait on D-Bus."""
    file_values = _read_file(data_dir)
    values: dict[str, str | None] = {}
    storage: Storage = "none"
    if file_values:
        values = dict(file_values)
        storage = "file"
    else:
        for name in SECRET_FIELDS:
            usable, value = _keyring_get(data_dir, name)
            if usable and value:
                values[name] = value
                storage = "keyring"
    for value in values.values():
        register_secret(value)
    return StoredSecrets(values.get("secretAccessKey"), values.get("sessionToken"), storage,
                         values.get("backendToken"), values.get("webhookSecret"))


def storage_warning(data_dir: Path) -> str | None:
    """The sentence to show when secrets sit in a file because there is no keyring."""
    return FILE_WARNING if _read_file(data_dir) else None
