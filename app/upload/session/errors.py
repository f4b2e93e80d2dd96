"""Upload error classes (DESIGN §5): a kind, one plain sentence, and whether retrying can help.

The sentence is what people see; `detail` is a sanitised technical hint (an error
code, an HTTP status) for a tooltip. Raw SDK text goes to the log only, scrubbed.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class ErrorKind(StrEnum):
    INVALID_CREDENTIALS = "invalid_credentials"
    ACCESS_DENIED = "access_denied"
    BUCKET_NOT_FOUND = "bucket_not_found"
    CREDENTIALS_EXPIRED = "credentials_expired"
    CLOCK_SKEW = "clock_skew"
    NETWORK = "network"
    TIMEOUT = "timeout"
    SERVER = "server"
    THROTTLED = "throttled"
    CONNECTION_RESET = "connection_reset"
    ZIP_MISSING = "zip_missing"
    DISK_READ = "disk_read"
    CONFIG = "config"
    INTEGRITY = "integrity"
    # The zip does not match what the recorder wrote (its SHA-256, size or structure).
    DAMAGED = "damaged"
    # The session folder went away while the session was queued or uploading.
    SESSION_REMOVED = "session_removed"
    UNKNOWN = "unknown"


# Retrying cannot fix these; everything else is transient (DESIGN §5).
PERMANENT_KINDS = frozenset({
    ErrorKind.INVALID_CREDENTIALS,
    ErrorKind.ACCESS_DENIED,
    ErrorKind.BUCKET_NOT_FOUND,
    ErrorKind.CREDENTIALS_EXPIRED,
    ErrorKind.CLOCK_SKEW,
    ErrorKind.ZIP_MISSING,
    ErrorKind.CONFIG,
    ErrorKind.DAMAGED,
    ErrorKind.SESSION_REMOVED,
})

SESSION_REMOVED_SENTENCE = "The session folder was removed during its upload."


@dataclass(eq=False)
class UploadError(Exception):
    kind: ErrorKind
    sentence: str
    detail: str | None = None

    def __post_init__(self) -> None:
        super().__init__(self.sentence)

    @property
    def permanent(self) -> bool:
        return self.kind in PERMANENT_KINDS

    def __str__(self) -> str:
        return self.sentence


def disk_read_error(exc: OSError) -> UploadError:
    """A local OSError while reading the zip (not a network error)."""
    reason = exc.strerror or type(exc).__name__
    return UploadError(ErrorKind.DISK_READ, f"The zip file could not be read from disk ({reason}).",
                       type(exc).__name__)


class UploadCancelled(Exception):
    """The cancel event was set; the caller decides what state the session goes to."""
