"""Decode a recorded video with PyAV and report what a player would see."""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path

import av


@dataclass(frozen=True)
class Decoded:
    frames: int
    first_ms: float
    last_ms: float
    width: int
    height: int


def decode(path: Path) -> Decoded:
    pts: list[float] = []
    width = height = 0
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        time_base = stream.time_base
        assert time_base is not None
        for frame in container.decode(stream):
            assert frame.pts is not None
            pts.append(float(frame.pts * time_base) * 1000)
            width, height = frame.width, frame.height
    assert pts, f"{path} has no decodable frames"
    return Decoded(len(pts), min(pts), max(pts), width, height)


def decode_pts_ms(path: Path) -> list[int]:
    """Presentation time (ms) of every decoded frame, in decode order."""
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        assert stream.time_base is not None
        return [round(float(frame.pts * stream.time_base) * 1000)
                for frame in container.decode(stream) if frame.pts is not None]


def ffmpeg_errors(path: Path) -> str:
    """What ffmpeg says when decoding the whole file ("" for a clean decode). Frames pass through
    with their own times (the video has variable frame times)."""
    result = subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-xerror", "-i", str(path),
                             "-fps_mode", "passthrough", "-f", "null", "-"],
                            capture_output=True, text=True, timeout=120)
    return result.stderr.strip() or ("" if result.returncode == 0 else f"exit {result.returncode}")
