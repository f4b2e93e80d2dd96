"""Logging to `<data-dir>/logs/sessionrec.log` with secrets scrubbed from every record.

Secrets (secret keys, session tokens) are registered with `register_secret` as
soon as they are loaded; the filter replaces them wherever they appear in a
formatted message, including exception text from the SDK.
"""

from __future__ import annotations

import logging
import logging.handlers
import re
import threading
from pathlib import Path

from app.paths import log_path

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
        target.parent.mkdir(parents=True, exist_ok=True)
        handler = logging.handlers.RotatingFileHandler(
            target, maxBytes=2 * 1024 * 1024, backupCount=5, encoding="utf-8"
        )
    except OSError:
        # A read-only or full disk must not stop the app; logs go to stderr instead.
        handler = logging.StreamHandler()
    handler.setFormatter(ScrubbingFormatter(_FORMAT))
    setattr(handler, "_sessionrec_target", str(target))  # noqa: B010 - tag our own handler
    root.addHandler(handler)
    root.setLevel(level)
    # botocore logs request bodies and headers at DEBUG; keep it quiet.
    for noisy in ("botocore", "boto3", "urllib3", "s3transfer"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
