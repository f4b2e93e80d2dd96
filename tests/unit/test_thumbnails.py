"""Card thumbnails: made once from the first periodic screenshot (else a video frame), cached as
.thumbnail.jpg in the session folder, and never exported into the zip."""

from __future__ import annotations

import zipfile
from pathlib import Path

import av
import numpy as np
import pytest

from app.playback.thumbnail import THUMBNAIL_FILE, thumbnail_for
from app.recorder.archive import members, write_zip
from app.recorder.png import encode_png
from app.sessions import session_paths
from tests.videos import video_session

SID = "20240101-120000-000-abcdef"


def decode_jpeg(data: bytes) -> np.ndarray:
    context = av.CodecContext.create("mjpeg", "r")
    [frame] = context.decode(av.Packet(data))
    return frame.to_ndarray(format="rgb24")


def solid_png(bgr: tuple[int, int, int], size: tuple[int, int] = (640, 360)) -> bytes:
    pixels = np.zeros((size[1], size[0], 4), np.uint8)
    pixels[:, :, :3] = bgr
    return encode_png(pixels)


def test_made_from_the_first_periodic_screenshot_and_cached(data_dir: Path) -> None:
    paths = video_session(data_dir, SID, seconds=1)
    paths.screenshots_dir.mkdir()
    (paths.screenshots_dir / "click-000000100ms-f000001.png").write_bytes(solid_png((0, 0, 255)))
    (paths.screenshots_dir / "periodic-000000500ms-f000005.png").write_bytes(solid_png((0, 200, 0)))
    (paths.screenshots_dir / "periodic-000005500ms-f000055.png").write_bytes(solid_png((200, 0, 0)))
    data = thumbnail_for(paths.root)
    assert data is not None and data[:2] == b"\xff\xd8"
    rgb = decode_jpeg(data)
    assert rgb.shape == (108, 192, 3)
    assert np.abs(rgb.mean(axis=(0, 1)) - (0, 200, 0)).max() < 12  # green: the first periodic one
    cached = paths.root / THUMBNAIL_FILE
    assert cached.read_bytes() == data and (cached.stat().st_mode & 0o777) == 0o600
    # Made once: the cache is what later calls read, even when the screenshots change.
    (paths.screenshots_dir / "periodic-000000500ms-f000005.png").write_bytes(solid_png((0, 0, 0)))
    assert thumbnail_for(paths.root) == data


def test_without_screenshots_a_video_frame_is_used(data_dir: Path) -> None:
    paths = video_session(data_dir, SID, seconds=1, size=(320, 240))
    data = thumbnail_for(paths.root)
    assert data is not None
    rgb = decode_jpeg(data)
    assert rgb.shape == (108, 144, 3)  # 4:3 kept
    # The test video's background is BGR (60, 90, 120): RGB (120, 90, 60).
    assert np.abs(np.median(rgb.reshape(-1, 3), axis=0) - (120, 90, 60)).max() < 16


def test_no_picture_and_no_cache_when_asked_not_to_make_one(data_dir: Path) -> None:
    paths = session_paths(data_dir, SID)
    paths.root.mkdir(parents=True)
    assert thumbnail_for(paths.root) is None
    paths2 = video_session(data_dir, "20240101-120000-000-abcdee", seconds=1)
    assert thumbnail_for(paths2.root, make=False) is None
    assert not (paths2.root / THUMBNAIL_FILE).exists()


def test_a_planted_cache_symlink_is_not_followed(data_dir: Path, tmp_path: Path) -> None:
    paths = video_session(data_dir, SID, seconds=1)
    secret = tmp_path / "secret.jpg"
    secret.write_bytes(b"\xff\xd8 not yours")
    (paths.root / THUMBNAIL_FILE).symlink_to(secret)
    assert thumbnail_for(paths.root) is None
    assert secret.read_bytes() == b"\xff\xd8 not yours"


def test_the_cache_never_goes_into_the_zip(data_dir: Path) -> None:
    paths = video_session(data_dir, SID, seconds=1)
    assert thumbnail_for(paths.root) is not None
    assert THUMBNAIL_FILE not in [name for name, _ in members(paths)]
    write_zip(paths, "check.zip")
    with zipfile.ZipFile(paths.root / "check.zip") as archive:
        names = archive.namelist()
    assert "video/screen.mp4" in names and not [n for n in names if "thumbnail" in n]


@pytest.mark.parametrize("name", ["periodic-000000500ms-f000005.png"])
def test_a_broken_screenshot_falls_back_to_the_video(data_dir: Path, name: str) -> None:
    paths = video_session(data_dir, SID, seconds=1)
    paths.screenshots_dir.mkdir()
    (paths.screenshots_dir / name).write_bytes(b"\x89PNG but not really")
    data = thumbnail_for(paths.root)
    assert data is not None and decode_jpeg(data).shape == (108, 144, 3)
