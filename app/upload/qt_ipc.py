"""The window's side of the queue hand-off (DESIGN §7).

- `QueueServer`: when the window owns the queue, a QLocalServer answering the requests that
  `handoff.send_request` sends from a second `sessionrec` process. An answer is sent once the
  command took effect.
- `RemoteQueue`: when another process owns it, the window's Upload/Retry/Cancel sent there
  (the same `SessionActions` as the in-process `UploadQueue`, so the window acts one way).

Wire format and socket name: see `app/upload/queue/handoff.py` (a command-line owner serves the same
protocol without Qt: `handoff_server.py`).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

from PySide6.QtCore import QObject, Signal, Slot
from PySide6.QtNetwork import QLocalServer, QLocalSocket

from app.upload.qt_queue import UploadQueue
from app.upload.queue.handoff import (
    MAX_MESSAGE_BYTES,
    NOT_UNDERSTOOD,
    TOO_LARGE,
    dispatch,
    encode,
    parse_request,
    socket_name,
)
from app.upload.queue.session_actions import SessionOp, real_delete
from app.upload.session.state_store import UploadStateStore

log = logging.getLogger(__name__)


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
        if ok:
            self.name = self._server.fullServerName()
        else:
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
        if len(data) > MAX_MESSAGE_BYTES:
            self._send(sock, {"error": TOO_LARGE})
            return
        if b"\n" not in data:
            self._buffers[sock] = data
            return
        line = data.split(b"\n", 1)[0]
        self._buffers[sock] = b""
        self._handle(sock, line)

    def _handle(self, sock: QLocalSocket, line: bytes) -> None:
        log.info("hand-off request: %s", line[:200].decode(errors="replace"))
        try:
            op, ids = parse_request(line)
        except ValueError:
            self._send(sock, {"error": NOT_UNDERSTOOD})
            return
        token = self._next_token
        self._next_token += 1
        pending = _Pending(sock, set(ids))
        self._pending[token] = pending
        method = dispatch(self._queue, op)
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
        sock.write(encode(payload))
        sock.flush()


class RemoteQueue:
    """`SessionActions` handed to the process that owns the queue of `data_dir`.

    Each call blocks until the owner answered (at most the hand-off's timeout): call it off the
    GUI thread. Delete needs no owner: a session that is not queued is the window's to remove.
    """

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self.store = UploadStateStore(data_dir)

    def _send(self, op: str, session_id: str) -> str | None:
        return self.act_on_many("enqueue" if op == "upload" else op,  # type: ignore[arg-type]
                                [session_id]).get(session_id)

    def enqueue(self, session_id: str) -> str | None:
        return self._send("upload", session_id)

    def retry(self, session_id: str) -> str | None:
        return self._send("retry", session_id)

    def cancel(self, session_id: str) -> str | None:
        return self._send("cancel", session_id)

    def delete(self, session_id: str) -> str | None:
        return real_delete(self.data_dir, self.store, session_id)

    def act_on_many(self, op: SessionOp, session_ids: list[str]) -> dict[str, str]:
        """One hand-off request per 50 sessions; the refusals by session id."""
        from app.upload.queue.handoff import HandOffError, send_in_batches

        if op == "delete":
            refusals = {sid: self.delete(sid) for sid in session_ids}
            return {sid: sentence for sid, sentence in refusals.items() if sentence}
        try:
            answers = send_in_batches(self.data_dir, "upload" if op == "enqueue" else op,
                                      session_ids)
        except HandOffError as exc:
            return dict.fromkeys(session_ids, str(exc))
        return {sid: str(answer) for sid, answer in answers.items() if answer}
