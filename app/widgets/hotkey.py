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


# pynput's Key names usable in a hotkey (checked here so no X connection is needed to validate).
KEY_NAMES = frozenset(
    ["alt", "alt_l", "alt_r", "alt_gr", "backspace", "caps_lock", "cmd", "cmd_l", "cmd_r", "ctrl",
     "ctrl_l", "ctrl_r", "delete", "down", "end", "enter", "esc", "home", "insert", "left", "menu",
     "num_lock", "page_down", "page_up", "pause", "print_screen", "right", "scroll_lock", "shift",
     "shift_l", "shift_r", "space", "tab", "up"] + [f"f{n}" for n in range(1, 21)])


def check_hotkey(spec: str) -> str | None:
    """None when `spec` is a hotkey in pynput's syntax (e.g. '<ctrl>+<alt>+r'), else one sentence."""
    spec = spec.strip()
    if not spec:
        return None
    parts = spec.split("+")
    seen: set[str] = set()
    for part in parts:
        name = part[1:-1] if len(part) > 2 and part.startswith("<") and part.endswith(">") else None
        valid = (name is not None and (name in KEY_NAMES or name.isdigit())) or (
            name is None and len(part) == 1 and part.isprintable())
        if not valid or part in seen:
            return (f"'{spec[:40]}' is not a hotkey; write it like <ctrl>+<alt>+r (special keys in "
                    "angle brackets, joined with +).")
        seen.add(part)
    if len(parts) < 2:
        return "A global hotkey needs a modifier, like <ctrl>+<alt>+r, so normal typing never triggers it."
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

            from app.pynput_quiet import quiet_after_stop

            self._listener = quiet_after_stop(keyboard.GlobalHotKeys)({self.spec: self.activated.emit})
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
            listener, self._listener = self._listener, None
            # pynput's stop() returns at once; the thread ends at the next input event (daemon).
            try:
                listener.stop()
            except Exception as exc:  # its X connection already closed: the record thread ended
                log.info("global hotkey listener stopped with its display already closed: %s", exc)
