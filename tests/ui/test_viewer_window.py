"""The viewer from the window (Play, double-click, Enter), card thumbnails, Copy link to the
clipboard (against moto), and `sessionrec view` as a real process."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication
from pytestqt.qtbot import QtBot

from app.main_window import MainWindow
from app.paths import ensure_data_dir
from app.playback.thumbnail import THUMBNAIL_FILE
from app.upload.s3.destination import upload_session
from app.upload.session.state_store import UploadStateStore
from app.widgets.session_model import Role
from tests.factories import make_session
from tests.ui.helpers import button_centre, click_card_button, close_app, open_app
from tests.ui.recorded import Recorded, copy_session

REPO = Path(__file__).resolve().parents[2]


def card_index(window: MainWindow, session_id: str) -> Any:
    view = window.session_view
    row = window.model.row_of(session_id)
    assert row is not None
    return view.proxy.mapFromSource(window.model.index(row))


@pytest.mark.slow
@pytest.mark.xvfb
def test_play_double_click_and_enter_open_the_viewer(qtbot: QtBot, recorded_session: Recorded,
                                                     tmp_path: Path) -> None:
    data_dir = ensure_data_dir(tmp_path / "data")
    copy = copy_session(recorded_session, data_dir)
    window, services = open_app(qtbot, data_dir)
    try:
        window.show_view("sessions")
        view = window.session_view
        click_card_button(qtbot, view, copy.session_id, "play")
        viewer = window.viewers[copy.session_id]
        qtbot.waitUntil(lambda: viewer.current is not None, timeout=20_000)
        assert viewer.isVisible() and len(viewer.session.timeline.rows if viewer.session else []) == 6
        viewer.close()
        qtbot.waitUntil(lambda: copy.session_id not in window.viewers, timeout=5000)

        index = card_index(window, copy.session_id)
        geometry = view.list.card_delegate.geometry(view.list.visualRect(index), view.list.font(), index)
        # On the card's title (not on a button).
        qtbot.mouseDClick(view.list.viewport(), Qt.MouseButton.LeftButton, pos=geometry.title.center())
        qtbot.waitUntil(lambda: copy.session_id in window.viewers, timeout=5000)
        window.viewers[copy.session_id].close()
        qtbot.waitUntil(lambda: copy.session_id not in window.viewers, timeout=5000)

        view.list.setFocus()
        view.select_session(copy.session_id)
        qtbot.keyClick(view.list, Qt.Key.Key_Return)
        qtbot.waitUntil(lambda: copy.session_id in window.viewers, timeout=5000)
        again = window.viewers[copy.session_id]
        qtbot.keyClick(view.list, Qt.Key.Key_P)  # the same session again: the same window
        assert window.viewers[copy.session_id] is again
    finally:
        close_app(window, services)
    assert not window.viewers  # closing the app closed the viewer


@pytest.mark.slow
@pytest.mark.xvfb
def test_cards_get_thumbnails_made_once_off_the_gui_thread(qtbot: QtBot, recorded_session: Recorded,
                                                           tmp_path: Path) -> None:
    data_dir = ensure_data_dir(tmp_path / "data")
    copy = copy_session(recorded_session, data_dir)
    window, services = open_app(qtbot, data_dir)
    try:
        window.show_view("sessions")
        index = card_index(window, copy.session_id)
        qtbot.waitUntil(lambda: index.data(Role.THUMBNAIL) is not None, timeout=20_000)
        pixmap = index.data(Role.THUMBNAIL)
        assert (pixmap.width(), pixmap.height()) == (192, 108)
        assert (copy.root / THUMBNAIL_FILE).is_file()
        made = window.thumbnails.made
        window.session_view.list.viewport().repaint()
        assert window.thumbnails.made == made  # painted again from memory, not made again
    finally:
        close_app(window, services)


def test_copy_link_puts_a_working_link_on_the_clipboard(qtbot: QtBot, data_dir: Path, s3_config: Any,
                                                        s3_server: Any) -> None:
    config = s3_config()
    session_id = make_session(data_dir, 1_700_000_000_000, zip_bytes=50_000)
    store = UploadStateStore(data_dir)
    upload_session(data_dir, session_id, config, store, lambda _p: None, threading.Event())
    store.set_status(session_id, "done")
    window, services = open_app(qtbot, data_dir)
    try:
        window.show_view("sessions")
        qtbot.waitUntil(lambda: window.model.config_valid, timeout=10_000)
        QGuiApplication.clipboard().clear()
        assert button_centre(window.session_view, session_id, "copy_link")
        with qtbot.waitSignal(window.linkCopied, timeout=20_000):
            click_card_button(qtbot, window.session_view, session_id, "copy_link")
        url = QGuiApplication.clipboard().text()
        assert url.startswith(f"{s3_server.endpoint_url}/{config.bucket}/{session_id}.zip?")
        with urllib.request.urlopen(url, timeout=10) as answer:
            assert answer.read() == (data_dir / "sessions" / session_id / "session.zip").read_bytes()
        message = window.statusBar().currentMessage()
        assert message.startswith(f"A link to session {session_id} is on the clipboard. The link works "
                                  "for 7 days")
        assert "X-Amz" not in message
    finally:
        close_app(window, services)


def run_view(data_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, PYTHONPATH=str(REPO), QT_QPA_PLATFORM="offscreen")
    env.pop("DISPLAY", None)
    return subprocess.run([sys.executable, "-m", "app", "--data-dir", str(data_dir), "view", *args],
                          cwd=REPO, env=env, capture_output=True, text=True, timeout=120)


@pytest.mark.slow
@pytest.mark.xvfb
def test_view_command(recorded_session: Recorded, tmp_path: Path) -> None:
    result = run_view(recorded_session.data_dir, recorded_session.session_id, "--exit-after", "0.3")
    assert result.returncode == 0, result.stderr
    assert "sessionrec: viewer ready: 6 timeline rows" in result.stdout
    missing = run_view(ensure_data_dir(tmp_path / "empty"), "20240101-000000-000-000000")
    assert missing.returncode == 2
    assert missing.stderr.startswith("sessionrec: There is no session 20240101-000000-000-000000 in ")
    bad = run_view(recorded_session.data_dir, "../../etc")
    assert bad.returncode == 2 and "is not a session id" in bad.stderr
