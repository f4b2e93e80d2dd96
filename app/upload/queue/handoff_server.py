"""The owner side of the queue hand-off without Qt: a plain Unix socket server.

A command-line owner (`upload --wait`, `queue --wait`) has no Qt event loop, so it answers
the requests of `handoff.send_request` here: one accept thread, and one short-lived thread
per client that reads its request line, calls the queue, waits until every id was answered
(the queue calls back once the command took effect) and writes the answer. Same wire format
and socket path as the window's QLocalServer (`qt_ipc.py`), so either kind of owner serves
either kind of client.

The socket is created only by the holder of the queue lock; a socket (or symlink) left at
its path by a dead owner is removed first, anything else there is left alone. The socket
is readable and writable by this user only (like QLocalServer's UserAccessOption).
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import stat
import threading
import time
from pathlib import Path

from app.upload.queue.handoff import (
    MAX_MESSAGE_BYTES,
    NOT_UNDERSTOOD,
    TOO_LARGE,
    HandOffTarget,
    dispatch,
    encode,
    listen_path,
    parse_request,
)

log = logging.getLogger(__name__)

READ_TIMEOUT_S = 5.0  # a client that connects and sends nothing is dropped after this
ANSWER_TIMEOUT_S = 14.0  # under the client's 15 s: it gets our sentence, not its timeout
NO_ANSWER = "The upload queue did not act on session {} in time."


class HandOffServer:
    def __init__(self, data_dir: Path, target: HandOffTarget,
                 answer_timeout_s: float = ANSWER_TIMEOUT_S) -> None:
        self.data_dir = data_dir
        self.name = listen_path(data_dir)
        self._target = target
        self._answer_timeout = answer_timeout_s
        self._listener: socket.socket | None = None
        self._inode: tuple[int, int] | None = None
        self._closing = threading.Event()
        self._thread: threading.Thread | None = None

    def listen(self) -> bool:
        """Start serving; False (logged) when the socket cannot be created."""
        if not _clear_stale(self.name):
            return False
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            listener.bind(self.name)
            # Before listen(): nobody can connect to a socket that is not listening yet.
            os.chmod(self.name, 0o600)
            info = os.lstat(self.name)
            listener.listen(16)
        except OSError as exc:
            listener.close()
            log.warning("cannot listen on %s: %s", self.name, exc)
            return False
        self._listener = listener
        self._inode = (info.st_dev, info.st_ino)
        self._thread = threading.Thread(target=self._accept_loop, name="queue-handoff", daemon=True)
        self._thread.start()
        return True

    def close(self) -> None:
        self._closing.set()
        listener, self._listener = self._listener, None
        if listener is None:
            return
        # shutdown() wakes the thread blocked in accept(); close() alone does not on Linux.
        with contextlib.suppress(OSError):
            listener.shutdown(socket.SHUT_RDWR)
        listener.close()
        if self._thread is not None:
            self._thread.join(timeout=2.0)
        with contextlib.suppress(OSError):
            info = os.lstat(self.name)
            if (info.st_dev, info.st_ino) == self._inode:  # ours, not a newer owner's
                os.unlink(self.name)

    def _accept_loop(self) -> None:
        listener = self._listener
        while listener is not None and not self._closing.is_set():
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(conn,), name="queue-handoff-client",
                             daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        with conn:
            try:
                line = _read_line(conn)
            except ValueError:
                _send(conn, {"error": TOO_LARGE})
                return
            except OSError:
                return  # gone, or said nothing in time
            log.info("hand-off request: %s", line[:200].decode(errors="replace"))
            try:
                op, ids = parse_request(line)
            except ValueError:
                _send(conn, {"error": NOT_UNDERSTOOD})
                return
            _send(conn, {"results": self._answer(op, ids)})

    def _answer(self, op: str, ids: list[str]) -> dict[str, str | None]:
        method = dispatch(self._target, op)
        results: dict[str, str | None] = {}
        done = threading.Condition()
        unique = list(dict.fromkeys(ids))
        for session_id in unique:
            def reply(sentence: str | None, sid: str = session_id) -> None:
                with done:
                    results[sid] = sentence if isinstance(sentence, str) else None
                    done.notify_all()

            try:
                problem = method(session_id, reply)
            except Exception:
                log.exception("hand-off %s of %s failed", op, session_id)
                problem = f"The upload queue could not {op} session {session_id}."
            if problem is not None:
                reply(problem)
        deadline = time.monotonic() + self._answer_timeout
        with done:
            while len(results) < len(unique):
                left = deadline - time.monotonic()
                if left <= 0 or self._closing.is_set():
                    break
                done.wait(min(left, 0.25))
            for session_id in unique:
                results.setdefault(session_id, NO_ANSWER.format(session_id))
            return dict(results)


def _clear_stale(path: str) -> bool:
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        return True
    except OSError as exc:
        log.warning("cannot check %s: %s", path, exc)
        return False
    if not (stat.S_ISSOCK(info.st_mode) or stat.S_ISLNK(info.st_mode)):
        log.warning("%s is not a socket; not serving hand-offs", path)
        return False
    try:
        os.unlink(path)
    except OSError as exc:
        log.warning("cannot remove the old socket %s: %s", path, exc)
        return False
    return True


def _read_line(conn: socket.socket) -> bytes:
    """The first line the client sends; ValueError when it is too long."""
    conn.settimeout(READ_TIMEOUT_S)
    data = b""
    while b"\n" not in data:
        chunk = conn.recv(65536)
        if not chunk:
            raise ConnectionError("the client left before its request ended")
        data += chunk
        if len(data) > MAX_MESSAGE_BYTES:
            raise ValueError(TOO_LARGE)
    return data.split(b"\n", 1)[0]


def _send(conn: socket.socket, payload: dict[str, object]) -> None:
    with contextlib.suppress(OSError):
        conn.settimeout(READ_TIMEOUT_S)
        conn.sendall(encode(payload))
