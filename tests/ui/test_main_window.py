"""The window shell: views, remembered state, delete confirmations, closing while busy."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from app.main_window import MainWindow
from app.sessions import session_paths
from tests.factories import make_session

NOW = int(time.time() * 1000)


def open_window(qtbot: QtBot, data_dir: Path) -> MainWindow:
    window = MainWindow(data_dir)
    # Never a real modal dialog in a test: closing at teardown quits.
    window.ask_close = lambda _reason: "quit"
    window.confirm = lambda _title, _text: False
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    with qtbot.waitSignal(window.sessionsLoaded, timeout=10_000):
        window.reload_sessions()
    return window


def test_views_switch_by_keyboard_and_are_remembered(qtbot: QtBot, data_dir: Path) -> None:
    window = open_window(qtbot, data_dir)
    qtbot.keyClick(window, Qt.Key.Key_1, Qt.KeyboardModifier.ControlModifier)
    assert window.current_view() == "recording"
    qtbot.keyClick(window, Qt.Key.Key_3, Qt.KeyboardModifier.ControlModifier)
    assert window.current_view() == "settings"
    window.resize(700, 555)
    window.session_view.set_filter(4)
    window.close()
    assert (data_dir / "gui-settings.ini").is_file()

    again = open_window(qtbot, data_dir)
    assert again.current_view() == "settings"
    assert again.session_view.filter_box.currentIndex() == 4
    assert (again.width(), again.height()) == (700, 555)


def test_delete_asks_and_asks_again_for_unsent_sessions(qtbot: QtBot, data_dir: Path) -> None:
    unsent = make_session(data_dir, NOW)
    done = make_session(data_dir, NOW - 1000, status="done")
    uploading = make_session(data_dir, NOW - 2000, status="uploading")
    window = open_window(qtbot, data_dir)
    questions: list[str] = []
    answers: list[bool] = []

    def confirm(title: str, _text: str) -> bool:
        questions.append(title)
        return answers.pop(0)

    window.confirm = confirm
    # Unsent: first yes, second no -> kept.
    answers[:] = [True, False]
    window.on_card_action(unsent, "delete")
    assert questions == ["Delete session?", "This session was never uploaded"]
    assert session_paths(data_dir, unsent).root.is_dir()
    # Uploaded: one question is enough.
    questions.clear()
    answers[:] = [True]
    window.on_card_action(done, "delete")
    assert questions == ["Delete session?"]
    qtbot.waitUntil(lambda: window.model.item(done) is None, timeout=5000)
    assert not session_paths(data_dir, done).root.exists()
    # Uploading: never, not even asked.
    questions.clear()
    window.on_card_action(uploading, "delete")
    assert questions == []
    assert session_paths(data_dir, uploading).root.is_dir()
    # Unsent, both yes -> gone.
    answers[:] = [True, True]
    window.on_card_action(unsent, "delete")
    qtbot.waitUntil(lambda: window.model.item(unsent) is None, timeout=5000)
    assert not session_paths(data_dir, unsent).root.exists()


def test_open_folder_opens_the_session_folder(qtbot: QtBot, data_dir: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    sid = make_session(data_dir, NOW)
    window = open_window(qtbot, data_dir)
    opened: list[Path] = []
    monkeypatch.setattr(window, "open_folder", opened.append)
    window.session_view.actionRequested.emit(sid, "open_folder")
    assert opened == [session_paths(data_dir, sid).root]


def test_closing_with_uploads_pending_asks(qtbot: QtBot, data_dir: Path) -> None:
    make_session(data_dir, NOW, status="pending")
    window = open_window(qtbot, data_dir)
    asked: list[str] = []
    window.ask_close = lambda reason: asked.append(reason) or "cancel"  # type: ignore[func-returns-value]
    window.close()
    assert asked and "Uploads are in progress" in asked[0]
    assert window.isVisible()
    window.ask_close = lambda reason: "tray"
    window.close()
    assert not window.isVisible()  # hidden to the tray, still alive
    assert window.tray.notifications[-1][0] == "sessionrec is still running"
    closed: list[int] = []
    window.closed.connect(lambda: closed.append(1))
    window.ask_close = lambda reason: "quit"
    window.show()
    window.close()
    assert closed == [1]


def test_damaged_session_is_listed_and_not_deleted_by_start_up(qtbot: QtBot, data_dir: Path) -> None:
    sid = make_session(data_dir, NOW)
    session_paths(data_dir, sid).meta.write_text("{broken")
    window = open_window(qtbot, data_dir)
    item = window.model.item(sid)
    assert item is not None and item.damaged
    assert session_paths(data_dir, sid).root.is_dir()
