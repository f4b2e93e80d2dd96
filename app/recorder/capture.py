"""The capture thread: grabs the screen with mss on a fixed monotonic schedule.

Tick k is due k/fps seconds after the capture thread's first grab. A grab that is handed to
a full encoder queue is dropped and counted, never waited for, so the schedule
never slips; ticks missed because a grab itself ran late are counted as dropped
too (they are frames the video does not have).
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from app.models import ScreenRect
from app.recorder.clock import SessionClock
from app.recorder.monitors import Monitor, find, monitors_from_mss
from app.recorder.timeline import FrameTimeline

log = logging.getLogger(__name__)


class CaptureError(Exception):
    """A sentence saying why the screen cannot be captured."""


@dataclass(frozen=True)
class CapturedFrame:
    index: int
    t_ms: int
    # What the encoder takes: a yuv420p av.VideoFrame at the video's size (converted on the
    # capture thread), or BGRA pixels (height x width x 4) that the encoder converts itself.
    picture: Any


def open_mss() -> Any:
    import mss

    # mss 10 spells the class MSS; older releases only have the factory mss.mss().
    factory = getattr(mss, "MSS", None) or mss.mss
    return factory()


def select_monitor(entries: list[dict[str, Any]], monitor: int | str) -> Monitor:
    """The chosen monitor of mss's list (monitors[0] is the whole virtual desktop)."""
    choices = monitors_from_mss(entries)
    chosen = find(choices, str(monitor))
    if chosen is None:
        count = len(choices) - 1
        raise CaptureError(f"There is no monitor {monitor}: this screen has {count} "
                           f"(choose {'1' if count == 1 else f'1 to {count}'}, or all).")
    return chosen


def probe_screen(monitor: int | str) -> Monitor:
    """The monitor to record (its region and name); raises CaptureError when there is no screen
    to grab."""
    try:
        with open_mss() as grabber:
            chosen = select_monitor(list(grabber.monitors), monitor)
            grabber.grab(_mss_box(chosen.rect))
    except CaptureError:
        raise
    except Exception as exc:
        raise CaptureError(f"No screen to record: {exc}.") from exc
    return chosen


def _mss_box(region: ScreenRect) -> dict[str, int]:
    return {"left": region.x, "top": region.y, "width": region.width, "height": region.height}


class CaptureThread(threading.Thread):
    def __init__(
        self,
        clock: SessionClock,
        fps: int,
        region: ScreenRect,
        frames: queue.Queue[CapturedFrame | None],
        timeline: FrameTimeline,
        paused: threading.Event,
        stop: threading.Event,
        convert: Callable[[np.ndarray], Any] | None = None,
    ) -> None:
        super().__init__(name="sessionrec-capture", daemon=True)
        # BGRA -> the encoder's input; a queued yuv420p frame is 3 MB instead of 8 MB at 1080p.
        self.convert = convert
        self.clock = clock
        self.period_ms = 1000.0 / fps
        self.region = region
        self.frames = frames
        self.timeline = timeline
        self.paused = paused
        self.stop_event = stop
        self.dropped = 0
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            with open_mss() as grabber:
                self._loop(grabber)
        except BaseException as exc:  # the health check reports it; never die silently
            log.exception("screen capture failed")
            self.error = exc

    def _loop(self, grabber: Any) -> None:
        box = _mss_box(self.region)
        # The schedule starts at the first grab, not at the session start: opening the encoder
        # and the listeners takes a moment, and those ticks were never due.
        origin_ms = self.clock.now_ms()
        tick = 0
        while not self.stop_event.is_set():
            due_ms = origin_ms + tick * self.period_ms
            delay = self.clock.monotonic_at(due_ms) - time.monotonic()
            if delay > 0 and self.stop_event.wait(delay):
                return
            if self.paused.is_set():
                # Nothing is captured while paused; restart the schedule after the pause.
                tick = int((self.clock.now_ms() - origin_ms) // self.period_ms) + 1
                continue
            # The capture time is read just before the grab, under the timeline's lock, so an
            # action stamped after it waits for this frame instead of naming the one before.
            t_ms = self.timeline.begin_frame()
            try:
                shot = grabber.grab(box)
            except BaseException:
                self.timeline.cancel_frame()
                raise
            pixels = np.frombuffer(shot.raw, dtype=np.uint8).reshape(shot.height, shot.width, 4)
            if self.frames.full():
                self.timeline.cancel_frame()
                self.dropped += 1
            else:
                index = self.timeline.commit_frame(pixels)
                picture = self.convert(pixels) if self.convert is not None else pixels
                self.frames.put_nowait(CapturedFrame(index, t_ms, picture))
            # Skip ticks that are already past (a slow grab); they are frames the video lacks.
            next_tick = tick + 1
            now_tick = int((self.clock.now_ms() - origin_ms) // self.period_ms)
            if now_tick > next_tick:
                self.dropped += now_tick - next_tick
                next_tick = now_tick
            tick = next_tick
