"""The encoder thread: H.264 (libx264 via PyAV) into a fragmented MP4 that survives a kill.

Why these settings (DESIGN §8, measured on a busy 1080p screen at 30 fps):
- Fragment length and keyframe interval are independent. `movflags=empty_moov+default_base_moof`
  with `frag_duration=1000000` (and no `frag_keyframe`) makes the file a header followed by
  ~1 s fragments (moof+mdat) cut on time, not at keyframes, so a kill -9 loses at most the
  fragment being filled (about 1 s). A keyframe comes every `keyframe_interval_s` (10 s by
  default): a fragment that starts between keyframes needs the ones before it to decode, which
  a file cut after a complete fragment always has. A keyframe every second (`g = fps`, which
  `frag_keyframe` needs) made the file 1.7x larger (41.7 against 24.9 MB/min).
- `flush_packets=1`: PyAV's output is buffered; without this a finished fragment may sit in memory.
- `video_track_timescale=1000`: the file's time base is 1/1000, so its pts are the capture times
  in ms (without it the muxer picks 1/16000).
- `tune=zerolatency` stays: with `ultrafast` (already no B-frames, no lookahead, no mbtree) it
  only switches x264 from frame threads to sliced threads, which measured 0.3 % larger (24.95
  against 24.88 MB/min) at the same CPU; in exchange x264 returns each frame at once, so no
  frames wait inside the encoder when the process is killed.
- pts are the real capture times in ms, so the video's duration is the wall time even when
  frames were dropped or the grab ran late.
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
FRAGMENT_S = 1.0
KEYFRAME_INTERVAL_S = 10.0


def muxer_options(fragment_s: float = FRAGMENT_S) -> dict[str, str]:
    return {
        "movflags": "empty_moov+default_base_moof",
        "frag_duration": str(round(fragment_s * 1_000_000)),
        "flush_packets": "1",
        "video_track_timescale": "1000",
    }


def keyframe_distance(fps: int, keyframe_interval_s: float) -> int:
    """x264's `g`: frames from one keyframe to the next."""
    return max(1, round(fps * keyframe_interval_s))


def output_size(width: int, height: int, max_width: int | None) -> tuple[int, int]:
    """Encoded size: scaled down to max_width if wider, and even (yuv420p needs it)."""
    if max_width and width > max_width:
        height = round(height * max_width / width)
        width = max_width
    return max(2, width - width % 2), max(2, height - height % 2)


class FrameConverter:
    """BGRA capture -> yuv420p at the video's size, for the capture thread to call: the frames
    waiting for the encoder are then 3 MB each instead of 8 MB at 1080p (the conversion is the
    same one the encoder would do; it only moves to the other thread, and releases the GIL)."""

    def __init__(self, size: tuple[int, int]) -> None:
        import av
        from av.video.reformatter import VideoReformatter

        self._av = av
        self._reformatter = VideoReformatter()
        self.width, self.height = size

    def __call__(self, pixels: Any) -> Any:
        frame = self._av.VideoFrame.from_numpy_buffer(pixels, format="bgra")
        return self._reformatter.reformat(frame, self.width, self.height, "yuv420p")


class VideoEncoder:
    """The container and stream; used by the writer thread and by tests directly."""

    def __init__(self, target: Path | BinaryIO, fps: int, width: int, height: int,
                 keyframe_interval_s: float = KEYFRAME_INTERVAL_S) -> None:
        """`target`: an open, unbuffered file (the recorder's, opened through session_files),
        or a path (tests and benches writing outside any session)."""
        import av

        self._av = av
        self.container: Any = av.open(str(target) if isinstance(target, Path) else target, "w",
                                      format="mp4", options=muxer_options())
        stream = self.container.add_stream("libx264", rate=fps)
        stream.width = width
        stream.height = height
        stream.pix_fmt = "yuv420p"
        stream.time_base = MS
        stream.codec_context.time_base = MS
        # ultrafast has scenecut off: keyframes come exactly every `g` frames.
        stream.options = {"preset": "ultrafast", "tune": "zerolatency",
                          "g": str(keyframe_distance(fps, keyframe_interval_s))}
        self.stream = stream
        self.last_pts = -1
        # Open x264 and write the header now (tens of ms at 1080p), before the capture starts,
        # not at the first frame while grabbed frames pile up in the queue.
        self.container.start_encoding()

    def encode(self, picture: Any, t_ms: int) -> None:
        """`picture`: a yuv420p VideoFrame of the stream's size (FrameConverter), or BGRA pixels
        (a view, no copy; the encoder converts them in C)."""
        if isinstance(picture, self._av.VideoFrame):
            frame = picture
        else:
            frame = self._av.VideoFrame.from_numpy_buffer(picture, format="bgra")
        # pts must rise strictly; two grabs in the same millisecond get the next one.
        pts = max(int(t_ms), self.last_pts + 1)
        frame.pts = pts
        frame.time_base = MS
        self.last_pts = pts
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
        keyframe_interval_s: float = KEYFRAME_INTERVAL_S,
    ) -> None:
        super().__init__(name="sessionrec-encoder", daemon=True)
        self.video_path = video_path
        self.frames_log = frames_log
        self.fps = fps
        self.size = size
        self.keyframe_interval_s = keyframe_interval_s
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
            encoder = VideoEncoder(video_file, self.fps, *self.size, self.keyframe_interval_s)
            log_file = session_files.open_text(self.frames_log.parent, self.frames_log.name, "a")
            self.ready.set()
            while (item := self.frames.get()) is not None:
                if self.error is not None:
                    continue  # keep draining so the capture thread never blocks
                try:
                    if self.write_hook is not None:
                        self.write_hook()
                    encoder.encode(item.picture, item.t_ms)
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
