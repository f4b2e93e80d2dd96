"""One recording: start / pause / resume / stop, the health check, and the session's files.

Threads (DESIGN §6): capture (mss on a fixed schedule) -> bounded queue -> encoder (PyAV);
pynput listener callbacks -> unbounded queue -> action writer; screenshot writer; and a small
health thread. All share one `SessionClock`.

Health: while recording (not paused), if no frame has been written for 3 s the recorder enters the
error state with one sentence (`status().error`) and sets `failed`, so the CLI or the window stops
it and the problem is shown, never a silent empty recording. A full disk (ENOSPC from any writer)
does the same with a disk-full sentence; `stop()` then keeps everything captured so far.
"""

from __future__ import annotations

import contextlib
import dataclasses
import enum
import errno
import logging
import os
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from app import __version__, session_files
from app.models import PauseSpan, ScreenRect, SessionMeta
from app.recorder.capture import CapturedFrame, CaptureError, CaptureThread, probe_screen
from app.recorder.clock import SessionClock
from app.recorder.heap import trim_heap
from app.recorder.input_log import ActionWriterThread, InputListeners, RawEvent
from app.recorder.screenshots import ScreenshotThread
from app.recorder.session_lock import SessionLock
from app.recorder.timeline import FrameTimeline
from app.recorder.video_writer import (
    KEYFRAME_INTERVAL_S,
    FrameConverter,
    VideoWriterThread,
    output_size,
)
from app.sessions import (
    ACTIONS_FILE,
    FRAMES_FILE,
    RESERVE_FILE,
    SCREENSHOTS_DIR,
    VIDEO_DIR,
    VIDEO_FILE,
    SessionPaths,
    delete_session_folder,
    new_session_id,
    save_meta,
    session_paths,
    sessions_root,
)

log = logging.getLogger(__name__)

STALL_S = 3.0
# RESERVE_FILE is freed when the disk fills, so the meta can still be completed.
RESERVE_BYTES = 256 * 1024
# Queued frames are yuv420p at the video's size (3 MB at 1080p): bounded in bytes, not only in
# frames, so a stalled encoder costs at most this much memory.
ENCODER_QUEUE_BYTES = 16 * 1024 * 1024


class RecorderError(Exception):
    """One sentence saying why recording cannot start."""


class RecorderState(enum.Enum):
    IDLE = "idle"
    RECORDING = "recording"
    PAUSED = "paused"
    ERROR = "error"
    STOPPED = "stopped"


@dataclass(frozen=True)
class RecorderSettings:
    fps: int = 10
    screenshot_every_s: float = 5.0
    mask_keys: bool = False
    monitor: int | str = 1
    max_width: int | None = None
    capture_input: bool = True
    title: str | None = None  # already checked (app/session_texts.clean_title)
    keyframe_interval_s: float = KEYFRAME_INTERVAL_S


@dataclass(frozen=True)
class RecorderStatus:
    state: RecorderState
    t_ms: int
    frame_count: int
    dropped_frames: int
    action_count: int
    screenshot_count: int
    error: str | None


@dataclass
class WriteHooks:
    """Fault injection for tests (e.g. raise ENOSPC); each is called before a write."""

    video: Callable[[], None] | None = None
    actions: Callable[[], None] | None = None
    screenshots: Callable[[], None] | None = None


def is_disk_full(exc: BaseException | None) -> bool:
    return getattr(exc, "errno", None) == errno.ENOSPC


class SessionRecorder:
    def __init__(self, data_dir: Path, settings: RecorderSettings,
                 hooks: WriteHooks | None = None) -> None:
        if not 1 <= settings.fps <= 30:
            raise RecorderError("The frame rate must be between 1 and 30 frames per second.")
        self.data_dir = data_dir
        self.settings = settings
        self.hooks = hooks or WriteHooks()
        self.state = RecorderState.IDLE
        self.failed = threading.Event()
        self.error: str | None = None
        self.meta: SessionMeta | None = None
        self.paths: SessionPaths | None = None
        self._paused = threading.Event()
        self._stop = threading.Event()
        self._pauses: list[PauseSpan] = []
        self._lock: SessionLock | None = None
        self._frames: queue.Queue[CapturedFrame | None] = queue.Queue()
        self._events: queue.SimpleQueue[RawEvent | None] = queue.SimpleQueue()
        self.clock = SessionClock()
        self._timeline = FrameTimeline(self.clock.now_ms)
        self._health_since = time.monotonic()

    # --- lifecycle -------------------------------------------------------------------------

    def start(self) -> str:
        if self.state is not RecorderState.IDLE:
            raise RecorderError("This recorder was already started.")
        if not os.environ.get("DISPLAY") and os.name == "posix" and not _is_macos():
            raise RecorderError("No screen to record: DISPLAY is not set (no X server to capture).")
        try:
            monitor = probe_screen(self.settings.monitor)
        except CaptureError as exc:
            raise RecorderError(str(exc)) from exc
        region = monitor.rect

        # Load the encoder's libraries before the clock starts (~0.1 s the first time), so the
        # first frame comes right after the session's start.
        import av  # noqa: F401

        self.clock = SessionClock()
        self._timeline = FrameTimeline(self.clock.now_ms)
        session_id = new_session_id(self.clock.created_at_ms)
        paths = session_paths(self.data_dir, session_id)
        try:
            sessions_root(self.data_dir).mkdir(mode=0o700, parents=True, exist_ok=True)
            # Private from the start: 0700 folders, 0600 files (session_files' modes).
            session_files.create_session_folder(paths.root)
            for folder in (VIDEO_DIR, SCREENSHOTS_DIR):
                session_files.make_dir(paths.root, folder)
            self._lock = SessionLock(paths.root)
            if not self._lock.try_acquire():  # a fresh folder: only a bug gets here
                raise RecorderError("The new session folder is locked by another process.")
            for rel in (ACTIONS_FILE, FRAMES_FILE):
                session_files.open_binary(paths.root, rel, "ab").close()
        except OSError as exc:
            self._discard_new_folder(paths)
            raise RecorderError(_disk_sentence(exc, "the session folder could not be created")) from exc
        self.paths = paths
        with contextlib.suppress(OSError), \
                session_files.open_binary(paths.root, RESERVE_FILE, "wb") as reserve:
            reserve.write(b"\0" * RESERVE_BYTES)
        self.meta = SessionMeta(
            session_id=session_id, created_at=self.clock.created_at_ms, app_version=__version__,
            fps=float(self.settings.fps), screen=region, video_ref=VIDEO_FILE,
            mask_keys=self.settings.mask_keys, title=self.settings.title,
            monitor=monitor.key, monitor_name=monitor.name,
            screenshot_every_sec=float(self.settings.screenshot_every_s),
        )
        try:
            save_meta(paths, self.meta)
        except OSError as exc:
            self._discard_new_folder(paths)
            raise RecorderError(_disk_sentence(exc, "the session could not be created")) from exc
        self._start_threads(paths, region)
        self.state = RecorderState.RECORDING
        return session_id

    def _discard_new_folder(self, paths: SessionPaths) -> None:
        # Nothing was recorded yet: the half-made folder would only show up as a damaged session.
        if self._lock is not None:
            self._lock.release()
            self._lock = None
        with contextlib.suppress(OSError):
            delete_session_folder(self.data_dir, paths.session_id)

    def _start_threads(self, paths: SessionPaths, region: ScreenRect) -> None:
        size = output_size(region.width, region.height, self.settings.max_width)
        self._frames = queue.Queue(maxsize=encoder_queue_size(self.settings.fps, size))
        self._writer = VideoWriterThread(paths.root / VIDEO_FILE, paths.frames, self.settings.fps,
                                         size, self._frames, self.hooks.video,
                                         self.settings.keyframe_interval_s)
        self._writer.start()
        self._writer.ready.wait(10)
        self._screenshots = ScreenshotThread(paths.root, self.clock, self._timeline,
                                             self.settings.screenshot_every_s, self._paused,
                                             self.hooks.screenshots)
        self._screenshots.start()
        self._actions = ActionWriterThread(paths.actions, self._events, self._timeline,
                                           self.settings.mask_keys, self._screenshots.request_click,
                                           self.hooks.actions, 1000 / self.settings.fps)
        self._actions.start()
        self._capture = CaptureThread(self.clock, self.settings.fps, region, self._frames,
                                      self._timeline, self._paused, self._stop,
                                      FrameConverter(size))
        self._health_since = time.monotonic()
        self._capture.start()
        self._listeners: InputListeners | None = None
        if self.settings.capture_input:
            self._listeners = InputListeners(self.clock, self._events, self._paused,
                                             self._timeline.hold)
            try:
                self._listeners.start()
            except Exception as exc:  # keyboard/mouse capture unavailable: record the screen anyway
                log.warning("input capture unavailable: %s", exc)
                self._listeners = None
        self._health = threading.Thread(target=self._health_loop, name="sessionrec-health",
                                        daemon=True)
        self._health.start()

    def pause(self) -> None:
        if self.state is RecorderState.RECORDING:
            self._paused.set()
            self._pauses.append(PauseSpan(start_ms=self.clock.now_ms()))
            self.state = RecorderState.PAUSED
            self._save_progress()

    def resume(self) -> None:
        if self.state is RecorderState.PAUSED:
            last = self._pauses[-1]
            self._pauses[-1] = PauseSpan(start_ms=last.start_ms, end_ms=self.clock.now_ms())
            self._health_since = time.monotonic()
            self._paused.clear()
            self.state = RecorderState.RECORDING
            self._save_progress()

    def _save_progress(self) -> None:
        # Pauses go to disk as they happen, so a recovered session still shows them.
        if self.meta is not None and self.paths is not None:
            self.meta = dataclasses.replace(self.meta, pauses=list(self._pauses))
            with contextlib.suppress(OSError):
                save_meta(self.paths, self.meta)

    def stop(self) -> SessionMeta:
        """Stop every thread, finalize the video and complete the meta (not exported yet)."""
        assert self.meta is not None and self.paths is not None
        if self.state is RecorderState.STOPPED:
            return self.meta
        end_ms = self.clock.now_ms()
        if self._pauses and self._pauses[-1].end_ms is None:
            self._pauses[-1] = PauseSpan(start_ms=self._pauses[-1].start_ms, end_ms=end_ms)
        self._stop.set()
        if self._listeners is not None:
            self._listeners.stop()
        self._capture.join(5)
        _put_until_taken(self._frames, self._writer)
        self._writer.join(30)
        self._events.put(None)
        self._actions.join(10)
        self._screenshots.stop()
        self._screenshots.join(10)
        if self._screenshots.skipped:
            log.warning("%d screenshots were skipped: the encoder was behind",
                        self._screenshots.skipped)
        self._check_writers()
        # Free the reserve first: on a full disk it is what lets the meta below be written.
        with contextlib.suppress(OSError):
            session_files.unlink(self.paths.root, RESERVE_FILE)
        frame_count = self._writer.written
        if self._writer.error is not None:
            # A failed write (a full disk) can leave a half fragment at the end: cut it off.
            from app.recorder.recovery import repair_video

            frame_count = repair_video(self.paths, self.meta)[0].frames
        paused_ms = sum((p.end_ms or end_ms) - p.start_ms for p in self._pauses)
        self.meta = dataclasses.replace(
            self.meta,
            ended_at=self.clock.epoch_ms(end_ms),
            duration_ms=max(0, end_ms - paused_ms),
            frame_count=frame_count,
            dropped_frames=self._capture.dropped,
            action_count=self._actions.written,
            screenshot_count=self._screenshots.written,
            pauses=list(self._pauses),
            error=self.error,
        )
        try:
            save_meta(self.paths, self.meta)
        except OSError as exc:
            # Recovery will finalize it from disk next time; say why now.
            self.error = self.error or _disk_sentence(exc, "the session details could not be saved")
            log.error("could not save the final meta: %s", exc)
        self.state = RecorderState.STOPPED
        return self.meta

    def export(self, cancel: threading.Event | None = None,
               on_progress: Callable[[int, int], None] | None = None) -> SessionMeta:
        """Zip the stopped session (still holding the lock, so recovery never races it)."""
        from app.recorder.archive import export_session

        assert self.meta is not None and self.paths is not None
        self.meta = export_session(self.paths, self.meta, cancel, on_progress)
        return self.meta

    def close(self) -> None:
        if self._lock is not None:
            self._lock.release()

    # --- status and health -----------------------------------------------------------------

    def status(self) -> RecorderStatus:
        started = self.state is not RecorderState.IDLE
        return RecorderStatus(
            state=self.state,
            t_ms=self.clock.now_ms() if started else 0,
            frame_count=self._writer.written if started else 0,
            dropped_frames=self._capture.dropped if started else 0,
            action_count=self._actions.written if started else 0,
            screenshot_count=self._screenshots.written if started else 0,
            error=self.error,
        )

    def latest_frame(self) -> tuple[int, int, Any] | None:
        """(index, t, BGRA pixels) of the newest captured frame, for a preview; the pixels are
        shared with the encoder and must only be read."""
        return self._timeline.latest()

    def _first_writer_error(self) -> BaseException | None:
        for thread_error in (self._writer.error, self._actions.error, self._screenshots.error,
                             self._capture.error):
            if thread_error is not None:
                return thread_error
        return None

    def _check_writers(self) -> None:
        if self.error:
            return
        exc = self._first_writer_error()
        if is_disk_full(exc):
            self._fail(f"The disk is full: recording stopped after {self.clock.now_ms() / 1000:.1f} s; "
                       "what was captured is kept.")
        elif exc is not None and exc is not self._capture.error and not isinstance(exc, OSError):
            self._fail(f"Recording failed while writing the session ({type(exc).__name__}: {exc}).")
        elif isinstance(exc, OSError):
            self._fail(_disk_sentence(exc, "recording stopped because a file could not be written"))

    def _fail(self, sentence: str) -> None:
        self.error = sentence
        self.state = RecorderState.ERROR
        self.failed.set()
        log.error("%s", sentence)

    def _health_loop(self) -> None:
        ticks = 0
        while not self._stop.wait(0.25):
            ticks += 1
            if ticks % 4 == 0:
                trim_heap()
            if self.error:
                continue
            self._check_writers()
            if self.error or self._paused.is_set():
                continue
            last = max(self._writer.last_written_at, self._health_since)
            if time.monotonic() - last > STALL_S:
                cause = self._capture.error or self._writer.error
                detail = f": {cause}" if cause else " (the screen capture or the encoder stalled)"
                self._fail(f"No video frame was written for {STALL_S:.0f} seconds{detail}.")


def encoder_queue_size(fps: int, size: tuple[int, int]) -> int:
    """Frames the capture may run ahead of the encoder: half a second, but no more than
    `ENCODER_QUEUE_BYTES` of yuv420p frames of `size` (at 1080p: 5 frames, 167 ms at 30 fps),
    and at least 2."""
    frame_bytes = max(1, size[0] * size[1] * 3 // 2)
    return max(2, min(max(4, fps // 2), ENCODER_QUEUE_BYTES // frame_bytes))


def _put_until_taken(frames: queue.Queue[CapturedFrame | None], writer: threading.Thread) -> None:
    # The writer drains the queue even after an error, so this returns unless it died.
    while writer.is_alive():
        try:
            frames.put(None, timeout=0.5)
            return
        except queue.Full:
            continue


def _disk_sentence(exc: OSError, what: str) -> str:
    if exc.errno == errno.ENOSPC:
        return f"The disk is full: {what}."
    return f"{what[:1].upper()}{what[1:]}: {exc.strerror or exc}."


def _is_macos() -> bool:
    import sys

    return sys.platform == "darwin"
