"""Part URLs signed ahead of need, in batches, and signed again when their time runs out.

The first part that finds no URL signs the next BATCH part numbers in one request; the
workers after it find theirs waiting. A URL is not handed out in the last EXPIRY_MARGIN of
its life (X-Amz-Date + X-Amz-Expires, read from the URL itself, on this computer's clock
relative to when it was signed), and one the store refused as expired is dropped and signed
again on its own.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

BATCH = 16
MAX_PART_NUMBER = 10_000
# Hand a URL out only while it has at least this share of its life left.
EXPIRY_MARGIN = 0.2


@dataclass(frozen=True)
class _Signed:
    url: str
    signed_at: float  # monotonic
    lifetime: float | None  # seconds, when the URL says


def lifetime_of(url: str) -> float | None:
    values = parse_qs(urlsplit(url).query).get("X-Amz-Expires")
    try:
        return float(values[0]) if values else None
    except ValueError:
        return None


class PartUrls:
    """Thread-safe; `sign(numbers)` returns {number: url} for the numbers asked."""

    def __init__(self, sign: Callable[[list[int]], dict[int, str]], batch: int = BATCH) -> None:
        self._sign = sign
        self._batch = batch
        self._urls: dict[int, _Signed] = {}
        self._lock = threading.Lock()
        self.batches = 0  # signing requests made (for tests and the log)

    def get(self, number: int) -> str:
        with self._lock:
            signed = self._urls.get(number)
            if signed is not None and self._fresh(signed):
                return signed.url
            numbers = [n for n in range(number, min(number + self._batch, MAX_PART_NUMBER + 1))
                       if n == number or n not in self._urls or not self._fresh(self._urls[n])]
            self._store(self._sign(numbers))
            return self._urls[number].url

    def expired(self, number: int) -> str:
        """The store refused part `number`'s URL as expired: a new URL for it alone."""
        with self._lock:
            self._urls.pop(number, None)
            self._store(self._sign([number]))
            return self._urls[number].url

    def _store(self, urls: dict[int, str]) -> None:
        now = time.monotonic()
        self.batches += 1
        for number, url in urls.items():
            self._urls[number] = _Signed(url, now, lifetime_of(url))

    @staticmethod
    def _fresh(signed: _Signed) -> bool:
        if signed.lifetime is None:
            return True
        return time.monotonic() - signed.signed_at < signed.lifetime * (1 - EXPIRY_MARGIN)
