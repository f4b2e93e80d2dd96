"""Upload after Stop: with autoUpload on, a recording stopped in the window ends uploaded with no
click, and so does a recording recovered after a crash; the card and a notification say so.
The setting turns itself on after the first passing Test Connection."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from pytestqt.qtbot import QtBot

from app.upload.config import load_config, object_key
from app.upload.session.object_meta import decode_text
from tests.factories import make_session
from tests.recorder.conftest import XServer
from tests.recorder.synthetic import interrupted_session
from tests.s3support.server import S3Server
from tests.ui.conftest import AppFactory
from tests.ui.helpers import close_app, status_of
from tests.ui.test_config_panel import open_panel
from tests.ui.test_recording import record_session


@pytest.mark.slow
@pytest.mark.xvfb
def test_recording_stopped_with_auto_upload_ends_uploaded_without_a_click(
        qtbot: QtBot, data_dir: Path, x_display: XServer, s3_config: Callable[..., Any],
        s3_server: S3Server, app_factory: AppFactory) -> None:
    config = s3_config(auto_upload=True)
    window, services = app_factory(data_dir)
    try:
        notes: list[str] = []
        window.model.dataChanged.connect(
            lambda *_: notes.extend(n for sid in window.model._notes
                                    if (n := window.model.note(sid)) and "automatically" in n))
        statuses: list[str] = []
        window.queue.statusChanged.connect(lambda report: statuses.append(report.status))
        window.next_title_edit.setText("Auto uploaded walkthrough")
        session_id = record_session(qtbot, window, x_display)  # Record, input, Stop: no Upload
        # The card takes the report at once; this test's own receiver may get it a moment later.
        qtbot.waitUntil(lambda: status_of(window, session_id) == "done" and statuses[-1:] == ["done"],
                        timeout=60_000)
        assert statuses[0] == "pending" and statuses[-1] == "done"
        assert "Queued for upload automatically after Stop" in notes
        assert window.model.note(session_id) is None  # the card's words went with the upload
        assert ("Uploading automatically",
                "“Auto uploaded walkthrough” is queued for upload after Stop.") in [
                    n[:2] for n in window.tray.notifications]
        head = s3_server.client().head_object(Bucket=config.bucket, Key=object_key(config, session_id))
        # The title typed while recording was written before the upload started.
        assert decode_text(head["Metadata"]["title"]) == "Auto uploaded walkthrough"
    finally:
        close_app(window, services)


@pytest.mark.slow
def test_sessions_recovered_after_a_crash_are_uploaded_too(
        qtbot: QtBot, data_dir: Path, s3_config: Callable[..., Any], s3_server: S3Server,
                                                           app_factory: AppFactory) -> None:
    config = s3_config(auto_upload=True)
    crashed, _times = interrupted_session(data_dir, seconds=2, fps=10,
                                          created_at=int(time.time() * 1000) - 60_000)
    untouched = make_session(data_dir, int(time.time() * 1000) - 120_000)  # exported, never queued
    window, services = app_factory(data_dir)
    try:
        qtbot.waitUntil(lambda: status_of(window, crashed.session_id) == "done", timeout=60_000)
        item = window.model.item(crashed.session_id)
        assert item is not None and item.recovered
        s3_server.client().head_object(Bucket=config.bucket,
                                       Key=object_key(config, crashed.session_id))
        # Auto upload is about new recordings: an old session waits for its Upload click.
        assert status_of(window, untouched) == "not_uploaded"
    finally:
        close_app(window, services)


def test_recording_without_auto_upload_waits_for_a_click(
        qtbot: QtBot, data_dir: Path, s3_config: Callable[..., Any], app_factory: AppFactory) -> None:
    s3_config(auto_upload=False)
    session_id = make_session(data_dir, int(time.time() * 1000), exported=False)
    window, services = app_factory(data_dir)  # recovery exports it at start
    try:
        qtbot.waitUntil(lambda: (i := window.model.item(session_id)) is not None and i.is_exported,
                        timeout=20_000)
        qtbot.wait(500)
        assert status_of(window, session_id) == "not_uploaded"
    finally:
        close_app(window, services)


def test_a_passing_test_connection_turns_auto_upload_on_once(
        qtbot: QtBot, data_dir: Path, s3_config: Callable[..., Any]) -> None:
    s3_config()  # autoUpload never chosen
    panel = open_panel(qtbot, data_dir)
    assert not panel.auto_upload.isChecked()
    panel.test_button.click()
    qtbot.waitUntil(lambda: "Auto upload is now on" in panel.result_label.text(), timeout=20_000)
    assert panel.auto_upload.isChecked()
    # Saved at once (nothing else was changed), and the panel knows it.
    qtbot.waitUntil(lambda: panel.loaded is not None and panel.loaded.config is not None
                    and panel.loaded.config.auto_upload is True, timeout=10_000)
    assert load_config(data_dir).value.auto_upload is True  # type: ignore[union-attr]

    # Turned off by the person: a later passing test leaves it off.
    panel.auto_upload.setChecked(False)
    with qtbot.waitSignal(panel.saved, timeout=10_000):
        panel.save_button.click()
    assert load_config(data_dir).value.auto_upload is False  # type: ignore[union-attr]
    panel.test_button.click()
    qtbot.waitUntil(lambda: panel.result_label.text().startswith("Connected"), timeout=20_000)
    assert "Auto upload" not in panel.result_label.text() and not panel.auto_upload.isChecked()
    assert load_config(data_dir).value.auto_upload is False  # type: ignore[union-attr]
