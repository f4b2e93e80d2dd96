"""UploadConfig validation sentences, file round trip (0600), key and part-size rules."""

from __future__ import annotations

import dataclasses
import stat
import time
from pathlib import Path

import pytest

from app.paths import config_path
from app.upload.config import (
    MIB,
    UploadConfig,
    load_config,
    object_key,
    part_size_for,
    save_config,
    validate_config,
    workers_for,
)

GOOD = UploadConfig(bucket="my-bucket", region="eu-west-1")


def test_defaults_are_valid_and_as_designed() -> None:
    assert validate_config(GOOD) == {}
    assert (GOOD.max_retries, GOOD.part_size_bytes, GOOD.concurrency, GOOD.checksum_algorithm) == \
        (10, 10 * MIB, 4, "CRC32")


@pytest.mark.parametrize(("change", "field", "words"), [
    ({"bucket": ""}, "bucket", "Enter a bucket"),
    ({"bucket": "ab"}, "bucket", "3 to 63"),
    ({"bucket": "My_Bucket"}, "bucket", "lower-case"),
    ({"bucket": "a..b"}, "bucket", "two dots"),
    ({"bucket": "192.168.1.1"}, "bucket", "IP address"),
    ({"region": ""}, "region", "Enter a region"),
    ({"region": "EU West"}, "region", "lower-case"),
    ({"key_prefix": "/abs/"}, "keyPrefix", "start with '/'"),
    ({"key_prefix": "a/../b/"}, "keyPrefix", "'..'"),
    ({"key_prefix": "a\x01b"}, "keyPrefix", "control"),
    ({"key_prefix": "{hostname}/"}, "keyPrefix", "unknown placeholder"),
    ({"endpoint_url": "ftp://x"}, "endpointUrl", "https"),
    ({"endpoint_url": "http://storage.example.com"}, "endpointUrl", "allowHttp"),
    ({"part_size_bytes": 4 * MIB}, "partSizeBytes", "5 MiB"),
    ({"max_retries": 101}, "maxRetries", "0 and 100"),
    ({"concurrency": 0}, "concurrency", "1 and 16"),
    ({"concurrency": 17}, "concurrency", "1 and 16"),
    ({"checksum_algorithm": "MD5"}, "checksumAlgorithm", "CRC32"),
    ({"max_bandwidth_bytes_per_sec": 10}, "maxBandwidthBytesPerSec", "between 16384"),
])
def test_each_bad_field_gets_one_sentence(change: dict[str, object], field: str, words: str) -> None:
    problems = validate_config(dataclasses.replace(GOOD, **change))  # type: ignore[arg-type]
    assert list(problems) == [field]
    assert words in problems[field] and problems[field].endswith(".")


@pytest.mark.parametrize("url", ["http://127.0.0.1:9000", "http://localhost:1", "http://[::1]:5",
                                 "https://s3.example.com"])
def test_http_is_fine_on_loopback_and_https_anywhere(url: str) -> None:
    assert validate_config(dataclasses.replace(GOOD, endpoint_url=url)) == {}


def test_allow_http_permits_plain_http_elsewhere() -> None:
    config = dataclasses.replace(GOOD, endpoint_url="http://nas.local:9000", allow_http=True)
    assert validate_config(config) == {}


def test_save_is_private_and_round_trips(data_dir: Path) -> None:
    config = dataclasses.replace(GOOD, key_prefix="x/{date}/", endpoint_url="https://s3.example.com")
    save_config(data_dir, config)
    assert stat.S_IMODE(config_path(data_dir).stat().st_mode) == 0o600
    assert load_config(data_dir).value == config
    assert "secret" not in config_path(data_dir).read_text().lower()


def test_damaged_config_is_reported_not_raised(data_dir: Path) -> None:
    config_path(data_dir).write_text('{"bucket": 5}')
    loaded = load_config(data_dir)
    assert loaded.value is None and loaded.problem and "bucket" in loaded.problem


def test_object_key_expands_placeholders() -> None:
    now = time.mktime((2024, 5, 6, 12, 0, 0, 0, 0, -1))
    key = object_key(dataclasses.replace(GOOD, key_prefix="rec/{host}/{user}/{date}/"), "S1", now)
    parts = key.split("/")
    assert parts[0] == "rec" and parts[3] == "2024-05-06" and parts[4] == "S1.zip"
    assert all(p and "{" not in p for p in parts)
    assert object_key(GOOD, "abc") == "abc.zip"


def test_part_size_grows_to_keep_within_1000_parts() -> None:
    assert part_size_for(GOOD, 1024 * MIB) == 10 * MIB
    assert part_size_for(GOOD, 10_000 * MIB) == 10 * MIB  # 1,000 parts of the configured size
    assert part_size_for(GOOD, 10_001 * MIB) == 11 * MIB
    for size in (20 * 1024 * MIB, 5 * 1024 ** 4, 12_345_678_901):
        part = part_size_for(GOOD, size)
        assert part % MIB == 0 and -(-size // part) <= 1_000  # one ListParts page
    assert workers_for(GOOD, 2) == 2 and workers_for(GOOD, 50) == GOOD.concurrency
    big = 200 * 1024 * 1024 * MIB  # 200 TiB-ish would need > 10,000 parts of 10 MiB
    size = part_size_for(GOOD, big)
    assert size % MIB == 0 and -(-big // size) <= 10_000
    limit = int(48.8 * 1024 ** 4)
    assert -(-limit // part_size_for(GOOD, limit)) <= 10_000


@pytest.mark.parametrize(("endpoint", "extra", "unsigned"), [
    ("http://127.0.0.1:9000", {}, True),
    ("http://localhost:9000", {}, True),
    ("http://[::1]:9000", {}, True),
    # Over http to another host the SHA-256 in the signature is the only tamper check.
    ("http://10.1.2.3:9000", {"allow_http": True}, False),
    # No checksum header travels with the body, so the signature must cover it.
    ("http://127.0.0.1:9000", {"checksum_when_required": True}, False),
    # https: botocore already leaves streaming bodies unsigned (TLS + checksum).
    ("https://minio.example.com", {}, False),
    (None, {}, False),
])
def test_payload_signing_is_dropped_only_where_it_adds_nothing(
        endpoint: str | None, extra: dict[str, object], unsigned: bool) -> None:
    from app.upload.s3.credentials import client_config, payload_signing_redundant

    config = dataclasses.replace(GOOD, endpoint_url=endpoint, **extra)  # type: ignore[arg-type]
    assert payload_signing_redundant(config) is unsigned
    s3_options = client_config(config).s3 or {}
    assert s3_options.get("payload_signing_enabled", True) is not unsigned


def test_object_options_are_validated_field_by_field() -> None:
    from app.upload.config import UploadConfig, validate_config
    from app.upload.s3.object_options import head_mismatches, object_args, parse_tags

    good = UploadConfig(bucket="team-bucket", region="eu-west-1", storage_class="STANDARD_IA",
                        server_side_encryption="aws:kms",
                        sse_kms_key_id="arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab",
                        object_tags={"team": "qa"}, acl="bucket-owner-full-control")
    assert validate_config(good) == {}
    assert object_args(good) == {
        "StorageClass": "STANDARD_IA", "ServerSideEncryption": "aws:kms",
        "SSEKMSKeyId": good.sse_kms_key_id, "Tagging": "team=qa", "ACL": "bucket-owner-full-control"}
    bad = UploadConfig(bucket="team-bucket", region="eu-west-1", storage_class="standard",
                       server_side_encryption="aws:kms:dsse", sse_kms_key_id="k1",
                       object_tags={f"k{i}": "v" for i in range(11)}, acl="public-read")
    assert set(validate_config(bad)) == {"storageClass", "serverSideEncryption", "sseKmsKeyId",
                                         "objectTags", "acl"}
    assert "at most 10 tags" in validate_config(bad)["objectTags"]
    assert validate_config(UploadConfig(bucket="team-bucket", region="eu-west-1",
                                        object_tags={"a": "x" * 257}))["objectTags"].startswith(
        "The value of tag 'a'")
    assert validate_config(UploadConfig(bucket="team-bucket", region="eu-west-1",
                                        object_tags={"semi;colon": "x"}))
    assert parse_tags(" team=qa , note=a=b ,") == {"team": "qa", "note": "a=b"}
    # HeadObject: S3 leaves StorageClass out for STANDARD; the key ARN ends with the key id.
    plain = UploadConfig(bucket="team-bucket", region="eu-west-1", storage_class="STANDARD")
    assert head_mismatches(plain, {}) == []
    assert head_mismatches(good, {"StorageClass": "STANDARD_IA", "ServerSideEncryption": "aws:kms",
                                  "SSEKMSKeyId": good.sse_kms_key_id}) == []
    assert head_mismatches(good, {"ServerSideEncryption": "AES256"}) == [
        "storage class STANDARD instead of STANDARD_IA", "encryption AES256 instead of aws:kms"]


def test_config_set_object_tags(data_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from app.cli import main
    from app.upload.config import load_config

    assert main(["--data-dir", str(data_dir), "config", "set", "bucket=team-bucket",
                 "region=eu-west-1", "objectTags=team=qa,case=4711", "storageClass=GLACIER_IR",
                 "acl=bucket-owner-full-control"]) == 0
    config = load_config(data_dir).value
    assert config is not None and config.object_tags == {"team": "qa", "case": "4711"}
    assert main(["--data-dir", str(data_dir), "config", "set", "objectTags=team"]) == 2
    assert "is not key=value" in capsys.readouterr().err
    assert main(["--data-dir", str(data_dir), "config", "set", "acl=public-read"]) == 2
    assert "bucket-owner-full-control" in capsys.readouterr().err
    assert main(["--data-dir", str(data_dir), "config", "set", "objectTags="]) == 0
    assert load_config(data_dir).value.object_tags is None  # type: ignore[union-attr]


def test_the_answer_of_a_write_proves_the_object_only_with_our_own_digests() -> None:
    from app.upload.s3.transport import answer_proves as _answer_proves

    # A composite checksum of our part checksums, with or without S3's "-<parts>" suffix.
    assert _answer_proves({"ChecksumCRC32": "AAAA-3"}, "CRC32", "AAAA", None, 3) == "checksum"
    assert _answer_proves({"ChecksumCRC32": "AAAA"}, "CRC32", "AAAA", None, 3) == "checksum"
    assert _answer_proves({"ChecksumCRC32": "AAAA-2"}, "CRC32", "AAAA", None, 3) is None
    assert _answer_proves({"ChecksumCRC32": "BBBB-3"}, "CRC32", "AAAA", None, 3) is None
    assert _answer_proves({"ETag": '"abc"'}, "CRC32", "AAAA", None, 3) is None  # moto: no checksum
    md5 = "0" * 31 + "1"
    # An MD5 ETag equal to the MD5 of what we sent (a single PUT), or the composite of part
    # MD5s we checked ourselves.
    assert _answer_proves({"ETag": f'"{md5}"'}, None, None, md5, None) == "etag"
    assert _answer_proves({"ETag": f'"{md5}-4"'}, None, None, f"{md5}-4", 4) == "etag"
    assert _answer_proves({"ETag": f'"{"f" * 32}"'}, None, None, md5, None) is None  # SSE-KMS
    assert _answer_proves({}, None, None, None, None) is None
