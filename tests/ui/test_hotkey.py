"""The global hotkey: pynput's GlobalHotKeys on a real Xvfb, pressed with xdotool."""

from __future__ import annotations

import time

import pytest
from pytestqt.qtbot import QtBot

from app.widgets.hotkey import GlobalHotkey, check_hotkey
from tests.recorder.conftest import XServer


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
