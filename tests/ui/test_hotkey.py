"""The global hotkey: pynput's GlobalHotKeys on a real Xvfb, pressed with xdotool."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from app.widgets.hotkey import GlobalHotkey, check_hotkey
from tests.recorder.conftest import XServer
from tests.ui.conftest import AppFactory


def test_hotkey_syntax_is_checked() -> None:
    assert check_hotkey("<ctrl>+<alt>+r") is None
    assert check_hotkey("") is None
    problem = check_hotkey("<ctrl>+<nonsense>+r")
    assert problem is not None and "<ctrl>+<alt>+r" in problem
    assert check_hotkey("r") is not None and check_hotkey("<f9>+<f9>") is not None


@pytest.mark.xvfb
def test_hotkey_fires_from_another_application(qtbot: QtBot, x_display: XServer) -> None:
    hotkey = GlobalHotkey()
    assert hotkey.set_hotkey("<ctrl>+<alt>+r") is None and hotkey.active
    try:
        time.sleep(0.3)  # the RECORD context is set up on the listener thread
        with qtbot.waitSignal(hotkey.activated, timeout=10_000):
            x_display.xdotool("key", "ctrl+alt+r")
    finally:
        hotkey.stop()
    assert not hotkey.active


@pytest.mark.slow
@pytest.mark.xvfb
def test_saved_hotkey_works_after_a_restart(qtbot: QtBot, data_dir: Path, x_display: XServer,
                                            app_factory: AppFactory) -> None:
    from tests.ui.helpers import close_app

    window, services = app_factory(data_dir)
    window.hotkey_edit.setText("<ctrl>+<alt>+k")
    window.hotkey_apply.click()
    assert window.hotkey.active
    close_app(window, services)
    assert not window.hotkey.active

    # The next start: nobody presses "Apply hotkey"; the saved hotkey starts a recording.
    window, services = app_factory(data_dir)
    try:
        assert window.hotkey_edit.text() == "<ctrl>+<alt>+k"
        qtbot.waitUntil(lambda: window.hotkey.active, timeout=10_000)
        assert "<ctrl>+<alt>+k" in window.hotkey_hint.text()
        time.sleep(0.3)  # the RECORD context is set up on the listener thread
        x_display.xdotool("key", "ctrl+alt+k")
        qtbot.waitUntil(lambda: window.recorder.state == "recording", timeout=20_000)
        with qtbot.waitSignal(window.recorder.exportFinished, timeout=60_000):
            x_display.xdotool("key", "ctrl+alt+k")
    finally:
        close_app(window, services)


@pytest.mark.xvfb
# The simulated failure itself raises in pynput's record thread; that traceback is expected here.
@pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning")
def test_stopping_after_the_listener_ended_on_its_own_is_quiet(x_display: XServer) -> None:
    # pynput closes its X connections when its record thread ends; a later stop() then raises
    # ConnectionClosedError, which must not escape from the window's shutdown.
    hotkey = GlobalHotkey()
    assert hotkey.set_hotkey("<ctrl>+<alt>+j") is None
    listener = hotkey._listener
    listener.wait()
    listener._display_record.close()  # as when its record thread fails and its finally closes it
    listener.join(10)
    assert not listener.is_alive()
    hotkey.stop()
    assert not hotkey.active
