"""The Qt-free queue host of the command line: SerialQueue on a plain thread and the plain
Unix-socket hand-off server, with the scripted engine."""

from __future__ import annotations

import json
import os
import socket
import stat
import threading
from pathlib import Path

from app.upload.queue.handoff import listen_path, send_request
from app.upload.queue.handoff_server import HandOffServer
from app.upload.queue.lock import read_owner
from app.upload.queue.thread_host import ThreadQueueHost
from app.upload.session.state_store import UploadStateStore
from tests.factories import make_session
from tests.unit.test_queue_core import FakeConfig, Recorder, ScriptedEngine, wait_for


def _raw(data_dir: Path, payload: bytes) -> dict[str, object]:
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(10)
        sock.connect(listen_path(data_dir))
        sock.sendall(payload)
        buffer = b""
        while b"\n" not in buffer:
            chunk = sock.recv(65536)
            if not chunk:
                break
            buffer += chunk
    answer = json.loads(buffer.split(b"\n", 1)[0])
    assert isinstance(answer, dict)
    return answer


def test_cancel_is_handed_to_a_thread_owner_and_answered_after_it_took_effect(data_dir: Path) -> None:
    sid = make_session(data_dir, 1_700_000_000_000)
    scripted = ScriptedEngine(FakeConfig())
    scripted.hold[sid] = threading.Event()  # uploads until cancelled
    host = ThreadQueueHost.try_open(data_dir, engine=scripted.engine())
    assert host is not None
    assert ThreadQueueHost.try_open(data_dir) is None  # one owner per data dir
    events = Recorder(data_dir=data_dir)
    host.queue.listen(events)
    host.start()
    try:
        assert read_owner(data_dir).socket == listen_path(data_dir) == host.server.name
        mode = os.lstat(host.server.name).st_mode
        assert stat.S_ISSOCK(mode) and stat.S_IMODE(mode) == 0o600
        assert host.queue.enqueue(sid) is None
        wait_for(lambda: events.status_of(sid) == "uploading")
        answers = send_request(data_dir, "cancel", [sid, "no-such-session", sid])
        assert set(answers) == {sid, "no-such-session"}
        assert answers[sid] is None
        assert answers["no-such-session"] is not None
        # The answer came after the state was written and the multipart aborted.
        assert UploadStateStore(data_dir).get(sid).status == "not_uploaded"  # type: ignore[union-attr]
        assert scripted.aborted == [sid]
        assert events.status_of(sid) == "not_uploaded"
    finally:
        assert host.close()
    assert not os.path.lexists(listen_path(data_dir))  # removed on close


def test_upload_handed_to_a_thread_owner_runs_there(data_dir: Path) -> None:
    sid = make_session(data_dir, 1_700_000_000_000)
    scripted = ScriptedEngine(FakeConfig())
    host = ThreadQueueHost.try_open(data_dir, engine=scripted.engine())
    assert host is not None
    events = Recorder(data_dir=data_dir)
    host.queue.listen(events)
    host.start()
    try:
        assert send_request(data_dir, "upload", [sid]) == {sid: None}
        wait_for(lambda: events.status_of(sid) == "done")
        assert [c[0] for c in scripted.calls] == [sid]
        refused = send_request(data_dir, "retry", [sid])[sid]
        assert refused is not None and "has not failed" in refused
    finally:
        assert host.close()


def test_bad_requests_get_a_sentence_and_the_server_goes_on(data_dir: Path) -> None:
    scripted = ScriptedEngine(FakeConfig())
    host = ThreadQueueHost.try_open(data_dir, engine=scripted.engine())
    assert host is not None
    host.start()
    try:
        assert _raw(data_dir, b"not json\n") == {"error": "The request was not understood."}
        assert _raw(data_dir, b'{"op": "delete", "ids": []}\n') == \
            {"error": "The request was not understood."}
        assert _raw(data_dir, b'{"op": "cancel", "ids": [1]}\n') == \
            {"error": "The request was not understood."}
        assert _raw(data_dir, b"x" * (70 * 1024)) == {"error": "The request is too large."}
        assert _raw(data_dir, b'{"op": "upload", "ids": []}\n') == {"results": {}}
    finally:
        host.close()


class _Silent:
    """A queue that never answers: the server gives up before the client's own timeout."""

    def enqueue(self, session_id: str, reply: object = None) -> str | None:
        return None

    retry = cancel = enqueue


def test_an_unanswered_command_ends_with_a_sentence(data_dir: Path) -> None:
    server = HandOffServer(data_dir, _Silent(), answer_timeout_s=0.2)
    assert server.listen()
    try:
        answer = send_request(data_dir, "cancel", ["abc"])
        assert answer == {"abc": "The upload queue did not act on session abc in time."}
    finally:
        server.close()


def test_a_stale_socket_is_replaced_but_a_foreign_file_is_left_alone(data_dir: Path) -> None:
    path = listen_path(data_dir)
    stale = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    stale.bind(path)  # a dead owner's socket: bound, nobody listening
    stale.close()
    server = HandOffServer(data_dir, _Silent())
    assert server.listen()
    server.close()
    assert not os.path.lexists(path)

    Path(path).write_text("not a socket")
    other = HandOffServer(data_dir, _Silent())
    assert not other.listen()
    assert Path(path).read_text() == "not a socket"
