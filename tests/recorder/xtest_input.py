"""Input injected through XTEST with a round trip, so the moment the server had it is known.

`inject` sends one fake event and then waits for a reply from the server (`sync` is a
GetInputFocus round trip): the server processes requests in order, so when it returns the event
was delivered to the X RECORD clients. The caller reads its clock before and after.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from Xlib import XK, X, display  # type: ignore[import-untyped]
from Xlib.ext import xtest  # type: ignore[import-untyped]


@dataclass(frozen=True)
class Injected:
    kind: str  # move, click, scroll, key
    before_ms: int
    after_ms: int
    detail: Any


class XTestInput:
    def __init__(self, now_ms: Callable[[], int]) -> None:
        self.display = display.Display()
        self.now_ms = now_ms
        self.sent: list[Injected] = []

    def close(self) -> None:
        self.display.close()

    def _round_trip(self, kind: str, detail: Any, *events: tuple[int, int, int, int]) -> None:
        before = self.now_ms()
        for event_type, code, x, y in events:
            xtest.fake_input(self.display, event_type, code, x=x, y=y)
        self.display.sync()
        self.sent.append(Injected(kind, before, self.now_ms(), detail))

    def move(self, x: int, y: int) -> None:
        self._round_trip("move", (x, y), (X.MotionNotify, 0, x, y))

    def press(self, button: int) -> None:
        self._round_trip("click" if button <= 3 else "scroll", button,
                         (X.ButtonPress, button, 0, 0))

    def release(self, button: int) -> None:
        self._round_trip("click" if button <= 3 else "scroll-release", button,
                         (X.ButtonRelease, button, 0, 0))

    def key(self, char: str, pressed: bool) -> None:
        code = self.display.keysym_to_keycode(XK.string_to_keysym(char))
        assert code, f"no keycode for {char!r}"
        self._round_trip("key", (char, pressed), (X.KeyPress if pressed else X.KeyRelease, code, 0, 0))
