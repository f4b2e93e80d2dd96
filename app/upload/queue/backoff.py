"""How long a session waits before its next attempt after a transient failure (DESIGN §5).

delay(n) = min(base * 2**n, cap) plus up to `jitter_fraction` of that, so many
machines that failed together (an outage) do not all come back in the same second.
`n` is the number of retries already made before this failure (0 for the first).
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable

DEFAULT_BASE_SEC = 1.0
DEFAULT_CAP_SEC = 300.0
# The documented bounds of the settings (docs/FORMATS.md); the delay never leaves them,
# whatever reaches this module, so no timer is ever handed an absurd or non-finite value.
MIN_BASE_SEC = 0.1
MAX_BASE_SEC = 60.0
MIN_CAP_SEC = 1.0
MAX_CAP_SEC = 3600.0
JITTER_FRACTION = 0.1


def base_delay(retries_so_far: int, base_sec: float, cap_sec: float) -> float:
    """The delay before jitter; never negative, never above `cap_sec` nor MAX_CAP_SEC."""
    base_sec = _finite_in(base_sec, 0.0, MAX_BASE_SEC, DEFAULT_BASE_SEC)
    cap_sec = _finite_in(cap_sec, 0.0, MAX_CAP_SEC, DEFAULT_CAP_SEC)
    # 2**n overflows floats for absurd n; the cap is reached long before that.
    exponent = min(max(retries_so_far, 0), 1000)
    try:
        raw = base_sec * (2.0 ** exponent)
    except OverflowError:
        raw = cap_sec
    return min(raw, cap_sec) if math.isfinite(raw) else cap_sec


def _finite_in(value: float, low: float, high: float, fallback: float) -> float:
    if not isinstance(value, int | float) or not math.isfinite(value):
        return fallback
    return min(max(float(value), low), high)


def backoff_delay(retries_so_far: int, base_sec: float, cap_sec: float,
                  jitter_fraction: float = JITTER_FRACTION,
                  rng: Callable[[], float] = random.random) -> float:
    """Seconds to wait: the base delay plus a random jitter in [0, jitter_fraction * delay)."""
    delay = base_delay(retries_so_far, base_sec, cap_sec)
    return delay + delay * min(max(jitter_fraction, 0.0), 1.0) * min(max(rng(), 0.0), 1.0)


def max_delay(cap_sec: float) -> float:
    """The longest wait `backoff_delay` can return for this cap, jitter included."""
    return _finite_in(cap_sec, 0.0, MAX_CAP_SEC, DEFAULT_CAP_SEC) * (1.0 + JITTER_FRACTION)


def delay_bounds(retries_so_far: int, base_sec: float, cap_sec: float,
                 jitter_fraction: float = JITTER_FRACTION) -> tuple[float, float]:
    """The range `backoff_delay` can return (tests and the UI use it)."""
    delay = base_delay(retries_so_far, base_sec, cap_sec)
    return delay, delay * (1.0 + max(jitter_fraction, 0.0))
