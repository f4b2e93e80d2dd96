"""Session videos for the viewer tests and benches, written the way the recorder writes them
(libx264 ultrafast/zerolatency, pts = capture ms, fragmented MP4 flushed per fragment), with a
keyframe interval of our choosing: 10 s by default, the recorder's setting once keyframes
became independent of the 1 s fragments (`movflags` without `frag_keyframe`, DESIGN §8)."""

from __future__ import annotations

import json
from collections.abc import Callable
from fractions import Fraction
from pathlib import Path

import numpy as np

from app.models import ScreenRect, SessionMeta
from app.sessions import SessionPaths, save_meta, session_paths

MS = Fraction(1, 1000)
# Pixels of frame i (BGRA, height x width x 4); the default is a block that moves each frame.
Painter = Callable[[int, np.ndarray], None]


def moving_block(i: int, pixels: np.ndarray) -> None:
    height, width = pixels.shape[:2]
    pixels[:, :, :3] = (60, 90, 120)
    x = (i * 7) % max(1, width - 40)
    y = (i * 3) % max(1, height - 30)
    pixels[y:y + 30, x:x + 40, :3] = ((i * 37) % 256, (i * 91) % 256, 255)


def write_video(path: Path, fps: int, seconds: float, size: tuple[int, int] = (320, 240), *,
                gop_s: float = 10.0, start_ms: int = 37, paint: Painter = moving_block,
                frames: int | None = None) -> list[int]:
    """Write the video; returns the capture time (ms) of every frame, as frames.jsonl has them."""
    import av

    width, height = size
    container = av.open(str(path), "w", format="mp4", options={
        "movflags": "empty_moov+default_base_moof", "frag_duration": "1000000", "flush_packets": "1"})
    stream = container.add_stream("libx264", rate=fps)
    stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
    stream.time_base = MS
    stream.codec_context.time_base = MS
    stream.options = {"preset": "ultrafast", "tune": "zerolatency", "g": str(max(1, round(gop_s * fps)))}
    pixels = np.zeros((height, width, 4), np.uint8)
    pixels[:, :, 3] = 255
    times = []
    for i in range(frames if frames is not None else int(seconds * fps)):
        paint(i, pixels)
        frame = av.VideoFrame.from_ndarray(pixels, format="bgra")
        t = start_ms + round(i * 1000 / fps)
        frame.pts = t
        frame.time_base = MS
        container.mux(stream.encode(frame))
        times.append(t)
    container.mux(stream.encode(None))
    container.close()
    return times


def write_frames_log(paths: SessionPaths, times: list[int]) -> None:
    paths.frames.write_text("".join(json.dumps({"index": i, "t": t}) + "\n" for i, t in enumerate(times)))


def write_actions(paths: SessionPaths, actions: list[dict]) -> None:
    paths.actions.write_text("".join(json.dumps(a) + "\n" for a in actions))


def video_session(data_dir: Path, session_id: str, *, fps: int = 10, seconds: float = 12.0,
                  size: tuple[int, int] = (320, 240), gop_s: float = 10.0,
                  actions: list[dict] | None = None, **meta_fields: object) -> SessionPaths:
    """A finished session folder with a real video, frames.jsonl and actions.jsonl (no zip)."""
    paths = session_paths(data_dir, session_id)
    paths.video_dir.mkdir(parents=True)
    times = write_video(paths.video_dir / "screen.mp4", fps, seconds, size, gop_s=gop_s)
    write_frames_log(paths, times)
    write_actions(paths, actions or [])
    created = 1_700_000_000_000
    fields: dict[str, object] = dict(
        session_id=session_id, created_at=created, ended_at=created + times[-1] + 100, fps=fps,
        screen=ScreenRect(0, 0, *size), video_ref="video/screen.mp4", frame_count=len(times),
        duration_ms=times[-1] + 100, action_count=len(actions or []))
    fields.update(meta_fields)
    save_meta(paths, SessionMeta(**fields))  # type: ignore[arg-type]
    return paths
