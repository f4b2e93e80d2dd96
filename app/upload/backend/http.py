"""HTTP to the backend and to the store's presigned URLs, through urllib3 (botocore's own).

Two kinds of request, kept apart on purpose:
- `call_json`: a JSON request to the backend with `Authorization: Bearer <token>`;
- `put_signed`: a PUT of a body to a URL the backend signed; it carries no token (the URL is
  the permission), so the token never reaches the store.
One attempt each (urllib3 retries off): the session and the queue retry. Every failure is
raised as `UploadError` with a sentence (errors.py), `UploadGone` when the server no longer
has the multipart upload, `SignedUrlExpired` when the store says the URL's time ran out,
`ReaderStopped` when the body stopped (cancel, or another part failed).
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import Any

import urllib3

from app.upload.backend import errors
from app.upload.backend.settings import BackendSettings
from app.upload.session.errors import disk_read_error
from app.upload.session.part_reader import ReaderStopped, SliceReader
from app.upload.session.transport import UploadGone, stopped_reading

log = logging.getLogger(__name__)

# Answers bigger than this are not read (a JSON answer or an S3 error document is tiny).
MAX_ANSWER_BYTES = 1024 * 1024
# urllib3 reads a file-like body in blocks of this size (its default is 16 KiB).
SEND_BLOCK = 128 * 1024
POOL_SIZE = 16


class SignedUrlExpired(Exception):
    """The store refused a presigned URL because its lifetime ran out: sign again."""


class _LocalRead(Exception):
    """An OSError reading the zip, carried past urllib3 (which would call any OSError a broken
    connection)."""

    def __init__(self, error: OSError) -> None:
        super().__init__(str(error))
        self.error = error


class _Body:
    """The part reader as urllib3 sees it: marked as sending, local read errors kept apart."""

    def __init__(self, reader: SliceReader) -> None:
        self.reader = reader

    def read(self, size: int = -1) -> bytes:
        self.reader.sending = True
        try:
            return self.reader.read(size)
        except OSError as exc:
            raise _LocalRead(exc) from exc


@dataclass(frozen=True)
class SignedAnswer:
    status: int
    etag: str | None
    headers: dict[str, str]


class BackendHttp:
    def __init__(self, settings: BackendSettings) -> None:
        self.settings = settings
        timeout = urllib3.Timeout(connect=settings.connect_timeout_sec,
                                  read=settings.read_timeout_sec)
        self.pool = urllib3.PoolManager(num_pools=4, maxsize=POOL_SIZE, retries=False,
                                        timeout=timeout, blocksize=SEND_BLOCK)

    # ---- the backend ---------------------------------------------------------------------

    def call_json(self, method: str, path: str, body: Any = None,
                  headers: dict[str, str] | None = None) -> Any:
        """`method` `path` (under backendUrl, query included) with a JSON body; the parsed
        JSON answer (None for an empty one)."""
        data = None if body is None else json.dumps(body, separators=(",", ":")).encode()
        return self.call_raw(method, path, data, headers)

    def call_raw(self, method: str, path: str, data: bytes | None,
                 headers: dict[str, str] | None = None) -> Any:
        """As `call_json`, the body given as the exact bytes to send (a JSON document)."""
        sent: dict[str, str] = {"Accept": "application/json", **(headers or {})}
        if self.settings.token:
            sent["Authorization"] = f"Bearer {self.settings.token}"
        if data is not None:
            sent["Content-Type"] = "application/json"
        status, parsed, raw = self.send(method, self.settings.endpoint(path), data, sent,
                                        f"the backend at {self.settings.host}")
        if status >= 300:
            if errors.no_such_upload(parsed):
                raise UploadGone
            raise errors.backend_status(status, path.split("?")[0], parsed)
        if raw and parsed is None:
            raise errors.unreadable_answer(path.split("?")[0])
        return parsed

    def send(self, method: str, url: str, data: bytes | None, headers: dict[str, str],
             what: str) -> tuple[int, Any, bytes]:
        """One request to any URL: (status, parsed JSON or None, raw answer). Adds nothing
        to `headers` (no token)."""
        try:
            answer = self.pool.request(method, url, body=data, headers=headers,
                                       preload_content=False, redirect=False)
            raw = _read_bounded(answer)
        except urllib3.exceptions.HTTPError as exc:
            raise errors.network_error(exc, what) from None
        return answer.status, _json_or_none(raw), raw

    # ---- the store, through a URL the backend signed -------------------------------------

    def put_signed(self, url: str, body: SliceReader, length: int,
                   headers: dict[str, str]) -> SignedAnswer:
        """PUT `length` bytes of `body` to the presigned `url` (no token goes with it)."""
        sent = {**headers, "Content-Length": str(length)}
        try:
            answer = self.pool.urlopen("PUT", url, body=_Body(body), headers=sent,
                                       preload_content=False, redirect=False,
                                       chunked=False)
            raw = _read_bounded(answer)
        except ReaderStopped:
            raise
        except _LocalRead as exc:
            raise disk_read_error(exc.error) from None
        except Exception as exc:
            if stopped_reading(exc):
                raise ReaderStopped from exc
            if isinstance(exc, urllib3.exceptions.HTTPError):
                raise errors.network_error(exc, "the storage server") from None
            raise
        if answer.status >= 300:
            code, message = errors.s3_error(raw)
            if code == "NoSuchUpload":
                raise UploadGone
            if errors.url_expired(answer.status, code, message):
                raise SignedUrlExpired
            raise errors.store_status(answer.status, code)
        found = {k.lower(): v for k, v in answer.headers.items()}
        return SignedAnswer(answer.status, found.get("etag"), found)


def _read_bounded(answer: Any) -> bytes:
    try:
        data = answer.read(MAX_ANSWER_BYTES + 1, decode_content=True)
    finally:
        answer.release_conn()
    return bytes(data[:MAX_ANSWER_BYTES])


def _json_or_none(raw: bytes) -> Any:
    if not raw:
        return None
    try:
        return json.loads(raw)
    except ValueError:
        return None
