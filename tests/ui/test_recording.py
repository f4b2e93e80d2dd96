"""Record from the window on a real Xvfb: the bar shows live counts, Stop puts the exported
session at the top of the list."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from app.app_shell.recording_controller import RecordingController
from app.main_window import MainWindow
from app.widgets.record_bar import RecordStats
from tests.recorder.conftest import XServer


def record_session(qtbot: QtBot, window: MainWindow, xserver: XServer, seconds: float = 2.0) -> str:
    """Click Record, make some input, click Stop; returns the new session's id once exported."""
    bar = window.record_bar
    stats: list[RecordStats] = []
    window.recorder.statsChanged.connect(stats.append)
    window.show_view("recording")
    bar.record_button.click()
    qtbot.waitUntil(lambda: window.recorder.state == "recording", timeout=20_000)
    assert bar.health_text() == "Recorder healthy"
    xserver.xdotool("mousemove", "200", "200")
    xserver.xdotool("click", "1")
    xserver.xdotool("mousemove", "400", "300")
    qtbot.waitUntil(lambda: bool(stats) and stats[-1].frames >= 5 and stats[-1].actions >= 1,
                    timeout=20_000)
    assert bar.frames_label.text() == f"{stats[-1].frames} frames"
    time.sleep(max(0.0, seconds - 0.5))
    with qtbot.waitSignal(window.recorder.exportFinished, timeout=60_000) as finished:
        bar.stop_button.click()
        assert bar.state_label.text().startswith("Stopping")
    session_id, error = finished.args
    assert error is None
    qtbot.waitUntil(lambda: (item := window.model.item(session_id)) is not None and item.is_exported,
                    timeout=10_000)
    return str(session_id)


@pytest.mark.slow
@pytest.mark.xvfb
def test_record_from_the_window(qtbot: QtBot, data_dir: Path, x_display: XServer) -> None:
    window = MainWindow(data_dir, RecordingController(data_dir, fps=10))
    window.ask_close = lambda _reason: "quit"
    qtbot.addWidget(window)
    window.show()
    session_id = record_session(qtbot, window, x_display)
    assert window.current_view() == "sessions"
    assert window.model.data(window.model.index(0), 0x0100 + 4) == session_id  # newest first
    item = window.model.item(session_id)
    assert item is not None and item.action_count >= 1 and item.upload_status == "not_uploaded"
    assert window.record_bar.state == "idle"
    assert window.tray.record_action.text() == "Start recording"


@pytest.mark.slow
@pytest.mark.xvfb
def test_closing_while_recording_saves_the_session_first(qtbot: QtBot, data_dir: Path,
                                                         x_display: XServer) -> None:
    window = MainWindow(data_dir, RecordingController(data_dir, fps=10))
    asked: list[str] = []
    window.ask_close = lambda reason: asked.append(reason) or "quit"  # type: ignore[func-returns-value]
    qtbot.addWidget(window)
    window.show()
    window.record_bar.record_button.click()
    qtbot.waitUntil(lambda: window.recorder.state == "recording", timeout=20_000)
    session_id = window.recorder.session_id
    assert session_id is not None
    with qtbot.waitSignal(window.closed, timeout=60_000):
        window.close()
    assert asked and "recording" in asked[0]
    from app.sessions import is_exported, session_paths

    assert is_exported(session_paths(data_dir, session_id))
