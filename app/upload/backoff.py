"""How long a session waits before its next attempt after a transient failure (DESIGN §5).

delay(n) = min(base * 2**n, cap) plus up to `jitter_fraction` of that, so many
machines that failed together (an outage) do not all come back in the same second.
`n` is the number of retries already made before this failure (0 for the first).
"""

from __future__ import annotations

import random
from collections.abc import Callable

DEFAULT_BASE_SEC = 1.0
DEFAULT_CAP_SEC = 300.0
JITTER_FRACTION = 0.1


def base_delay(retries_so_far: int, base_sec: float, cap_sec: float) -> float:
    """The delay before jitter; never negative, never above `cap_sec`."""
    base_sec = max(base_sec, 0.0)
    cap_sec = max(cap_sec, 0.0)
    # 2**n overflows floats for absurd n; the cap is reached long before that.
    exponent = min(max(retries_so_far, 0), 1000)
    try:
        raw = base_sec * (2.0 ** exponent)
    except OverflowError:
        raw = cap_sec
    return min(raw, cap_sec)


def backoff_delay(retries_so_far: int, base_sec: float, cap_sec: float,
                  jitter_fraction: float = JITTER_FRACTION,
                  rng: Callable[[], float] = random.random) -> float:
    """Seconds to wait: the base delay plus a random jitter in [0, jitter_fraction * delay)."""
    delay = base_delay(retries_so_far, base_sec, cap_sec)
    return delay + delay * max(jitter_fraction, 0.0) * rng()


def delay_bounds(retries_so_far: int, base_sec: float, cap_sec: float,
                 jitter_fraction: float = JITTER_FRACTION) -> tuple[float, float]:
    """The range `backoff_delay` can return (tests and the UI use it)."""
    delay = base_delay(retries_so_far, base_sec, cap_sec)
    return delay, delay * (1.0 + max(jitter_fraction, 0.0))
