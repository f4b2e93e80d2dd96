"""The test support itself: the server answers, the proxy counts and injects real faults."""

from __future__ import annotations

import io
import itertools
import threading
from typing import Any

import botocore.exceptions
import pytest

from tests.s3support.link import LinkTiming
from tests.s3support.proxy import Fault, FaultProxy
from tests.s3support.server import S3Server

MIB = 1024 * 1024


def _client(s3_server: S3Server, proxy: FaultProxy, timeout: float = 10.0) -> Any:
    import boto3
    from botocore.config import Config

    return boto3.client(
        "s3", endpoint_url=proxy.endpoint_url, region_name="us-east-1",
        aws_access_key_id="SROPENSERVERTEST0001", aws_secret_access_key="x" * 40,
        config=Config(s3={"addressing_style": "path"}, retries={"total_max_attempts": 1},
                      read_timeout=timeout, connect_timeout=timeout),
    )


def test_proxy_forwards_and_counts_part_bytes(s3_server: S3Server, bucket: str,
                                              fault_proxy: FaultProxy) -> None:
    client = _client(s3_server, fault_proxy)
    upload = client.create_multipart_upload(Bucket=bucket, Key="k")
    body = b"a" * (5 * 1024 * 1024)
    part = client.upload_part(Bucket=bucket, Key="k", UploadId=upload["UploadId"],
                              PartNumber=1, Body=body)
    client.upload_part(Bucket=bucket, Key="k", UploadId=upload["UploadId"], PartNumber=2, Body=b"end")
    client.complete_multipart_upload(
        Bucket=bucket, Key="k", UploadId=upload["UploadId"],
        MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": part["ETag"]},
                                   {"PartNumber": 2, "ETag": client.list_parts(
                                       Bucket=bucket, Key="k", UploadId=upload["UploadId"]
                                   )["Parts"][1]["ETag"]}]},
    )
    stats = fault_proxy.stats()
    assert stats.part_bytes[1] == len(body)
    assert stats.part_bytes[2] == 3
    assert stats.parts_forwarded == {1: 1, 2: 1}
    assert stats.requests["CreateMultipartUpload"] == 1
    assert stats.requests["CompleteMultipartUpload"] == 1
    assert s3_server.client().get_object(Bucket=bucket, Key="k")["Body"].read() == body + b"end"


@pytest.mark.parametrize(("fault", "code"), [
    (Fault.slow_down(), "SlowDown"),
    (Fault.service_unavailable(), "ServiceUnavailable"),
    (Fault.invalid_access_key(), "InvalidAccessKeyId"),
])
def test_proxy_injects_error_answers_then_passes(s3_server: S3Server, bucket: str,
                                                 fault_proxy: FaultProxy, fault: Fault,
                                                 code: str) -> None:
    client = _client(s3_server, fault_proxy)
    fault_proxy.fail_next(2, fault, only="PutObject")
    for _ in range(2):
        with pytest.raises(botocore.exceptions.ClientError) as caught:
            client.put_object(Bucket=bucket, Key="k", Body=b"x" * 1000)
        assert caught.value.response["Error"]["Code"] == code
    client.put_object(Bucket=bucket, Key="k", Body=b"x" * 1000)
    assert fault_proxy.stats().faults["error"] == 2


def test_proxy_resets_mid_body(s3_server: S3Server, bucket: str, fault_proxy: FaultProxy) -> None:
    client = _client(s3_server, fault_proxy)
    fault_proxy.inject(Fault.reset_mid_body(100_000), only="PutObject")
    with pytest.raises((botocore.exceptions.ConnectionClosedError,
                        botocore.exceptions.EndpointConnectionError)):
        client.put_object(Bucket=bucket, Key="k", Body=b"x" * 2_000_000)
    stats = fault_proxy.stats()
    assert 100_000 <= stats.body_bytes["PutObject"] < 2_000_000


def test_proxy_stall_makes_the_client_time_out(s3_server: S3Server, bucket: str,
                                               fault_proxy: FaultProxy) -> None:
    client = _client(s3_server, fault_proxy, timeout=1.0)
    fault_proxy.inject(Fault.stall(10), only="HeadBucket")
    # A read timeout is the client giving up on an answer that did not come: had the stall
    # ended first, the answer would have arrived. (How long it took: bench/proxy_stall.py.)
    with pytest.raises(botocore.exceptions.ReadTimeoutError):
        client.head_bucket(Bucket=bucket)


def test_auth_server_rejects_wrong_secret(auth_s3_server: S3Server) -> None:
    writer = auth_s3_server.users["writer"]
    good = auth_s3_server.client()
    good.create_bucket(Bucket="auth-check")
    bad = auth_s3_server.client(writer.access_key_id, "wrong-secret-0000000000000000000000000")
    with pytest.raises(botocore.exceptions.ClientError) as caught:
        bad.put_object(Bucket="auth-check", Key="k", Body=b"1")
    assert caught.value.response["Error"]["Code"] == "SignatureDoesNotMatch"
    good.delete_bucket(Bucket="auth-check")


def _link_client(proxy: FaultProxy) -> Any:
    import boto3
    from botocore.config import Config

    return boto3.client(
        "s3", endpoint_url=proxy.endpoint_url, region_name="us-east-1",
        aws_access_key_id="SROPENSERVERTEST0001", aws_secret_access_key="x" * 40,
        config=Config(s3={"addressing_style": "path", "payload_signing_enabled": False},
                      retries={"total_max_attempts": 1}, max_pool_connections=4),
    )


@pytest.mark.slow
def test_simulated_link_carries_parallel_parts_one_chunk_at_a_time(
        s3_server: S3Server, bucket: str, fault_proxy: FaultProxy) -> None:
    link = fault_proxy.set_link(LinkTiming(bytes_per_sec=3 * MIB, rtt_sec=0.05), keep_schedule=True)
    assert link is not None
    client = _link_client(fault_proxy)
    upload_id = client.create_multipart_upload(Bucket=bucket, Key="k")["UploadId"]
    bodies = {1: b"\1" * (5 * MIB), 2: b"\2" * MIB}  # S3's least first part, a short last
    start = threading.Barrier(2)
    etags: dict[int, str] = {}

    def send(number: int) -> None:
        start.wait()
        etags[number] = client.upload_part(Bucket=bucket, Key="k", UploadId=upload_id,
                                           PartNumber=number, Body=io.BytesIO(bodies[number]))["ETag"]

    threads = [threading.Thread(target=send, args=(n,)) for n in bodies]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    client.complete_multipart_upload(
        Bucket=bucket, Key="k", UploadId=upload_id,
        MultipartUpload={"Parts": [{"PartNumber": n, "ETag": etags[n]} for n in sorted(etags)]})
    assert s3_server.client().get_object(Bucket=bucket, Key="k")["Body"].read() == \
        bodies[1] + bodies[2]

    stats = fault_proxy.stats()
    # Every body byte (the parts and Complete's list) crossed the one link, one chunk at a
    # time, both parts sharing it.
    assert stats.body_bytes["UploadPart"] == 6 * MIB
    assert link.bytes_carried == sum(stats.body_bytes.values())
    slots = [s for s in link.schedule if s.tag is not None]
    assert all(a.end <= b.start for a, b in itertools.pairwise(slots))
    owners = [s.tag for s in slots]
    assert owners.index(2) < len(owners) - 1 - owners[::-1].index(1)  # interleaved, not in turn
    assert owners.index(1) < len(owners) - 1 - owners[::-1].index(2)
    # The round trip: each answer came back at least one RTT after the server had the
    # request, and the Expect go-ahead one RTT after the head, before any body byte.
    timings = {(t.operation, t.part_number): t for t in stats.timings}
    assert set(timings) == {("CreateMultipartUpload", None), ("UploadPart", 1), ("UploadPart", 2),
                            ("CompleteMultipartUpload", None)}
    for timing in timings.values():
        assert timing.answered_at >= timing.body_done_at + 0.05
        # The server's answer came after the body and one RTT before the client got it.
        assert timing.body_done_at <= timing.server_answered_at <= timing.answered_at - 0.05
    for number in (1, 2):
        part = timings[("UploadPart", number)]
        assert part.continued_at is not None and part.continued_at >= part.head_at + 0.05
        assert part.body_done_at >= part.continued_at
    assert stats.expect_continue["UploadPart"] == 2
    window = stats.window()
    assert window is not None and window[0] == timings[("CreateMultipartUpload", None)].head_at

    fault_proxy.set_link(None)  # back to plain loopback: nothing more is booked on the link
    carried = link.bytes_carried
    client.put_object(Bucket=bucket, Key="k2", Body=b"x" * 1000)
    assert link.bytes_carried == carried
