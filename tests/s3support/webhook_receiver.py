"""A webhook receiver for tests: checks the signature, counts records per Idempotency-Key.

`WebhookReceiver(secret).start()` listens on 127.0.0.1 (port 0 the first time; `stop()` and
`start()` again reuse the same port, so the app's configured URL stays right across an
outage). Every POST is checked:
- the `X-Sessionrec-Signature: sha256=<hex>` header must be the HMAC-SHA256 of the exact body
  with the shared secret, else 401 and the POST is counted in `bad_signatures`;
- `fail_first(n)` answers the next n well-signed POSTs with 503 (not accepted);
- otherwise the record is accepted: 200 the first time for its `Idempotency-Key`, 200 again
  for a repeat, counted in `accepted[key]` only once and in `repeats[key]` after that.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from collections import Counter
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from tests.s3support.loopback_http import serve_in_thread, stop_serving

SIGNATURE_HEADER = "X-Sessionrec-Signature"
MAX_BODY = 1024 * 1024


def signature(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


@dataclass
class WebhookReceiver:
    secret: str
    port: int = 0
    path: str = "/hooks/sessionrec"
    accepted: Counter[str] = field(default_factory=Counter)
    repeats: Counter[str] = field(default_factory=Counter)
    records: dict[str, dict[str, Any]] = field(default_factory=dict)
    bad_signatures: int = 0
    refused: int = 0  # well-signed POSTs answered 503 on purpose
    posts: int = 0
    _fail_remaining: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _server: ThreadingHTTPServer | None = None
    _changed: threading.Condition = field(init=False)

    def __post_init__(self) -> None:
        self._changed = threading.Condition(self._lock)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}{self.path}"

    def fail_first(self, n: int) -> None:
        with self._lock:
            self._fail_remaining = n

    def wait_for(self, predicate: Any, timeout: float = 60.0) -> bool:
        """Wait until `predicate(self)` holds (checked after every POST)."""
        with self._changed:
            return self._changed.wait_for(lambda: predicate(self), timeout)

    def start(self) -> WebhookReceiver:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                receiver._handle(self)

        self._server = serve_in_thread(Handler, self.port, "WebhookReceiver")
        self.port = int(self._server.server_address[1])
        return self

    def stop(self) -> None:
        """Stop listening (a client then gets "connection refused"); `start()` resumes."""
        stop_serving(self._server)
        self._server = None

    def __enter__(self) -> WebhookReceiver:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _handle(self, handler: BaseHTTPRequestHandler) -> None:
        length = int(handler.headers.get("Content-Length") or 0)
        body = handler.rfile.read(min(length, MAX_BODY))
        given = handler.headers.get(SIGNATURE_HEADER) or ""
        key = handler.headers.get("Idempotency-Key") or ""
        with self._changed:
            self.posts += 1
            try:
                if handler.path != self.path:
                    status = 404
                elif not hmac.compare_digest(given, signature(self.secret, body)):
                    self.bad_signatures += 1
                    status = 401
                elif self._fail_remaining > 0:
                    self._fail_remaining -= 1
                    self.refused += 1
                    status = 503
                elif key in self.accepted:
                    self.repeats[key] += 1
                    status = 200
                else:
                    self.accepted[key] += 1
                    self.records[key] = json.loads(body)
                    status = 200
            finally:
                self._changed.notify_all()
        handler.send_response(status)
        handler.send_header("Content-Length", "0")
        handler.end_headers()
