"""Input actions: pynput listeners that only stamp and enqueue, and one writer thread.

The listener callbacks run on pynput's threads, inside the X RECORD loop; anything slow there
would delay the pointer, so they read the clock, put a tuple on an unbounded queue and return.
The writer thread resolves the frame index (by time: `FrameTimeline.frame_at`), names keys
(masking them if asked), coalesces moves (`MoveCoalescer`), requests click screenshots, and
appends one JSON line per action to actions.jsonl with a flush after each, so a kill loses no
written action. Clicks, scrolls and keys are never dropped.

pynput needs DISPLAY set before it is imported; it is imported inside `InputListeners.start`.
On X the keyboard listener follows keyboard mapping changes made while recording
(app/recorder/x_keymap.py).
`Listener.stop()` does not end the X RECORD thread until one more input event arrives, so the
threads are daemons and are joined with a timeout, never forever.
"""

from __future__ import annotations

import json
import logging
import queue
import threading
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

from app import session_files
from app.pynput_quiet import quiet_after_stop
from app.recorder.actions import Action, MoveCoalescer, button_name, key_name
from app.recorder.clock import SessionClock
from app.recorder.timeline import FrameTimeline

log = logging.getLogger(__name__)

# (kind, t_ms, payload); None ends the writer.
RawEvent = tuple[str, int, tuple[Any, ...]]
STOP_JOIN_S = 0.5


class InputListeners:
    def __init__(self, clock: SessionClock, events: queue.SimpleQueue[RawEvent | None],
                 paused: threading.Event, hold_frames: Callable[[], int] | None = None) -> None:
        self.clock = clock
        self.events = events
        self.paused = paused
        # A click press holds the frames its screenshot may need (FrameTimeline.hold), before it
        # is stamped; the writer releases them. The hold is one short lock, nothing slow.
        self.hold_frames = hold_frames
        self._listeners: list[Any] = []

    def _put(self, kind: str, payload: tuple[Any, ...]) -> None:
        if not self.paused.is_set():
            self.events.put((kind, self.clock.now_ms(), payload))

    def _put_click(self, x: int, y: int, button: Any, pressed: bool) -> None:
        if self.paused.is_set():
            return
        if pressed and self.hold_frames is not None:
            hold = self.hold_frames()
            self.events.put(("click", self.clock.now_ms(), (x, y, button, pressed, hold)))
        else:
            self.events.put(("click", self.clock.now_ms(), (x, y, button, pressed)))

    def start(self) -> None:
        from pynput import keyboard, mouse

        keyboard_listener: type[Any] = keyboard.Listener
        if keyboard_listener.__module__.endswith("._xorg"):
            from app.recorder.x_keymap import track_keymap

            keyboard_listener = track_keymap(keyboard_listener)
        put = self._put
        self._listeners = [
            quiet_after_stop(mouse.Listener)(
                on_move=lambda x, y: put("move", (x, y)),
                on_click=self._put_click,
                on_scroll=lambda x, y, dx, dy: put("scroll", (x, y, dx, dy)),
            ),
            quiet_after_stop(keyboard_listener)(
                on_press=lambda key: put("key_down", (key,)),
                on_release=lambda key: put("key_up", (key,)),
            ),
        ]
        for listener in self._listeners:
            listener.daemon = True
            listener.start()
        for listener in self._listeners:
            listener.wait()  # returns once the listener is receiving events

    def stop(self) -> None:
        for listener in self._listeners:
            listener.stop()
        for listener in self._listeners:
            listener.join(STOP_JOIN_S)


def build_action(event: RawEvent, frame: int, mask: bool) -> Action:
    kind, t_ms, payload = event
    action: Action = {"t": t_ms, "type": kind}
    if kind == "move":
        action["x"], action["y"] = int(payload[0]), int(payload[1])
    elif kind == "click":
        x, y, button, pressed = payload[:4]
        action.update(x=int(x), y=int(y), button=button_name(button), pressed=bool(pressed))
    elif kind == "scroll":
        x, y, dx, dy = payload
        action.update(x=int(x), y=int(y), dx=int(dx), dy=int(dy))
    else:
        action["key"] = key_name(payload[0], mask)
    action["frame"] = frame
    return action


class ActionWriterThread(threading.Thread):
    def __init__(
        self,
        path: Path,
        events: queue.SimpleQueue[RawEvent | None],
        timeline: FrameTimeline,
        mask_keys: bool,
        screenshot_for_click: Callable[[int, int], str | None] | None = None,
        write_hook: Callable[[], None] | None = None,
        frame_interval_ms: float = 100.0,
    ) -> None:
        super().__init__(name="sessionrec-actions", daemon=True)
        self.frame_interval_ms = frame_interval_ms
        self.path = path
        self.events = events
        self.timeline = timeline
        self.mask_keys = mask_keys
        self.screenshot_for_click = screenshot_for_click
        self.write_hook = write_hook
        self.coalescer = MoveCoalescer()
        self.written = 0
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            with session_files.open_text(self.path.parent, self.path.name, "a") as handle:
                self._loop(handle)
        except BaseException as exc:
            log.exception("action writer failed")
            self.error = exc
            self._drain()

    def _loop(self, handle: IO[str]) -> None:
        while True:
            try:
                event = self.events.get(timeout=self._wait_s())
            except queue.Empty:
                self._write(handle, self._due_moves())
                continue
            if event is None:
                self._write(handle, self.coalescer.flush())
                return
            action = build_action(event, self.timeline.frame_at(event[1]), self.mask_keys)
            if action["type"] == "click" and action["pressed"] and self.screenshot_for_click:
                shot = self.screenshot_for_click(action["t"], action["frame"])
                if shot is not None:
                    action["screenshot"] = shot
            if event[0] == "click" and len(event[2]) > 4:
                self.timeline.release(event[2][4])  # the screenshot job has its pixels now
            # Due moves are released only when no event waits: a queued move may still belong
            # to the pending move's frame.
            self._write(handle, self.coalescer.add(action))

    def _wait_s(self) -> float:
        """How long to wait for the next event: until the pending move is due (its frame ends
        or the pointer has rested), so it reaches the disk within one frame interval."""
        newest = self.timeline.newest()
        next_frame = newest[1] + self.frame_interval_ms + 2 if newest is not None else None
        due_ms = self.coalescer.due_in_ms(self.timeline.now_ms(), next_frame)
        if due_ms is None:
            return 0.5
        return min(0.05, max(0.001, due_ms / 1000))

    def _due_moves(self) -> list[Action]:
        newest = self.timeline.newest()
        return self.coalescer.release_due(newest[0] if newest else 0, self.timeline.now_ms())

    def _write(self, handle: IO[str], actions: list[Action]) -> None:
        if not actions:
            return
        if self.write_hook is not None:
            self.write_hook()
        handle.write("".join(json.dumps(action) + "\n" for action in actions))
        handle.flush()
        self.written += len(actions)

    def _drain(self) -> None:
        # After a write error keep taking events so nothing piles up in memory until stop.
        while (event := self.events.get()) is not None:
            if event[0] == "click" and len(event[2]) > 4:
                self.timeline.release(event[2][4])
