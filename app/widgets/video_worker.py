"""The viewer's decoding thread: opens the video, seeks, plays, and hands QImages to the GUI.

All PyAV work (open, seek, decode, colour conversion and scaling) runs on this one thread; the
GUI thread only sends commands (a thread-safe queue) and receives finished frames (a queued
signal). Commands are coalesced: of several seeks waiting, only the newest is decoded, so
dragging the seek bar never builds a backlog. While playing, the thread paces frames by their
pts (gaps from recording pauses are cut to at most a second), drops a frame instead of
falling behind, and never has more than two frames waiting for the GUI.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QImage

from app.playback.decoder import DecodedFrame, VideoDecoder, VideoUnreadable, fit_size
from app.playback.frame_index import FrameIndex

log = logging.getLogger(__name__)

SPEEDS = (0.5, 1.0, 1.5, 2.0, 4.0)
MAX_GAP_MS = 1000  # a longer gap between frames (a pause) plays as one second
MAX_IN_FLIGHT = 2
MIN_EMIT_INTERVAL_S = 1 / 60  # at high speed, no more pictures than a screen shows


@dataclass(frozen=True)
class ShownFrame:
    """A decoded frame ready to paint. `rgb` owns the pixels `image` points at."""

    image: QImage
    rgb: np.ndarray
    pts_ms: float  # video time
    index: int  # frame index (frames.jsonl)
    t_ms: int  # session time
    request: int  # the seek request it answers (0: a frame of playback)


@dataclass(frozen=True)
class VideoOpened:
    width: int
    height: int
    first_pts_ms: float


@dataclass(frozen=True)
class _Command:
    kind: str  # seek | play | pause | step | speed | size | stop
    value: Any = None
    request: int = 0


class VideoWorker(QObject):
    opened = Signal(object)  # VideoOpened
    frameReady = Signal(object)  # ShownFrame
    failed = Signal(str)  # one sentence: the video cannot be played (from here on)
    playingChanged = Signal(bool)

    def __init__(self, root: Path, rel: str, frames: FrameIndex, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.root = root
        self.rel = rel
        self.frames = frames
        self._commands: queue.SimpleQueue[_Command] = queue.SimpleQueue()
        self._in_flight = 0
        self._lock = threading.Lock()
        self._requests = 0
        self._thread: threading.Thread | None = None
        # Counters for tests and the bench (read from any thread; ints are atomic enough).
        self.frames_emitted = 0
        self.frames_dropped = 0

    # --- GUI side ---------------------------------------------------------------------------------
    def start(self, size: tuple[int, int]) -> None:
        self._thread = threading.Thread(target=self._run, args=(size,), name="sessionrec-video",
                                        daemon=True)
        self._thread.start()

    def _send(self, kind: str, value: Any = None) -> int:
        request = 0
        if kind == "seek" or kind == "step":
            self._requests += 1
            request = self._requests
        self._commands.put(_Command(kind, value, request))
        return request

    def seek_frame(self, index: int) -> int:
        """Show frame `index` exactly; returns the request id its ShownFrame will carry."""
        return self._send("seek", index)

    def play(self, speed: float) -> None:
        self._send("play", speed)

    def pause(self) -> None:
        self._send("pause")

    def step(self, delta: int) -> int:
        return self._send("step", delta)

    def set_speed(self, speed: float) -> None:
        self._send("speed", speed)

    def set_size(self, size: tuple[int, int]) -> None:
        self._send("size", size)

    def frame_consumed(self) -> None:
        with self._lock:
            self._in_flight = max(0, self._in_flight - 1)

    def stop(self, wait_s: float = 2.0) -> None:
        self._commands.put(_Command("stop"))
        if self._thread is not None:
            self._thread.join(wait_s)

    # --- worker thread ----------------------------------------------------------------------------
    def _run(self, size: tuple[int, int]) -> None:
        try:
            decoder = VideoDecoder.open(self.root, self.rel)
        except VideoUnreadable as exc:
            self.signal(self.failed, str(exc))
            return
        try:
            _Player(self, decoder, size).loop()
        except VideoUnreadable as exc:
            self.signal(self.failed, str(exc))
        except Exception as exc:  # a bug must not kill the viewer silently
            log.exception("video worker failed")
            self.signal(self.failed, "The video stopped playing because of an internal error "
                        f"({type(exc).__name__}).")
        finally:
            decoder.close()

    def _emit(self, frame: ShownFrame, force: bool) -> bool:
        with self._lock:
            if not force and self._in_flight >= MAX_IN_FLIGHT:
                self.frames_dropped += 1
                return False
            self._in_flight += 1
        self.frames_emitted += 1
        self.signal(self.frameReady, frame)
        return True

    def signal(self, signal: Any, *args: Any) -> None:
        try:
            signal.emit(*args)
        except RuntimeError:  # the viewer was closed and deleted while this thread finished up
            self._commands.put(_Command("stop"))


class _Player:
    """The state of the worker thread: where the decoder is, and whether it plays."""

    def __init__(self, worker: VideoWorker, decoder: VideoDecoder, size: tuple[int, int]) -> None:
        self.worker = worker
        self.decoder = decoder
        self.frames = worker.frames
        self.box = size
        self.playing = False
        self.speed = 1.0
        self.current: Any = None  # the av.VideoFrame on screen
        self.current_request = 0  # the seek request it answered (0: playback)
        self.next_due = 0.0  # monotonic time the next playback frame is due
        self.last_emit = 0.0
        # Session time of frame 0 as the video shows it: frames.jsonl's first time, confirmed
        # against the first decoded pts (the muxer rebases it to 0).
        self.offset_ms = float(self.frames.offset_ms)

    def size_for(self, frame: Any) -> tuple[int, int]:
        return fit_size((frame.width, frame.height), self.box)

    def shown(self, frame: Any, request: int) -> ShownFrame:
        decoded: DecodedFrame = self.decoder.to_rgb(frame, self.size_for(frame))
        rgb = decoded.rgb
        image = QImage(rgb.data, decoded.width, decoded.height, 3 * decoded.width,
                       QImage.Format.Format_RGB888)
        index = self.frames.index_of_video_ms(decoded.pts_ms) if self.frames.count else 0
        t_ms = self.frames.t_of(index) if self.frames.count else int(decoded.pts_ms + self.offset_ms)
        return ShownFrame(image, rgb, decoded.pts_ms, index, t_ms, request)

    def video_ms_of(self, index: int) -> float:
        return float(self.frames.video_ms_of(index)) if self.frames.count else 0.0

    def loop(self) -> None:
        first = self.decoder.next_frame()
        if first is None:
            raise VideoUnreadable("The video holds no frames.")
        self.worker.signal(self.worker.opened,
                           VideoOpened(first.width, first.height, self.decoder.pts_of(first)))
        self.current = first
        self.worker._emit(self.shown(first, 0), force=True)
        while True:
            timeout = None
            if self.playing:
                timeout = max(0.0, self.next_due - time.monotonic())
            commands = self._take(timeout)
            if any(c.kind == "stop" for c in commands):
                return
            self._apply(commands)
            if self.playing and time.monotonic() >= self.next_due:
                self._play_one()

    def _take(self, timeout: float | None) -> list[_Command]:
        commands: list[_Command] = []
        try:
            commands.append(self.worker._commands.get(timeout=timeout))
        except queue.Empty:
            return commands
        while True:
            try:
                commands.append(self.worker._commands.get_nowait())
            except queue.Empty:
                return commands

    def _apply(self, commands: list[_Command]) -> None:
        # Only the newest seek matters; everything else applies in order.
        last_seek = max((i for i, c in enumerate(commands) if c.kind in ("seek", "step")), default=-1)
        for i, command in enumerate(commands):
            if command.kind in ("seek", "step") and i != last_seek:
                continue
            if command.kind == "seek":
                self._seek(int(command.value), command.request)
            elif command.kind == "step":
                self._step(int(command.value), command.request)
            elif command.kind == "play":
                self.speed = float(command.value)
                if not self.playing:
                    self.playing = True
                    self.worker.signal(self.worker.playingChanged, True)
                    gap = self._gap_after(self.current) if self.current is not None else 0.0
                    self.next_due = time.monotonic() + gap
            elif command.kind == "pause":
                if self.playing:
                    self.playing = False
                    self.worker.signal(self.worker.playingChanged, False)
            elif command.kind == "speed":
                self.speed = float(command.value)
            elif command.kind == "size":
                self.box = command.value
                if self.current is not None and not self.playing:
                    # The same frame again at the new size: it still answers the same request.
                    self.worker._emit(self.shown(self.current, self.current_request), force=True)

    def _seek(self, index: int, request: int) -> None:
        frame = self.decoder.seek(self.video_ms_of(index)) or self.current
        if frame is None:
            return
        self.current = frame
        self.current_request = request
        self.worker._emit(self.shown(frame, request), force=True)
        self.next_due = time.monotonic() + self._gap_after(frame)

    def _step(self, delta: int, request: int) -> None:
        if self.playing:
            self.playing = False
            self.worker.signal(self.worker.playingChanged, False)
        here = self.frames.index_of_video_ms(self.decoder.pts_of(self.current)) if self.current else 0
        target = max(0, min(here + delta, self.frames.count - 1)) if self.frames.count else here
        if delta > 0 and self.frames.count == 0:
            frame = self.decoder.next_frame()
            if frame is not None:
                self.current = frame
                self.current_request = request
                self.worker._emit(self.shown(frame, request), force=True)
            return
        self._seek(target, request)

    def _gap_after(self, frame: Any) -> float:
        """Seconds until the frame after `frame` is due at the current speed."""
        here = self.decoder.pts_of(frame)
        index = self.frames.index_of_video_ms(here)
        if self.frames.count and index + 1 < self.frames.count:
            gap = self.frames.video_ms_of(index + 1) - here
        else:
            gap = 100.0
        return min(max(gap, 0.0), MAX_GAP_MS) / 1000 / self.speed

    def _play_one(self) -> None:
        frame = self.decoder.next_frame()
        if frame is None:
            self.playing = False
            self.worker.signal(self.worker.playingChanged, False)
            return
        self.current = frame
        self.current_request = 0
        due = self.next_due
        self.next_due = due + self._gap_after(frame)
        now = time.monotonic()
        late = now - due > max(0.05, self._gap_after(frame))
        too_soon = now - self.last_emit < MIN_EMIT_INTERVAL_S
        if (late or too_soon) and self.next_due > now:
            # Behind schedule (or faster than a screen shows): skip converting this one.
            self.worker.frames_dropped += 1
            return
        if late:
            self.next_due = now + self._gap_after(frame)  # too far behind: start the clock again
        if self.worker._emit(self.shown(frame, 0), force=False):
            self.last_emit = now
