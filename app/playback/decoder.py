"""Decoding the session video with PyAV into RGB arrays (no Qt).

The file is opened through `app.session_files` and PyAV reads it from that file object.
Seeking is exact: jump to the nearest keyframe at or before the target, then decode forward
to the newest frame whose pts is not after the target (frames decoded on the way are not
converted, which is most of the cost). A target a short way ahead of the current position is
reached by decoding forward without a jump, so stepping and +5 s do not go back to a keyframe.

The session viewer runs this on its worker thread; nothing here may run on the GUI thread.
"""

from __future__ import annotations

import bisect
import logging
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np

from app import session_files

log = logging.getLogger(__name__)

# Decode forward instead of seeking when the target is at most this far ahead and no keyframe we
# know of lies between: never more work than a jump back to a keyframe with a 10 s interval.
FORWARD_LIMIT_MS = 10_000


class VideoUnreadable(Exception):
    """One sentence saying why the video cannot be played."""


@dataclass(frozen=True)
class DecodedFrame:
    rgb: np.ndarray  # (height, width, 3) uint8, C-contiguous
    pts_ms: float  # video time: 0 at the first frame

    @property
    def width(self) -> int:
        return int(self.rgb.shape[1])

    @property
    def height(self) -> int:
        return int(self.rgb.shape[0])


def fit_size(source: tuple[int, int], box: tuple[int, int]) -> tuple[int, int]:
    """The largest size with `source`'s aspect that fits in `box` (even numbers, at least 2)."""
    sw, sh = source
    bw, bh = max(2, box[0]), max(2, box[1])
    if sw <= 0 or sh <= 0:
        return bw, bh
    scale = min(bw / sw, bh / sh)
    width = max(2, int(sw * scale) // 2 * 2)
    height = max(2, int(sh * scale) // 2 * 2)
    return width, height


def _sentence(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text[:200].rstrip(".")


class VideoDecoder:
    """One open video: exact seeks, sequential frames, conversion to RGB at a chosen size."""

    def __init__(self, file: BinaryIO) -> None:
        import av

        self._file = file
        try:
            self.container: Any = av.open(file, mode="r")
        except Exception as exc:
            file.close()
            raise VideoUnreadable(f"The video cannot be read ({_sentence(exc)}).") from exc
        if not self.container.streams.video:
            self.close()
            raise VideoUnreadable("The video file holds no video stream.")
        self.stream: Any = self.container.streams.video[0]
        # Slice threads only: frame threads delay every frame after a seek by the thread count.
        self.stream.thread_type = "SLICE"
        self.time_base: Fraction = self.stream.time_base or Fraction(1, 1000)
        context = self.stream.codec_context
        self.width = int(context.width or 0)
        self.height = int(context.height or 0)
        self._frames: Any = None  # the decode iterator since the last seek
        self._pending: Any = None  # a frame decoded past a seek target, returned next
        self._current: Any = None  # the frame last returned
        self.position_ms: float | None = None  # pts of the frame last returned
        self._keyframes: list[float] = []  # keyframe pts seen so far (sorted)
        self.frames_decoded = 0

    @classmethod
    def open(cls, root: Path, rel: str) -> VideoDecoder:
        try:
            handle = session_files.open_binary(root, rel)
        except FileNotFoundError as exc:
            raise VideoUnreadable("The video file is missing.") from exc
        except OSError as exc:
            raise VideoUnreadable(f"The video cannot be opened: {exc}") from exc
        return cls(handle)

    def close(self) -> None:
        try:
            self.container.close()
        except Exception:  # closing a broken container must not hide why it broke
            log.debug("closing the video failed", exc_info=True)
        self._file.close()

    # --- decoding -------------------------------------------------------------------------------
    def _ms(self, frame: Any) -> float:
        pts = frame.pts if frame.pts is not None else frame.dts
        return float((pts or 0) * self.time_base) * 1000

    def _decode_next(self) -> Any:
        if self._frames is None:
            self._frames = self.container.decode(self.stream)
        try:
            frame = next(self._frames)
        except StopIteration:
            return None
        except Exception as exc:  # a damaged packet: report as unreadable from here on
            raise VideoUnreadable(f"The video cannot be decoded past this point ({_sentence(exc)}).") \
                from exc
        self.frames_decoded += 1
        if frame.key_frame:
            ms = self._ms(frame)
            position = bisect.bisect_left(self._keyframes, ms)
            if position == len(self._keyframes) or self._keyframes[position] != ms:
                self._keyframes.insert(position, ms)
        return frame

    def next_frame(self) -> Any:
        """The next frame in order (an av.VideoFrame), or None at the end."""
        if self._pending is not None:
            frame, self._pending = self._pending, None
        else:
            frame = self._decode_next()
        if frame is not None:
            self._set_current(frame)
        return frame

    def _set_current(self, frame: Any) -> None:
        self._current = frame
        self.position_ms = self._ms(frame)

    def _jump(self, target_ms: float) -> None:
        offset = int(target_ms / 1000 / self.time_base)
        self.container.seek(max(0, offset), stream=self.stream, backward=True, any_frame=False)
        self._frames = None
        self._pending = None

    def _should_jump(self, target_ms: float) -> bool:
        current = self.position_ms
        if current is None or target_ms <= current:
            return True
        if target_ms - current > FORWARD_LIMIT_MS:
            return True
        # A keyframe we know of between here and the target: jumping to it decodes less.
        position = bisect.bisect_right(self._keyframes, target_ms) - 1
        return position >= 0 and self._keyframes[position] > current + 1

    def seek(self, target_ms: float) -> Any:
        """The frame on screen at video time `target_ms` (the newest with pts <= target), or the
        first frame when the target is before it. Returns an av.VideoFrame or None (no frames)."""
        limit = target_ms + 0.5  # pts come from a ms clock; rounding must not skip the target
        current = self._current
        if current is not None and self._ms(current) <= limit and self._pending is not None \
                and self._ms(self._pending) > limit:
            return current  # already there
        previous: Any = None
        if self._should_jump(target_ms):
            self._jump(target_ms)
        else:
            previous = current
            if self._pending is not None:
                previous, self._pending = self._pending, None
        while True:
            frame = self._decode_next()
            if frame is None:
                break
            if self._ms(frame) > limit:
                if previous is None:
                    previous = frame  # the target is before the first frame: show the first
                else:
                    self._pending = frame
                break
            previous = frame
        if previous is not None:
            self._set_current(previous)
        return previous

    def to_rgb(self, frame: Any, size: tuple[int, int] | None = None) -> DecodedFrame:
        """Convert (and scale, in C) to RGB at `size` (default: the video's own size)."""
        width, height = size if size else (frame.width, frame.height)
        rgb = frame.to_ndarray(format="rgb24", width=width, height=height,
                               interpolation="BILINEAR")
        return DecodedFrame(np.ascontiguousarray(rgb), self._ms(frame))

    def pts_of(self, frame: Any) -> float:
        return self._ms(frame)


def video_pts_ms(root: Path, rel: str) -> list[int]:
    """Every frame's pts (ms) by demuxing packets only; stands in for a missing frames.jsonl."""
    decoder = VideoDecoder.open(root, rel)
    try:
        out = []
        for packet in decoder.container.demux(decoder.stream):
            if packet.pts is None or packet.size == 0:
                continue
            out.append(round(float(packet.pts * decoder.time_base) * 1000))
        return sorted(out)
    finally:
        decoder.close()
