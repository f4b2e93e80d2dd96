"""Numbers from disk are clamped into their documented bounds, never trusted or crashed on."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from app.models import MultipartState, UploadedPart, UploadState
from app.paths import config_path
from app.upload.config import NUMBER_BOUNDS, UploadConfig, clamp_numbers, load_config, validate_config
from app.upload.queue.backoff import backoff_delay, base_delay
from app.upload.session.state_bounds import MAX_AHEAD_MS, bounded_state

NOW = 1_700_000_000_000


def state(**changes: object) -> UploadState:
    return UploadState(session_id="s1", status="pending", created_at=NOW, updated_at=NOW,
                       **changes)  # type: ignore[arg-type]


def test_a_sane_state_is_returned_unchanged() -> None:
    sane = state(next_attempt_at=NOW + 5000, retry_count=2)
    assert bounded_state(sane, NOW) is sane


def test_absurd_state_numbers_are_clamped() -> None:
    fixed = bounded_state(state(next_attempt_at=10 ** 30, retry_count=10 ** 20, max_retries=-5,
                                total_bytes=10 ** 40, bytes_uploaded=10 ** 50,
                                last_attempt_at=10 ** 25), NOW)
    assert fixed.next_attempt_at == NOW + MAX_AHEAD_MS
    assert (fixed.retry_count, fixed.max_retries) == (1000, 0)
    assert fixed.total_bytes == 5 * 1024 ** 4 and fixed.bytes_uploaded == fixed.total_bytes
    assert fixed.last_attempt_at == 253_402_300_799_999
    assert fixed.progress_percent == 100.0  # no OverflowError computing it


@pytest.mark.parametrize("multipart", [
    MultipartState("u", part_size=1, file_size=10, file_mtime_ns=1),
    MultipartState("u", part_size=5 * 1024 ** 2, file_size=10 ** 30, file_mtime_ns=1),
    MultipartState("u", part_size=5 * 1024 ** 2, file_size=10, file_mtime_ns=1,
                   parts=[UploadedPart(part_number=10 ** 9, etag="x")]),
])
def test_an_impossible_multipart_record_is_dropped(multipart: MultipartState) -> None:
    assert bounded_state(state(multipart=multipart), NOW).multipart is None


@pytest.mark.parametrize("bucket", ["x" * 300, "../etc", "a", "bad bucket", "-lead", "é-accent"])
def test_an_implausible_multipart_bucket_reads_as_null_and_keeps_the_upload(bucket: str) -> None:
    kept = MultipartState("u", part_size=5 * 1024 ** 2, file_size=10, file_mtime_ns=1,
                          bucket=bucket)
    fixed = bounded_state(state(multipart=kept), NOW).multipart
    assert fixed is not None and fixed.upload_id == "u" and fixed.bucket is None


@pytest.mark.parametrize("bucket", ["companion-bucket", "my.bucket.1", "Legacy_Bucket"])
def test_a_plausible_multipart_bucket_is_kept(bucket: str) -> None:
    kept = MultipartState("u", part_size=5 * 1024 ** 2, file_size=10, file_mtime_ns=1,
                          bucket=bucket)
    sane = state(multipart=kept)
    assert bounded_state(sane, NOW) is sane


def test_config_numbers_on_disk_are_clamped_before_parsing(data_dir: Path) -> None:
    raw = {"bucket": "my-bucket", "region": "eu-west-1", "backoffBaseSec": 10 ** 400,
           "backoffCapSec": 0.001, "maxRetries": 10 ** 30, "concurrency": -3,
           "readTimeoutSec": 1e308, "maxBandwidthBytesPerSec": 1}
    config_path(data_dir).write_text(json.dumps(raw))
    loaded = load_config(data_dir)
    assert loaded.value is not None, loaded.problem
    config = loaded.value
    assert (config.backoff_base_sec, config.backoff_cap_sec) == (60, 60)  # cap raised to the base
    assert (config.max_retries, config.concurrency, config.read_timeout_sec) == (100, 1, 3600)
    assert config.max_bandwidth_bytes_per_sec == 16 * 1024
    assert validate_config(config) == {}


def test_nan_on_disk_becomes_the_default() -> None:
    fixed = clamp_numbers({"backoffCapSec": float("nan"), "maxBandwidthBytesPerSec": float("nan")})
    assert fixed == {"backoffCapSec": 300.0, "maxBandwidthBytesPerSec": None}


def test_every_numeric_setting_has_a_bound() -> None:
    import dataclasses

    from app.jsonrecord import to_camel

    numeric = {to_camel(f.name) for f in dataclasses.fields(UploadConfig)
               if str(f.type).split(" ")[0] in ("int", "float")}
    assert numeric == set(NUMBER_BOUNDS)


@pytest.mark.parametrize(("base", "cap"), [(1e308, 1e308), (float("inf"), float("inf")),
                                           (float("nan"), float("nan")), (-1.0, -1.0)])
def test_the_backoff_delay_is_always_finite_and_bounded(base: float, cap: float) -> None:
    for retries in (0, 1, 10, 10 ** 6):
        delay = backoff_delay(retries, base, cap)
        assert 0.0 <= delay <= 3600 * 1.1
        assert base_delay(retries, base, cap) <= 3600
