"""`uploaded.jsonl` in the data folder: one line per verified upload, so an upload whose
upload-state.json was later deleted or damaged is recognised in the bucket and never sent again
(engine: `_already_in_bucket`), without asking the bucket before every first upload.

Appended by the process that owns the queue (one writer), read before a fresh upload. A line
cut short by a crash, or any line that does not parse, is skipped. Never a session file: it
sits beside upload-config.json, opened without following links, regular files only.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import stat
import time
from dataclasses import dataclass
from pathlib import Path

from app.sessions import is_valid_session_id

log = logging.getLogger(__name__)

LEDGER_FILE = "uploaded.jsonl"
# Only the newest part is read: ~25,000 uploads fit in it.
MAX_READ_BYTES = 4 * 1024 * 1024


@dataclass(frozen=True)
class Uploaded:
    session_id: str
    s3_key: str
    size: int
    zip_sha256: str


def record(data_dir: Path, entry: Uploaded) -> None:
    """Append one verified upload; a failure is logged, never raised (the upload is done)."""
    line = json.dumps({"sessionId": entry.session_id, "s3Key": entry.s3_key, "size": entry.size,
                       "zipSha256": entry.zip_sha256, "at": int(time.time() * 1000)}) + "\n"
    try:
        fd = os.open(data_dir / LEDGER_FILE,
                     os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC
                     | os.O_NONBLOCK, 0o600)
    except OSError as exc:
        log.warning("could not record the upload of %s in %s: %s", entry.session_id, LEDGER_FILE, exc)
        return
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            log.warning("%s is not a regular file; the upload is not recorded there", LEDGER_FILE)
            return
        os.write(fd, line.encode())
    except OSError as exc:
        log.warning("could not record the upload of %s: %s", entry.session_id, exc)
    finally:
        with contextlib.suppress(OSError):
            os.close(fd)


def find(data_dir: Path, session_id: str) -> Uploaded | None:
    """The newest recorded upload of `session_id`, or None (no file, unreadable, not there)."""
    try:
        fd = os.open(data_dir / LEDGER_FILE, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NONBLOCK)
    except OSError:
        return None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            return None
        start = max(0, info.st_size - MAX_READ_BYTES)
        data = os.pread(fd, info.st_size - start, start)
    except OSError:
        return None
    finally:
        with contextlib.suppress(OSError):
            os.close(fd)
    found: Uploaded | None = None
    needle = json.dumps(session_id).encode()
    for raw in data.split(b"\n"):
        if needle not in raw:
            continue
        try:
            line = json.loads(raw)
            entry = Uploaded(str(line["sessionId"]), str(line["s3Key"]), int(line["size"]),
                             str(line["zipSha256"]))
        except (ValueError, KeyError, TypeError):
            continue
        if entry.session_id == session_id and is_valid_session_id(entry.session_id):
            found = entry
    return found
