"""Titles and notes in the window: edited on the card, written into session-meta.json, shown on
the card and sent with the object; typed in the Recording view while recording."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from app.recorder.session_lock import SessionLock
from app.sessions import load_meta, session_paths
from app.upload.config import object_key
from app.upload.session.object_meta import decode_text
from tests.factories import make_session
from tests.recorder.conftest import XServer
from tests.s3support.server import S3Server
from tests.ui.conftest import AppFactory
from tests.ui.helpers import click_card_button, close_app, status_of
from tests.ui.test_recording import record_session

NOW = int(time.time() * 1000)


def _meta_title(data_dir: Path, session_id: str) -> tuple[str | None, str | None]:
    meta = load_meta(session_paths(data_dir, session_id)).value
    assert meta is not None
    return meta.title, meta.note


@pytest.mark.slow
def test_title_edited_on_the_card_is_in_the_meta_and_the_object(
        qtbot: QtBot, data_dir: Path, s3_config: Callable[..., Any], s3_server: S3Server,
                                                                app_factory: AppFactory) -> None:
    config = s3_config()
    session_id = make_session(data_dir, NOW, zip_bytes=64 * 1024)
    window, services = app_factory(data_dir)
    try:
        click_card_button(qtbot, window.session_view, session_id, "edit")  # the pencil
        dialog = window.texts_dialog
        assert dialog is not None and dialog.isVisible()
        qtbot.keyClicks(dialog.title_edit, "Checkout fails ")
        dialog.title_edit.insert("— Zahlung")  # QTest types ASCII only
        qtbot.keyClicks(dialog.note_edit, "Ticket 4711")
        qtbot.keyClick(dialog.note_edit, Qt.Key.Key_Return)
        qtbot.keyClicks(dialog.note_edit, "only with a saved card")
        dialog.buttons.button(dialog.buttons.StandardButton.Save).click()
        qtbot.waitUntil(lambda: (item := window.model.item(session_id)) is not None
                        and item.title == "Checkout fails — Zahlung", timeout=10_000)
        assert _meta_title(data_dir, session_id) == ("Checkout fails — Zahlung",
                                                     "Ticket 4711\nonly with a saved card")
        index = window.session_view.proxy.index(0, 0)
        tooltip = window.session_view.list.card_delegate.tooltip(index, None)
        assert "Checkout fails" in tooltip and "Ticket 4711" in tooltip

        click_card_button(qtbot, window.session_view, session_id, "upload")
        qtbot.waitUntil(lambda: status_of(window, session_id) == "done", timeout=30_000)
        head = s3_server.client().head_object(Bucket=config.bucket,
                                              Key=object_key(config, session_id))
        assert decode_text(head["Metadata"]["title"]) == "Checkout fails — Zahlung"
    finally:
        close_app(window, services)


def test_f2_opens_the_editor_and_a_bad_title_cannot_be_saved(qtbot: QtBot, data_dir: Path,
                                                             app_factory: AppFactory) -> None:
    session_id = make_session(data_dir, NOW)
    window, services = app_factory(data_dir)
    try:
        window.session_view.select_session(session_id)
        window.session_view.list.setFocus()
        qtbot.keyClick(window.session_view.list, Qt.Key.Key_F2)
        dialog = window.texts_dialog
        assert dialog is not None
        dialog.title_edit.setText("bell\x07")
        save = dialog.buttons.button(dialog.buttons.StandardButton.Save)
        assert not save.isEnabled() and "control characters" in dialog.problem_label.text()
        dialog.title_edit.setText("fine")
        assert save.isEnabled()
        dialog.reject()
        assert _meta_title(data_dir, session_id) == (None, None)  # Cancel wrote nothing
    finally:
        close_app(window, services)


def test_a_locked_session_says_so_and_keeps_its_meta(qtbot: QtBot, data_dir: Path,
                                                     app_factory: AppFactory) -> None:
    """Another process records (or exports) the session: the edit is refused in a sentence."""
    session_id = make_session(data_dir, NOW)
    window, services = app_factory(data_dir)
    lock = SessionLock(session_paths(data_dir, session_id).root)
    assert lock.try_acquire()
    try:
        window.save_texts(session_id, "too early", None)
        qtbot.waitUntil(lambda: "being recorded or exported" in window.statusBar().currentMessage(),
                        timeout=10_000)
        assert _meta_title(data_dir, session_id) == (None, None)
    finally:
        lock.release()
        close_app(window, services)


@pytest.mark.slow
@pytest.mark.xvfb
def test_title_typed_while_recording_lands_in_the_session(qtbot: QtBot, data_dir: Path,
                                                          x_display: XServer,
                                                          app_factory: AppFactory) -> None:
    window, services = app_factory(data_dir)
    try:
        window.next_title_edit.setText("Onboarding walkthrough")
        session_id = record_session(qtbot, window, x_display)
        qtbot.waitUntil(lambda: (item := window.model.item(session_id)) is not None
                        and item.title == "Onboarding walkthrough", timeout=10_000)
        assert _meta_title(data_dir, session_id)[0] == "Onboarding walkthrough"
        assert window.next_title_edit.text() == ""
    finally:
        close_app(window, services)
