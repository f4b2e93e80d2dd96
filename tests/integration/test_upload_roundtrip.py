"""Round trips against moto's S3 server over HTTP: bytes, checksums, metadata, progress."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest

from app import __version__
from app.session_texts import set_session_texts
from app.sessions import load_meta, session_paths
from app.upload.s3.destination import upload_session
from app.upload.session.object_meta import decode_text
from app.upload.session.part_reader import composite_checksum
from app.upload.session.state_store import UploadStateStore
from tests.integration.upload_helpers import MIB, ProgressLog, session_with_zip, sha256, zip_bytes
from tests.s3support.server import S3Server


def _check_progress(log: ProgressLog, total: int) -> None:
    values = log.values
    assert values, "no progress was reported"
    assert values == sorted(values), "progress went backwards"
    assert all(0 <= v <= total for v in values)
    assert values[-1] == total
    assert all(p.total_bytes == total for p in log.reports)


@pytest.mark.slow
def test_50_mib_round_trip_multipart(data_dir: Path, s3_config: Any, s3_server: S3Server,
                                     bucket: str) -> None:
    import base64
    import zlib

    config = s3_config(part_size_bytes=5 * MIB, concurrency=4)
    session_id = session_with_zip(data_dir, 50 * MIB)
    meta = load_meta(session_paths(data_dir, session_id)).value
    assert meta is not None
    local = zip_bytes(data_dir, session_id)
    log = ProgressLog()
    store = UploadStateStore(data_dir)
    state = upload_session(data_dir, session_id, config, store, log, threading.Event())

    assert state.s3_key == f"{session_id}.zip"
    assert state.multipart is None and state.bytes_uploaded == state.total_bytes == len(local)
    assert store.get(session_id) == state
    client = s3_server.client()
    obj = client.get_object(Bucket=bucket, Key=str(state.s3_key))
    assert obj["Body"].read() == local
    assert obj["ContentType"] == "application/zip"
    assert obj["Metadata"] == {"session-id": session_id, "zip-sha256": sha256(local),
                               "app-version": __version__, "created-at": str(meta.created_at),
                               "duration-ms": "60000", "action-count": "20",
                               "screenshot-count": "1", "frame-count": "600"}
    head = client.head_object(Bucket=bucket, Key=str(state.s3_key), ChecksumMode="ENABLED")
    parts = [local[i:i + 5 * MIB] for i in range(0, len(local), 5 * MIB)]
    assert len(parts) == 11
    assert head["ETag"].strip('"').endswith("-11")
    raws = [zlib.crc32(p).to_bytes(4, "big") for p in parts]
    assert head["ChecksumCRC32"].split("-")[0] == composite_checksum("CRC32", raws)
    assert base64.b64decode(head["ChecksumCRC32"].split("-")[0])  # a real checksum, not empty
    assert client.list_multipart_uploads(Bucket=bucket).get("Uploads", []) == []
    _check_progress(log, len(local))


def test_small_zip_is_one_put_with_checksum(data_dir: Path, s3_config: Any, s3_server: S3Server,
                                            bucket: str, fault_proxy: Any) -> None:
    config = s3_config(endpoint_url=fault_proxy.endpoint_url, key_prefix="team/{user}/")
    session_id = session_with_zip(data_dir, 300_000)
    local = zip_bytes(data_dir, session_id)
    log = ProgressLog()
    state = upload_session(data_dir, session_id, config, UploadStateStore(data_dir), log,
                           threading.Event())
    assert state.s3_key is not None and state.s3_key.startswith("team/")
    assert "{user}" not in state.s3_key
    stats = fault_proxy.stats()
    assert stats.requests["PutObject"] == 1 and stats.requests["CreateMultipartUpload"] == 0
    head = s3_server.client().head_object(Bucket=bucket, Key=str(state.s3_key), ChecksumMode="ENABLED")
    assert head["ChecksumCRC32"]
    assert head["ContentType"] == "application/zip"
    assert s3_server.client().get_object(Bucket=bucket, Key=str(state.s3_key))["Body"].read() == local
    _check_progress(log, len(local))


def test_checksum_when_required_sends_no_checksums(data_dir: Path, s3_config: Any,
                                                   s3_server: S3Server, bucket: str) -> None:
    config = s3_config(checksum_when_required=True)
    session_id = session_with_zip(data_dir, 11 * MIB)
    state = upload_session(data_dir, session_id, config, UploadStateStore(data_dir), ProgressLog(),
                           threading.Event())
    client = s3_server.client()
    head = client.head_object(Bucket=bucket, Key=str(state.s3_key), ChecksumMode="ENABLED")
    assert "ChecksumCRC32" not in head  # nothing was sent, so nothing was stored
    assert client.get_object(Bucket=bucket, Key=str(state.s3_key))["Body"].read() == \
        zip_bytes(data_dir, session_id)


def test_sha256_algorithm_round_trip(data_dir: Path, s3_config: Any, s3_server: S3Server,
                                     bucket: str) -> None:
    config = s3_config(checksum_algorithm="SHA256")
    session_id = session_with_zip(data_dir, 12 * MIB)
    state = upload_session(data_dir, session_id, config, UploadStateStore(data_dir), ProgressLog(),
                           threading.Event())
    head = s3_server.client().head_object(Bucket=bucket, Key=str(state.s3_key), ChecksumMode="ENABLED")
    assert head["ChecksumSHA256"]


@pytest.mark.parametrize("size", [100_000, 12 * MIB])  # one PutObject, and multipart
def test_zip_sha256_metadata_is_the_hash_of_the_object(data_dir: Path, s3_config: Any,
                                                       s3_server: S3Server, bucket: str,
                                                       size: int) -> None:
    import hashlib

    config = s3_config()
    session_id = session_with_zip(data_dir, size)
    state = upload_session(data_dir, session_id, config, UploadStateStore(data_dir), ProgressLog(),
                           threading.Event())
    answer = s3_server.client().get_object(Bucket=bucket, Key=str(state.s3_key))
    assert answer["Metadata"]["zip-sha256"] == hashlib.sha256(answer["Body"].read()).hexdigest()


def test_bandwidth_cap_paces_the_sending_pass(data_dir: Path, s3_config: Any, bucket: str,
                                              fault_proxy: Any) -> None:
    # Not a timing assert: the limiter is observed through its own accounting.
    from app.upload.session import part_reader

    consumed: list[int] = []
    original = part_reader.BandwidthLimiter.consume

    def spy(self: Any, n: int, cancel: threading.Event) -> None:
        consumed.append(n)
        original(self, n, cancel)

    config = s3_config(max_bandwidth_bytes_per_sec=50 * MIB, endpoint_url=fault_proxy.endpoint_url)
    session_id = session_with_zip(data_dir, 11 * MIB)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(part_reader.BandwidthLimiter, "consume", spy)
        upload_session(data_dir, session_id, config, UploadStateStore(data_dir), ProgressLog(),
                       threading.Event())
    size = len(zip_bytes(data_dir, session_id))
    # Each body byte is paced once (the sending pass), not twice (signing + sending).
    assert sum(consumed) == size == fault_proxy.stats().body_bytes["UploadPart"]


def test_loopback_parts_carry_a_checksum_instead_of_a_payload_hash(
        data_dir: Path, s3_config: Any, s3_server: S3Server, bucket: str) -> None:
    # What goes on the wire: over loopback http the body is not hashed into the signature
    # (UNSIGNED-PAYLOAD) and every part carries its signed CRC32 header instead; the server's
    # composite checksum is then compared with ours by the engine's HeadObject check.
    from app.upload.s3 import transport

    sent: list[dict[str, str]] = []
    original = transport.make_s3_client

    def spying_client(*args: Any) -> Any:
        client = original(*args)

        def record(request: Any, **_: Any) -> None:
            sent.append({k.lower(): (v.decode() if isinstance(v, bytes) else str(v))
                         for k, v in request.headers.items()})

        client.meta.events.register("before-send.s3.UploadPart", record)
        return client

    config = s3_config()
    session_id = session_with_zip(data_dir, 11 * MIB)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(transport, "make_s3_client", spying_client)
        state = upload_session(data_dir, session_id, config, UploadStateStore(data_dir),
                               ProgressLog(), threading.Event())
    assert len(sent) == 3
    for headers in sent:
        assert headers["x-amz-content-sha256"] == "UNSIGNED-PAYLOAD"
        assert headers["x-amz-checksum-crc32"]
        assert "x-amz-checksum-crc32" in headers["authorization"]  # the checksum is signed
    assert s3_server.client().get_object(Bucket=bucket, Key=str(state.s3_key))["Body"].read() == \
        zip_bytes(data_dir, session_id)


@pytest.mark.parametrize("size", [300_000, 12 * MIB], ids=["single-put", "multipart"])
def test_title_travels_as_ascii_safe_metadata(data_dir: Path, s3_config: Any, s3_server: S3Server,
                                              bucket: str, size: int) -> None:
    config = s3_config(part_size_bytes=5 * MIB)
    session_id = session_with_zip(data_dir, size)
    set_session_texts(data_dir, session_id, title="Zahlung schlägt fehl — 支払い", note="not sent")
    state = upload_session(data_dir, session_id, config, UploadStateStore(data_dir), ProgressLog(),
                           threading.Event())
    head = s3_server.client().head_object(Bucket=bucket, Key=str(state.s3_key))
    metadata = head["Metadata"]
    assert decode_text(metadata["title"]) == "Zahlung schlägt fehl — 支払い"
    assert metadata["title"].isascii() and "note" not in metadata
    assert metadata["action-count"] == "20" and metadata["session-id"] == session_id
