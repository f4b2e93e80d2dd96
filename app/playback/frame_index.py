"""The map between video frames, video time and session time (frames.jsonl).

Frame i was captured at session time `times[i]` (ms since the session start). The MP4 muxer
rebases the first pts to 0, so the video shows frame i at video time `times[i] - times[0]`;
`offset_ms` is that `times[0]` (the decoder can confirm it from the first frame's pts).
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass


@dataclass(frozen=True)
class FrameIndex:
    times: tuple[int, ...]

    @property
    def count(self) -> int:
        return len(self.times)

    @property
    def offset_ms(self) -> int:
        return self.times[0] if self.times else 0

    @property
    def first_t(self) -> int:
        return self.times[0] if self.times else 0

    @property
    def last_t(self) -> int:
        return self.times[-1] if self.times else 0

    def t_of(self, index: int) -> int:
        """Session time of frame `index` (clamped to the frames that exist)."""
        if not self.times:
            return 0
        return self.times[max(0, min(index, len(self.times) - 1))]

    def shown_until(self, index: int) -> int:
        """The last session ms at which frame `index` is still the one on screen (the next frame's
        time minus 1; the last frame counts for one more frame interval)."""
        if not self.times:
            return 0
        index = max(0, min(index, len(self.times) - 1))
        if index + 1 < len(self.times):
            return max(self.times[index], self.times[index + 1] - 1)
        step = self.times[-1] - self.times[-2] if len(self.times) > 1 else 100
        return self.times[-1] + max(step, 1) - 1

    def video_ms_of(self, index: int) -> int:
        return self.t_of(index) - self.offset_ms

    def index_at(self, t_ms: int) -> int:
        """The frame on screen at session time `t_ms`: the newest with capture time <= t (0 before
        the first frame)."""
        return max(0, bisect.bisect_right(self.times, t_ms) - 1)

    def index_of_video_ms(self, video_ms: float) -> int:
        """The frame a decoded picture with this pts (ms) is: the nearest capture time."""
        if not self.times:
            return 0
        t = video_ms + self.offset_ms
        right = bisect.bisect_left(self.times, t)
        if right <= 0:
            return 0
        if right >= len(self.times):
            return len(self.times) - 1
        before, after = self.times[right - 1], self.times[right]
        return right if after - t < t - before else right - 1
