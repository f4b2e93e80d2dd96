"""The strip-wise PNG writer: lossless, readable by FFmpeg, and small for flat screens."""

from __future__ import annotations

import io
from pathlib import Path

import av
import numpy as np
import pytest

from app.recorder.png import STRIP_ROWS, write_png


def decode_rgb(path: Path) -> np.ndarray:
    with av.open(str(path)) as container:
        frame = next(container.decode(video=0))
        return frame.to_ndarray(format="rgb24")


@pytest.mark.parametrize("height", [1, STRIP_ROWS - 1, STRIP_ROWS, 3 * STRIP_ROWS + 5])
def test_png_is_the_frame_exactly(tmp_path: Path, height: int) -> None:
    rng = np.random.default_rng(height)
    bgra = rng.integers(0, 256, (height, 37, 4), dtype=np.uint8)
    path = tmp_path / "shot.png"
    with path.open("wb") as handle:
        write_png(handle, bgra)
    assert np.array_equal(decode_rgb(path), bgra[:, :, 2::-1])


def test_a_flat_screen_is_small() -> None:
    bgra = np.full((1080, 1920, 4), 240, np.uint8)
    bgra[100:300, 200:900] = (30, 120, 200, 255)
    out = io.BytesIO()
    write_png(out, bgra)
    assert out.getvalue().startswith(b"\x89PNG\r\n\x1a\n")
    assert len(out.getvalue()) < 40_000  # 8 MB of pixels
