"""Decode a recorded video with PyAV and report what a player would see."""

from __future__ import annotations

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
