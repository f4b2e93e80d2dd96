"""Upload, Retry and Cancel from the cards, against moto's S3 server over HTTP, with the real
queue on its QThread; and a pending upload that resumes when the window starts again."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from pytestqt.qtbot import QtBot

from app.upload.config import object_key
from tests.factories import make_session
from tests.recorder.conftest import XServer
from tests.s3support.proxy import Fault, FaultProxy
from tests.s3support.server import S3Server
from tests.ui.conftest import AppFactory
from tests.ui.helpers import click_card_button, close_app, status_of
from tests.ui.test_recording import record_session

MIB = 1024 * 1024
NOW = int(time.time() * 1000)


def progress_log(window: Any) -> list[tuple[str, int, int]]:
    seen: list[tuple[str, int, int]] = []
    window.queue.progress.connect(
        lambda sid, progress: seen.append((sid, progress.bytes_uploaded, progress.total_bytes)))
    return seen


@pytest.mark.slow
@pytest.mark.xvfb
def test_record_then_upload_from_the_card(qtbot: QtBot, data_dir: Path, x_display: XServer,
                                          s3_config: Callable[..., Any], s3_server: S3Server,
                                          app_factory: AppFactory) -> None:
    config = s3_config()
    window, services = app_factory(data_dir)
    assert window.model.config_valid
    seen = progress_log(window)
    session_id = record_session(qtbot, window, x_display)
    statuses: list[str] = []
    window.queue.statusChanged.connect(lambda report: statuses.append(report.status))
    click_card_button(qtbot, window.session_view, session_id, "upload")
    # The card takes the report at once; this test's receivers may get it (and the last
    # progress, sent after `done`) a moment later.
    qtbot.waitUntil(lambda: status_of(window, session_id) == "done" and statuses[-1:] == ["done"]
                    and any(sid == session_id and done == total for sid, done, total in seen),
                    timeout=60_000)
    assert statuses[0] == "pending" and "uploading" in statuses and statuses[-1] == "done"
    ours = [(done, total) for sid, done, total in seen if sid == session_id]
    assert ours and ours[-1][0] == ours[-1][1] > 0
    head = s3_server.client().head_object(Bucket=config.bucket, Key=object_key(config, session_id))
    item = window.model.item(session_id)
    assert item is not None and head["ContentLength"] == item.file_size_bytes
    assert window.tray.notifications[-1][0] == "Upload finished"
    close_app(window, services)


@pytest.mark.slow
def test_failure_then_retry_then_done(qtbot: QtBot, data_dir: Path, s3_config: Callable[..., Any],
                                      fault_proxy: FaultProxy, s3_server: S3Server,
                                      app_factory: AppFactory) -> None:
    config = s3_config(endpoint_url=fault_proxy.endpoint_url, backoff_base_sec=0.1, backoff_cap_sec=1.0)
    session_id = make_session(data_dir, NOW, zip_bytes=64 * 1024)
    window, services = app_factory(data_dir)
    fault_proxy.inject(Fault.invalid_access_key(), times=None)  # permanent: fails at once
    click_card_button(qtbot, window.session_view, session_id, "upload")
    qtbot.waitUntil(lambda: status_of(window, session_id) == "failed", timeout=30_000)
    item = window.model.item(session_id)
    assert item is not None and item.last_upload_error
    # The failure's own signal (the tray's message) follows the status report the card took.
    qtbot.waitUntil(lambda: bool(window.tray.notifications), timeout=10_000)
    assert window.tray.notifications[-1][0] == "Upload failed"
    fault_proxy.clear()
    click_card_button(qtbot, window.session_view, session_id, "retry")
    qtbot.waitUntil(lambda: status_of(window, session_id) == "done", timeout=30_000)
    s3_server.client().head_object(Bucket=config.bucket, Key=object_key(config, session_id))
    close_app(window, services)


@pytest.mark.slow
def test_cancel_during_upload_leaves_it_not_uploaded(qtbot: QtBot, data_dir: Path,
                                                     s3_config: Callable[..., Any],
                                                     s3_server: S3Server, app_factory: AppFactory) -> None:
    # A bandwidth cap makes the 24 MiB upload take seconds, so there is time to cancel.
    config = s3_config(max_bandwidth_bytes_per_sec=4 * MIB)
    session_id = make_session(data_dir, NOW, zip_bytes=24 * MIB)
    window, services = app_factory(data_dir)
    seen = progress_log(window)
    click_card_button(qtbot, window.session_view, session_id, "upload")
    qtbot.waitUntil(lambda: len({done for sid, done, _ in seen if sid == session_id and done > 0}) >= 2,
                    timeout=30_000)
    ours = [done for sid, done, _ in seen if sid == session_id]
    assert ours == sorted(ours)  # progress only moves forward
    live = window.model.live(session_id)
    assert live is not None and 0 < live.bytes_uploaded < live.total_bytes
    click_card_button(qtbot, window.session_view, session_id, "cancel")
    qtbot.waitUntil(lambda: status_of(window, session_id) == "not_uploaded", timeout=10_000)
    client = s3_server.client()
    assert client.list_multipart_uploads(Bucket=config.bucket).get("Uploads", []) == []
    assert client.list_objects_v2(Bucket=config.bucket).get("KeyCount", 0) == 0
    close_app(window, services)


@pytest.mark.slow
def test_restarted_window_resumes_a_pending_upload(qtbot: QtBot, data_dir: Path,
                                                   s3_config: Callable[..., Any],
                                                   s3_server: S3Server, app_factory: AppFactory) -> None:
    config = s3_config()
    session_id = make_session(data_dir, NOW, zip_bytes=256 * 1024, status="pending")
    window, services = app_factory(data_dir)
    qtbot.waitUntil(lambda: status_of(window, session_id) == "done", timeout=30_000)
    s3_server.client().head_object(Bucket=config.bucket, Key=object_key(config, session_id))
    close_app(window, services)


@pytest.mark.slow
def test_a_failed_card_that_keeps_its_upload_offers_cancel(
        qtbot: QtBot, data_dir: Path, s3_config: Callable[..., Any], fault_proxy: FaultProxy,
        s3_server: S3Server, app_factory: AppFactory) -> None:
    from app.widgets.card_state import KEPT_UPLOAD_NOTE, card_buttons, status_line

    config = s3_config(endpoint_url=fault_proxy.endpoint_url)
    # The parts go up, completing is refused for good: the session fails keeping its upload.
    fault_proxy.inject(Fault.error(403, "AccessDenied", "Access Denied"), times=None,
                       only="CompleteMultipartUpload")
    session_id = make_session(data_dir, NOW, zip_bytes=7 * MIB)
    window, services = app_factory(data_dir)
    click_card_button(qtbot, window.session_view, session_id, "upload")
    qtbot.waitUntil(lambda: status_of(window, session_id) == "failed", timeout=30_000)
    qtbot.waitUntil(lambda: (i := window.model.item(session_id)) is not None
                    and i.multipart_upload_open, timeout=10_000)
    item = window.model.item(session_id)
    assert item is not None and KEPT_UPLOAD_NOTE in status_line(item).text
    assert "cancel" in card_buttons(item, True).visible_actions()
    client = s3_server.client()
    assert len(client.list_multipart_uploads(Bucket=config.bucket).get("Uploads", [])) == 1
    fault_proxy.clear()
    click_card_button(qtbot, window.session_view, session_id, "cancel")
    qtbot.waitUntil(lambda: status_of(window, session_id) == "not_uploaded", timeout=30_000)
    assert client.list_multipart_uploads(Bucket=config.bucket).get("Uploads", []) == []
    close_app(window, services)


@pytest.mark.slow
def test_deleting_a_failed_session_aborts_its_unfinished_upload_first(
        qtbot: QtBot, data_dir: Path, s3_config: Callable[..., Any], fault_proxy: FaultProxy,
        s3_server: S3Server, app_factory: AppFactory) -> None:
    from app.sessions import session_paths

    config = s3_config(endpoint_url=fault_proxy.endpoint_url)
    fault_proxy.inject(Fault.error(403, "AccessDenied", "Access Denied"), times=None,
                       only="CompleteMultipartUpload")
    session_id = make_session(data_dir, NOW, zip_bytes=7 * MIB)
    window, _shell = app_factory(data_dir)
    window.confirm = lambda _title, _text: True
    click_card_button(qtbot, window.session_view, session_id, "upload")
    qtbot.waitUntil(lambda: (i := window.model.item(session_id)) is not None
                    and i.upload_status == "failed" and i.multipart_upload_open, timeout=30_000)
    client = s3_server.client()
    assert len(client.list_multipart_uploads(Bucket=config.bucket).get("Uploads", [])) == 1
    # Offline: the abort cannot be sent, so nothing is deleted and the window says why.
    fault_proxy.inject(Fault.error(503, "ServiceUnavailable", "Unavailable"), times=None)
    click_card_button(qtbot, window.session_view, session_id, "delete")
    qtbot.waitUntil(lambda: "was not deleted" in window.statusBar().currentMessage(), timeout=60_000)
    assert session_paths(data_dir, session_id).root.is_dir()
    assert window.model.item(session_id) is not None
    assert len(client.list_multipart_uploads(Bucket=config.bucket).get("Uploads", [])) == 1
    # Reachable again: the upload is aborted, then the folder goes.
    fault_proxy.clear()
    click_card_button(qtbot, window.session_view, session_id, "delete")
    qtbot.waitUntil(lambda: window.model.item(session_id) is None, timeout=30_000)
    assert not session_paths(data_dir, session_id).root.exists()
    assert client.list_multipart_uploads(Bucket=config.bucket).get("Uploads", []) == []
