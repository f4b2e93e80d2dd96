"""The seed's simple contract in process: signatures checked as S3 would, expiry, sizes."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from app.upload.backend.destination import BackendDestination
from app.upload.backend.simple import SimpleTransport
from app.upload.config import UploadConfig
from app.upload.secrets import save_secrets
from app.upload.session.errors import ErrorKind, UploadError
from app.upload.session.state_store import UploadStateStore
from tests.integration.upload_helpers import MIB, ProgressLog, session_with_zip, zip_bytes
from tests.s3support.backend_fixtures import BACKEND_TOKEN
from tests.s3support.backend_server import SimpleBackend
from tests.s3support.presign import PresignChecker
from tests.s3support.proxy import Fault, FaultProxy
from tests.s3support.server import OPEN_ACCESS_KEY, OPEN_SECRET_KEY, S3Server


def _destination(data_dir: Path, backend: SimpleBackend) -> BackendDestination:
    save_secrets(data_dir, backendToken=BACKEND_TOKEN)
    return BackendDestination(data_dir, UploadConfig(destination="backend",
                                                     backend_url=backend.url))


def test_presigned_put_is_signed_for_the_zip_and_re_signed_when_expired(
        data_dir: Path, s3_server: S3Server, bucket: str, fault_proxy: FaultProxy) -> None:
    # The backend presigns for the proxy, which checks each URL's SigV4 signature (with the
    # Content-Type boto3 signed into it) and expiry as S3 would; moto checks neither.
    fault_proxy.presign_checker = PresignChecker({OPEN_ACCESS_KEY: OPEN_SECRET_KEY})
    fault_proxy.inject(Fault.error(403, "AccessDenied", "Request has expired"), times=1,
                       only="PutObject")
    with SimpleBackend(fault_proxy.endpoint_url, bucket, BACKEND_TOKEN) as backend:
        session_id = session_with_zip(data_dir, 3 * MIB)
        state = _destination(data_dir, backend).upload(session_id, UploadStateStore(data_dir),
                                                       ProgressLog(), threading.Event())
        assert len(backend.presigns()) == 2  # the expired URL was asked for again
    assert fault_proxy.presign_checker.checked == ["ok"]
    assert state.retry_count == 0 and state.s3_key
    assert s3_server.client().get_object(Bucket=bucket, Key=state.s3_key)["Body"].read() == \
        zip_bytes(data_dir, session_id)


def test_a_presigned_url_the_store_refuses_is_permanent(
        data_dir: Path, bucket: str, fault_proxy: FaultProxy) -> None:
    # A backend signing with a key the store does not know: not retried, a sentence.
    fault_proxy.presign_checker = PresignChecker({"SOMEOTHERKEYID000000": "x" * 40})
    with SimpleBackend(fault_proxy.endpoint_url, bucket, BACKEND_TOKEN) as backend:
        session_id = session_with_zip(data_dir, 1 * MIB)
        with pytest.raises(UploadError) as caught:
            _destination(data_dir, backend).upload(session_id, UploadStateStore(data_dir),
                                                   ProgressLog(), threading.Event())
    assert caught.value.permanent and caught.value.kind == ErrorKind.ACCESS_DENIED
    assert "refused the link the backend signed" in caught.value.sentence


def test_a_zip_over_5_gib_names_companion(data_dir: Path) -> None:
    transport = SimpleTransport(BackendDestination(data_dir, UploadConfig(
        destination="backend", backend_url="https://b.example")).settings)
    with pytest.raises(UploadError) as caught:
        transport.create("k.zip", {})
    assert caught.value.kind == ErrorKind.CONFIG and "backendProtocol=companion" in \
        caught.value.sentence
