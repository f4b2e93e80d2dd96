"""pytest fixtures for the backend destination; registered from tests/conftest.py.

- `companion`: the real Uppy Companion (tests/s3support/companion.py), one for the whole run,
  its S3 endpoint a FaultProxy (`companion_proxy`) in front of the moto server, its bucket
  `companion_bucket`. Each test using `companion_proxy` starts with the proxy's faults cleared
  and its counters at zero. Skipped, with the reason, only when node/npm are missing.
- `simple_backend`: the seed's simple contract (backend_server.py) over the per-test `bucket`.
- `webhook_receiver`: a signature-checking webhook receiver (webhook_receiver.py).
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from tests.s3support.backend_server import SimpleBackend
from tests.s3support.companion import CompanionServer, CompanionUnavailable, ensure_installed
from tests.s3support.presign import PresignChecker
from tests.s3support.proxy import FaultProxy
from tests.s3support.server import OPEN_ACCESS_KEY, OPEN_SECRET_KEY, S3Server
from tests.s3support.webhook_receiver import WebhookReceiver

BACKEND_TOKEN = "backend-token-for-tests-0123456789abcdef"
WEBHOOK_SECRET = "webhook-secret-for-tests-0123456789"


@pytest.fixture(scope="session")
def companion_bucket(s3_server: S3Server) -> str:
    name = f"companion-{os.getpid()}"
    s3_server.client().create_bucket(Bucket=name)
    return name


@pytest.fixture(scope="session")
def _companion_proxy(s3_server: S3Server) -> Iterator[FaultProxy]:
    proxy = FaultProxy(s3_server.host, s3_server.port)
    yield proxy
    proxy.stop()


@pytest.fixture(scope="session")
def companion(_companion_proxy: FaultProxy, companion_bucket: str) -> Iterator[CompanionServer]:
    try:
        ensure_installed()
    except CompanionUnavailable as exc:
        pytest.skip(str(exc))
    server = CompanionServer(_companion_proxy.endpoint_url, companion_bucket, OPEN_ACCESS_KEY,
                             OPEN_SECRET_KEY).start()
    yield server
    server.stop()


@pytest.fixture
def companion_proxy(_companion_proxy: FaultProxy, companion: CompanionServer) -> Iterator[FaultProxy]:
    """The proxy between Companion (and the part uploads it signs) and moto, fresh per test."""
    _companion_proxy.clear()
    _companion_proxy.reset_stats()
    _companion_proxy.presign_checker = PresignChecker({OPEN_ACCESS_KEY: OPEN_SECRET_KEY})
    yield _companion_proxy
    _companion_proxy.clear()
    _companion_proxy.presign_checker = None
    _companion_proxy.throttle_bytes_per_sec = None


@pytest.fixture
def simple_backend(s3_server: S3Server, bucket: str) -> Iterator[SimpleBackend]:
    with SimpleBackend(s3_server.endpoint_url, bucket, BACKEND_TOKEN) as backend:
        yield backend


@pytest.fixture
def webhook_receiver() -> Iterator[WebhookReceiver]:
    receiver = WebhookReceiver(WEBHOOK_SECRET).start()
    yield receiver
    receiver.stop()
