"""The upload settings (`upload-config.json`, DESIGN §4): load, save (0600), validate, object key.

`destination` says where sessions go: "s3" (absent means s3: a bucket reached with keys on
this computer) or "backend" (a server that signs each upload; `backendUrl` and the rest).
Validation is per destination: a backend needs no bucket, region or keys.

No secret is ever stored here: the secret access key, session token, backend token and
webhook secret live in the keyring or `credentials.json` (see app/upload/secrets.py).
`validate_config` returns one plain sentence per bad field, keyed by the on-disk camelCase
name, so the CLI and the settings panel can show each next to its field.
"""

from __future__ import annotations

import dataclasses
import getpass
import ipaddress
import logging
import math
import re
import socket
import threading
import time
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from app.jsonfile import Loaded, read_json, write_json_atomic
from app.jsonrecord import JsonRecord, to_camel
from app.paths import config_path
from app.upload.queue.backoff import MAX_BASE_SEC, MAX_CAP_SEC, MIN_BASE_SEC, MIN_CAP_SEC
from app.upload.s3.object_options import option_problems

log = logging.getLogger(__name__)

MIB = 1024 * 1024
MIN_PART_SIZE = 5 * MIB          # S3's minimum for every part but the last
MAX_PART_SIZE = 5 * 1024 * MIB   # S3's maximum part size
MAX_PARTS = 10_000
PLANNED_PARTS = 1_000  # what part_size_for aims for (one ListParts page)
CHECKSUM_ALGORITHMS = ("CRC32", "SHA1", "SHA256")
DESTINATIONS = ("s3", "backend")
BACKEND_PROTOCOLS = ("simple", "companion")
# The seed's contract (the backend's routes under backendUrl) when the paths are not set.
DEFAULT_AUTH_CHECK_PATH = "/api/v1/admin/auth/me"
DEFAULT_PRESIGN_PATH = "/api/v1/admin/content/aws/uploadUrlExact"
DEFAULT_FILE_RECORD_PATH = "/api/v1/admin/content/files"
PLACEHOLDERS = ("host", "user", "date")

_BUCKET_RE = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
_REGION_RE = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")
_ACCESS_KEY_RE = re.compile(r"^[A-Za-z0-9_+/=.-]{3,128}$")
_PROFILE_RE = re.compile(r"^[A-Za-z0-9_.+@:/-]{1,64}$")
_PLACEHOLDER_RE = re.compile(r"\{([^{}]*)\}")


@dataclass(frozen=True)
class NumberBound:
    """The documented range of one numeric setting, and the sentence when outside it."""

    low: float
    high: float
    sentence: str


# Every number in upload-config.json (docs/FORMATS.md). Out of range: a sentence at
# `config set` (exit 2); a clamp and a log line when the file on disk has it.
NUMBER_BOUNDS: dict[str, NumberBound] = {
    "maxRetries": NumberBound(0, 100, "The number of retries must be between 0 and 100."),
    "partSizeBytes": NumberBound(MIN_PART_SIZE, MAX_PART_SIZE,
                                 "The part size must be between 5 MiB (5242880) and 5 GiB."),
    "concurrency": NumberBound(1, 16, "The number of parallel parts must be between 1 and 16."),
    "maxBandwidthBytesPerSec": NumberBound(
        16 * 1024, 10 * 1024 ** 3,
        "The bandwidth limit must be between 16384 bytes and 10 GiB per second, or empty for "
        "no limit."),
    "keepUploaded": NumberBound(0, 100_000,
                                "The number of uploaded sessions to keep must be between 0 and "
                                "100000, or empty."),
    "backoffBaseSec": NumberBound(MIN_BASE_SEC, MAX_BASE_SEC,
                                  "The first retry delay must be between 0.1 and 60 seconds."),
    "backoffCapSec": NumberBound(MIN_CAP_SEC, MAX_CAP_SEC,
                                 "The longest retry delay must be between 1 and 3600 seconds."),
    "connectTimeoutSec": NumberBound(0.1, 600,
                                     "The connect timeout must be between 0.1 and 600 seconds."),
    "readTimeoutSec": NumberBound(0.1, 3600,
                                  "The read timeout must be between 0.1 and 3600 seconds."),
}


@dataclass(frozen=True)
class UploadConfig(JsonRecord):
    # Required with destination s3 (validate_config); a backend chooses its own bucket.
    bucket: str = ""
    region: str = ""
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
    # Where sessions go; None (absent) is "s3", so an S3 file stays as it always was.
    destination: str | None = None
    # destination "backend": the server that signs uploads (its token is a secret).
    backend_url: str | None = None
    backend_protocol: str | None = None  # None is "simple"
    auth_check_path: str | None = None  # None: DEFAULT_AUTH_CHECK_PATH, and so on
    presign_path: str | None = None
    file_record_path: str | None = None
    # Any destination: where a record of each verified upload is POSTed (signed with the
    # webhook secret).
    webhook_url: str | None = None

    @property
    def auto_upload_on(self) -> bool:
        return self.auto_upload is True

    @property
    def destination_kind(self) -> str:
        return self.destination or "s3"

    @property
    def protocol(self) -> str:
        return self.backend_protocol or "simple"

    @property
    def auth_check(self) -> str:
        return self.auth_check_path or DEFAULT_AUTH_CHECK_PATH

    @property
    def presign(self) -> str:
        return self.presign_path or DEFAULT_PRESIGN_PATH

    @property
    def file_record(self) -> str:
        return self.file_record_path or DEFAULT_FILE_RECORD_PATH


_ATTRS = {to_camel(f.name): f.name for f in fields(UploadConfig)}
_DEFAULTS: dict[str, Any] = {to_camel(f.name): f.default for f in fields(UploadConfig)}
_INT_KEYS = ("maxRetries", "partSizeBytes", "concurrency", "maxBandwidthBytesPerSec", "keepUploaded")


def _within(value: float, bound: NumberBound) -> bool:
    # Python compares ints and floats exactly, so a 400-digit int is simply "too big".
    if isinstance(value, float) and not math.isfinite(value):
        return False
    return bound.low <= value <= bound.high


_clamp_logged: set[tuple[str, str]] = set()
_clamp_lock = threading.Lock()


def clamp_numbers(raw: Any) -> Any:
    """The JSON object of upload-config.json with every number moved into its bounds.

    Runs before the typed parse, so a huge or non-finite number on disk can neither crash a
    conversion nor reach a timer. Each clamp is logged once per process.
    """
    if not isinstance(raw, dict):
        return raw
    out = dict(raw)
    for key, bound in NUMBER_BOUNDS.items():
        value = out.get(key)
        if isinstance(value, bool) or not isinstance(value, int | float):
            continue  # missing, null, or a wrong type the typed parse will name
        if _within(value, bound):
            continue
        default = _DEFAULTS[key]
        fixed: float | None
        if isinstance(value, float) and math.isnan(value):
            fixed = default  # NaN says nothing about what was meant: the default (or none)
        else:
            fixed = min(max(value, bound.low), bound.high)
            if key in _INT_KEYS:
                fixed = int(fixed)
        out[key] = fixed
        _log_clamp(key, value, fixed)
    base, cap = out.get("backoffBaseSec"), out.get("backoffCapSec")
    if isinstance(base, int | float) and isinstance(cap, int | float) and cap < base:
        out["backoffCapSec"] = base
        _log_clamp("backoffCapSec", cap, base)
    return out


def _log_clamp(key: str, value: object, fixed: object) -> None:
    shown = repr(value) if len(repr(value)) <= 40 else repr(value)[:40] + "..."
    with _clamp_lock:
        if (key, shown) in _clamp_logged:
            return
        _clamp_logged.add((key, shown))
    log.warning("upload-config.json: %s = %s is outside its bounds; using %s", key, shown, fixed)


def _parse_config(raw: Any) -> UploadConfig:
    return UploadConfig.from_json(clamp_numbers(raw))


def load_config(data_dir: Path) -> Loaded[UploadConfig]:
    return read_json(config_path(data_dir), _parse_config)


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


def _endpoint_problem(url: str, allow_http: bool, what: str = "The endpoint URL") -> str | None:
    """The rule for every URL of the settings: https, or http to this computer (or with
    allowHttp); a host; no user name or password in it."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return f"{what} is not a valid URL."
    del port
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return f"{what} must start with https:// and name a host."
    if parts.username or parts.password:
        return f"{what} must not contain a user name or password."
    if parts.scheme == "http" and not allow_http and not is_loopback_host(parts.hostname):
        return (f"{what} must use https unless it is on this computer "
                "(set allowHttp to true to allow plain http).")
    return None


_PATH_RE = re.compile(r"^/[A-Za-z0-9._~!$&'()*+,;=:@%/-]{0,500}$")


def _path_problem(path: str, what: str, example: str) -> str | None:
    if not _PATH_RE.fullmatch(path) or ".." in path.split("/"):
        return (f"The {what} must be a path on the backend that starts with '/' and has no "
                f"spaces, '?', '#' or '..', like {example}.")
    return None


def validate_config(config: UploadConfig) -> dict[str, str]:
    """camelCase field -> one sentence; an empty dict means the settings are usable.

    The settings of the chosen destination are checked (a bucket and region for s3, the
    backend's URL, protocol and paths for backend), and those of every destination."""
    problems: dict[str, str] = {}
    s3 = config.destination_kind == "s3"
    if s3:
        problems.update(_bucket_region_problems(config))
    elif config.destination_kind == "backend":
        problems.update(_backend_problems(config))
    else:
        problems["destination"] = "The destination must be s3 or backend."
    prefix = _key_prefix_problem(config.key_prefix)
    if prefix:
        problems["keyPrefix"] = prefix
    if s3:
        problems.update(_s3_access_problems(config))
    if config.webhook_url is not None:
        webhook = _endpoint_problem(config.webhook_url, config.allow_http, "The webhook URL")
        if webhook:
            problems["webhookUrl"] = webhook
    if config.checksum_algorithm not in CHECKSUM_ALGORITHMS:
        problems["checksumAlgorithm"] = "The checksum algorithm must be CRC32, SHA1 or SHA256."
    for key, bound in NUMBER_BOUNDS.items():
        value = getattr(config, _ATTRS[key])
        if value is not None and not _within(value, bound):
            problems[key] = bound.sentence
    if "backoffCapSec" not in problems and "backoffBaseSec" not in problems \
            and config.backoff_cap_sec < config.backoff_base_sec:
        problems["backoffCapSec"] = "The longest retry delay must not be shorter than the first."
    if s3:
        problems.update(option_problems(config))
    return problems


def _backend_problems(config: UploadConfig) -> dict[str, str]:
    problems: dict[str, str] = {}
    if not config.backend_url:
        problems["backendUrl"] = "Enter the backend URL, for example https://uploads.example.com."
    else:
        url = _endpoint_problem(config.backend_url, config.allow_http, "The backend URL")
        if url:
            problems["backendUrl"] = url
    if config.backend_protocol is not None and config.backend_protocol not in BACKEND_PROTOCOLS:
        problems["backendProtocol"] = "The backend protocol must be simple or companion."
    for key, value, what, example in (
            ("authCheckPath", config.auth_check_path, "auth check path", DEFAULT_AUTH_CHECK_PATH),
            ("presignPath", config.presign_path, "presign path", DEFAULT_PRESIGN_PATH),
            ("fileRecordPath", config.file_record_path, "file record path",
             DEFAULT_FILE_RECORD_PATH)):
        problem = _path_problem(value, what, example) if value is not None else None
        if problem:
            problems[key] = problem
    return problems


def _bucket_region_problems(config: UploadConfig) -> dict[str, str]:
    problems: dict[str, str] = {}
    bucket = _bucket_problem(config.bucket)
    if bucket:
        problems["bucket"] = bucket
    if not config.region:
        problems["region"] = "Enter a region, for example us-east-1."
    elif not _REGION_RE.fullmatch(config.region):
        problems["region"] = "A region may use only lower-case letters, digits and hyphens, like eu-west-1."
    return problems


def _s3_access_problems(config: UploadConfig) -> dict[str, str]:
    """Where the bucket is reached and with which credentials."""
    problems: dict[str, str] = {}
    if config.endpoint_url:
        endpoint = _endpoint_problem(config.endpoint_url, config.allow_http)
        if endpoint:
            problems["endpointUrl"] = endpoint
    if config.profile is not None and not _PROFILE_RE.fullmatch(config.profile):
        problems["profile"] = "The profile name may use only letters, digits and . _ - + @ : /."
    if config.access_key_id is not None and not _ACCESS_KEY_RE.fullmatch(config.access_key_id):
        problems["accessKeyId"] = ("The access key id must be 3 to 128 characters: letters, digits and "
                                  "+ / = . _ -.")
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
    """The part size for a file of `file_size` bytes: the configured one (the smallest and,
    below it, one PutObject), grown for big files so a file has at most PLANNED_PARTS parts
    (rounded up to whole MiB). At most 1,000 parts means a resume lists what the server holds
    in one ListParts page, one round trip; it only moves files above 10 GiB at the default.
    S3's own limit of 10,000 parts is far above that."""
    needed = -(-file_size // PLANNED_PARTS)
    needed_mib = -(-needed // MIB) * MIB
    return max(config.part_size_bytes, needed_mib)


def workers_for(config: UploadConfig, parts: int) -> int:
    """Parts in flight: the configured concurrency, no more than there are parts to send."""
    return max(1, min(config.concurrency, parts))
