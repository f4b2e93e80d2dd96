"""Upload progress as people see it: confirmed bytes, smoothed speed and ETA."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Progress:
    bytes_uploaded: int
    total_bytes: int
    bytes_per_sec: float
    eta_sec: float | None

    @property
    def percent(self) -> float:
        if self.total_bytes <= 0:
            return 100.0
        return 100.0 * self.bytes_uploaded / self.total_bytes


ProgressCallback = Callable[[Progress], None]


class ProgressMeter:
    """Monotonic byte counter with an exponentially smoothed rate.

    `confirm` only ever moves the count forward and never past the total, so a
    retried part cannot make progress jump back or pass 100 %.
    """

    def __init__(self, total_bytes: int, already: int = 0, half_life_s: float = 3.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.total_bytes = total_bytes
        self._confirmed = min(max(already, 0), total_bytes)
        self._clock = clock
        self._half_life = half_life_s
        self._rate = 0.0
        self._last_t = clock()
        self._last_bytes = self._confirmed
        self._lock = threading.Lock()

    def set_confirmed(self, confirmed: int) -> Progress:
        with self._lock:
            confirmed = min(max(confirmed, self._confirmed), self.total_bytes)
            self._confirmed = confirmed
            now = self._clock()
            elapsed = now - self._last_t
            if elapsed >= 0.2:
                instant = (confirmed - self._last_bytes) / elapsed
                weight = 0.5 ** (elapsed / self._half_life)
                self._rate = instant if self._rate == 0.0 else weight * self._rate + (1 - weight) * instant
                self._last_t = now
                self._last_bytes = confirmed
            return self._snapshot()

    def add(self, delta: int) -> Progress:
        with self._lock:
            target = self._confirmed + delta
        return self.set_confirmed(target)

    def snapshot(self) -> Progress:
        with self._lock:
            return self._snapshot()

    def _snapshot(self) -> Progress:
        remaining = self.total_bytes - self._confirmed
        eta = remaining / self._rate if self._rate > 0 else (0.0 if remaining == 0 else None)
        return Progress(self._confirmed, self.total_bytes, self._rate, eta)
