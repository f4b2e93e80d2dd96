"""Checking presigned (SigV4 query-string) URLs the way S3 does, for the FaultProxy.

moto serves a presigned GET without looking at its signature or its expiry, so a test that
wants "an expired link is refused" needs something that checks. `PresignChecker` recomputes the
signature from the request as it arrived (an implementation of AWS Signature Version 4 with
hashlib and hmac, independent of botocore's signer) and answers like S3: 403 AccessDenied
"Request has expired", 403 SignatureDoesNotMatch, 403 InvalidAccessKeyId, 400
AuthorizationQueryParametersError for X-Amz-Expires over 7 days.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from calendar import timegm
from dataclasses import dataclass, field
from urllib.parse import quote

from tests.s3support.proxy import Fault, RequestInfo

MAX_EXPIRES_S = 604800


def _encode(text: str) -> str:
    return quote(text, safe="-_.~")


@dataclass
class PresignChecker:
    secrets: dict[str, str]  # access key id -> secret access key
    checked: list[str] = field(default_factory=list)  # the verdicts, in order ("ok" or an S3 code)
    # Seconds added to the clock: a test "waits out" a URL's lifetime without waiting.
    clock_offset_s: float = 0.0

    def check(self, info: RequestInfo, now: float | None = None) -> Fault | None:
        """None when the URL is valid now, else the fault S3 would answer with."""
        fault = self._check(info, (time.time() + self.clock_offset_s) if now is None else now)
        self.checked.append("ok" if fault is None else fault.code)
        return fault

    def _check(self, info: RequestInfo, now: float) -> Fault | None:
        query = {name: values[0] for name, values in info.query.items()}
        if query.get("X-Amz-Algorithm") != "AWS4-HMAC-SHA256":
            return Fault.error(400, "AuthorizationQueryParametersError",
                               "Only AWS4-HMAC-SHA256 query authentication is accepted here.")
        try:
            access_key, date, region, service, terminal = query["X-Amz-Credential"].split("/")
            stamp = query["X-Amz-Date"]
            expires = int(query["X-Amz-Expires"])
            signed_headers = query["X-Amz-SignedHeaders"].split(";")
            signature = query["X-Amz-Signature"]
        except (KeyError, ValueError):
            return Fault.error(400, "AuthorizationQueryParametersError", "Query auth is incomplete.")
        if expires > MAX_EXPIRES_S or expires < 1:
            return Fault.error(400, "AuthorizationQueryParametersError",
                               "X-Amz-Expires must be less than a week (in seconds) that is; 604800 "
                               "seconds")
        secret = self.secrets.get(access_key)
        if secret is None:
            return Fault.invalid_access_key()
        signed_at = timegm(time.strptime(stamp, "%Y%m%dT%H%M%SZ"))
        if now > signed_at + expires:
            return Fault.error(403, "AccessDenied", "Request has expired")
        canonical_query = "&".join(
            f"{_encode(name)}={_encode(value)}" for name, value in sorted(query.items())
            if name != "X-Amz-Signature")
        headers = "".join(f"{name}:{info.headers.get(name, '').strip()}\n" for name in signed_headers)
        canonical = "\n".join([info.method, info.path, canonical_query, headers,
                               ";".join(signed_headers), "UNSIGNED-PAYLOAD"])
        scope = f"{date}/{region}/{service}/{terminal}"
        to_sign = "\n".join(["AWS4-HMAC-SHA256", stamp, scope,
                             hashlib.sha256(canonical.encode()).hexdigest()])
        key = f"AWS4{secret}".encode()
        for part in (date, region, service, terminal):
            key = hmac.new(key, part.encode(), hashlib.sha256).digest()
        expected = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
        if not hmac.compare_digest(expected, signature):
            return Fault.error(403, "SignatureDoesNotMatch",
                               "The request signature we calculated does not match the signature "
                               "you provided.")
        return None
