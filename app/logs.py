"""Logging to `<data-dir>/logs/sessionrec.log` with secrets scrubbed from every record.

Secrets (secret keys, session tokens) are registered with `register_secret` as
soon as they are loaded; the filter replaces them wherever they appear in a
formatted message, including exception text from the SDK.
"""

from __future__ import annotations

import io
import logging
import logging.handlers
import os
import re
import stat
import threading
from pathlib import Path
from typing import cast

from app.paths import FILE_MODE, log_path

_lock = threading.Lock()
_secrets: set[str] = set()
# Shapes that are secret whatever their source: SigV4 signatures and credentials in URLs/headers.
_PATTERNS = [
    re.compile(r"(Signature=)[0-9a-fA-F]{16,}"),
    re.compile(r"(X-Amz-Signature=)[0-9a-fA-F]{16,}", re.IGNORECASE),
    re.compile(r"(X-Amz-Security-Token=)[^&\s'\"]+", re.IGNORECASE),
    re.compile(r"(aws_secret_access_key\s*[=:]\s*)\S+", re.IGNORECASE),
    re.compile(r"(secretAccessKey['\"]?\s*[=:]\s*['\"]?)[^'\"\s,}]+"),
    re.compile(r"(sessionToken['\"]?\s*[=:]\s*['\"]?)[^'\"\s,}]+"),
]
MASK = "****"


def register_secret(value: str | None) -> None:
    # Very short values would mask ordinary words; real secrets are long.
    if value and len(value) >= 8:
        with _lock:
            _secrets.add(value)


def scrub(text: str) -> str:
    with _lock:
        known = sorted(_secrets, key=len, reverse=True)
    for secret in known:
        if secret in text:
            text = text.replace(secret, MASK)
    for pattern in _PATTERNS:
        text = pattern.sub(lambda m: m.group(1) + MASK, text)
    return text


class ScrubbingFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return scrub(super().format(record))


_FORMAT = "%(asctime)s %(levelname)s %(threadName)s %(name)s: %(message)s"


def _private_opener(path: str, flags: int) -> int:
    """Open the log file 0600, never through a link, never blocking on a FIFO."""
    fd = os.open(path, flags | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC | os.O_NOCTTY,
                 FILE_MODE)
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise OSError(f"{os.path.basename(path)} is not a regular file")
        os.set_blocking(fd, True)
    except BaseException:
        os.close(fd)
        raise
    return fd


class PrivateRotatingFileHandler(logging.handlers.RotatingFileHandler):
    """The rotating log, each file created 0600 (the umask cannot widen it)."""

    def _open(self) -> io.TextIOWrapper:
        return cast(io.TextIOWrapper, open(self.baseFilename, self.mode, encoding=self.encoding,
                    errors=self.errors, opener=_private_opener))


class _NoTracebackFormatter(ScrubbingFormatter):
    # The stderr fallback is read by a person at a command line: sentences, not tracebacks.
    def formatException(self, ei: object) -> str:
        return ""


def setup_logging(data_dir: Path, level: int = logging.INFO) -> None:
    """Send the app's logs to the rotating log file; safe to call more than once."""
    # A log write that fails (a full disk) is dropped, never printed as a traceback.
    logging.raiseExceptions = False
    root = logging.getLogger()
    target = log_path(data_dir)
    if any(getattr(h, "_sessionrec_target", None) == str(target) for h in root.handlers):
        return
    handler: logging.Handler
    try:
        target.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        handler = PrivateRotatingFileHandler(
            target, maxBytes=2 * 1024 * 1024, backupCount=5, encoding="utf-8"
        )
        handler.setFormatter(ScrubbingFormatter(_FORMAT))
    except OSError:
        # A read-only or full disk (or something odd in place of the log) must not stop the
        # app; warnings go to stderr instead, without tracebacks.
        handler = logging.StreamHandler()
        handler.setLevel(logging.WARNING)
        handler.setFormatter(_NoTracebackFormatter(_FORMAT))
    setattr(handler, "_sessionrec_target", str(target))  # noqa: B010 - tag our own handler
    root.addHandler(handler)
    root.setLevel(level)
    # botocore logs request bodies and headers at DEBUG; keep it quiet.
    for noisy in ("botocore", "boto3", "urllib3", "s3transfer"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
