"""The S3 settings (`upload-config.json`, DESIGN §4): load, save (0600), validate, object key.

No secret is ever stored here: the secret access key and session token live in the keyring
or `credentials.json` (see credentials.py). `validate_config` returns one plain sentence per
bad field, keyed by the on-disk camelCase name, so the CLI and the settings panel can show
each next to its field.
"""

from __future__ import annotations

import dataclasses
import getpass
import ipaddress
import re
import socket
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from app.jsonfile import Loaded, read_json, write_json_atomic
from app.jsonrecord import JsonRecord
from app.paths import config_path
from app.upload.object_options import option_problems

MIB = 1024 * 1024
MIN_PART_SIZE = 5 * MIB          # S3's minimum for every part but the last
MAX_PART_SIZE = 5 * 1024 * MIB   # S3's maximum part size
MAX_PARTS = 10_000
CHECKSUM_ALGORITHMS = ("CRC32", "SHA1", "SHA256")
PLACEHOLDERS = ("host", "user", "date")

_BUCKET_RE = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
_REGION_RE = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")
_ACCESS_KEY_RE = re.compile(r"^[A-Za-z0-9_+/=.-]{3,128}$")
_PROFILE_RE = re.compile(r"^[A-Za-z0-9_.+@:/-]{1,64}$")
_PLACEHOLDER_RE = re.compile(r"\{([^{}]*)\}")


@dataclass(frozen=True)
class UploadConfig(JsonRecord):
    bucket: str
    region: str
    key_prefix: str = ""
    endpoint_url: str | None = None
    profile: str | None = None
    access_key_id: str | None = None
    max_retries: int = 10
    part_size_bytes: int = 10 * MIB
    concurrency: int = 4
    checksum_algorithm: str = "CRC32"
    # Send request checksums only where S3 requires them (for S3-compatible stores that
    # reject the checksum headers boto3 sends by default since 1.36, DESIGN §8).
    checksum_when_required: bool = False
    max_bandwidth_bytes_per_sec: int | None = None
    # Plain http to a non-loopback endpoint must be asked for explicitly.
    allow_http: bool = False
    delete_after_upload: bool = False
    keep_uploaded: int | None = None
    backoff_base_sec: float = 1.0
    backoff_cap_sec: float = 300.0
    # Socket timeouts of each S3 request; a stalled part fails after read_timeout_sec.
    connect_timeout_sec: float = 10.0
    read_timeout_sec: float = 60.0
    # Queue each session as soon as it is exported. None = never chosen: it turns on by itself
    # once a connection test passes (`auto_upload_after_test`).
    auto_upload: bool | None = None
    # What a bucket policy may require of each object (object_options.py); None = not sent.
    storage_class: str | None = None
    server_side_encryption: str | None = None
    sse_kms_key_id: str | None = None
    object_tags: dict[str, str] | None = None
    acl: str | None = None

    @property
    def auto_upload_on(self) -> bool:
        return self.auto_upload is True


def load_config(data_dir: Path) -> Loaded[UploadConfig]:
    return read_json(config_path(data_dir), UploadConfig.from_json)


def save_config(data_dir: Path, config: UploadConfig) -> None:
    write_json_atomic(config_path(data_dir), config.to_json(), mode=0o600)


def is_loopback_host(host: str) -> bool:
    if host.lower() in ("localhost", "localhost.localdomain") or host.lower().endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _bucket_problem(bucket: str) -> str | None:
    if not bucket:
        return "Enter a bucket name."
    if not 3 <= len(bucket) <= 63:
        return "A bucket name must be 3 to 63 characters long."
    if not _BUCKET_RE.fullmatch(bucket):
        return ("A bucket name may use only lower-case letters, digits, dots and hyphens, "
                "and must start and end with a letter or digit.")
    if ".." in bucket or ".-" in bucket or "-." in bucket:
        return "A bucket name must not have two dots in a row or a dot next to a hyphen."
    try:
        ipaddress.IPv4Address(bucket)
        return "A bucket name must not look like an IP address."
    except ValueError:
        pass
    if bucket.startswith(("xn--", "sthree-")) or bucket.endswith(("-s3alias", "--ol-s3")):
        return "A bucket name must not use a prefix or suffix that S3 reserves."
    return None


def _key_prefix_problem(prefix: str) -> str | None:
    if prefix.startswith("/"):
        return "The key prefix must not start with '/'."
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in prefix):
        return "The key prefix must not contain control characters."
    if ".." in prefix.split("/") or "/../" in f"/{prefix}/":
        return "The key prefix must not contain '..' as a path segment."
    if "\\" in prefix:
        return "The key prefix must use '/' as the separator, not '\\'."
    for name in _PLACEHOLDER_RE.findall(prefix):
        if name not in PLACEHOLDERS:
            return (f"The key prefix uses an unknown placeholder {{{name}}}; "
                    "use {host}, {user} or {date}.")
    stripped = _PLACEHOLDER_RE.sub("", prefix)
    if "{" in stripped or "}" in stripped:
        return "The key prefix has an unmatched '{' or '}'."
    if len(prefix.encode("utf-8")) > 800:
        return "The key prefix is too long (at most 800 bytes)."
    return None


def _endpoint_problem(url: str, allow_http: bool) -> str | None:
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return "The endpoint URL is not a valid URL."
    del port
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return "The endpoint URL must start with https:// and name a host."
    if parts.username or parts.password:
        return "The endpoint URL must not contain a user name or password."
    if parts.scheme == "http" and not allow_http and not is_loopback_host(parts.hostname):
        return ("The endpoint URL must use https unless it is on this computer "
                "(set allowHttp to true to allow plain http).")
    return None


def validate_config(config: UploadConfig) -> dict[str, str]:
    """camelCase field -> one sentence; an empty dict means the settings are usable."""
    problems: dict[str, str] = {}
    bucket = _bucket_problem(config.bucket)
    if bucket:
        problems["bucket"] = bucket
    if not config.region:
        problems["region"] = "Enter a region, for example us-east-1."
    elif not _REGION_RE.fullmatch(config.region):
        problems["region"] = "A region may use only lower-case letters, digits and hyphens, like eu-west-1."
    prefix = _key_prefix_problem(config.key_prefix)
    if prefix:
        problems["keyPrefix"] = prefix
    if config.endpoint_url:
        endpoint = _endpoint_problem(config.endpoint_url, config.allow_http)
        if endpoint:
            problems["endpointUrl"] = endpoint
    if config.profile is not None and not _PROFILE_RE.fullmatch(config.profile):
        problems["profile"] = "The profile name may use only letters, digits and . _ - + @ : /."
    if config.access_key_id is not None and not _ACCESS_KEY_RE.fullmatch(config.access_key_id):
        problems["accessKeyId"] = ("The access key id must be 3 to 128 characters: letters, digits and "
                                  "+ / = . _ -.")
    if not MIN_PART_SIZE <= config.part_size_bytes <= MAX_PART_SIZE:
        problems["partSizeBytes"] = "The part size must be between 5 MiB (5242880) and 5 GiB."
    if not 0 <= config.max_retries <= 100:
        problems["maxRetries"] = "The number of retries must be between 0 and 100."
    if not 1 <= config.concurrency <= 16:
        problems["concurrency"] = "The number of parallel parts must be between 1 and 16."
    if config.checksum_algorithm not in CHECKSUM_ALGORITHMS:
        problems["checksumAlgorithm"] = "The checksum algorithm must be CRC32, SHA1 or SHA256."
    if config.max_bandwidth_bytes_per_sec is not None and config.max_bandwidth_bytes_per_sec < 16 * 1024:
        problems["maxBandwidthBytesPerSec"] = (
            "The bandwidth limit must be at least 16384 bytes per second, or empty for no limit."
        )
    if config.keep_uploaded is not None and config.keep_uploaded < 0:
        problems["keepUploaded"] = "The number of uploaded sessions to keep must not be negative."
    if not config.backoff_base_sec > 0:
        problems["backoffBaseSec"] = "The first retry delay must be more than zero seconds."
    if not config.backoff_cap_sec >= config.backoff_base_sec:
        problems["backoffCapSec"] = "The longest retry delay must not be shorter than the first."
    if not 0 < config.connect_timeout_sec <= 600:
        problems["connectTimeoutSec"] = "The connect timeout must be between 0 and 600 seconds."
    if not 0 < config.read_timeout_sec <= 3600:
        problems["readTimeoutSec"] = "The read timeout must be between 0 and 3600 seconds."
    problems.update(option_problems(config))
    return problems


def auto_upload_after_test(config: UploadConfig) -> UploadConfig | None:
    """The config with auto upload on, when a passed connection test should turn it on (it
    was never chosen either way); None when nothing changes."""
    if config.auto_upload is not None:
        return None
    return dataclasses.replace(config, auto_upload=True)


def _key_safe(text: str) -> str:
    # Host and user names land in an S3 key: keep them to characters safe everywhere.
    cleaned = re.sub(r"[^A-Za-z0-9._-]+", "-", text).strip("-.")
    return cleaned or "unknown"


def expand_prefix(prefix: str, now: float | None = None) -> str:
    values = {
        "host": _key_safe(socket.gethostname()),
        "user": _key_safe(_user_name()),
        "date": time.strftime("%Y-%m-%d", time.gmtime(time.time() if now is None else now)),
    }
    return _PLACEHOLDER_RE.sub(lambda m: values.get(m.group(1), m.group(0)), prefix)


def _user_name() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


def object_key(config: UploadConfig, session_id: str, now: float | None = None) -> str:
    """`{keyPrefix}{sessionId}.zip` with the prefix's placeholders expanded."""
    return f"{expand_prefix(config.key_prefix, now)}{session_id}.zip"


def part_size_for(config: UploadConfig, file_size: int) -> int:
    """max(configured, ceil(size / 10,000) rounded up to whole MiB): at most 10,000 parts."""
    needed = -(-file_size // MAX_PARTS)
    needed_mib = -(-needed // MIB) * MIB
    return max(config.part_size_bytes, needed_mib)
