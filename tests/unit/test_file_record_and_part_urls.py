"""File-record targets and bounds, the webhook signature, and part URLs signed ahead."""

from __future__ import annotations

import hashlib
import hmac
import time

from app.models import FileRecordState, UploadState
from app.upload.backend.errors import url_expired
from app.upload.backend.part_urls import PartUrls, lifetime_of
from app.upload.config import UploadConfig
from app.upload.records.deliver import signature
from app.upload.records.document import record_targets
from app.upload.session.state_bounds import bounded_state


def test_record_targets_follow_the_settings() -> None:
    assert record_targets(UploadConfig(bucket="b", region="r")) == []
    assert record_targets(UploadConfig(bucket="b", region="r",
                                       webhook_url="https://h.example/x")) == ["webhook"]
    assert record_targets(UploadConfig(destination="backend",
                                       backend_url="https://b.example")) == ["fileRecord"]
    # Companion has no record route: the webhook is the only way.
    assert record_targets(UploadConfig(destination="backend", backend_url="https://b.example",
                                       backend_protocol="companion")) == []
    assert record_targets(UploadConfig(destination="backend", backend_url="https://b.example",
                                       backend_protocol="companion",
                                       webhook_url="https://h.example/x")) == ["webhook"]


def test_signature_is_hmac_sha256_of_the_exact_body() -> None:
    body = b'{"sessionId":"x"}'
    expected = hmac.new(b"secret", body, hashlib.sha256).hexdigest()
    assert signature("secret", body) == f"sha256={expected}"
    assert signature("other", body) != signature("secret", body)


def _state(record: FileRecordState) -> UploadState:
    return UploadState(session_id="s", status="done", created_at=1, updated_at=1,
                       file_record=record)


def test_file_record_from_disk_is_bounded() -> None:
    now = int(time.time() * 1000)
    wild = FileRecordState(body="{}", pending=["webhook", "elsewhere"], attempts=-4,
                           next_attempt_at=now + 10 ** 12)
    bounded = bounded_state(_state(wild), now).file_record
    assert bounded is not None and bounded.pending == ["webhook"] and bounded.attempts == 0
    assert bounded.next_attempt_at is not None and bounded.next_attempt_at < now + 10 ** 9
    huge = FileRecordState(body="x" * 100_000, pending=["webhook"])
    assert bounded_state(_state(huge), now).file_record is None
    fine = FileRecordState(body="{}", pending=["fileRecord"], attempts=2)
    assert bounded_state(_state(fine), now).file_record is fine


def _url(number: int, expires: int = 800) -> str:
    return f"https://s3.example/b/k?partNumber={number}&X-Amz-Expires={expires}&X-Amz-Signature=x"


def test_part_urls_are_signed_ahead_in_batches() -> None:
    asked: list[list[int]] = []

    def sign(numbers: list[int]) -> dict[int, str]:
        asked.append(numbers)
        return {n: _url(n) for n in numbers}

    urls = PartUrls(sign, batch=4)
    assert [urls.get(n) for n in (1, 2, 3, 4)] == [_url(n) for n in (1, 2, 3, 4)]
    assert asked == [[1, 2, 3, 4]]
    urls.get(5)
    assert asked[-1] == [5, 6, 7, 8]
    assert urls.expired(2) == _url(2) and asked[-1] == [2]  # refused as expired: alone again
    assert lifetime_of(_url(1, 60)) == 60.0


def test_a_url_near_its_end_is_signed_again_before_use() -> None:
    calls = []

    def sign(numbers: list[int]) -> dict[int, str]:
        calls.append(numbers)
        return {n: _url(n, expires=0) for n in numbers}  # no life left at all

    urls = PartUrls(sign, batch=2)
    urls.get(1)
    urls.get(1)
    assert len(calls) == 2


def test_expired_presigned_answers_are_told_apart() -> None:
    assert url_expired(403, "AccessDenied", "Request has expired")
    assert not url_expired(403, "AccessDenied", "Access Denied")
    assert not url_expired(403, "SignatureDoesNotMatch", "The request signature ...")
