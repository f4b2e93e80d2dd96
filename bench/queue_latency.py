"""Upload queue latencies against moto's S3 server behind a throttling FaultProxy.

Prints how long a user cancel of the running upload takes (cancel -> not_uploaded with the
multipart aborted), how long a quit takes (shutdown -> worker stopped), and how long a
permanent error takes to become `failed`, each against its promise (1 s, 2 s, 2 s).

    /work/venv/bin/python -m bench.queue_latency [--rounds N]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import threading
import time
from pathlib import Path

from app.paths import ensure_data_dir
from app.upload.config import UploadConfig, save_config
from app.upload.queue.core import SerialQueue
from app.upload.s3.credentials import save_secrets
from app.upload.session.progress import Progress
from tests.factories import make_session
from tests.s3support.proxy import Fault, FaultProxy
from tests.s3support.server import OPEN_ACCESS_KEY, OPEN_SECRET_KEY, S3Server

MIB = 1024 * 1024


class Clock:
    def __init__(self) -> None:
        self.events: list[tuple[str, str, float]] = []
        self.changed = threading.Condition()

    def status_changed(self, session_id: str, status: str) -> None:
        with self.changed:
            self.events.append((session_id, status, time.monotonic()))
            self.changed.notify_all()

    def progress(self, session_id: str, progress: Progress) -> None:
        pass

    def failed(self, session_id: str, sentence: str) -> None:
        pass

    def queue_changed(self) -> None:
        pass

    def idle(self) -> None:
        pass

    def wait_for(self, session_id: str, status: str, timeout: float = 60) -> float:
        with self.changed:
            ok = self.changed.wait_for(lambda: any(
                i == session_id and s == status for i, s, _ in self.events), timeout)
            assert ok, (session_id, status)
            return next(t for i, s, t in self.events if i == session_id and s == status)


def one_round(server: S3Server, proxy: FaultProxy, bucket: str, root: Path) -> tuple[float, float, float]:
    data_dir = ensure_data_dir(root)
    save_config(data_dir, UploadConfig(bucket=bucket, region="us-east-1",
                                       endpoint_url=proxy.endpoint_url, access_key_id=OPEN_ACCESS_KEY,
                                       part_size_bytes=5 * MIB, concurrency=2))
    save_secrets(data_dir, secretAccessKey=OPEN_SECRET_KEY, sessionToken=None)
    proxy.throttle_bytes_per_sec = 1 * MIB
    clock = Clock()
    core = SerialQueue(data_dir, clock)
    threading.Thread(target=core.run, daemon=True).start()

    cancelled = make_session(data_dir, 1_700_000_000_000, zip_bytes=12 * MIB)
    core.enqueue(cancelled)
    clock.wait_for(cancelled, "uploading")
    time.sleep(1.0)  # parts in flight
    asked = time.monotonic()
    core.cancel(cancelled)
    cancel_s = clock.wait_for(cancelled, "not_uploaded") - asked
    assert server.client().list_multipart_uploads(Bucket=bucket).get("Uploads", []) == []

    quitting = make_session(data_dir, 1_700_000_001_000, zip_bytes=12 * MIB)
    core.enqueue(quitting)
    clock.wait_for(quitting, "uploading")
    time.sleep(1.0)
    asked = time.monotonic()
    core.request_shutdown()
    assert core.wait_stopped(5)
    quit_s = time.monotonic() - asked

    proxy.throttle_bytes_per_sec = None
    proxy.inject(Fault.invalid_access_key(), times=None)
    clock2 = Clock()
    core2 = SerialQueue(data_dir, clock2)
    threading.Thread(target=core2.run, args=(False,), daemon=True).start()
    denied = make_session(data_dir, 1_700_000_002_000, zip_bytes=6 * MIB)
    asked = time.monotonic()
    core2.enqueue(denied)
    fail_s = clock2.wait_for(denied, "failed") - asked
    core2.request_shutdown()
    core2.wait_stopped(5)
    proxy.clear()
    return cancel_s, quit_s, fail_s


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    server = S3Server().start()
    proxy = FaultProxy(server.host, server.port)
    results: list[tuple[float, float, float]] = []
    try:
        for n in range(args.rounds):
            bucket = f"bench-queue-{n}"
            server.client().create_bucket(Bucket=bucket)
            with tempfile.TemporaryDirectory() as tmp:
                results.append(one_round(server, proxy, bucket, Path(tmp) / "data"))
    finally:
        proxy.stop()
        server.stop()
    for name, index, promise in (("cancel running upload -> not_uploaded + aborted", 0, 1.0),
                                 ("quit while uploading -> worker stopped", 1, 2.0),
                                 ("403 InvalidAccessKeyId -> failed", 2, 2.0)):
        values = [r[index] for r in results]
        print(f"{name}: median {statistics.median(values):.3f} s, max {max(values):.3f} s "
              f"(promise {promise:.1f} s, {'met' if max(values) <= promise else 'MISSED'})")


if __name__ == "__main__":
    main()
