"""Which video frame is on screen at a session time.

The capture thread registers every frame in two steps: `begin_frame` reads the clock (the frame's
capture time) before the grab, and `commit_frame` gives it its video index after the grab, or
`cancel_frame` drops it (the encoder queue was full: it never reaches the video, so it gets no
index; index i is the i-th frame of the video).

An action's frame is the newest frame whose capture time is <= the action's time, decided by time
and not by arrival order: `frame_at` first lets the clock pass the action's millisecond (so every
frame captured at or before it has begun), then waits while such a frame is still being grabbed.
Both steps are bounded; the clock is read under the same lock as `begin_frame` takes, which is what
makes "has begun" exact.

The newest frame's pixels are kept (for the preview and periodic screenshots), and a click holds
the frames it may need, so its screenshot shows the frame that was on screen at the click, not a
later one.
"""

from __future__ import annotations

import bisect
import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

log = logging.getLogger(__name__)

# Pixels of the newest frame stay referenced (1080p BGRA is ~8 MB; each more frame kept was 8 MB
# more RSS), plus the frames a click may still need: a click holds (`hold`) the frames from the
# newest one at its moment until its screenshot was queued (`release`), at most MAX_HELD.
RECENT_FRAMES = 1
MAX_HELD = 8
# How long an action waits for a frame that is being grabbed (a 1080p grab takes a few ms).
FRAME_WAIT_S = 0.5


class FrameTimeline:
    def __init__(self, now_ms: Callable[[], int]) -> None:
        self._now_ms = now_ms
        self._times: list[int] = []
        self._recent: OrderedDict[int, Any] = OrderedDict()
        self._pending: int | None = None
        self._holds: dict[int, int] = {}  # token -> first frame index kept for it
        self._next_hold = 0
        self._changed = threading.Condition(threading.Lock())
        # Actions resolved without waiting for their frame because the wait ran out.
        self.late_lookups = 0

    # --- the capture thread ------------------------------------------------------------------
    def begin_frame(self) -> int:
        """Read the clock as the capture time of the frame about to be grabbed."""
        with self._changed:
            self._pending = self._now_ms()
            return self._pending

    def commit_frame(self, pixels: Any) -> int:
        """The begun frame goes to the encoder; returns its video frame index."""
        with self._changed:
            assert self._pending is not None, "commit_frame without begin_frame"
            index = len(self._times)
            self._times.append(self._pending)
            self._pending = None
            self._recent[index] = pixels
            self._evict()
            self._changed.notify_all()
            return index

    def cancel_frame(self) -> None:
        """The begun frame was dropped (or its grab failed): it is not in the video."""
        with self._changed:
            self._pending = None
            self._changed.notify_all()

    # --- clicks: keep their frame until the screenshot has it ----------------------------------
    def hold(self) -> int:
        """Keep the pixels of the newest frame and every later one until `release(token)`. Taken
        before a click is stamped, so the click's frame (that one or a later one) is kept."""
        with self._changed:
            token = self._next_hold
            self._next_hold += 1
            self._holds[token] = max(0, len(self._times) - 1)
            return token

    def release(self, token: int) -> None:
        with self._changed:
            self._holds.pop(token, None)
            self._evict()

    def _evict(self) -> None:
        keep_from = min(self._holds.values(), default=None)
        while len(self._recent) > RECENT_FRAMES:
            oldest = next(iter(self._recent))
            if keep_from is not None and oldest >= keep_from and len(self._recent) <= MAX_HELD:
                break
            self._recent.popitem(last=False)

    # --- readers -----------------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self._times)

    def index_at(self, t_ms: int) -> int:
        """Index of the newest registered frame with capture time <= `t_ms` (0 before the first),
        without waiting for a frame still being grabbed."""
        with self._changed:
            return self._index_at(t_ms)

    def frame_at(self, t_ms: int, timeout_s: float = FRAME_WAIT_S) -> int:
        """Index of the frame on screen at `t_ms`: the newest frame with capture time <= `t_ms`,
        including one whose grab is in progress (waits for it, at most `timeout_s`)."""
        deadline = time.monotonic() + timeout_s
        with self._changed:
            while True:
                clock_passed = self._now_ms() > t_ms
                grabbing = self._pending is not None and self._pending <= t_ms
                if clock_passed and not grabbing:
                    return self._index_at(t_ms)
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    self.late_lookups += 1
                    log.debug("frame for t=%d resolved without waiting any longer", t_ms)
                    return self._index_at(t_ms)
                # Until the clock passes t the wait is under a millisecond; a grab notifies.
                self._changed.wait(min(remaining, 0.001) if not clock_passed else remaining)

    def now_ms(self) -> int:
        return self._now_ms()

    def newest(self) -> tuple[int, int] | None:
        """(index, capture time) of the newest registered frame, or None before the first."""
        with self._changed:
            if not self._times:
                return None
            return len(self._times) - 1, self._times[-1]

    def _index_at(self, t_ms: int) -> int:
        return max(0, bisect.bisect_right(self._times, t_ms) - 1)

    def latest(self) -> tuple[int, int, Any] | None:
        """(index, t, pixels) of the newest frame, or None before the first."""
        with self._changed:
            if not self._recent:
                return None
            index = next(reversed(self._recent))
            return index, self._times[index], self._recent[index]

    def pixels_at(self, index: int) -> tuple[int, Any] | None:
        """(index, pixels) of frame `index` if still kept, else of the oldest newer kept frame
        (the caller names the screenshot after the frame it really shows)."""
        with self._changed:
            if index in self._recent:
                return index, self._recent[index]
            for kept, pixels in self._recent.items():
                if kept >= index:
                    return kept, pixels
            return None
