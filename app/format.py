"""Human-readable figures shared by the CLI and the window."""

from __future__ import annotations


def human_size(num_bytes: float) -> str:
    value = float(num_bytes)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if abs(value) < 1024 or unit == "TiB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} TiB"


def human_rate(bytes_per_sec: float) -> str:
    return f"{human_size(bytes_per_sec)}/s"


def human_duration(seconds: float) -> str:
    seconds = max(0, round(seconds))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h {minutes:02d}m"
    if minutes:
        return f"{minutes}m {secs:02d}s"
    return f"{secs}s"


def clock_time(epoch_ms: int, now_ms: int) -> str:
    """Local wall-clock time of `epoch_ms`; with the date when it is not today."""
    import time

    when = time.localtime(epoch_ms / 1000)
    today = time.localtime(now_ms / 1000)
    if (when.tm_year, when.tm_yday) == (today.tm_year, today.tm_yday):
        return time.strftime("%H:%M:%S", when)
    return time.strftime("%Y-%m-%d %H:%M:%S", when)


def wait_text(next_attempt_at: int | None, now_ms: int) -> str | None:
    """How long until a waiting retry ('12s', '4m 05s'), or None when none is waiting."""
    if next_attempt_at is None or next_attempt_at <= now_ms:
        return None
    return human_duration((next_attempt_at - now_ms) / 1000)


def next_try_text(last_error: str | None, next_attempt_at: int | None, now_ms: int) -> str | None:
    """'<why the last try failed> Next try at 21:40:05 (in 12s).' while a retry is waiting."""
    wait = wait_text(next_attempt_at, now_ms)
    if next_attempt_at is None or wait is None:
        return None
    when = f"Next try at {clock_time(next_attempt_at, now_ms)} (in {wait})."
    return f"{last_error.rstrip()} {when}" if last_error else when
