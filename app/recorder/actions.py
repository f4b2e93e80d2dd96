"""Turning raw input events into action lines: key names, key masking, move coalescing.

Pure code (no pynput, no display) so it is unit-tested directly. Keys are read by duck typing:
pynput's `KeyCode` has `.char` (and `.vk`), its `Key` enum members have `.name`.
"""

from __future__ import annotations

import enum
from typing import Any

MASK = "*"
# Special keys that type a visible character: masked like letters when maskKeys is on.
_TYPING_SPECIAL_KEYS = frozenset({"space"})

Action = dict[str, Any]
UNICODE_KEYSYM_BASE = 0x01000000
UNICODE_KEYSYM_MIN, UNICODE_KEYSYM_MAX = 0x01000100, 0x0110FFFF


def key_name(key: Any, mask: bool) -> str:
    """The `key` field of a key action. With `mask`, printable keys become "*"; modifiers and
    special keys (shift, enter, f1, ...) keep their names."""
    char = getattr(key, "char", None)
    if isinstance(char, str) and char:
        return MASK if mask and char.isprintable() else char
    if isinstance(key, enum.Enum):
        name = str(key.name)
        return MASK if mask and name in _TYPING_SPECIAL_KEYS else name
    vk = getattr(key, "vk", None)
    if isinstance(vk, int) and UNICODE_KEYSYM_MIN <= vk <= UNICODE_KEYSYM_MAX:
        # An X keysym for a Unicode character (0x01000000 + code point), e.g. "€" typed
        # through a temporary mapping; pynput knows only the named keysyms.
        char = chr(vk - UNICODE_KEYSYM_BASE)
        return MASK if mask and char.isprintable() else char
    if vk is not None:
        # A key with a code but no character (dead keys, some layouts): could be text, so masked.
        return MASK if mask else f"vk{vk}"
    return MASK if mask else "unknown"


def button_name(button: Any) -> str:
    name = getattr(button, "name", None)
    return str(name) if name else str(button)


# A pending move is written once the pointer has rested this long, even if its frame has not
# ended (at 10 fps a frame lasts 100 ms; a kill in between would lose the pointer's last place).
MOVE_REST_MS = 30


class MoveCoalescer:
    """Consecutive moves in one video frame become one, keeping the last position; other actions
    pass through in order (a pending move is written first so the order of the file is the order
    of input). A pending move is released when its frame ends or the pointer rests
    (`release_due`), so it reaches the disk within one frame interval."""

    def __init__(self) -> None:
        self.pending: Action | None = None

    def add(self, action: Action) -> list[Action]:
        out: list[Action] = []
        if action["type"] == "move":
            if self.pending is not None and self.pending["frame"] != action["frame"]:
                out.append(self.pending)
            self.pending = action
            return out
        if self.pending is not None:
            out.append(self.pending)
            self.pending = None
        out.append(action)
        return out

    def flush_before(self, frame: int) -> list[Action]:
        """Release a pending move once a newer frame exists: no later move can share its frame."""
        if self.pending is not None and self.pending["frame"] < frame:
            return self.flush()
        return []

    def release_due(self, newest_frame: int, now_ms: int) -> list[Action]:
        """Release a pending move whose frame has ended or after which the pointer rested
        `MOVE_REST_MS`."""
        if self.pending is not None and now_ms - self.pending["t"] >= MOVE_REST_MS:
            return self.flush()
        return self.flush_before(newest_frame)

    def due_in_ms(self, now_ms: int, next_frame_ms: float | None) -> float | None:
        """Milliseconds until `release_due` may release the pending move (None: nothing pending)."""
        if self.pending is None:
            return None
        due = self.pending["t"] + MOVE_REST_MS
        if next_frame_ms is not None:
            due = min(due, next_frame_ms)
        return max(0.0, due - now_ms)

    def flush(self) -> list[Action]:
        out = [self.pending] if self.pending is not None else []
        self.pending = None
        return out
