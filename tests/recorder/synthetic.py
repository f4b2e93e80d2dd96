"""Sessions on disk as the recorder leaves them, built without a display (synthetic frames)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from app.models import ScreenRect, SessionMeta
from app.recorder.video_writer import VideoEncoder
from app.sessions import SessionPaths, new_session_id, save_meta, session_paths


def write_video(path: Path, fps: int, seconds: float, size: tuple[int, int] = (320, 240),
                keyframe_interval_s: float = 10.0) -> list[int]:
    """A fragmented MP4 of random pixels; returns the frame times (ms)."""
    width, height = size
    encoder = VideoEncoder(path, fps, width, height, keyframe_interval_s)
    times = []
    rng = np.random.default_rng(1)
    for i in range(int(seconds * fps)):
        pixels = np.zeros((height, width, 4), np.uint8)
        pixels[:, :, :3] = rng.integers(0, 255, (height, width, 3), dtype=np.uint8)
        t = round(i * 1000 / fps)
        encoder.encode(pixels, t)
        times.append(t)
    encoder.close()
    return times


def interrupted_session(data_dir: Path, seconds: float = 3.0, fps: int = 10,
                        created_at: int = 1_700_000_000_000, keyframe_interval_s: float = 10.0
                        ) -> tuple[SessionPaths, list[int]]:
    """A session as a kill -9 leaves it: meta without endedAt, video, frames, actions, screenshot."""
    paths = session_paths(data_dir, new_session_id(created_at))
    paths.video_dir.mkdir(parents=True)
    paths.screenshots_dir.mkdir()
    times = write_video(paths.video_dir / "screen.mp4", fps, seconds,
                        keyframe_interval_s=keyframe_interval_s)
    paths.frames.write_text("".join(json.dumps({"index": i, "t": t}) + "\n"
                                    for i, t in enumerate(times)))
    paths.actions.write_text("".join(
        json.dumps({"t": t, "type": "click", "x": 1, "y": 2, "button": "left", "pressed": True,
                    "frame": i}) + "\n" for i, t in enumerate(times[::5])))
    (paths.screenshots_dir / "click-000000000ms-f000000.png").write_bytes(b"\x89PNG fake")
    save_meta(paths, SessionMeta(session_id=paths.session_id, created_at=created_at, fps=fps,
                                 screen=ScreenRect(0, 0, 320, 240), video_ref="video/screen.mp4"))
    return paths, times
