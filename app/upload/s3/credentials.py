"""Where the S3 secrets live and how a client gets credentials (DESIGN §4).

Secrets (the secret access key and an optional session token) go to the OS keyring when a
backend works; otherwise to `credentials.json` (mode 0600) beside the config, and
`storage_warning` gives the sentence the settings panel shows. They never go into
`upload-config.json`, and every secret is registered with `app.logs.register_secret` as
soon as it is loaded, so the log scrubber masks it everywhere.

Credential order, as an AWS CLI user expects: the configured access key id + stored secret
(+ token); else a named profile; else the default AWS chain (environment, shared files, SSO,
instance roles). Profiles and the chain return botocore's refreshing credentials, which the
client keeps refreshing during a long upload.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from app.jsonfile import read_json, write_json_atomic
from app.logs import register_secret
from app.paths import credentials_path
from app.upload.config import UploadConfig, is_loopback_host
from app.upload.session.errors import ErrorKind, UploadError

log = logging.getLogger(__name__)

Storage = Literal["keyring", "file", "none"]
SECRET_FIELDS = ("secretAccessKey", "sessionToken")
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
    """Store `secretAccessKey` / `sessionToken` (camelCase names; None or "" removes one).

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
    return StoredSecrets(values.get("secretAccessKey"), values.get("sessionToken"), storage)


def storage_warning(data_dir: Path) -> str | None:
    """The sentence to show when secrets sit in a file because there is no keyring."""
    return FILE_WARNING if _read_file(data_dir) else None


@functools.cache
def _shared_loader() -> Any:
    import botocore.loaders

    return botocore.loaders.create_loader()


def _botocore_session() -> Any:
    """A fresh botocore session (its own credentials) sharing one model loader.

    Every new session would otherwise rebuild the S3 service model, ~50 ms of Python that
    competes with the window's event loop for the GIL each time an upload starts; the
    shared loader keeps the parsed models, so building a client costs ~8 ms.
    """
    import botocore.session

    session = botocore.session.get_session()
    session.register_component("data_loader", _shared_loader())
    return session


def warm_up() -> None:
    """Load the S3 models once, early and off the GUI thread, so later clients are cheap."""
    _botocore_session().create_client("s3", region_name="us-east-1")


_preloading: threading.Thread | None = None


def warm_up_in_background() -> None:
    """Start `warm_up` on a thread; `make_s3_client` waits for it. A command-line upload
    starts this first thing, so botocore loads while the process reads its settings and
    states, takes the queue lock and restores (each of which waits on the disk)."""
    global _preloading
    if _preloading is None:
        _preloading = threading.Thread(target=_warm_up_logged, name="s3-models", daemon=True)
        _preloading.start()


def _warm_up_logged() -> None:
    try:
        warm_up()
    except Exception:  # the real client creation reports it properly
        log.exception("loading the S3 models in the background failed")


def _wait_for_warm_up() -> None:
    if _preloading is not None:
        _preloading.join()


@dataclass(frozen=True)
class CredentialSource:
    session: Any  # a botocore Session holding the credentials
    source: Literal["static", "profile", "default"]


def load_credentials(data_dir: Path, config: UploadConfig,
                     secrets: StoredSecrets | None = None) -> CredentialSource:
    """A botocore session holding the credentials to use, in the AWS CLI's order.

    botocore, not boto3: boto3 adds nothing an S3 client needs here, and importing it (with
    s3transfer) costs a short-lived `upload --wait` more time and memory than the upload.

    `secrets` overrides the stored ones (a secret typed but not saved yet, for a test).

    Raises UploadError (CONFIG / INVALID_CREDENTIALS) with a sentence when none can be found.
    """
    import botocore.exceptions

    session = _botocore_session()
    session.set_config_variable("region", config.region)
    if config.access_key_id:
        if secrets is None:
            secrets = load_secrets(data_dir)
        register_secret(secrets.secret_access_key)
        register_secret(secrets.session_token)
        if not secrets.secret_access_key:
            raise UploadError(
                ErrorKind.CONFIG,
                "The secret access key is not saved; set it with "
                "`sessionrec config set secretAccessKey` (it asks for the value).",
            )
        session.set_credentials(config.access_key_id, secrets.secret_access_key,
                                secrets.session_token)
        return CredentialSource(session, "static")
    if config.profile:
        session.set_config_variable("profile", config.profile)
    try:
        creds = session.get_credentials()
    except botocore.exceptions.ProfileNotFound as exc:
        raise UploadError(ErrorKind.CONFIG,
                          f"The AWS profile '{config.profile}' does not exist.",
                          "ProfileNotFound") from exc
    except botocore.exceptions.BotoCoreError as exc:
        log.warning("loading credentials failed: %s", exc)
        raise UploadError(ErrorKind.INVALID_CREDENTIALS,
                          "The AWS credentials could not be loaded; sign in again or check the profile.",
                          type(exc).__name__) from exc
    if creds is None:
        raise UploadError(ErrorKind.INVALID_CREDENTIALS,
                          "No AWS credentials were found; set accessKeyId and secretAccessKey, "
                          "or a profile.", "NoCredentials")
    frozen = creds.get_frozen_credentials()
    register_secret(frozen.secret_key)
    register_secret(frozen.token)
    return CredentialSource(session, "profile" if config.profile else "default")


def client_config(config: UploadConfig) -> Any:
    from botocore.config import Config

    from app import __version__

    options: dict[str, Any] = {
        # One attempt per request: the engine retries a failed part itself (bounded and
        # cancel-aware) and the queue retries whole uploads with backoff, so a permanent
        # error such as a wrong key surfaces at once instead of after botocore's retries.
        "retries": {"total_max_attempts": 1, "mode": "standard"},
        "connect_timeout": config.connect_timeout_sec,
        "read_timeout": config.read_timeout_sec,
        "max_pool_connections": max(10, config.concurrency * 2),
        "user_agent_extra": f"sessionrec/{__version__}",
        "tcp_keepalive": True,
    }
    if config.endpoint_url:
        # S3-compatible stores and loopback servers generally want path-style addressing.
        options["s3"] = {"addressing_style": "path"}
        if payload_signing_redundant(config):
            options["s3"]["payload_signing_enabled"] = False
    if config.checksum_when_required:
        options["request_checksum_calculation"] = "when_required"
        options["response_checksum_validation"] = "when_required"
    return Config(**options)


def payload_signing_redundant(config: UploadConfig) -> bool:
    """True when the SHA-256 of each body adds nothing to what already protects it.

    Over plain http botocore always hashes the whole body into the SigV4 signature (one
    extra pass over every part). Over https it does not (TLS + the checksum header cover
    the body), and neither does it need to to a server on this computer: the body is
    checked by the server against the signed `x-amz-checksum-<algorithm>` header (so an
    accidental corruption is refused), and loopback traffic never passes any hop where a
    third party could swap the body for one with the same CRC. Over http to another host
    the signature is the only thing an on-path attacker cannot forge, so it stays.
    """
    from urllib.parse import urlsplit

    if not config.endpoint_url or config.checksum_when_required:
        return False  # real S3 (https), or no checksum header to cover the body
    parts = urlsplit(config.endpoint_url)
    return parts.scheme == "http" and is_loopback_host(parts.hostname or "")


def make_s3_client(data_dir: Path, config: UploadConfig, secrets: StoredSecrets | None = None,
                   extra: Any = None) -> Any:
    """An S3 client with refreshing credentials; secrets registered with the log scrubber.
    `extra` (a botocore Config) is merged over the upload settings' one."""
    _wait_for_warm_up()  # loading the models twice at once would only cost more
    source = load_credentials(data_dir, config, secrets)
    options = client_config(config)
    return source.session.create_client(
        "s3", region_name=config.region, endpoint_url=config.endpoint_url or None,
        config=options.merge(extra) if extra is not None else options,
    )
