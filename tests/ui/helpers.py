"""Driving the painted session cards and the whole window from tests."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import QPoint, Qt
from pytestqt.qtbot import QtBot

from app.app_shell.application import Application
from app.app_shell.recording_controller import RecordingController
from app.main_window import MainWindow
from app.widgets.session_list import SessionListView


def button_centre(view: SessionListView, session_id: str, action: str) -> QPoint:
    lst = view.list
    row = view.model.row_of(session_id)
    assert row is not None, f"{session_id} is not in the list"
    index = view.proxy.mapFromSource(view.model.index(row))
    assert index.isValid(), f"{session_id} is filtered out"
    lst.scrollTo(index)
    rect = lst.visualRect(index)
    geo = lst.card_delegate.geometry(rect, lst.font(), index)
    if action == "edit":
        return geo.edit.center()
    for name, button_rect in geo.buttons:
        if name == action:
            return button_rect.center()
    raise AssertionError(f"{action} is not drawn on {session_id}")


def click_card_button(qtbot: QtBot, view: SessionListView, session_id: str, action: str) -> None:
    qtbot.mouseClick(view.list.viewport(), Qt.MouseButton.LeftButton,
                     pos=button_centre(view, session_id, action))


def status_of(window: MainWindow, session_id: str) -> str | None:
    item = window.model.item(session_id)
    return None if item is None else item.upload_status


def open_app(qtbot: QtBot, data_dir: Path, fps: int = 10, engine: Any = None,
             opened: list[tuple[MainWindow, Application]] | None = None,
             start_queue: bool = True) -> tuple[MainWindow, Application]:
    """The window as `sessionrec gui` builds it, with its services started and ready. Use the
    `app_factory` fixture, which closes it (and stops the queue) however the test ends."""
    shell = Application(data_dir, RecordingController(data_dir, fps=fps), engine=engine,
                        start_queue=start_queue)
    window = shell.window
    if opened is not None:
        opened.append((window, shell))  # before any wait: a failed wait still gets closed
    window.ask_close = lambda _reason: "quit"
    window.confirm = lambda _title, _text: False
    qtbot.addWidget(window)
    window.show()
    with qtbot.waitSignal(shell.ready, timeout=30_000):
        shell.start()
    qtbot.waitUntil(lambda: window.model.config_valid or shell.panel.loaded is not None,
                    timeout=10_000)
    return window, shell


def close_app(window: MainWindow, shell: Application) -> None:
    """Close the window and stop what the app started; safe to call more than once."""
    window.close()
    shell.stop()
    # What the window's executor still runs (a last refresh) finishes before the test ends.
    shell.executor.wait_idle(10)
