"""How an S3 client gets credentials (DESIGN §4); the secrets themselves: app/upload/secrets.py.

Credential order, as an AWS CLI user expects: the configured access key id + stored secret
(+ token); else a named profile; else the default AWS chain (environment, shared files, SSO,
instance roles). Profiles and the chain return botocore's refreshing credentials, which the
client keeps refreshing during a long upload.
"""

from __future__ import annotations

import functools
import logging
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from app.logs import register_secret
from app.upload.config import UploadConfig, is_loopback_host

# Re-exported: the S3 settings' secrets are stored with every other secret of the settings.
from app.upload.secrets import (  # noqa: F401
    FILE_WARNING,
    SECRET_FIELDS,
    StoredSecrets,
    load_secrets,
    save_secrets,
    storage_warning,
)
from app.upload.session.errors import ErrorKind, UploadError

log = logging.getLogger(__name__)


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
