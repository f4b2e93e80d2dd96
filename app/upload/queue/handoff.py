"""The queue hand-off (DESIGN §7), Qt-free: the client (a plain Unix socket) and the wire
format both owners speak.

A second `sessionrec` process that finds the queue lock taken sends its command to the
owner — the window's QLocalServer (`qt_ipc.py`) or a command-line owner's plain socket
server (`handoff_server.py`) — and waits for the answer, which comes once the command has
taken effect (for `cancel`: the session is `not_uploaded`, its multipart aborted).

Wire format: one UTF-8 JSON object per line each way.
  request  {"op": "upload" | "retry" | "cancel", "ids": ["<sessionId>", ...]}
  response {"results": {"<sessionId>": null | "<one sentence why not>"}}
        or {"error": "<sentence>"} for a request that could not be read.

Socket: `<data-dir>/upload-queue.sock` when that path fits a Unix socket address
(< 100 bytes); otherwise `sessionrec-<first 16 hex of sha256(data-dir path)>` in the temp
folder. The owner also writes the full path into the lock file, which clients prefer.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import socket
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Protocol

from app.upload.queue.lock import read_owner

SOCKET_FILE = "upload-queue.sock"
MAX_UNIX_SOCKET_PATH = 100  # sun_path is 108 bytes on Linux, 104 on macOS
MAX_MESSAGE_BYTES = 64 * 1024
OPS = ("upload", "retry", "cancel")


class HandOffError(Exception):
    """The owner could not be reached or did not answer; one sentence."""


Reply = Callable[[str | None], None]


class HandOffTarget(Protocol):
    """What an owner's server calls: each returns a refusal sentence at once, or None and
    calls `reply` once the command took effect (None, or a sentence why not)."""

    def enqueue(self, session_id: str, reply: Reply | None = None) -> str | None: ...
    def retry(self, session_id: str, reply: Reply | None = None) -> str | None: ...
    def cancel(self, session_id: str, reply: Reply | None = None) -> str | None: ...


NOT_UNDERSTOOD = "The request was not understood."
TOO_LARGE = "The request is too large."


def parse_request(line: bytes) -> tuple[str, list[str]]:
    """(op, ids) of one request line; ValueError when it is not a valid request."""
    try:
        request = json.loads(line)
        op, ids = request["op"], request["ids"]
    except (ValueError, KeyError, TypeError) as exc:
        raise ValueError(NOT_UNDERSTOOD) from exc
    if op not in OPS or not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
        raise ValueError(NOT_UNDERSTOOD)
    return op, ids


def dispatch(target: HandOffTarget, op: str) -> Callable[[str, Reply | None], str | None]:
    return {"upload": target.enqueue, "retry": target.retry, "cancel": target.cancel}[op]


def encode(payload: dict[str, object]) -> bytes:
    return (json.dumps(payload) + "\n").encode()


def socket_name(data_dir: Path) -> str:
    """The name the owner listens on (a path, or a bare name Qt puts in the temp folder)."""
    candidate = str(data_dir / SOCKET_FILE)
    if len(candidate.encode()) < MAX_UNIX_SOCKET_PATH:
        return candidate
    digest = hashlib.sha256(str(data_dir).encode()).hexdigest()[:16]
    return f"sessionrec-{digest}"


def listen_path(data_dir: Path) -> str:
    """The filesystem path of `socket_name` (Qt puts a bare name in the temp folder too)."""
    name = socket_name(data_dir)
    return name if os.path.isabs(name) else os.path.join(tempfile.gettempdir(), name)


def socket_path(data_dir: Path) -> str:
    recorded = read_owner(data_dir).socket
    if recorded and os.path.isabs(recorded):
        return recorded
    return listen_path(data_dir)


_MALFORMED = "The process that owns the upload queue sent a malformed answer."


def send_request(data_dir: Path, op: str, ids: list[str], timeout_s: float = 15.0,
                 connect_timeout_s: float = 3.0) -> dict[str, str | None]:
    """Send one request to the owner and return its per-id answers (None = done)."""
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.settimeout(connect_timeout_s)
        try:
            sock.connect(socket_path(data_dir))
        except OSError as exc:
            raise HandOffError("The process that owns the upload queue does not answer.") from exc
        sock.sendall((json.dumps({"op": op, "ids": ids}) + "\n").encode())
        buffer = b""
        deadline = time.monotonic() + timeout_s
        while b"\n" not in buffer:
            left = deadline - time.monotonic()
            if left <= 0:
                raise HandOffError("The process that owns the upload queue did not answer in time.")
            sock.settimeout(left)
            try:
                chunk = sock.recv(65536)
            except TimeoutError as exc:
                raise HandOffError(
                    "The process that owns the upload queue did not answer in time.") from exc
            except OSError as exc:
                raise HandOffError("The process that owns the upload queue stopped answering.") from exc
            if not chunk:
                raise HandOffError("The process that owns the upload queue stopped answering.")
            buffer += chunk
            if len(buffer) > MAX_MESSAGE_BYTES:
                raise HandOffError(_MALFORMED)
    finally:
        with contextlib.suppress(OSError):
            sock.close()
    return parse_answer(buffer.split(b"\n", 1)[0])


def parse_answer(line: bytes) -> dict[str, str | None]:
    try:
        answer = json.loads(line)
    except ValueError as exc:
        raise HandOffError(_MALFORMED) from exc
    if not isinstance(answer, dict):
        raise HandOffError(_MALFORMED)
    if isinstance(answer.get("error"), str):
        raise HandOffError(answer["error"])
    results = answer.get("results")
    if not isinstance(results, dict):
        raise HandOffError(_MALFORMED)
    return {str(k): (v if isinstance(v, str) else None) for k, v in results.items()}


# Ids per request: keeps each request and its answer (a sentence per id) well below
# MAX_MESSAGE_BYTES, and each answer within the timeout when every id needs an abort.
BATCH_IDS = 50


def send_in_batches(data_dir: Path, op: str, ids: list[str],
                    batch: int = BATCH_IDS) -> dict[str, str | None]:
    """`send_request` for any number of ids, `batch` at a time; answers merged."""
    answers: dict[str, str | None] = {}
    for start in range(0, len(ids), batch):
        answers.update(send_request(data_dir, op, ids[start:start + batch]))
    return answers
