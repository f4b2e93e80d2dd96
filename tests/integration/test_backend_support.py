"""The backend test support itself: the real Companion signs parts moto takes, the simple
backend checks its token and presigns for moto, the webhook receiver checks signatures."""

from __future__ import annotations

import hashlib
import json
import os
from typing import Any
from urllib.parse import quote

import urllib3

from tests.s3support.backend_fixtures import BACKEND_TOKEN, WEBHOOK_SECRET
from tests.s3support.backend_server import SimpleBackend
from tests.s3support.companion import CompanionServer
from tests.s3support.proxy import FaultProxy
from tests.s3support.server import S3Server
from tests.s3support.webhook_receiver import SIGNATURE_HEADER, WebhookReceiver, signature

MIB = 1024 * 1024
http = urllib3.PoolManager(retries=False, timeout=30)


def _json(method: str, url: str, body: Any = None, **headers: str) -> tuple[int, Any]:
    data = json.dumps(body).encode() if body is not None else None
    answer = http.request(method, url, body=data,
                          headers={"Content-Type": "application/json", **headers})
    return answer.status, json.loads(answer.data) if answer.data else None


def test_companion_signs_parts_that_moto_stores(companion: CompanionServer,
                                                companion_proxy: FaultProxy,
                                                s3_server: S3Server, companion_bucket: str) -> None:
    status, created = _json("POST", companion.url + "/s3/multipart",
                            {"filename": "support/session.zip", "type": "application/zip",
                             "metadata": {"session-id": "support"}})
    assert status == 200 and created["bucket"] == companion_bucket
    key, upload_id = created["key"], created["uploadId"]
    assert key.endswith("support/session.zip")  # Companion picks the key: <uuid>-<filename>
    q = quote(key, safe="")
    base = f"{companion.url}/s3/multipart/{upload_id}"
    status, batch = _json("GET", f"{base}/batch?key={q}&partNumbers=1,2")
    assert status == 200 and set(batch["presignedUrls"]) == {"1", "2"}
    # Companion must not sign a checksum of the empty body into the URL (see companion.py).
    assert "x-amz-checksum" not in batch["presignedUrls"]["1"]
    parts = [os.urandom(5 * MIB), b"tail"]
    etags = []
    for number, body in enumerate(parts, 1):
        put = http.request("PUT", batch["presignedUrls"][str(number)], body=body,
                           headers={"Content-Type": "application/octet-stream"})
        assert put.status == 200
        etags.append(put.headers["ETag"])
        assert etags[-1].strip('"') == hashlib.md5(body).hexdigest()
    assert companion_proxy.presign_checker.checked == ["ok", "ok"]
    status, held = _json("GET", f"{base}?key={q}")
    assert status == 200 and [p["PartNumber"] for p in held] == [1, 2]
    status, _ = _json("POST", f"{base}/complete?key={q}",
                      {"parts": [{"PartNumber": i, "ETag": e} for i, e in enumerate(etags, 1)]})
    assert status == 200
    stored = s3_server.client().get_object(Bucket=companion_bucket, Key=key)
    assert stored["Body"].read() == b"".join(parts)
    assert stored["Metadata"]["session-id"] == "support"


def test_companion_abort_and_expired_urls(companion: CompanionServer, companion_proxy: FaultProxy,
                                          s3_server: S3Server, companion_bucket: str) -> None:
    _, created = _json("POST", companion.url + "/s3/multipart",
                       {"filename": "abort.zip", "type": "application/zip"})
    q = quote(created["key"], safe="")
    base = f"{companion.url}/s3/multipart/{created['uploadId']}"
    _, signed = _json("GET", f"{base}/1?key={q}")
    # An hour later the URL (800 s) has expired; the checker answers as S3 does.
    companion_proxy.presign_checker.clock_offset_s = 3600
    late = http.request("PUT", signed["url"], body=b"x" * 1024)
    assert late.status == 403 and b"Request has expired" in late.data
    assert _json("DELETE", f"{base}?key={q}")[0] == 200
    open_uploads = s3_server.client().list_multipart_uploads(Bucket=companion_bucket)
    assert created["uploadId"] not in {u["UploadId"] for u in open_uploads.get("Uploads", [])}
    # Listing an aborted upload: Companion answers 500 with S3's NoSuchUpload inside.
    status, body = _json("GET", f"{base}?key={q}")
    assert status == 500 and body["error"]["Code"] == "NoSuchUpload"


def test_simple_backend_checks_token_and_presigns(simple_backend: SimpleBackend,
                                                  s3_server: S3Server, bucket: str) -> None:
    auth = {"Authorization": f"Bearer {BACKEND_TOKEN}"}
    assert _json("GET", simple_backend.url + simple_backend.auth_check_path, **auth)[0] == 200
    assert _json("GET", simple_backend.url + simple_backend.auth_check_path,
                 Authorization="Bearer wrong")[0] == 401
    assert _json("POST", simple_backend.url + simple_backend.presign_path,
                 {"key": "k.zip", "contentType": "application/zip"})[0] == 401
    status, answer = _json("POST", simple_backend.url + simple_backend.presign_path,
                           {"key": "a/k.zip", "contentType": "application/zip"}, **auth)
    assert status == 200 and answer["data"]["key"] == "a/k.zip"
    put = http.request("PUT", answer["data"]["signedUrl"], body=b"zip bytes",
                       headers={"Content-Type": "application/zip"})
    assert put.status == 200
    assert s3_server.client().get_object(Bucket=bucket, Key="a/k.zip")["Body"].read() == b"zip bytes"
    record = {"sessionId": "s1", "key": "a/k.zip"}
    first = _json("POST", simple_backend.url + simple_backend.file_record_path, record,
                  **auth, **{"Idempotency-Key": "s1"})
    again = _json("POST", simple_backend.url + simple_backend.file_record_path, record,
                  **auth, **{"Idempotency-Key": "s1"})
    assert (first[0], again[0]) == (201, 200) and first[1]["_id"] == again[1]["_id"]
    assert list(simple_backend.records) == ["s1"] and simple_backend.record_posts == 2


def test_webhook_receiver_checks_signature_fails_first_and_restarts(
        webhook_receiver: WebhookReceiver) -> None:
    body = json.dumps({"sessionId": "s1"}).encode()
    good = {SIGNATURE_HEADER: signature(WEBHOOK_SECRET, body), "Idempotency-Key": "s1"}
    bad = {SIGNATURE_HEADER: signature("not-the-secret", body), "Idempotency-Key": "s1"}
    webhook_receiver.fail_first(1)
    assert http.request("POST", webhook_receiver.url, body=body, headers=bad).status == 401
    assert http.request("POST", webhook_receiver.url, body=body, headers=good).status == 503
    port = webhook_receiver.port
    webhook_receiver.stop()
    try:
        http.request("POST", webhook_receiver.url, body=body, headers=good)
        raise AssertionError("the stopped receiver answered")
    except urllib3.exceptions.HTTPError:
        pass
    webhook_receiver.start()
    assert webhook_receiver.port == port
    assert http.request("POST", webhook_receiver.url, body=body, headers=good).status == 200
    assert http.request("POST", webhook_receiver.url, body=body, headers=good).status == 200
    assert webhook_receiver.accepted == {"s1": 1} and webhook_receiver.repeats == {"s1": 1}
    assert webhook_receiver.bad_signatures == 1 and webhook_receiver.refused == 1
