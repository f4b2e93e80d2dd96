"""The encoder thread: H.264 (libx264 via PyAV) into a fragmented MP4 that survives a kill.

Why these settings (DESIGN §8):
- `movflags=frag_keyframe+empty_moov+default_base_moof` + `frag_duration=1000000`: the file is a
  header followed by self-contained ~1 s fragments (moof+mdat), so after a kill -9 everything up to
  the last complete fragment plays. A plain MP4 writes its index at the end and is unreadable.
- `flush_packets=1`: PyAV's output is buffered; without this a finished fragment may sit in memory.
- `tune=zerolatency`: x264 hands each frame back at once instead of holding a few frames for
  frame-threading, so what was captured reaches the file without an encoder delay (and it costs
  less CPU than the default here: measured ~11 vs ~16 ms per 1080p frame).
- pts are the real capture times in a 1/1000 time base, so the video's duration is the wall time
  even when frames were dropped or the grab ran late.
Each written frame gets a line in frames.jsonl: {"index", "t"}.
"""

from __future__ import annotations

import json
import logging
import queue
import threading
import time
from collections.abc import Callable
from fractions import Fraction
from pathlib import Path
from typing import IO, Any, BinaryIO

from app import session_files
from app.recorder.capture import CapturedFrame

log = logging.getLogger(__name__)

MS = Fraction(1, 1000)
MUXER_OPTIONS = {
    "movflags": "frag_keyframe+empty_moov+default_base_moof",
    "frag_duration": "1000000",
    "flush_packets": "1",
}


def output_size(width: int, height: int, max_width: int | None) -> tuple[int, int]:
    """Encoded size: scaled down to max_width if wider, and even (yuv420p needs it)."""
    if max_width and width > max_width:
        height = round(height * max_width / width)
        width = max_width
    return max(2, width - width % 2), max(2, height - height % 2)


class VideoEncoder:
    """The container and stream; used by the writer thread and by tests directly."""

    def __init__(self, target: Path | BinaryIO, fps: int, width: int, height: int) -> None:
        """`target`: an open, unbuffered file (the recorder's, opened through session_files),
        or a path (tests and benches writing outside any session)."""
        import av

        self._av = av
        self.container: Any = av.open(str(target) if isinstance(target, Path) else target, "w",
                                      format="mp4", options=dict(MUXER_OPTIONS))
        stream = self.container.add_stream("libx264", rate=fps)
        stream.width = width
        stream.height = height
        stream.pix_fmt = "yuv420p"
        stream.time_base = MS
        stream.codec_context.time_base = MS
        # A keyframe every second keeps every fragment independently decodable.
        stream.options = {"preset": "ultrafast", "tune": "zerolatency", "g": str(max(1, fps))}
        self.stream = stream
        self.last_pts = -1

    def encode(self, pixels: Any, t_ms: int) -> None:
        frame = self._av.VideoFrame.from_ndarray(pixels, format="bgra")
        # pts must rise strictly; two grabs in the same millisecond get the next one.
        pts = max(int(t_ms), self.last_pts + 1)
        frame.pts = pts
        frame.time_base = MS
        self.last_pts = pts
        # The encoder converts BGRA to yuv420p (and scales) itself, in C.
        self.container.mux(self.stream.encode(frame))

    def close(self) -> None:
        try:
            self.container.mux(self.stream.encode(None))
        finally:
            self.container.close()


class VideoWriterThread(threading.Thread):
    def __init__(
        self,
        video_path: Path,
        frames_log: Path,
        fps: int,
        size: tuple[int, int],
        frames: queue.Queue[CapturedFrame | None],
        write_hook: Callable[[], None] | None = None,
    ) -> None:
        super().__init__(name="sessionrec-encoder", daemon=True)
        self.video_path = video_path
        self.frames_log = frames_log
        self.fps = fps
        self.size = size
        self.frames = frames
        # Tests inject faults (e.g. ENOSPC) here; called before each frame is written.
        self.write_hook = write_hook
        self.written = 0
        self.last_written_at = time.monotonic()
        self.error: BaseException | None = None
        self.ready = threading.Event()

    def run(self) -> None:
        encoder: VideoEncoder | None = None
        log_file: IO[str] | None = None
        video_file: BinaryIO | None = None
        try:
            # Unbuffered: each fragment the muxer flushes goes straight to the disk.
            video_file = session_files.open_path(self.video_path, "wb", buffering=0)
            encoder = VideoEncoder(video_file, self.fps, *self.size)
            log_file = session_files.open_text(self.frames_log.parent, self.frames_log.name, "a")
            self.ready.set()
            while (item := self.frames.get()) is not None:
                if self.error is not None:
                    continue  # keep draining so the capture thread never blocks
                try:
                    if self.write_hook is not None:
                        self.write_hook()
                    encoder.encode(item.pixels, item.t_ms)
                    log_file.write(json.dumps({"index": item.index, "t": item.t_ms}) + "\n")
                    log_file.flush()
                    self.written += 1
                    self.last_written_at = time.monotonic()
                except BaseException as exc:
                    log.exception("video encoding failed")
                    self.error = exc
        except BaseException as exc:
            log.exception("video writer failed")
            self.error = self.error or exc
        finally:
            self.ready.set()
            for closer in (encoder.close if encoder else None, log_file.close if log_file else None,
                           video_file.close if video_file else None):
                if closer is None:
                    continue
                try:
                    closer()
                except BaseException as exc:
                    log.warning("closing the video failed: %s", exc)
                    self.error = self.error or exc
