"""Hand-off of `upload`, `retry` and `cancel` to the process that owns the queue (DESIGN §7).

The owner (the window, or `sessionrec queue --wait` / `upload --wait`) listens on a
QLocalServer; a second `sessionrec` process that finds the queue lock taken connects with a
QLocalSocket, sends one request and waits for the answer. The answer comes when the command
has taken effect (for `cancel`: the session is `not_uploaded` and its multipart upload is
aborted), so the second process can report the truth.

Wire format: one UTF-8 JSON object per line each way.
  request  {"op": "upload" | "retry" | "cancel", "ids": ["<sessionId>", ...]}
  response {"results": {"<sessionId>": null | "<one sentence why not>"}}
or {"error": "<sentence>"} for a request that could not be read.

Socket name: `<data-dir>/upload-queue.sock` when that path fits a Unix socket address
(< 100 bytes); otherwise `sessionrec-<first 16 hex of sha256(data-dir path)>` in Qt's temp
folder. Both sides derive it from the data dir alone.
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass, field
from pathlib import Path

from PySide6.QtCore import QObject, Signal, Slot
from PySide6.QtNetwork import QLocalServer, QLocalSocket

from app.upload.qt_queue import UploadQueue

log = logging.getLogger(__name__)

SOCKET_FILE = "upload-queue.sock"
MAX_UNIX_SOCKET_PATH = 100  # sun_path is 108 bytes on Linux, 104 on macOS
MAX_REQUEST_BYTES = 64 * 1024
OPS = ("upload", "retry", "cancel")


def socket_name(data_dir: Path) -> str:
    candidate = str(data_dir / SOCKET_FILE)
    if len(candidate.encode()) < MAX_UNIX_SOCKET_PATH:
        return candidate
    digest = hashlib.sha256(str(data_dir).encode()).hexdigest()[:16]
    return f"sessionrec-{digest}"


class HandOffError(Exception):
    """The owner could not be reached or did not answer; one sentence."""


def send_request(data_dir: Path, op: str, ids: list[str], timeout_s: float = 15.0,
                 connect_timeout_s: float = 3.0) -> dict[str, str | None]:
    """Send one request to the owner and return its per-id answers (None = done)."""
    sock = QLocalSocket()
    sock.connectToServer(socket_name(data_dir))
    if not sock.waitForConnected(int(connect_timeout_s * 1000)):
        raise HandOffError("The process that owns the upload queue does not answer.")
    try:
        sock.write((json.dumps({"op": op, "ids": ids}) + "\n").encode())
        sock.waitForBytesWritten(int(connect_timeout_s * 1000))
        buffer = b""
        while b"\n" not in buffer:
            if not sock.waitForReadyRead(int(timeout_s * 1000)):
                raise HandOffError("The process that owns the upload queue did not answer in time.")
            buffer += bytes(sock.readAll().data())
            if len(buffer) > MAX_REQUEST_BYTES:
                raise HandOffError("The process that owns the upload queue sent a malformed answer.")
    finally:
        sock.disconnectFromServer()
    try:
        answer = json.loads(buffer.split(b"\n", 1)[0])
    except ValueError as exc:
        raise HandOffError("The process that owns the upload queue sent a malformed answer.") from exc
    if not isinstance(answer, dict):
        raise HandOffError("The process that owns the upload queue sent a malformed answer.")
    if isinstance(answer.get("error"), str):
        raise HandOffError(answer["error"])
    results = answer.get("results")
    if not isinstance(results, dict):
        raise HandOffError("The process that owns the upload queue sent a malformed answer.")
    return {str(k): (v if isinstance(v, str) else None) for k, v in results.items()}


@dataclass
class _Pending:
    socket: QLocalSocket
    waiting: set[str]
    results: dict[str, str | None] = field(default_factory=dict)


class QueueServer(QObject):
    """Owner side: answers hand-off requests by calling the owner's UploadQueue."""

    # token, sessionId, sentence-or-None; emitted on the worker thread, handled on ours.
    _answered = Signal(int, str, object)

    def __init__(self, data_dir: Path, upload_queue: UploadQueue,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.data_dir = data_dir
        self.name = socket_name(data_dir)
        self._queue = upload_queue
        self._server = QLocalServer(self)
        self._server.setSocketOptions(QLocalServer.SocketOption.UserAccessOption)
        self._server.newConnection.connect(self._on_new_connection)
        self._answered.connect(self._on_answered)
        self._buffers: dict[QLocalSocket, bytes] = {}
        self._pending: dict[int, _Pending] = {}
        self._next_token = 0

    def listen(self) -> bool:
        # Only the lock holder calls this, so a socket file left by a dead owner is stale.
        QLocalServer.removeServer(self.name)
        ok = self._server.listen(self.name)
        if not ok:
            log.warning("cannot listen on %s: %s", self.name, self._server.errorString())
        return ok

    def close(self) -> None:
        self._server.close()

    @Slot()
    def _on_new_connection(self) -> None:
        while self._server.hasPendingConnections():
            sock = self._server.nextPendingConnection()
            self._buffers[sock] = b""
            sock.readyRead.connect(self._on_ready_read)
            sock.disconnected.connect(self._on_disconnected)

    @Slot()
    def _on_disconnected(self) -> None:
        sock = self.sender()
        if isinstance(sock, QLocalSocket):
            self._buffers.pop(sock, None)
            sock.deleteLater()

    @Slot()
    def _on_ready_read(self) -> None:
        sock = self.sender()
        if not isinstance(sock, QLocalSocket) or sock not in self._buffers:
            return
        data = self._buffers[sock] + bytes(sock.readAll().data())
        if len(data) > MAX_REQUEST_BYTES:
            self._send(sock, {"error": "The request is too large."})
            return
        if b"\n" not in data:
            self._buffers[sock] = data
            return
        line = data.split(b"\n", 1)[0]
        self._buffers[sock] = b""
        self._handle(sock, line)

    def _handle(self, sock: QLocalSocket, line: bytes) -> None:
        try:
            request = json.loads(line)
            op, ids = request["op"], request["ids"]
            if op not in OPS or not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
                raise ValueError(op)
        except (ValueError, KeyError, TypeError):
            self._send(sock, {"error": "The request was not understood."})
            return
        token = self._next_token
        self._next_token += 1
        pending = _Pending(sock, set(ids))
        self._pending[token] = pending
        method = {"upload": self._queue.enqueue, "retry": self._queue.retry,
                  "cancel": self._queue.cancel}[op]
        for session_id in dict.fromkeys(ids):
            def reply(sentence: str | None, sid: str = session_id) -> None:
                self._answered.emit(token, sid, sentence)

            problem = method(session_id, reply)
            if problem is not None:
                self._on_answered(token, session_id, problem)
        if not ids:
            self._complete(token)

    @Slot(int, str, object)
    def _on_answered(self, token: int, session_id: str, sentence: object) -> None:
        pending = self._pending.get(token)
        if pending is None:
            return
        pending.results[session_id] = sentence if isinstance(sentence, str) else None
        pending.waiting.discard(session_id)
        if not pending.waiting:
            self._complete(token)

    def _complete(self, token: int) -> None:
        pending = self._pending.pop(token)
        if pending.socket in self._buffers:
            self._send(pending.socket, {"results": pending.results})

    def _send(self, sock: QLocalSocket, payload: dict[str, object]) -> None:
        sock.write((json.dumps(payload) + "\n").encode())
        sock.flush()
