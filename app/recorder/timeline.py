"""Which video frame is on screen at a session time.

The capture thread appends the capture time of every frame it hands to the
encoder (dropped frames never get an index, so index i is the i-th frame of the
video). The action writer and the screenshot writer look frames up here; the
last few frames' pixels are kept so a click screenshot shows the frame that was
on screen at the click, not a later one.
"""

from __future__ import annotations

import bisect
import threading
from collections import OrderedDict
from typing import Any

# Pixels of this many recent frames stay referenced (1080p BGRA is ~8 MB each).
RECENT_FRAMES = 4


class FrameTimeline:
    def __init__(self) -> None:
        self._times: list[int] = []
        self._recent: OrderedDict[int, Any] = OrderedDict()
        self._lock = threading.Lock()

    def append(self, t_ms: int, pixels: Any) -> int:
        """Record a frame handed to the encoder; returns its video frame index."""
        with self._lock:
            index = len(self._times)
            self._times.append(t_ms)
            self._recent[index] = pixels
            while len(self._recent) > RECENT_FRAMES:
                self._recent.popitem(last=False)
            return index

    def __len__(self) -> int:
        return len(self._times)

    def index_at(self, t_ms: int) -> int:
        """Index of the frame on screen at `t_ms` (0 before the first frame)."""
        with self._lock:
            return max(0, bisect.bisect_right(self._times, t_ms) - 1)

    def latest(self) -> tuple[int, int, Any] | None:
        """(index, t, pixels) of the newest frame, or None before the first."""
        with self._lock:
            if not self._recent:
                return None
            index = next(reversed(self._recent))
            return index, self._times[index], self._recent[index]

    def pixels_at(self, index: int) -> Any | None:
        """Pixels of frame `index` if still kept, else of the oldest newer kept frame."""
        with self._lock:
            if index in self._recent:
                return self._recent[index]
            for kept, pixels in self._recent.items():
                if kept >= index:
                    return pixels
            return None
