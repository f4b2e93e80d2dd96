"""The one session clock: an epoch start instant plus a monotonic timebase.

Every frame and every action carries `t` = milliseconds since the session start,
read from the same monotonic clock, so video and input line up even if the wall
clock is changed while recording.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field


@dataclass(frozen=True)
class SessionClock:
    created_at_ms: int = field(default_factory=lambda: int(time.time() * 1000))
    start_ns: int = field(default_factory=time.monotonic_ns)

    def now_ms(self) -> int:
        return (time.monotonic_ns() - self.start_ns) // 1_000_000

    def monotonic_at(self, t_ms: float) -> float:
        """The `time.monotonic()` value of session time `t_ms`, for scheduling sleeps."""
        return (self.start_ns + t_ms * 1_000_000) / 1e9

    def epoch_ms(self, t_ms: int) -> int:
        return self.created_at_ms + t_ms
