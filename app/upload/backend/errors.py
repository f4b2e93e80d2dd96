"""The backend's and the store's answers as the error classes and sentences of DESIGN §5.

The backend's 401/403 is "the token was refused" (permanent); a 5xx, a timeout or a reset is
transient; a presigned URL whose time ran out is not a failure at all (http.SignedUrlExpired:
it is signed again). Sentences never carry answer text; `detail` is the status or S3 code.
"""

from __future__ import annotations

import logging
import re
from typing import Any

import urllib3

from app.logs import scrub
from app.upload.session.errors import ErrorKind, UploadError

log = logging.getLogger(__name__)

TOKEN_REFUSED = "The backend refused the token; set a new backendToken in the settings."
_CODE = re.compile(rb"<Code>([^<]{1,64})</Code>")
_MESSAGE = re.compile(rb"<Message>([^<]{0,300})</Message>")
_RESET = "The connection was cut off while sending; the upload will retry."


def backend_status(status: int, path: str, answer: Any) -> UploadError:
    """The error for a non-2xx answer of the backend to `path`."""
    detail = f"HTTP {status}"
    log.warning("backend %s answered HTTP %d", path[:120], status)
    if status in (401, 403):
        return UploadError(ErrorKind.INVALID_CREDENTIALS, TOKEN_REFUSED, detail)
    if status == 404:
        return UploadError(ErrorKind.CONFIG,
                           f"The backend has no {path[:80]} (HTTP 404); check backendUrl, "
                           "backendProtocol and the paths in the settings.", detail)
    if status == 429:
        return UploadError(ErrorKind.THROTTLED,
                           "The backend asked to slow down; the upload will retry.", detail)
    if status >= 500:
        return UploadError(ErrorKind.SERVER,
                           f"The backend had a temporary problem (HTTP {status}); the upload "
                           "will retry.", detail)
    return UploadError(ErrorKind.CONFIG,
                       f"The backend refused the request to {path[:80]} (HTTP {status}); check "
                       "the backend settings.", detail)


def unreadable_answer(path: str) -> UploadError:
    return UploadError(ErrorKind.SERVER,
                       f"The backend's answer to {path[:80]} was not understood; the upload "
                       "will retry.", "not JSON")


def no_such_upload(answer: Any) -> bool:
    """Companion relays S3's NoSuchUpload inside a 500 answer: `{"error": {"Code": ...}}`."""
    if not isinstance(answer, dict):
        return False
    error = answer.get("error")
    return isinstance(error, dict) and "NoSuchUpload" in (error.get("Code"), error.get("name"))


_QUERY = re.compile(r"\?[^\s'\"]*")


def network_error(exc: BaseException, what: str) -> UploadError:
    # Without the query: a presigned URL's signature has no place in the log either.
    text = _QUERY.sub("?…", f"{type(exc).__name__}: {exc}")
    log.warning("request to %s failed: %s", what, scrub(text))
    reason = getattr(exc, "reason", None)
    # NewConnectionError is a ConnectTimeoutError to urllib3: ask for it first.
    if isinstance(exc, urllib3.exceptions.NewConnectionError | urllib3.exceptions.NameResolutionError) \
            or isinstance(reason, urllib3.exceptions.NewConnectionError):
        return UploadError(ErrorKind.NETWORK,
                           f"{what.capitalize()} cannot be reached; check the network connection "
                           "and the address in the settings.", type(exc).__name__)
    if isinstance(exc, urllib3.exceptions.ConnectTimeoutError) or \
            isinstance(reason, urllib3.exceptions.ConnectTimeoutError):
        return UploadError(ErrorKind.TIMEOUT, f"{what.capitalize()} did not answer in time; the "
                                              "upload will retry.", "ConnectTimeout")
    if isinstance(exc, urllib3.exceptions.ReadTimeoutError):
        return UploadError(ErrorKind.TIMEOUT, f"{what.capitalize()} stopped answering in time; "
                                              "the upload will retry.", "ReadTimeout")
    if isinstance(exc, urllib3.exceptions.SSLError) or \
            isinstance(reason, urllib3.exceptions.SSLError):
        return UploadError(ErrorKind.NETWORK,
                           f"A secure connection to {what} could not be made.", "SSLError")
    return UploadError(ErrorKind.CONNECTION_RESET, _RESET, type(exc).__name__)


def s3_error(body: bytes) -> tuple[str, str]:
    """(code, message) of an S3 error document; empty strings when there is none."""
    code = _CODE.search(body)
    message = _MESSAGE.search(body)
    return ((code.group(1).decode("utf-8", "replace") if code else ""),
            (message.group(1).decode("utf-8", "replace") if message else ""))


def url_expired(status: int, code: str, message: str) -> bool:
    """S3 answers an expired presigned URL with 403 AccessDenied "Request has expired"."""
    return status == 403 and (code in ("AccessDenied", "ExpiredToken", "") and
                              "expired" in message.lower())


def store_status(status: int, code: str) -> UploadError:
    """The error for a non-2xx answer of the store to a presigned URL."""
    detail = f"{code} (HTTP {status})" if code else f"HTTP {status}"
    log.warning("the store answered a signed request with %s", detail)
    if code in ("BadDigest", "InvalidDigest", "XAmzContentSHA256Mismatch"):
        return UploadError(ErrorKind.INTEGRITY,
                           "Data arrived damaged at the server; it will be sent again.", detail)
    if code in ("RequestTimeTooSkewed",):
        return UploadError(ErrorKind.CLOCK_SKEW,
                           "This computer's clock is too far from the server's time; set the "
                           "clock correctly and retry.", detail)
    if code in ("SlowDown", "Throttling", "TooManyRequests") or status == 429:
        return UploadError(ErrorKind.THROTTLED,
                           "The storage server asked to slow down; the upload will retry.", detail)
    if code == "RequestTimeout":
        return UploadError(ErrorKind.TIMEOUT,
                           "The storage server gave up waiting for data; the upload will retry.",
                           detail)
    if status >= 500:
        return UploadError(ErrorKind.SERVER,
                           f"The storage server had a temporary problem (HTTP {status}); the "
                           "upload will retry.", detail)
    if status in (401, 403):
        return UploadError(ErrorKind.ACCESS_DENIED,
                           "The storage server refused the link the backend signed; check the "
                           "backend's storage settings.", detail)
    if status == 404:
        return UploadError(ErrorKind.BUCKET_NOT_FOUND,
                           "The storage server has no bucket for the link the backend signed; "
                           "check the backend's storage settings.", detail)
    return UploadError(ErrorKind.CONFIG,
                       f"The storage server refused the link the backend signed (HTTP {status}).",
                       detail)


def signed_urls_keep_expiring() -> UploadError:
    return UploadError(ErrorKind.CLOCK_SKEW,
                       "The storage server says the backend's links have expired as soon as they "
                       "are signed; check this computer's clock and the backend's.",
                       "expired links")
