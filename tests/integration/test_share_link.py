"""Share links against moto over HTTP: a plain HTTP client with no credentials downloads the zip
through the link; an expired or tampered link is refused; making a link sends no request and
writes nothing secret to the log; `sessionrec link` on the command line.

moto does not check presigned URLs (neither signature nor expiry), so the client talks to the
FaultProxy with a SigV4 `PresignChecker` in front of moto, which refuses them as S3 does."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from app.logs import setup_logging
from app.paths import log_path
from app.upload.s3.destination import upload_session
from app.upload.s3.share_link import LinkError, make_share_link
from app.upload.session.state_store import UploadStateStore
from tests.integration.upload_helpers import session_with_zip, zip_bytes
from tests.s3support.presign import PresignChecker
from tests.s3support.proxy import FaultProxy
from tests.s3support.server import OPEN_ACCESS_KEY, OPEN_SECRET_KEY

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def checked_proxy(fault_proxy: FaultProxy) -> Iterator[FaultProxy]:
    fault_proxy.presign_checker = PresignChecker({OPEN_ACCESS_KEY: OPEN_SECRET_KEY})
    yield fault_proxy


def uploaded(data_dir: Path, config: Any, size: int = 300_000) -> str:
    session_id = session_with_zip(data_dir, size)
    store = UploadStateStore(data_dir)
    upload_session(data_dir, session_id, config, store, lambda _p: None, threading.Event())
    store.set_status(session_id, "done")
    return session_id


def fetch(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=10) as answer:  # no credentials of any kind
            return answer.status, answer.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def test_the_link_downloads_the_zip_with_a_plain_http_client(
        data_dir: Path, s3_config: Any, checked_proxy: FaultProxy) -> None:
    config = s3_config(endpoint_url=checked_proxy.endpoint_url)
    session_id = uploaded(data_dir, config)
    checked_proxy.reset_stats()
    link = make_share_link(data_dir, session_id, 3600)
    assert sum(checked_proxy.stats().requests.values()) == 0  # made here: no request was sent
    query = parse_qs(urlsplit(link.url).query)
    assert query["X-Amz-Algorithm"] == ["AWS4-HMAC-SHA256"] and query["X-Amz-Expires"] == ["3600"]
    assert urlsplit(link.url).netloc == urlsplit(checked_proxy.endpoint_url).netloc  # the endpoint
    assert urlsplit(link.url).path == f"/{config.bucket}/{session_id}.zip"  # path-style
    status, body = fetch(link.url)
    assert status == 200 and body == zip_bytes(data_dir, session_id)
    assert checked_proxy.presign_checker.checked == ["ok"]
    assert not link.temporary_credentials and len(link.notes()) == 1


def test_an_expired_or_altered_link_is_refused(data_dir: Path, s3_config: Any,
                                               checked_proxy: FaultProxy) -> None:
    config = s3_config(endpoint_url=checked_proxy.endpoint_url)
    session_id = uploaded(data_dir, config)
    link = make_share_link(data_dir, session_id, 1)
    time.sleep(2.2)
    status, body = fetch(link.url)
    assert status == 403 and b"Request has expired" in body
    fresh = make_share_link(data_dir, session_id, 600)
    other_key = fresh.url.replace(f"/{session_id}.zip", "/someone-else.zip")
    assert fetch(other_key)[0] == 403
    assert checked_proxy.presign_checker.checked == ["AccessDenied", "SignatureDoesNotMatch"]
    assert fetch(fresh.url)[0] == 200


def test_temporary_credentials_are_said_to_end_the_link(data_dir: Path, s3_config: Any,
                                                        checked_proxy: FaultProxy) -> None:
    config = s3_config(endpoint_url=checked_proxy.endpoint_url, session_token="FQoGZXIvYXdzEXAMPLETOKEN")
    session_id = uploaded(data_dir, config)
    link = make_share_link(data_dir, session_id)
    assert link.expires_s == 7 * 24 * 3600 and link.temporary_credentials
    assert "X-Amz-Security-Token" in parse_qs(urlsplit(link.url).query)
    assert "the link stops working when they expire" in link.notes()[1]


def test_only_an_uploaded_session_gets_a_link(data_dir: Path, s3_config: Any) -> None:
    s3_config()
    session_id = session_with_zip(data_dir, 1000)
    with pytest.raises(LinkError, match="is not uploaded yet \\(it is not uploaded\\)"):
        make_share_link(data_dir, session_id)
    with pytest.raises(LinkError, match="There is no session"):
        make_share_link(data_dir, "20200101-000000-000-000000")


def test_the_link_never_reaches_the_log(data_dir: Path, s3_config: Any, s3_server: Any) -> None:
    root = logging.getLogger()
    before, level = list(root.handlers), root.level
    setup_logging(data_dir, level=logging.DEBUG)
    try:
        config = s3_config(session_token="FQoGZXIvYXdzEXAMPLETOKEN-secret-token")
        session_id = uploaded(data_dir, config)
        link = make_share_link(data_dir, session_id)
        # Even a careless log line would be scrubbed: the signature and token shapes are masked.
        logging.getLogger("app.test").warning("link made: %s", link.url)
    finally:
        for handler in root.handlers[len(before):]:
            handler.close()
            root.removeHandler(handler)
        root.setLevel(level)
    text = log_path(data_dir).read_text()
    signature = parse_qs(urlsplit(link.url).query)["X-Amz-Signature"][0]
    assert "link made:" in text and signature not in text and "secret-token" not in text


def run_cli(data_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, PYTHONPATH=str(REPO))
    return subprocess.run([sys.executable, "-m", "app", "--data-dir", str(data_dir), "link", *args],
                          cwd=REPO, env=env, capture_output=True, text=True, timeout=60)


@pytest.mark.slow
def test_link_command(data_dir: Path, s3_config: Any, checked_proxy: FaultProxy) -> None:
    config = s3_config(endpoint_url=checked_proxy.endpoint_url)
    session_id = uploaded(data_dir, config)
    done = run_cli(data_dir, session_id, "--expires", "2h")
    assert done.returncode == 0, done.stderr
    url = done.stdout.strip().splitlines()[-1]
    assert parse_qs(urlsplit(url).query)["X-Amz-Expires"] == ["7200"]
    assert "The link works for 2 hours" in done.stderr
    assert fetch(url) == (200, zip_bytes(data_dir, session_id))
    assert parse_qs(urlsplit(url).query)["X-Amz-Signature"][0] not in log_path(data_dir).read_text()

    too_long = run_cli(data_dir, session_id, "--expires", "30d")
    assert too_long.returncode == 2 and too_long.stdout == ""
    assert too_long.stderr.strip() == (
        "sessionrec: A link can be valid for at most 7 days (30d was asked): S3 refuses signature "
        "version 4 links that last longer. Ask for 7d or less.")
    not_uploaded = run_cli(data_dir, session_with_zip(data_dir, 100))
    assert not_uploaded.returncode == 2 and "is not uploaded yet" in not_uploaded.stderr
    assert "Traceback" not in too_long.stderr + not_uploaded.stderr


def test_no_link_is_made_when_uploads_go_through_a_backend(data_dir: Path, s3_config: Any,
                                                           checked_proxy: FaultProxy) -> None:
    from app.upload.config import UploadConfig, save_config

    session_id = uploaded(data_dir, s3_config(endpoint_url=checked_proxy.endpoint_url))
    save_config(data_dir, UploadConfig(destination="backend", backend_url="http://127.0.0.1:9"))
    with pytest.raises(LinkError) as refused:
        make_share_link(data_dir, session_id, 600)
    assert "backend" in str(refused.value) and refused.value.usage
