"""The action timeline: actions.jsonl and the pauses turned into rows a person reads.

One row per click (press), per scroll gesture (consecutive scroll steps), per key run
(consecutive key presses merged into the text they typed) and per recording pause. Moves make
no rows; they give the pointer position the overlay draws. Everything here is plain data, so
the rules are unit-tested without a display.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from app.models import PauseSpan

RowKind = Literal["click", "scroll", "keys", "pause"]

# Key presses further apart than this start a new key run.
KEY_RUN_GAP_MS = 2000
# Scroll steps further apart than this start a new scroll row.
SCROLL_GAP_MS = 1000
# A click marker is drawn from this long before the press until this long after it (~0.5 s).
CLICK_MARK_HALF_MS = 250
# A key caption stays on screen this long after the run's last key.
CAPTION_HOLD_MS = 1500
# A release further than this from its press makes the click a drag.
DRAG_MIN_PX = 6

MASKED = "•"
# Keys that type something visible, shown as the character they type.
_TYPED_NAMES = {"space": " ", "enter": "⏎", "tab": "⇥", "backspace": "⌫"}
# Modifiers that only change which character is typed: not shown on their own in a run.
_SHIFT_LIKE = frozenset({"shift", "shift_l", "shift_r", "caps_lock", "alt_gr"})
# Modifiers that make a chord with the next key (Ctrl+C).
_CHORD_NAMES = {"ctrl": "Ctrl", "ctrl_l": "Ctrl", "ctrl_r": "Ctrl", "alt": "Alt", "alt_l": "Alt",
                "alt_r": "Alt", "cmd": "Super", "cmd_l": "Super", "cmd_r": "Super"}


@dataclass(frozen=True)
class Action:
    """One validated line of actions.jsonl (`line` is its 0-based position in the file)."""

    line: int
    t: int
    type: str
    frame: int
    x: int | None = None
    y: int | None = None
    button: str | None = None
    pressed: bool | None = None
    dx: int = 0
    dy: int = 0
    key: str | None = None
    screenshot: str | None = None


ACTION_TYPES = frozenset({"move", "click", "scroll", "key_down", "key_up"})


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def parse_action(line: int, raw: Any) -> Action | None:
    """An Action from one decoded JSON line, or None when the line does not have the shape."""
    if not isinstance(raw, dict):
        return None
    t, kind, frame = _int(raw.get("t")), raw.get("type"), _int(raw.get("frame"))
    if t is None or t < 0 or kind not in ACTION_TYPES or frame is None or frame < 0:
        return None
    x, y = _int(raw.get("x")), _int(raw.get("y"))
    if kind in ("move", "click", "scroll") and (x is None or y is None):
        return None
    key = raw.get("key")
    if kind in ("key_down", "key_up") and (not isinstance(key, str) or not key or len(key) > 64):
        return None
    button = raw.get("button")
    pressed = raw.get("pressed")
    if kind == "click" and (not isinstance(button, str) or not isinstance(pressed, bool)):
        return None
    shot = raw.get("screenshot")
    return Action(line=line, t=t, type=str(kind), frame=frame, x=x, y=y,
                  button=button[:32] if isinstance(button, str) else None,
                  pressed=pressed if isinstance(pressed, bool) else None,
                  dx=_int(raw.get("dx")) or 0, dy=_int(raw.get("dy")) or 0,
                  key=key if isinstance(key, str) else None,
                  screenshot=shot if isinstance(shot, str) else None)


@dataclass(frozen=True)
class TimelineRow:
    kind: RowKind
    t_ms: int  # session time of the row's first action (pause: its start)
    end_ms: int  # session time of its last action (pause: its end)
    frame: int  # the frame to show for it: the frame on screen at its first action
    text: str
    lines: tuple[int, ...] = ()  # the actions.jsonl lines the row is made of
    x: int | None = None
    y: int | None = None
    # For key runs: (session time, what it typed) per key, so a caption can grow as it plays.
    keys: tuple[tuple[int, str], ...] = ()
    # The action happened after the last frame the video still has (a recovered session).
    after_video: bool = False


def _key_token(key: str, masked_session: bool) -> str | None:
    """What one key press adds to the typed text (None: nothing visible, e.g. Shift)."""
    if masked_session and key == "*":
        return MASKED
    if len(key) == 1:
        return key
    if key in _TYPED_NAMES:
        return MASKED if masked_session and key == "space" else _TYPED_NAMES[key]
    if key in _SHIFT_LIKE or key in _CHORD_NAMES:
        return None
    return f"[{key.replace('_', ' ').title()}]"


def _button_word(button: str | None) -> str:
    return {"left": "Left", "right": "Right", "middle": "Middle"}.get(button or "", (button or "?").title())


class _KeyRun:
    def __init__(self) -> None:
        self.actions: list[Action] = []
        self.keys: list[tuple[int, str]] = []

    @property
    def last_t(self) -> int:
        return self.actions[-1].t if self.actions else -10**9


def build_rows(actions: Sequence[Action], pauses: Iterable[PauseSpan], video_frames: int | None,
               masked: bool, frame_at: Any = None) -> list[TimelineRow]:
    """The timeline rows, in time order.

    `video_frames` is the number of frames the video holds (None: no video, nothing is "after
    the end"); `masked` says the session was recorded with maskKeys, so "*" is a masked key;
    `frame_at(t)` maps a session time to the frame on screen (used for pauses)."""
    rows: list[TimelineRow] = []
    held: set[str] = set()  # chord modifiers held down
    run = _KeyRun()
    alone: dict[str, Action] = {}  # modifier pressed with nothing else yet (a lone Ctrl press)

    def after(frame: int) -> bool:
        return video_frames is not None and frame >= video_frames

    def close_run() -> None:
        nonlocal run
        if run.keys:
            first = run.actions[0]
            typed = "".join(text for _t, text in run.keys)
            rows.append(TimelineRow(
                "keys", first.t, run.last_t, first.frame,
                f"Typed {typed}" + (" (masked)" if MASKED in typed else ""),
                tuple(a.line for a in run.actions), keys=tuple(run.keys),
                after_video=after(first.frame)))
        run = _KeyRun()

    pending_scroll: list[Action] = []

    def close_scroll() -> None:
        if not pending_scroll:
            return
        first = pending_scroll[0]
        dy = sum(a.dy for a in pending_scroll)
        dx = sum(a.dx for a in pending_scroll)
        parts = []
        if dy:
            parts.append(f"{'up' if dy > 0 else 'down'} {abs(dy)}")
        if dx:
            parts.append(f"{'right' if dx > 0 else 'left'} {abs(dx)}")
        rows.append(TimelineRow(
            "scroll", first.t, pending_scroll[-1].t, first.frame,
            f"Scrolled {' and '.join(parts) or 'by 0'} at {first.x}, {first.y}",
            tuple(a.line for a in pending_scroll), first.x, first.y,
            after_video=after(first.frame)))
        pending_scroll.clear()

    presses: dict[str, tuple[int, Action]] = {}  # button -> (row position, press)
    for action in actions:
        if action.type == "move":
            continue
        if action.type == "scroll":
            if pending_scroll and action.t - pending_scroll[-1].t > SCROLL_GAP_MS:
                close_scroll()
            close_run()
            pending_scroll.append(action)
            continue
        close_scroll()
        if action.type == "click":
            close_run()
            button = action.button or "?"
            if action.pressed:
                presses[button] = (len(rows), action)
                rows.append(TimelineRow(
                    "click", action.t, action.t, action.frame,
                    f"{_button_word(button)} click at {action.x}, {action.y}", (action.line,),
                    action.x, action.y, after_video=after(action.frame)))
            elif button in presses:
                position, press = presses.pop(button)
                row = rows[position]
                assert press.x is not None and press.y is not None
                assert action.x is not None and action.y is not None
                moved = max(abs(action.x - press.x), abs(action.y - press.y)) >= DRAG_MIN_PX
                text = (f"{_button_word(button)} drag from {press.x}, {press.y} to {action.x}, "
                        f"{action.y}") if moved else row.text
                rows[position] = TimelineRow(row.kind, row.t_ms, action.t, row.frame, text,
                                             (*row.lines, action.line), row.x, row.y,
                                             after_video=row.after_video)
            continue
        key = action.key or ""
        if action.type == "key_up":
            held.discard(key)
            lone = alone.pop(key, None)
            if lone is not None and key in _CHORD_NAMES:
                if run.actions and lone.t - run.last_t > KEY_RUN_GAP_MS:
                    close_run()
                run.actions.append(lone)
                run.keys.append((lone.t, f"[{_CHORD_NAMES[key]}]"))
            continue
        # key_down
        if run.actions and action.t - run.last_t > KEY_RUN_GAP_MS:
            close_run()
        if key in _CHORD_NAMES:
            held.add(key)
            alone[key] = action
            continue
        alone.clear()  # the held modifier made a chord: it is not a lone press any more
        token = _key_token(key, masked)
        if token is None:
            continue
        chord = sorted({_CHORD_NAMES[k] for k in held}, key=["Ctrl", "Alt", "Super"].index)
        if chord:
            base = token[1:-1] if token.startswith("[") and len(token) > 2 else token.upper()
            token = f"[{'+'.join([*chord, base])}]"
        run.actions.append(action)
        run.keys.append((action.t, token))
    close_scroll()
    close_run()
    for pause in pauses:
        end = pause.end_ms if pause.end_ms is not None else pause.start_ms
        frame = frame_at(pause.start_ms) if frame_at is not None else 0
        rows.append(TimelineRow("pause", pause.start_ms, end, frame,
                                f"Recording paused for {_seconds(end - pause.start_ms)}"))
    rows.sort(key=lambda row: (row.t_ms, row.kind == "pause"))
    return rows


def _seconds(ms: int) -> str:
    seconds = ms / 1000
    if seconds < 60:
        return f"{seconds:.1f} s"
    return f"{int(seconds // 60)} min {int(seconds % 60)} s"


def format_session_time(ms: int) -> str:
    """0:05.3, 12:07.0, 1:02:03.4 (tenths, no rounding up past the frame shown)."""
    ms = max(0, int(ms))
    tenths = (ms // 100) % 10
    seconds = ms // 1000
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}:{minutes:02d}:{secs:02d}.{tenths}"
    return f"{minutes}:{secs:02d}.{tenths}"


@dataclass(frozen=True)
class ClickMark:
    x: int
    y: int
    button: str
    t_ms: int


class Timeline:
    """Rows plus the lookups the player needs at a moment `t` (session time)."""

    def __init__(self, rows: list[TimelineRow], actions: Sequence[Action]) -> None:
        self.rows = rows
        self._row_times = [row.t_ms for row in rows]
        positions = [a for a in actions if a.x is not None and a.y is not None]
        self._pointer_t = [a.t for a in positions]
        self._pointer_xy = [(int(a.x or 0), int(a.y or 0)) for a in positions]
        presses = [a for a in actions if a.type == "click" and a.pressed]
        self._press_t = [a.t for a in presses]
        self._presses = [ClickMark(int(a.x or 0), int(a.y or 0), a.button or "?", a.t) for a in presses]
        self._key_rows = [row for row in rows if row.kind == "keys"]
        self._key_row_t = [row.t_ms for row in self._key_rows]

    def row_at(self, t_ms: int) -> int | None:
        """The row of the moment `t`: the last row that started at or before it."""
        position = bisect.bisect_right(self._row_times, t_ms) - 1
        return position if position >= 0 else None

    def pointer_at(self, t_ms: int) -> tuple[int, int] | None:
        position = bisect.bisect_right(self._pointer_t, t_ms) - 1
        return self._pointer_xy[position] if position >= 0 else None

    def clicks_near(self, t_ms: int, half_ms: int = CLICK_MARK_HALF_MS) -> list[ClickMark]:
        lo = bisect.bisect_left(self._press_t, t_ms - half_ms)
        hi = bisect.bisect_right(self._press_t, t_ms + half_ms)
        return self._presses[lo:hi]

    def caption_at(self, t_ms: int) -> str | None:
        """The keys typed so far in the key run on screen at `t` (held a moment after its end)."""
        position = bisect.bisect_right(self._key_row_t, t_ms) - 1
        if position < 0:
            return None
        row = self._key_rows[position]
        if t_ms > row.end_ms + CAPTION_HOLD_MS:
            return None
        return "".join(text for t, text in row.keys if t <= t_ms) or None
