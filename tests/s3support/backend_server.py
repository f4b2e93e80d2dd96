"""A small backend serving the seed's simple contract, for tests (HTTP on 127.0.0.1, port 0).

Every route wants `Authorization: Bearer <token>` and answers 401 otherwise:
- `GET  <authCheckPath>`  200 `{"user": "tests"}`: the token is good (Test Connection);
- `POST <presignPath>`    body `{"key", "contentType"}` -> 200
  `{"success": true, "code": 200, "data": {"key", "signedUrl", "downloadUrl"}}`, the URL a
  presigned PUT made by boto3 for the moto bucket (through `s3_endpoint`, so a FaultProxy can
  sit in front of it); `wrap=False` answers the unwrapped `{"key", "signedUrl", ...}` form;
- `POST <fileRecordPath>` body: one JSON record. The `Idempotency-Key` header names it: the
  first time 201 `{"_id": ...}`, again 200 with the same id and nothing stored twice.
`fail_next(path, n, status)` makes the next n requests to a route fail with that status.
"""

from __future__ import annotations

import json
import threading
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

from app.upload.config import (
    DEFAULT_AUTH_CHECK_PATH as AUTH_CHECK_PATH,
)
from app.upload.config import (
    DEFAULT_FILE_RECORD_PATH as FILE_RECORD_PATH,
)
from app.upload.config import (
    DEFAULT_PRESIGN_PATH as PRESIGN_PATH,
)
from tests.s3support.loopback_http import serve_in_thread, stop_serving
from tests.s3support.server import OPEN_ACCESS_KEY, OPEN_SECRET_KEY

MAX_BODY = 1024 * 1024


@dataclass
class Request:
    method: str
    path: str
    authorized: bool
    headers: dict[str, str]
    body: bytes


@dataclass
class SimpleBackend:
    s3_endpoint: str
    bucket: str
    token: str
    expires_s: int = 3600
    wrap: bool = True
    auth_check_path: str = AUTH_CHECK_PATH
    presign_path: str = PRESIGN_PATH
    file_record_path: str = FILE_RECORD_PATH
    # Records by Idempotency-Key, each once; `record_posts` counts every POST that reached it.
    records: dict[str, dict[str, Any]] = field(default_factory=dict)
    record_posts: int = 0
    requests: list[Request] = field(default_factory=list)
    _failures: dict[str, list[int]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _server: ThreadingHTTPServer | None = None
    _client: Any = None

    @property
    def url(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def fail_next(self, path: str, n: int, status: int = 503) -> None:
        with self._lock:
            self._failures.setdefault(path, []).extend([status] * n)

    def presigns(self) -> list[Request]:
        with self._lock:
            return [r for r in self.requests if r.path == self.presign_path]

    def start(self) -> SimpleBackend:
        import boto3
        from botocore.config import Config

        self._client = boto3.client(
            "s3", endpoint_url=self.s3_endpoint, region_name="us-east-1",
            aws_access_key_id=OPEN_ACCESS_KEY, aws_secret_access_key=OPEN_SECRET_KEY,
            config=Config(s3={"addressing_style": "path"}, signature_version="s3v4"))
        backend = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                backend._handle(self, "GET")

            def do_POST(self) -> None:
                backend._handle(self, "POST")

        self._server = serve_in_thread(Handler, 0, "SimpleBackend")
        return self

    def stop(self) -> None:
        stop_serving(self._server)
        self._server = None

    def __enter__(self) -> SimpleBackend:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ---- serving -------------------------------------------------------------------------

    def _handle(self, handler: BaseHTTPRequestHandler, method: str) -> None:
        path = urlsplit(handler.path).path
        length = int(handler.headers.get("Content-Length") or 0)
        body = handler.rfile.read(min(length, MAX_BODY)) if length else b""
        authorized = handler.headers.get("Authorization") == f"Bearer {self.token}"
        with self._lock:
            self.requests.append(Request(method, path, authorized,
                                         {k.lower(): v for k, v in handler.headers.items()}, body))
            queued = self._failures.get(path)
            failure = queued.pop(0) if queued else None
        if failure is not None:
            return _send(handler, failure, {"message": "injected failure"})
        if not authorized:
            return _send(handler, 401, {"message": "Unauthorized"})
        if method == "GET" and path == self.auth_check_path:
            return _send(handler, 200, {"user": "tests"})
        if method == "POST" and path == self.presign_path:
            return self._presign(handler, body)
        if method == "POST" and path == self.file_record_path:
            return self._record(handler, body)
        return _send(handler, 404, {"message": "Not found"})

    def _presign(self, handler: BaseHTTPRequestHandler, body: bytes) -> None:
        try:
            asked = json.loads(body)
            key, content_type = str(asked["key"]), str(asked["contentType"])
        except (ValueError, KeyError, TypeError):
            return _send(handler, 400, {"message": "key and contentType are required"})
        url = self._client.generate_presigned_url(
            "put_object", Params={"Bucket": self.bucket, "Key": key, "ContentType": content_type},
            ExpiresIn=self.expires_s)
        answer = {"key": key, "signedUrl": url,
                  "downloadUrl": f"{self.s3_endpoint}/{self.bucket}/{key}"}
        _send(handler, 200, {"success": True, "code": 200, "data": answer} if self.wrap else answer)

    def _record(self, handler: BaseHTTPRequestHandler, body: bytes) -> None:
        key = handler.headers.get("Idempotency-Key") or ""
        try:
            record = json.loads(body)
        except ValueError:
            return _send(handler, 400, {"message": "not JSON"})
        with self._lock:
            self.record_posts += 1
            if key in self.records:
                return _send(handler, 200, {"_id": self.records[key]["_id"]})
            stored = {"_id": uuid.uuid4().hex, "record": record}
            self.records[key] = stored
        _send(handler, 201, {"_id": stored["_id"]})


def _send(handler: BaseHTTPRequestHandler, status: int, payload: Any) -> None:
    data = json.dumps(payload).encode()
    handler.send_response(status)
    handler.send_header("Content-Type", "application/json")
    handler.send_header("Content-Length", str(len(data)))
    handler.end_headers()
    handler.wfile.write(data)
