"""Map what botocore raises to the error classes and sentences of DESIGN §5.

Sentences are for people and never carry SDK text; `detail` is the S3 error code or HTTP
status (safe for a tooltip). The raw exception goes to the log, where the scrubbing
formatter masks secrets.
"""

from __future__ import annotations

import logging
from typing import Any

from app.logs import scrub
from app.upload.session.errors import ErrorKind, UploadError, disk_read_error

log = logging.getLogger(__name__)

# S3 error code -> (kind, sentence). {bucket} is filled in.
_CODES: dict[str, tuple[ErrorKind, str]] = {
    "InvalidAccessKeyId": (ErrorKind.INVALID_CREDENTIALS,
                           "The access key id is not known to the server; check it in the settings."),
    "SignatureDoesNotMatch": (ErrorKind.INVALID_CREDENTIALS,
                              "The secret access key does not match the access key id; "
                              "check it in the settings."),
    "InvalidToken": (ErrorKind.INVALID_CREDENTIALS,
                     "The session token is not valid; set new credentials."),
    "InvalidClientTokenId": (ErrorKind.INVALID_CREDENTIALS,
                             "The access key id is not known to the server; check it in the settings."),
    "UnrecognizedClientException": (ErrorKind.INVALID_CREDENTIALS,
                                    "The credentials are not recognised; check them in the settings."),
    "AccessDenied": (ErrorKind.ACCESS_DENIED,
                     "These credentials are not allowed to upload to the bucket '{bucket}'."),
    "AllAccessDisabled": (ErrorKind.ACCESS_DENIED,
                          "All access to the bucket '{bucket}' is disabled."),
    "AccountProblem": (ErrorKind.ACCESS_DENIED,
                       "The storage account has a problem that prevents uploads."),
    "NoSuchBucket": (ErrorKind.BUCKET_NOT_FOUND, "The bucket '{bucket}' does not exist."),
    "ExpiredToken": (ErrorKind.CREDENTIALS_EXPIRED,
                     "The credentials have expired; sign in again or set new credentials."),
    "ExpiredTokenException": (ErrorKind.CREDENTIALS_EXPIRED,
                              "The credentials have expired; sign in again or set new credentials."),
    "TokenRefreshRequired": (ErrorKind.CREDENTIALS_EXPIRED,
                             "The credentials have expired; sign in again or set new credentials."),
    "RequestTimeTooSkewed": (ErrorKind.CLOCK_SKEW,
                             "This computer's clock is too far from the server's time; "
                             "set the clock correctly and retry."),
    "RequestExpired": (ErrorKind.CLOCK_SKEW,
                       "This computer's clock is too far from the server's time; "
                       "set the clock correctly and retry."),
    "SlowDown": (ErrorKind.THROTTLED, "The storage server asked to slow down; the upload will retry."),
    "Throttling": (ErrorKind.THROTTLED, "The storage server asked to slow down; the upload will retry."),
    "ThrottlingException": (ErrorKind.THROTTLED,
                            "The storage server asked to slow down; the upload will retry."),
    "RequestLimitExceeded": (ErrorKind.THROTTLED,
                             "The storage server asked to slow down; the upload will retry."),
    "TooManyRequests": (ErrorKind.THROTTLED,
                        "The storage server asked to slow down; the upload will retry."),
    "RequestTimeout": (ErrorKind.TIMEOUT,
                       "The storage server gave up waiting for data; the upload will retry."),
    "BadDigest": (ErrorKind.INTEGRITY, "Data arrived damaged at the server; it will be sent again."),
    "InvalidDigest": (ErrorKind.INTEGRITY, "Data arrived damaged at the server; it will be sent again."),
    "XAmzContentSHA256Mismatch": (ErrorKind.INTEGRITY,
                                  "Data arrived damaged at the server; it will be sent again."),
    "InvalidBucketName": (ErrorKind.CONFIG, "The bucket name '{bucket}' is not valid."),
    "AuthorizationHeaderMalformed": (ErrorKind.CONFIG,
                                     "The region in the settings does not match the bucket's region."),
    "PermanentRedirect": (ErrorKind.CONFIG,
                          "The bucket '{bucket}' is in another region; set that region in the settings."),
    "IllegalLocationConstraintException": (ErrorKind.CONFIG,
                                           "The region in the settings does not match the bucket's region."),
    "InvalidRequest": (ErrorKind.CONFIG,
                       "The storage server rejected the request; if it is not Amazon S3, try "
                       "checksumWhenRequired=true."),
}

_NETWORK = "The storage server cannot be reached; check the network connection and the endpoint."
_TIMEOUT = "The storage server stopped answering in time; the upload will retry."
_RESET = "The connection was cut off while sending; the upload will retry."


def classify(exc: BaseException, bucket: str = "", operation: str = "") -> UploadError:
    """The UploadError for an exception raised by a botocore call (logs the raw text)."""
    if isinstance(exc, UploadError):
        return exc
    error = _classify(exc, bucket)
    log.warning("S3 %s failed: %s -> %s (%s)", operation or "request",
                scrub(f"{type(exc).__name__}: {exc}"), error.kind.value, error.detail)
    return error


def error_code(exc: BaseException) -> str:
    response: Any = getattr(exc, "response", None) or {}
    return str(response.get("Error", {}).get("Code", ""))


def _classify(exc: BaseException, bucket: str) -> UploadError:
    import botocore.exceptions as bx

    if isinstance(exc, bx.ClientError):
        response: Any = exc.response or {}
        code = str(response.get("Error", {}).get("Code", ""))
        status = int(response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0) or 0)
        detail = f"{code} (HTTP {status})" if code and not code.isdigit() else f"HTTP {status}"
        if code in _CODES:
            kind, sentence = _CODES[code]
            return UploadError(kind, sentence.format(bucket=bucket), detail)
        # HEAD answers have no body, so only the status is known.
        if status == 404 or code in ("404", "NotFound"):
            return UploadError(ErrorKind.BUCKET_NOT_FOUND,
                               f"The bucket '{bucket}' does not exist.", detail)
        if status == 403:
            return UploadError(ErrorKind.ACCESS_DENIED,
                               f"These credentials are not allowed to upload to the bucket '{bucket}'.",
                               detail)
        if status == 400 and code in ("400", "BadRequest"):
            return UploadError(ErrorKind.INVALID_CREDENTIALS,
                               "The server rejected the request; check the credentials and region.",
                               detail)
        if status == 429:
            return UploadError(ErrorKind.THROTTLED,
                               "The storage server asked to slow down; the upload will retry.", detail)
        if status >= 500:
            return UploadError(ErrorKind.SERVER,
                               f"The storage server had a temporary problem (HTTP {status}); "
                               "the upload will retry.", detail)
        return UploadError(ErrorKind.UNKNOWN,
                           f"The storage server refused the request (HTTP {status}).", detail)
    if isinstance(exc, bx.NoCredentialsError | bx.PartialCredentialsError):
        return UploadError(ErrorKind.INVALID_CREDENTIALS,
                           "No complete AWS credentials were found; check the settings.",
                           type(exc).__name__)
    if isinstance(exc, bx.ConnectTimeoutError):
        return UploadError(ErrorKind.TIMEOUT, _TIMEOUT, "ConnectTimeout")
    if isinstance(exc, bx.ReadTimeoutError):
        return UploadError(ErrorKind.TIMEOUT, _TIMEOUT, "ReadTimeout")
    if isinstance(exc, bx.ConnectionClosedError):
        return UploadError(ErrorKind.CONNECTION_RESET, _RESET, "ConnectionClosed")
    if isinstance(exc, bx.EndpointConnectionError | bx.ProxyConnectionError):
        return UploadError(ErrorKind.NETWORK, _NETWORK, type(exc).__name__)
    if isinstance(exc, bx.SSLError):
        return UploadError(ErrorKind.NETWORK,
                           "A secure connection to the storage server could not be made.", "SSLError")
    if isinstance(exc, bx.HTTPClientError):
        return UploadError(ErrorKind.CONNECTION_RESET, _RESET, type(exc).__name__)
    if isinstance(exc, ConnectionError):
        return UploadError(ErrorKind.CONNECTION_RESET, _RESET, type(exc).__name__)
    if isinstance(exc, TimeoutError):
        return UploadError(ErrorKind.TIMEOUT, _TIMEOUT, type(exc).__name__)
    if isinstance(exc, OSError):
        return disk_read_error(exc)
    return UploadError(ErrorKind.UNKNOWN, "The upload failed for an unexpected reason; see the log.",
                       type(exc).__name__)
