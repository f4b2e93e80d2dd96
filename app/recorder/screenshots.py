"""The screenshot thread: PNG stills on clicks and every N seconds.

Source: the most recent *captured* frame at the click's time (kept by FrameTimeline), not a fresh
grab. It is exactly the picture the video shows at that instant, so screenshot, video and action
agree; it costs no extra grab (mss handles are per thread and a second grabber would compete with
the capture schedule); and a fresh grab taken after the click would already show the click's
effect (a menu opening), while the frame before it shows what was clicked on.

Format: PNG. Screenshots are read for their text and UI details; PNG is lossless, and a UI screen
is small in PNG (10-300 KB at 1080p) where JPEG blurs text and is often larger for flat colours.
Encoding (~30 ms at 1080p, written in strips by app/recorder/png.py so it needs no copy of the
frame) runs here, never on the capture thread.

Memory: a queued job keeps its frame's pixels (8 MB at 1080p) alive, so the queue is short;
a click whose job does not fit has no screenshot (the action says so by having none).
"""

from __future__ import annotations

import contextlib
import logging
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from app import session_files
from app.recorder.clock import SessionClock
from app.recorder.png import write_png
from app.recorder.timeline import FrameTimeline

log = logging.getLogger(__name__)

# A burst of more clicks than this within the ~30 ms a PNG takes skips screenshots.
QUEUE_SIZE = 8


def click_name(t_ms: int, frame: int) -> str:
    return f"screenshots/click-{t_ms:09d}ms-f{frame:06d}.png"


def periodic_name(t_ms: int, frame: int) -> str:
    return f"screenshots/periodic-{t_ms:09d}ms-f{frame:06d}.png"


@dataclass(frozen=True)
class _Job:
    relative: str
    pixels: Any


class ScreenshotThread(threading.Thread):
    def __init__(
        self,
        session_root: Path,
        clock: SessionClock,
        timeline: FrameTimeline,
        every_s: float,
        paused: threading.Event,
        write_hook: Callable[[], None] | None = None,
    ) -> None:
        super().__init__(name="sessionrec-screenshots", daemon=True)
        self.root = session_root
        self.clock = clock
        self.timeline = timeline
        self.every_s = every_s
        self.paused = paused
        self.write_hook = write_hook
        self.jobs: queue.Queue[_Job | None] = queue.Queue(maxsize=QUEUE_SIZE)
        self.written = 0
        self.skipped = 0
        self.error: BaseException | None = None

    def request_click(self, t_ms: int, frame: int) -> str | None:
        """Queue a screenshot of the frame on screen at a click; returns its relative path, or
        None when there is no frame yet or the queue is full (then the action has none). The
        name carries the index of the frame it shows: the click's frame, unless that frame's
        pixels were already let go (then the next kept one)."""
        kept = self.timeline.pixels_at(frame)
        if kept is None or self.error is not None:
            return None
        shown, pixels = kept
        relative = click_name(t_ms, shown)
        try:
            self.jobs.put_nowait(_Job(relative, pixels))
        except queue.Full:
            self.skipped += 1
            return None
        return relative

    def stop(self) -> None:
        self.jobs.put(None)

    def run(self) -> None:
        next_periodic = time.monotonic() + self.every_s if self.every_s > 0 else None
        while True:
            timeout = None if next_periodic is None else max(0.0, next_periodic - time.monotonic())
            try:
                job = self.jobs.get(timeout=timeout)
            except queue.Empty:
                job = self._periodic_job()
                assert next_periodic is not None
                next_periodic += self.every_s
                if job is None:
                    continue
            if job is None:
                return
            self._write(job)

    def _periodic_job(self) -> _Job | None:
        latest = self.timeline.latest()
        if latest is None or self.paused.is_set() or self.error is not None:
            return None
        index, t_ms, pixels = latest
        return _Job(periodic_name(t_ms, index), pixels)

    def _write(self, job: _Job) -> None:
        if self.error is not None:
            return
        folder, _, name = job.relative.rpartition("/")
        tmp = f"{folder}/.{name}.tmp"
        try:
            if self.write_hook is not None:
                self.write_hook()
            # Temp + rename: a kill mid-write never leaves a half PNG behind.
            with session_files.open_binary(self.root, tmp, "wb") as handle:
                write_png(handle, job.pixels)
            session_files.rename(self.root, tmp, job.relative)
            self.written += 1
        except BaseException as exc:
            log.exception("screenshot failed")
            self.error = exc
            with contextlib.suppress(OSError):
                session_files.unlink(self.root, tmp)
