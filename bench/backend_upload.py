"""Backend destination benchmark: one zip to the same moto server three ways, in one run.

- `s3`: the S3 destination with keys (botocore), the reference;
- `companion`: through the real Uppy Companion (presigned multipart, urllib3);
- `simple`: the seed's contract (one presigned PUT) through tests/s3support/backend_server.py.
Every contender uploads in this process, alternately for `--rounds` rounds (the order
rotates), through a FaultProxy in front of moto that counts the requests. Prints the median
MiB/s of each, its ratio to `s3`, and the requests one upload makes to the store (and, for
Companion, to Companion). Asserts nothing; goal: companion >= 0.8x s3 on loopback.

    python -m bench.backend_upload [--size-mib 256] [--rounds 3]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

from app.paths import ensure_data_dir
from app.upload.config import MIB, UploadConfig
from app.upload.destination import destination_for
from app.upload.secrets import save_secrets
from app.upload.session.state_store import UploadStateStore
from tests.factories import make_session
from tests.s3support.backend_server import SimpleBackend
from tests.s3support.companion import CompanionServer
from tests.s3support.proxy import FaultProxy
from tests.s3support.server import OPEN_ACCESS_KEY, OPEN_SECRET_KEY, S3Server

TOKEN = "bench-token-0123456789abcdef"


def _one(root: Path, name: str, config: UploadConfig, size: int) -> float:
    data_dir = ensure_data_dir(root / name / str(time.monotonic_ns()))
    save_secrets(data_dir, secretAccessKey=OPEN_SECRET_KEY, backendToken=TOKEN)
    session_id = make_session(data_dir, created_at=int(time.time() * 1000), zip_bytes=size)
    started = time.monotonic()
    destination_for(data_dir, config).upload(session_id, UploadStateStore(data_dir),
                                             lambda _p: None, threading.Event())
    return size / MIB / (time.monotonic() - started)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--size-mib", type=int, default=256)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    size = args.size_mib * MIB
    with S3Server() as s3, tempfile.TemporaryDirectory() as tmp:
        client = s3.client()
        for bucket in ("bench-s3", "bench-companion", "bench-simple"):
            client.create_bucket(Bucket=bucket)
        proxy = FaultProxy(s3.host, s3.port)
        companion = CompanionServer(proxy.endpoint_url, "bench-companion", OPEN_ACCESS_KEY,
                                    OPEN_SECRET_KEY).start()
        simple = SimpleBackend(proxy.endpoint_url, "bench-simple", TOKEN).start()
        contenders: dict[str, UploadConfig] = {
            "s3": UploadConfig(bucket="bench-s3", region="us-east-1",
                               endpoint_url=proxy.endpoint_url, access_key_id=OPEN_ACCESS_KEY),
            "companion": UploadConfig(destination="backend", backend_url=companion.url,
                                      backend_protocol="companion"),
            "simple": UploadConfig(destination="backend", backend_url=simple.url),
        }
        rates: dict[str, list[float]] = {name: [] for name in contenders}
        requests: dict[str, dict[str, int]] = {}
        names = list(contenders)
        try:
            for round_number in range(args.rounds):
                order = names[round_number % len(names):] + names[:round_number % len(names)]
                for name in order:
                    proxy.reset_stats()
                    rates[name].append(_one(Path(tmp), name, contenders[name], size))
                    requests[name] = dict(proxy.stats().requests)
        finally:
            simple.stop()
            companion.stop()
            proxy.stop()
        report(rates, requests, args.size_mib, args.rounds)


def report(rates: dict[str, list[float]], requests: dict[str, dict[str, int]], size_mib: int,
           rounds: int, out: Callable[[str], None] = print) -> None:
    reference = statistics.median(rates["s3"])
    out(f"{size_mib} MiB zip, {rounds} rounds, loopback through a counting proxy to moto")
    for name, values in rates.items():
        median = statistics.median(values)
        out(f"  {name:10s} {median:7.1f} MiB/s  ({median / reference:4.2f}x s3)  "
            f"store requests: {requests.get(name)}")


if __name__ == "__main__":
    main()
