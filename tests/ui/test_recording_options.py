"""The Recording view's options (frame rate, monitor, key masking, screenshot interval) and its
live preview: remembered in gui-settings.ini, handed to the recorder, written to
session-meta.json, and the preview showing the recorded monitor, outlined among several."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor
from pytestqt.qtbot import QtBot

from app.app_shell.recording_controller import RecordingController
from app.main_window import MainWindow
from app.models import ScreenRect
from app.recorder.monitors import Monitor
from app.recorder.options import RecordingOptions
from app.sessions import load_meta, session_paths
from tests.recorder.conftest import start_xvfb
from tests.recorder.randr import monitors as virtual_monitors


def open_window(qtbot: QtBot, data_dir: Path, controller: RecordingController | None = None
                ) -> MainWindow:
    window = MainWindow(data_dir, controller or RecordingController(data_dir))
    window.ask_close = lambda _reason: "quit"
    qtbot.addWidget(window)
    window.show()
    window.show_view("recording")
    return window


def test_options_are_remembered_between_runs(qtbot: QtBot, data_dir: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DISPLAY", raising=False)
    window = open_window(qtbot, data_dir)
    panel = window.options_panel
    assert panel.options() == RecordingOptions()  # first run: the defaults
    assert "DISPLAY" in panel.monitor_note.text()
    panel.fps.setValue(25)
    panel.monitor.setCurrentIndex(panel.monitor.findData("all"))
    panel.mask_keys.setChecked(True)
    panel.screenshot_every.setValue(12.5)
    chosen = RecordingOptions(fps=25, monitor="all", mask_keys=True, screenshot_every_s=12.5)
    assert panel.options() == chosen and window.recorder.options == chosen
    window.close()
    window.settings.sync()
    ini = (data_dir / "gui-settings.ini").read_text()
    assert "[recording]" in ini and "fps=25" in ini and "screenshotEverySec=12.5" in ini

    again = open_window(qtbot, data_dir)
    assert again.options_panel.options() == chosen
    assert again.recorder.options == chosen
    assert again.options_panel.fps.text() == "25 fps"
    again.options_panel.screenshot_every.setValue(0)
    assert again.options_panel.screenshot_every.text() == "Off"
    again.close()


def test_bad_remembered_options_fall_back_to_the_defaults(qtbot: QtBot, data_dir: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DISPLAY", raising=False)
    (data_dir / "gui-settings.ini").write_text(
        "[recording]\nfps=99\nmonitor=../x\nmaskKeys=perhaps\nscreenshotEverySec=nan\n")
    window = open_window(qtbot, data_dir)
    assert window.options_panel.options() == RecordingOptions()
    window.close()


def test_monitors_are_offered_by_name_and_size(qtbot: QtBot, data_dir: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DISPLAY", raising=False)
    window = open_window(qtbot, data_dir)
    panel = window.options_panel
    panel.set_options(RecordingOptions(monitor="3"))  # remembered, but not connected now
    monitors = [Monitor("1", "DP-1 DELL U2720Q", ScreenRect(0, 0, 2560, 1440), primary=True),
                Monitor("2", "HDMI-1", ScreenRect(2560, 0, 1920, 1080)),
                Monitor("all", "All monitors", ScreenRect(0, 0, 4480, 1440))]
    panel.set_monitors(monitors)
    labels = [panel.monitor.itemText(i) for i in range(panel.monitor.count())]
    assert labels == ["1: DP-1 DELL U2720Q — 2560×1440, primary",
                      "2: HDMI-1 — 1920×1080", "All monitors — 4480×1440"]
    assert "2560,0" in panel.monitor.itemData(1, Qt.ItemDataRole.ToolTipRole)
    assert panel.options().monitor == "1"
    assert panel.monitor_note.isVisibleTo(panel)
    assert "Monitor 3 is not connected" in panel.monitor_note.text()
    window.preview.set_monitors(monitors)
    window.preview.set_chosen("2")
    assert window.preview.outlined_monitor() == "2"
    window.preview.set_chosen("all")
    assert window.preview.outlined_monitor() is None
    window.close()


class FakeRecorder:
    """Enough of SessionRecorder for the controller: frames that change, counters."""

    def __init__(self, options: RecordingOptions) -> None:
        self.options = options
        self.failed = threading.Event()
        self.index = 0
        self.pixels = np.zeros((200, 300, 4), np.uint8)
        self.pixels[:, :] = (200, 100, 50, 255)  # BGRA: a blue-ish colour

    def start(self) -> str:
        return "20260101-000000-000-abcdef"

    def pause(self) -> None: ...
    def resume(self) -> None: ...
    def stop(self) -> None: ...
    def export(self, cancel: Any = None, on_progress: Any = None) -> None: ...
    def close(self) -> None: ...

    def status(self) -> Any:
        return SimpleNamespace(t_ms=0, frame_count=self.index, action_count=0,
                               screenshot_count=0, dropped_frames=0, error=None)

    def latest_frame(self) -> tuple[int, int, Any]:
        self.index += 1
        return self.index, self.index * 100, self.pixels


def test_the_recorder_gets_the_shown_options_and_the_preview_its_frames(
        qtbot: QtBot, data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DISPLAY", raising=False)
    made: list[FakeRecorder] = []

    def factory(_data_dir: Path, options: RecordingOptions) -> FakeRecorder:
        made.append(FakeRecorder(options))
        return made[-1]

    window = open_window(qtbot, data_dir, RecordingController(data_dir, factory=factory))
    panel = window.options_panel
    panel.fps.setValue(7)
    panel.mask_keys.setChecked(True)
    window.record_bar.record_button.click()
    qtbot.waitUntil(lambda: window.recorder.state == "recording", timeout=5000)
    assert made[0].options == panel.options() and made[0].options.fps == 7
    assert not panel.fps.isEnabled() and not panel.monitor.isEnabled()
    qtbot.waitUntil(lambda: window.preview.images_shown >= 2, timeout=5000)
    image = window.preview._image
    assert image is not None and (image.width(), image.height()) == (300, 200)
    assert image.pixelColor(5, 5) == QColor(50, 100, 200)  # BGRA bytes shown as RGB
    assert window.preview.last_index == made[0].index or window.preview.last_index == made[0].index - 1
    with qtbot.waitSignal(window.recorder.exportFinished, timeout=5000):
        window.record_bar.stop_button.click()
    assert panel.fps.isEnabled()
    shown = window.preview.images_shown
    time.sleep(0.7)
    qtbot.wait(50)
    assert window.preview.images_shown == shown  # no preview once stopped
    window.close()


@pytest.fixture
def two_monitor_display(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    proc, display = start_xvfb(1280, 480)
    monkeypatch.setenv("DISPLAY", display)
    try:
        with virtual_monitors(display, [("LEFT", 0, 0, 640, 480), ("RIGHT", 640, 0, 640, 480)]):
            yield display
    finally:
        proc.terminate()
        proc.wait(10)


def paint(display_name: str, x: int, width: int, rgb: int) -> Any:
    from Xlib import display as xdisplay  # type: ignore[import-untyped]

    disp = xdisplay.Display(display_name)
    screen = disp.screen()
    window = screen.root.create_window(x, 0, width, 480, 0, screen.root_depth,
                                       background_pixel=rgb, override_redirect=True)
    window.map()
    disp.sync()
    return disp


@pytest.mark.slow
@pytest.mark.xvfb
def test_recording_one_of_two_monitors(qtbot: QtBot, data_dir: Path,
                                       two_monitor_display: str) -> None:
    painters = [paint(two_monitor_display, 0, 640, 0xCC2020), paint(two_monitor_display, 640, 640, 0x2040CC)]
    try:
        window = open_window(qtbot, data_dir)
        panel = window.options_panel
        qtbot.waitUntil(lambda: panel.monitor.count() == 3, timeout=10_000)
        assert [panel.monitor.itemData(i) for i in range(3)] == ["1", "2", "all"]
        assert window.preview.outlined_monitor() == "1"
        panel.monitor.setCurrentIndex(panel.monitor.findData("2"))
        panel.fps.setValue(15)
        panel.mask_keys.setChecked(True)
        panel.screenshot_every.setValue(2)
        assert window.preview.outlined_monitor() == "2"
        window.record_bar.record_button.click()
        qtbot.waitUntil(lambda: window.recorder.state == "recording", timeout=20_000)
        qtbot.waitUntil(lambda: window.preview.images_shown >= 3, timeout=10_000)
        image = window.preview._image
        assert image is not None and (image.width(), image.height()) == (640, 480)
        assert image.pixelColor(320, 240) == QColor(0x20, 0x40, 0xCC)  # the right monitor
        assert window.preview.outlined_monitor() == "2"
        session_id = window.recorder.session_id
        assert session_id is not None
        with qtbot.waitSignal(window.recorder.exportFinished, timeout=60_000) as finished:
            window.record_bar.stop_button.click()
        assert finished.args[1] is None
    finally:
        for disp in painters:
            disp.close()
    meta = load_meta(session_paths(data_dir, session_id)).value
    assert meta is not None
    assert (meta.monitor, meta.monitor_name, meta.screen) == ("2", "Monitor 2",
                                                               ScreenRect(640, 0, 640, 480))
    assert (meta.fps, meta.mask_keys, meta.screenshot_every_sec) == (15, True, 2.0)
    on_disk = json.loads(session_paths(data_dir, session_id).meta.read_text())
    assert on_disk["monitor"] == "2" and on_disk["screenshotEverySec"] == 2.0
    window.close()
