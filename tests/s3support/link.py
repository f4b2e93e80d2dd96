"""A simulated uplink for FaultProxy: one shared bandwidth cap and a round-trip time.

`SharedLink` is the wire: every request body that passes the proxy is carried in the order
its chunks asked for the link, one chunk at a time, at `bytes_per_sec` in total across all
connections (so parallel parts share the link as parallel TCP streams share a bottleneck,
roughly round-robin per chunk). The link banks no idle time, except `slack_sec` (10 ms): a
chunk that finds it idle starts at most that long ago, so the proxy's own scheduling delays
on a busy machine (waking up late, reading the next chunk) are not counted as a slow link.

`LinkTiming` adds the round trip: the server gets each request (and the last byte of its
body) at once, and its answer reaches the client `rtt_sec` after the server gave it — the
request's half-way trip out and the answer's trip back; the go-ahead to `Expect:
100-continue` comes one round trip after the head. Only request bodies use the link's
bandwidth; heads and answers are small and cost only the RTT. Connections are free: the
clients measured keep theirs alive, so no TCP handshake is charged.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass(frozen=True)
class LinkSlot:
    """One chunk's turn on the link: it started at `start` and was through at `end`."""

    start: float
    end: float
    size: int
    tag: object = None  # who sent it (the proxy passes the part number)


@dataclass
class SharedLink:
    bytes_per_sec: float
    # The schedule of every chunk, for tests that check the link carried them one at a time.
    keep_schedule: bool = False
    clock: Callable[[], float] = time.monotonic
    slack_sec: float = 0.01
    _free_at: float = 0.0
    _lock: threading.Lock = field(default_factory=threading.Lock)
    bytes_carried: int = 0
    busy_seconds: float = 0.0
    schedule: list[LinkSlot] = field(default_factory=list)

    def __post_init__(self) -> None:
        if self.bytes_per_sec <= 0:
            raise ValueError("a link needs a positive rate")

    def reserve(self, size: int, tag: object = None) -> float:
        """Book the link for `size` bytes after everything booked before; returns when the
        last of them is through (the caller waits until then)."""
        with self._lock:
            start = max(self._free_at, self.clock() - self.slack_sec)
            end = start + size / self.bytes_per_sec
            self._free_at = end
            self.bytes_carried += size
            self.busy_seconds += end - start
            if self.keep_schedule:
                self.schedule.append(LinkSlot(start, end, size, tag))
            return end


@dataclass(frozen=True)
class LinkTiming:
    """What FaultProxy simulates: `bytes_per_sec` shared by all request bodies (None: no
    cap) and `rtt_sec` added to every request."""

    bytes_per_sec: float | None = None
    rtt_sec: float = 0.0

    @staticmethod
    def mbit(megabits_per_sec: float, rtt_ms: float) -> LinkTiming:
        return LinkTiming(megabits_per_sec * 1_000_000 / 8, rtt_ms / 1000)


def wait_until(deadline: float, stopping: threading.Event,
               clock: Callable[[], float] = time.monotonic) -> bool:
    """Sleep until `deadline` (never less); False when `stopping` was set first."""
    while True:
        left = deadline - clock()
        if left <= 0:
            return True
        if stopping.wait(left):
            return False
