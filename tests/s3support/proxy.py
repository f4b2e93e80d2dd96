"""FaultProxy: a real TCP/HTTP proxy on 127.0.0.1 in front of the S3 server.

The client under test talks to `proxy.endpoint_url`; every request is parsed (request line,
headers, body by Content-Length or chunked), counted, and then either forwarded to the
upstream server or answered with an injected fault:

- an S3 error answer (`Fault.error(503, "SlowDown")`, `Fault.invalid_access_key()`, ...),
- a connection reset in the middle of the request body (`Fault.reset_mid_body()`),
- a stall: the request is read and then nothing happens until the client gives up or the
  stall ends (`Fault.stall(seconds)`).

With `presign_checker` set (tests/s3support/presign.py), a presigned URL is answered as S3
would: refused when expired or wrongly signed, forwarded otherwise (moto checks neither).

Faults are armed with `inject(fault, times=N)` (the next N matching requests; None = until
`clear()`), optionally only for one operation (`only="UploadPart"`). `throttle_bytes_per_sec`
slows each forwarded request body down on its own. `set_link(LinkTiming(...))` simulates an
uplink instead (link.py): all request bodies share one bandwidth cap, and every request
costs a round trip (plus one more for an `Expect: 100-continue` go-ahead); the stats then
record when each request arrived, when its body was through and when it was answered.
`drop_request_headers` passes requests on without some headers, like a store that ignores
them. Everything is thread-safe and can be changed while requests are in flight.

Each client request uses its own upstream connection (Connection: close upstream), and the
client connection is closed after each answer; urllib3 reconnects transparently. That costs
a little speed and buys simple, exact accounting.
"""

from __future__ import annotations

import contextlib
import socket
import struct
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import parse_qs, urlsplit

from tests.s3support.link import LinkTiming, SharedLink, wait_until

FaultKind = Literal["error", "reset", "stall"]


@dataclass(frozen=True)
class Fault:
    kind: FaultKind
    status: int = 503
    code: str = "ServiceUnavailable"
    message: str = "Injected by FaultProxy"
    # reset: how many body bytes to take before resetting the connection.
    after_body_bytes: int = 64 * 1024
    stall_seconds: float = 30.0

    @staticmethod
    def error(status: int, code: str, message: str = "Injected by FaultProxy") -> Fault:
        return Fault("error", status=status, code=code, message=message)

    @staticmethod
    def service_unavailable() -> Fault:
        return Fault.error(503, "ServiceUnavailable", "Service is unable to handle request.")

    @staticmethod
    def slow_down() -> Fault:
        return Fault.error(503, "SlowDown", "Please reduce your request rate.")

    @staticmethod
    def invalid_access_key() -> Fault:
        return Fault.error(403, "InvalidAccessKeyId",
                           "The AWS Access Key Id you provided does not exist in our records.")

    @staticmethod
    def reset_mid_body(after_body_bytes: int = 64 * 1024) -> Fault:
        return Fault("reset", after_body_bytes=after_body_bytes)

    @staticmethod
    def stall(seconds: float = 30.0) -> Fault:
        return Fault("stall", stall_seconds=seconds)


@dataclass(frozen=True)
class RequestInfo:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]  # lower-case names

    @property
    def part_number(self) -> int | None:
        values = self.query.get("partNumber")
        return int(values[0]) if values else None

    @property
    def operation(self) -> str:
        """The S3 operation, guessed from method, path-style path and query."""
        q = self.query
        has_key = self.path.strip("/").count("/") >= 1
        if self.method == "PUT":
            if "partNumber" in q:
                return "UploadPart"
            return "PutObject" if has_key else "CreateBucket"
        if self.method == "POST":
            if "uploads" in q:
                return "CreateMultipartUpload"
            if "uploadId" in q:
                return "CompleteMultipartUpload"
            return "Post"
        if self.method == "DELETE":
            if "uploadId" in q:
                return "AbortMultipartUpload"
            return "DeleteObject" if has_key else "DeleteBucket"
        if self.method == "HEAD":
            return "HeadObject" if has_key else "HeadBucket"
        if self.method == "GET":
            if "uploadId" in q:
                return "ListParts"
            if "uploads" in q:
                return "ListMultipartUploads"
            if "attributes" in q:
                return "GetObjectAttributes"
            return "GetObject" if has_key else "ListObjects"
        return self.method


@dataclass
class _Armed:
    fault: Fault
    remaining: int | None
    only: str | None


@dataclass(frozen=True)
class RequestTiming:
    """When (monotonic seconds) one request arrived, had its body through, was answered."""

    operation: str
    part_number: int | None
    head_at: float
    body_done_at: float
    answered_at: float
    # When the proxy gave the `100 Continue` go-ahead (None: not asked for).
    continued_at: float | None
    # When the server's answer reached the proxy (before the simulated trip back): the
    # server's own time for the request is `server_answered_at - body_done_at`.
    server_answered_at: float


@dataclass
class Stats:
    requests: Counter[str] = field(default_factory=Counter)
    # Body bytes the proxy received from the client, per operation and per part number
    # (all attempts, including ones that were faulted or reset).
    body_bytes: Counter[str] = field(default_factory=Counter)
    part_bytes: Counter[int] = field(default_factory=Counter)
    part_requests: Counter[int] = field(default_factory=Counter)
    # Part numbers whose request was forwarded to the server in full.
    parts_forwarded: Counter[int] = field(default_factory=Counter)
    faults: Counter[str] = field(default_factory=Counter)
    log: list[tuple[str, int | None]] = field(default_factory=list)
    # Requests that asked for `Expect: 100-continue`, per operation.
    expect_continue: Counter[str] = field(default_factory=Counter)
    # Forwarded requests, in the order they were answered.
    timings: list[RequestTiming] = field(default_factory=list)

    def copy(self) -> Stats:
        return Stats(Counter(self.requests), Counter(self.body_bytes), Counter(self.part_bytes),
                     Counter(self.part_requests), Counter(self.parts_forwarded),
                     Counter(self.faults), list(self.log), Counter(self.expect_continue),
                     list(self.timings))

    def window(self) -> tuple[float, float] | None:
        """(first request's arrival, last answer) over the forwarded requests."""
        if not self.timings:
            return None
        return (min(t.head_at for t in self.timings), max(t.answered_at for t in self.timings))


class _ClientGone(Exception):
    pass


class FaultProxy:
    def __init__(self, upstream_host: str, upstream_port: int, host: str = "127.0.0.1") -> None:
        self.upstream = (upstream_host, upstream_port)
        self._lock = threading.Lock()
        self._armed: list[_Armed] = []
        self._stats = Stats()
        self.throttle_bytes_per_sec: int | None = None
        # Request headers (lower-case names) not passed on, like a store that ignores them.
        self.drop_request_headers: set[str] = set()
        # Checks presigned URLs (X-Amz-Signature in the query) as S3 does; see presign.py.
        self.presign_checker: Any = None
        self.link: SharedLink | None = None
        self.rtt_sec = 0.0
        self._listener = socket.create_server((host, 0))
        self.host, self.port = self._listener.getsockname()[:2]
        self._stopping = threading.Event()
        self._conns: set[socket.socket] = set()
        self._active = 0
        self._idle = threading.Condition(self._lock)
        self._thread = threading.Thread(target=self._accept_loop, name="FaultProxy", daemon=True)
        self._thread.start()

    # ---- control -------------------------------------------------------------------------

    @property
    def endpoint_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def inject(self, fault: Fault, times: int | None = 1, only: str | None = None) -> None:
        """Apply `fault` to the next `times` matching requests (None: until clear())."""
        with self._lock:
            self._armed.append(_Armed(fault, times, only))

    def fail_next(self, n: int, fault: Fault | None = None, only: str | None = None) -> None:
        self.inject(fault or Fault.service_unavailable(), times=n, only=only)

    def set_link(self, timing: LinkTiming | None, keep_schedule: bool = False) -> SharedLink | None:
        """Simulate an uplink from now on (None: a plain loopback again); returns the link."""
        with self._lock:
            rate = timing.bytes_per_sec if timing else None
            self.link = SharedLink(rate, keep_schedule) if rate else None
            self.rtt_sec = timing.rtt_sec if timing else 0.0
            return self.link

    def clear(self) -> None:
        with self._lock:
            self._armed.clear()

    def reset_stats(self) -> None:
        with self._lock:
            self._stats = Stats()

    def stats(self) -> Stats:
        """A consistent copy of the counters."""
        with self._lock:
            return self._stats.copy()

    def wait_idle(self, timeout: float = 30.0) -> bool:
        """Wait until no request is being handled (e.g. after killing the client, bytes
        already in socket buffers may still be forwarded)."""
        with self._idle:
            return self._idle.wait_for(lambda: self._active == 0, timeout)

    def stop(self) -> None:
        self._stopping.set()
        # shutdown() wakes the thread blocked in accept(); close() alone does not on Linux.
        with contextlib.suppress(OSError):
            self._listener.shutdown(socket.SHUT_RDWR)
        with contextlib.suppress(OSError):
            self._listener.close()
        with self._lock:
            conns = list(self._conns)
        for conn in conns:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
            with contextlib.suppress(OSError):
                conn.close()
        self._thread.join(timeout=5)

    def __enter__(self) -> FaultProxy:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ---- serving -------------------------------------------------------------------------

    def _accept_loop(self) -> None:
        while not self._stopping.is_set():
            try:
                conn, _ = self._listener.accept()
            except OSError:
                return
            with self._lock:
                self._conns.add(conn)
            threading.Thread(target=self._serve, args=(conn,), name="FaultProxy-conn",
                             daemon=True).start()

    def _take_fault(self, info: RequestInfo) -> Fault | None:
        with self._lock:
            for armed in self._armed:
                if armed.only is not None and armed.only != info.operation:
                    continue
                if armed.remaining is not None:
                    armed.remaining -= 1
                    if armed.remaining <= 0:
                        self._armed.remove(armed)
                self._stats.faults[armed.fault.kind] += 1
                return armed.fault
        return None

    def _serve(self, conn: socket.socket) -> None:
        with self._lock:
            self._active += 1
        try:
            reader = _Reader(conn)
            head = reader.read_head()
            if head is None:
                return
            head_at = time.monotonic()
            info, raw_head = head
            op, part = info.operation, info.part_number
            # botocore sends `Expect: 100-continue` with bodies and waits up to 1 s for the
            # go-ahead; the proxy gives it (after one round trip on a simulated link; upstream
            # never sees the Expect header).
            expects = info.headers.get("expect", "").lower() == "100-continue"
            with self._lock:
                self._stats.requests[op] += 1
                self._stats.log.append((op, part))
                if part is not None:
                    self._stats.part_requests[part] += 1
                if expects:
                    self._stats.expect_continue[op] += 1
                rtt = self.rtt_sec
            fault = self._take_fault(info)
            checker = self.presign_checker
            if fault is None and checker is not None and "X-Amz-Signature" in info.query:
                fault = checker.check(info)
            if expects and (fault is None or fault.kind in ("error", "reset")) and \
                    not wait_until(head_at + rtt, self._stopping):
                raise _ClientGone
            if fault is not None and fault.kind == "error" and expects:
                _send_error(conn, fault)  # like S3: refuse before the body is sent
                return
            continued_at = None
            if expects and (fault is None or fault.kind == "reset"):
                conn.sendall(b"HTTP/1.1 100 Continue\r\n\r\n")
                continued_at = time.monotonic()
            if fault is None:
                self._forward(conn, reader, info, raw_head, head_at, continued_at, rtt)
            elif fault.kind == "error":
                self._count_body(info, reader.drain_body(info.headers, self._stopping))
                _send_error(conn, fault)
            elif fault.kind == "reset":
                taken = reader.take_body_bytes(info.headers, fault.after_body_bytes)
                self._count_body(info, taken)
                _reset(conn)
            else:  # stall
                self._stopping.wait(fault.stall_seconds)
        except (OSError, _ClientGone, ValueError):
            pass
        finally:
            with contextlib.suppress(OSError):
                conn.close()
            with self._lock:
                self._conns.discard(conn)
                self._active -= 1
                self._idle.notify_all()

    def _count_body(self, info: RequestInfo, n: int) -> None:
        with self._lock:
            self._stats.body_bytes[info.operation] += n
            if info.part_number is not None:
                self._stats.part_bytes[info.part_number] += n

    def _forward(self, conn: socket.socket, reader: _Reader, info: RequestInfo,
                 raw_head: bytes, head_at: float, continued_at: float | None, rtt: float) -> None:
        upstream = socket.create_connection(self.upstream, timeout=60)
        with self._lock:
            self._conns.add(upstream)
        try:
            upstream.sendall(_with_connection_close(raw_head, self.drop_request_headers))
            started = time.monotonic()
            sent = 0
            for chunk in reader.iter_body(info.headers):
                link = self.link
                # On a simulated link a chunk reaches the server once the link carried it.
                if link is not None and not wait_until(link.reserve(len(chunk), info.part_number),
                                                       self._stopping):
                    raise _ClientGone
                upstream.sendall(chunk)
                sent += len(chunk)
                self._count_body(info, len(chunk))
                limit = self.throttle_bytes_per_sec
                if limit:
                    ahead = sent / limit - (time.monotonic() - started)
                    if ahead > 0 and self._stopping.wait(ahead):
                        raise _ClientGone
            body_done_at = time.monotonic() if sent else head_at
            if info.part_number is not None:
                with self._lock:
                    self._stats.parts_forwarded[info.part_number] += 1
            first = True
            server_answered_at = None
            while True:
                data = upstream.recv(65536)
                if server_answered_at is None:
                    server_answered_at = time.monotonic()
                if not data:
                    break
                # The server got the last byte here as it crossed the link; on a real link it
                # gets it half a round trip later and its answer takes another half back.
                if first and rtt and not wait_until(time.monotonic() + rtt, self._stopping):
                    raise _ClientGone
                first = False
                conn.sendall(data)
            timing = RequestTiming(info.operation, info.part_number, head_at, body_done_at,
                                   time.monotonic(), continued_at,
                                   server_answered_at or time.monotonic())
            with self._lock:
                self._stats.timings.append(timing)
        finally:
            with self._lock:
                self._conns.discard(upstream)
            upstream.close()


class _Reader:
    """Buffered reads from the client socket: the request head, then the body."""

    def __init__(self, conn: socket.socket) -> None:
        self.conn = conn
        self.buf = b""

    def _recv(self) -> bytes:
        data = self.conn.recv(65536)
        if not data:
            raise _ClientGone
        return data

    def read_head(self) -> tuple[RequestInfo, bytes] | None:
        while b"\r\n\r\n" not in self.buf:
            try:
                self.buf += self._recv()
            except _ClientGone:
                return None
            if len(self.buf) > 256 * 1024:
                raise ValueError("request head too large")
        raw, self.buf = self.buf.split(b"\r\n\r\n", 1)
        lines = raw.decode("latin-1").split("\r\n")
        method, target, _version = lines[0].split(" ", 2)
        headers: dict[str, str] = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        parts = urlsplit(target)
        query = parse_qs(parts.query, keep_blank_values=True)
        return RequestInfo(method, parts.path, query, headers), raw + b"\r\n\r\n"

    def iter_body(self, headers: dict[str, str]) -> Iterator[bytes]:
        """Yield the raw body bytes as they arrive (chunk framing included if chunked)."""
        if headers.get("transfer-encoding", "").lower() == "chunked":
            yield from self._iter_chunked()
            return
        remaining = int(headers.get("content-length", "0") or 0)
        while remaining > 0:
            if not self.buf:
                self.buf = self._recv()
            chunk, self.buf = self.buf[:remaining], self.buf[remaining:]
            remaining -= len(chunk)
            yield chunk

    def _iter_chunked(self) -> Iterator[bytes]:
        while True:
            while b"\r\n" not in self.buf:
                self.buf += self._recv()
            size_line, rest = self.buf.split(b"\r\n", 1)
            size = int(size_line.split(b";")[0], 16)
            self.buf = rest
            need = size + 2
            out = size_line + b"\r\n"
            while len(self.buf) < need:
                self.buf += self._recv()
            out += self.buf[:need]
            self.buf = self.buf[need:]
            if size == 0:
                # Trailers end with an empty line; take them as they are.
                while not out.endswith(b"\r\n\r\n") and b"\r\n\r\n" not in self.buf:
                    if out.endswith(b"0\r\n\r\n"):
                        break
                    self.buf += self._recv()
                yield out
                return
            yield out

    def drain_body(self, headers: dict[str, str], stopping: threading.Event) -> int:
        total = 0
        for chunk in self.iter_body(headers):
            total += len(chunk)
            if stopping.is_set():
                break
        return total

    def take_body_bytes(self, headers: dict[str, str], limit: int) -> int:
        total = 0
        for chunk in self.iter_body(headers):
            total += len(chunk)
            if total >= limit:
                break
        return total


def _with_connection_close(raw_head: bytes, dropped: set[str] | None = None) -> bytes:
    lines = raw_head[:-4].split(b"\r\n")
    names = (b"connection:", b"expect:", *(f"{d}:".encode() for d in dropped or ()))
    kept = [line for line in lines if not line.lower().startswith(names)]
    return b"\r\n".join([*kept, b"Connection: close"]) + b"\r\n\r\n"


def _send_error(conn: socket.socket, fault: Fault) -> None:
    body = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f"<Error><Code>{fault.code}</Code><Message>{fault.message}</Message>"
        "<RequestId>FAULTPROXY</RequestId></Error>"
    ).encode()
    reason = {403: "Forbidden", 400: "Bad Request", 500: "Internal Server Error",
              503: "Service Unavailable"}.get(fault.status, "Error")
    head = (
        f"HTTP/1.1 {fault.status} {reason}\r\nContent-Type: application/xml\r\n"
        f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
    ).encode()
    conn.sendall(head + body)


def _reset(conn: socket.socket) -> None:
    # SO_LINGER with a zero timeout makes close() send RST instead of FIN.
    conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    conn.close()
