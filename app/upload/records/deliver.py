"""Sending one file record to one target; raises UploadError with a sentence when it was
not accepted (a 2xx answer is acceptance).

Both carry `Idempotency-Key: <sessionId>`, so a record sent again after a lost answer or a
crash is recognisable as the same one. The backend's record goes with the bearer token; the
webhook gets no token but `X-Sessionrec-Signature: sha256=<hex HMAC-SHA256 of the body with
webhookSecret>`.
"""

from __future__ import annotations

import hashlib
import hmac
from pathlib import Path
from urllib.parse import urlsplit

from app.upload.backend.http import BackendHttp
from app.upload.backend.settings import BackendSettings, backend_settings, stored_secret
from app.upload.config import UploadConfig
from app.upload.records.document import FILE_RECORD, WEBHOOK
from app.upload.session.errors import ErrorKind, UploadError

SIGNATURE_HEADER = "X-Sessionrec-Signature"


def signature(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def deliver(data_dir: Path, config: UploadConfig, target: str, session_id: str, body: str) -> None:
    data = body.encode()
    headers = {"Idempotency-Key": session_id}
    if target == FILE_RECORD:
        settings = backend_settings(data_dir, config)
        BackendHttp(settings).call_raw("POST", settings.file_record_path, data, headers)
        return
    if target != WEBHOOK:
        raise UploadError(ErrorKind.CONFIG, f"There is no record target '{target[:40]}'.", target)
    url = config.webhook_url or ""
    secret = stored_secret(data_dir, "webhookSecret")
    if not url:
        raise UploadError(ErrorKind.CONFIG, "The webhook URL is no longer set, so the record "
                                            "waits; set webhookUrl.", "no webhookUrl")
    if not secret:
        raise UploadError(ErrorKind.CONFIG, "The webhook secret is missing, so the record "
                                            "waits; set webhookSecret.", "no webhookSecret")
    headers.update({"Content-Type": "application/json", SIGNATURE_HEADER: signature(secret, data)})
    http = BackendHttp(BackendSettings(url=url, connect_timeout_sec=config.connect_timeout_sec,
                                       read_timeout_sec=config.read_timeout_sec))
    where = f"the webhook at {urlsplit(url).netloc or 'its address'}"
    status, _parsed, _raw = http.send("POST", url, data, headers, where)
    if status in (401, 403):
        raise UploadError(ErrorKind.INVALID_CREDENTIALS,
                          f"{where.capitalize()} refused the record's signature; check "
                          "webhookSecret.", f"HTTP {status}")
    if status >= 300:
        raise UploadError(ErrorKind.SERVER if status >= 500 else ErrorKind.CONFIG,
                          f"{where.capitalize()} did not accept the record (HTTP {status}); it "
                          "will be sent again.", f"HTTP {status}")
