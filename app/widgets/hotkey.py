"""A configurable global hotkey (start/stop recording) through pynput's GlobalHotKeys.

Limits: pynput listens through the X RECORD extension on X11 (and the native
hooks on Windows/macOS); under Wayland it sees only XWayland windows, and the
key press is not swallowed, so the focused application still receives it.
The listener thread only emits a Qt signal; the toggle runs on the GUI thread.
"""

from __future__ import annotations

import logging
from typing import Any

from PySide6.QtCore import QObject, Signal

log = logging.getLogger(__name__)

DEFAULT_HOTKEY = "<ctrl>+<alt>+r"


def check_hotkey(spec: str) -> str | None:
    """None when pynput understands `spec` (e.g. '<ctrl>+<alt>+r'), else one sentence."""
    if not spec.strip():
        return None
    try:
        from pynput import keyboard

        keyboard.HotKey.parse(spec)
    except Exception:
        return (f"'{spec}' is not a hotkey pynput understands; write it like <ctrl>+<alt>+r "
                "(modifiers in angle brackets, joined with +).")
    return None


class GlobalHotkey(QObject):
    activated = Signal()

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._listener: Any = None
        self.spec = ""
        self.problem: str | None = None

    def set_hotkey(self, spec: str) -> str | None:
        """Listen for `spec` (empty = off); returns a sentence when it cannot be used."""
        self.stop()
        self.spec = spec.strip()
        self.problem = check_hotkey(self.spec)
        if not self.spec or self.problem:
            return self.problem
        try:
            from pynput import keyboard

            self._listener = keyboard.GlobalHotKeys({self.spec: self.activated.emit})
            self._listener.daemon = True
            self._listener.start()
        except Exception as exc:  # no X server, no RECORD extension, no permission
            log.warning("global hotkey unavailable: %s", exc)
            self._listener = None
            self.problem = "The global hotkey is not available on this desktop."
        return self.problem

    @property
    def active(self) -> bool:
        return self._listener is not None

    def stop(self) -> None:
        if self._listener is not None:
            # pynput's stop() returns at once; the thread ends at the next input event (daemon).
            self._listener.stop()
            self._listener = None
