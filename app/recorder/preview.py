"""A small, infrequent copy of the newest captured frame, for the Recording view's preview.

`PreviewSampler` is a thread that, a couple of times a second, takes the newest frame from the
recorder, shrinks it by keeping every n-th pixel of every n-th row (one strided numpy copy of 32-bit
words, ~0.2 ms for 1080p to 960x540; the view smooths it when painting) and hands the result to a
callback — the window's callback emits a Qt signal, so the image reaches the GUI thread queued,
and nothing waits on the GUI. Frames are BGRA, which is the byte order of Qt's Format_RGB32 on
little-endian machines, so the view wraps the bytes without converting them.
"""

from __future__ import annotations

import logging
import math
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

log = logging.getLogger(__name__)

PREVIEW_EVERY_S = 0.5
PREVIEW_MAX_WIDTH = 960


@dataclass(frozen=True)
class PreviewImage:
    index: int  # video frame index
    t_ms: int  # its capture time
    width: int
    height: int
    bgra: bytes  # width x height x 4, rows packed
    source_width: int
    source_height: int


def shrink(pixels: Any, max_width: int = PREVIEW_MAX_WIDTH) -> tuple[bytes, int, int]:
    """Every n-th pixel of every n-th row, n the smallest step that fits max_width."""
    height, width = int(pixels.shape[0]), int(pixels.shape[1])
    step = max(1, math.ceil(width / max_width))
    # One 32-bit element per pixel: ten times faster than striding over the four bytes.
    as_words = np.ascontiguousarray(pixels).view(np.uint32).reshape(height, width)
    small = np.ascontiguousarray(as_words[::step, ::step])
    return small.tobytes(), int(small.shape[1]), int(small.shape[0])


def preview_of(frame: tuple[int, int, Any], max_width: int = PREVIEW_MAX_WIDTH) -> PreviewImage:
    index, t_ms, pixels = frame
    data, width, height = shrink(pixels, max_width)
    return PreviewImage(index, t_ms, width, height, data, int(pixels.shape[1]),
                        int(pixels.shape[0]))


class PreviewSampler(threading.Thread):
    def __init__(self, latest: Callable[[], tuple[int, int, Any] | None],
                 on_image: Callable[[PreviewImage], None], every_s: float = PREVIEW_EVERY_S,
                 max_width: int = PREVIEW_MAX_WIDTH) -> None:
        super().__init__(name="sessionrec-preview", daemon=True)
        self.latest = latest
        self.on_image = on_image
        self.every_s = every_s
        self.max_width = max_width
        self.stopped = threading.Event()
        self.sent = 0

    def stop(self) -> None:
        self.stopped.set()

    def run(self) -> None:
        last_index = -1
        while not self.stopped.wait(self.every_s):
            try:
                frame = self.latest()
                if frame is None or frame[0] == last_index:
                    continue  # paused, or nothing new
                last_index = frame[0]
                self.on_image(preview_of(frame, self.max_width))
                self.sent += 1
            except Exception:  # a preview is never worth stopping a recording for
                log.exception("preview failed")
