"""Characters typed through a key mapping made after the recording started are logged as those
characters. `xdotool type` binds a character that has no key to a spare keycode for a single
keystroke (and rebinds it before the release), so the listener has to follow the mapping in the
order of the input."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from app.recorder.session_recorder import RecorderSettings, SessionRecorder
from tests.recorder.conftest import XServer

pytestmark = [pytest.mark.xvfb, pytest.mark.slow]

TYPED = "aéb€ñéßéz"  # é, €, ñ and ß have no key in Xvfb's default (US) mapping


def test_characters_typed_through_a_temporary_mapping(x_display: XServer, data_dir: Path) -> None:
    recorder = SessionRecorder(data_dir, RecorderSettings(fps=10, screenshot_every_s=0))
    recorder.start()
    try:
        time.sleep(0.3)
        for _ in range(3):
            x_display.xdotool("type", "--delay", "20", TYPED)
        x_display.xdotool("key", "shift+a")  # a mapped key, with a modifier, still works
        time.sleep(0.3)
        recorder.stop()
    finally:
        recorder.close()
    assert recorder.paths is not None
    actions = [json.loads(line) for line in recorder.paths.actions.read_text().splitlines()]
    downs = [a["key"] for a in actions if a["type"] == "key_down"]
    ups = [a["key"] for a in actions if a["type"] == "key_up"]
    assert downs == [*TYPED * 3, "shift", "A"]
    assert ups == [*TYPED * 3, "shift", "A"]  # a release is named like its press
    assert not [k for k in downs + ups if k.startswith("vk")]
