"""The viewer's decoder on real H.264 files with a keyframe every 10 s: exact seeks, stepping,
damaged and unsafe files."""

from __future__ import annotations

import os
import random
from pathlib import Path

import av
import numpy as np
import pytest

from app.playback.decoder import VideoDecoder, VideoUnreadable, fit_size, video_pts_ms
from app.playback.frame_index import FrameIndex
from tests.videos import write_video


@pytest.fixture(scope="module")
def video(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, FrameIndex]:
    root = tmp_path_factory.mktemp("video-session")
    (root / "video").mkdir()
    times = write_video(root / "video" / "screen.mp4", fps=15, seconds=25, gop_s=10)
    return root, FrameIndex(tuple(times))


def keyframe_pts(path: Path) -> list[float]:
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        return [float((p.pts or 0) * (stream.time_base or 1)) * 1000 for p in container.demux(stream)
                if p.is_keyframe and p.size]


def test_the_test_video_has_a_keyframe_every_10_s(video: tuple[Path, FrameIndex]) -> None:
    root, _frames = video
    assert keyframe_pts(root / "video" / "screen.mp4") == pytest.approx([0, 10_000, 20_000], abs=1)


def test_exact_seek_lands_on_the_frame_of_any_time(video: tuple[Path, FrameIndex]) -> None:
    root, frames = video
    decoder = VideoDecoder.open(root, "video/screen.mp4")
    try:
        rng = random.Random(3)
        targets = [rng.randrange(frames.count) for _ in range(40)] + [0, frames.count - 1, 149, 150, 151]
        for index in targets:
            frame = decoder.seek(frames.video_ms_of(index))
            assert frame is not None
            assert decoder.pts_of(frame) == pytest.approx(frames.video_ms_of(index), abs=0.5), index
            # Between two frames, the earlier one is on screen.
            between = frames.video_ms_of(index) + 10
            assert decoder.pts_of(decoder.seek(between)) == pytest.approx(frames.video_ms_of(index), abs=0.5)
        assert decoder.pts_of(decoder.seek(-500)) == 0  # before the first frame: the first
    finally:
        decoder.close()


def test_stepping_forward_decodes_one_frame_not_a_whole_gop(video: tuple[Path, FrameIndex]) -> None:
    root, frames = video
    decoder = VideoDecoder.open(root, "video/screen.mp4")
    try:
        decoder.seek(frames.video_ms_of(140))
        before = decoder.frames_decoded
        for index in range(141, 146):
            frame = decoder.seek(frames.video_ms_of(index))
            assert decoder.pts_of(frame) == pytest.approx(frames.video_ms_of(index), abs=0.5)
        assert decoder.frames_decoded - before <= 6  # one each (plus the look-ahead frame)
        sequential = [decoder.pts_of(decoder.next_frame()) for _ in range(3)]
        assert sequential == pytest.approx([frames.video_ms_of(i) for i in (146, 147, 148)], abs=0.5)
    finally:
        decoder.close()


def test_rgb_conversion_scales_in_the_decoder(video: tuple[Path, FrameIndex]) -> None:
    root, frames = video
    decoder = VideoDecoder.open(root, "video/screen.mp4")
    try:
        frame = decoder.seek(frames.video_ms_of(10))
        decoded = decoder.to_rgb(frame, fit_size((frame.width, frame.height), (161, 500)))
        assert decoded.rgb.shape == (120, 160, 3) and decoded.rgb.dtype == np.uint8
        assert decoded.rgb.flags["C_CONTIGUOUS"]
    finally:
        decoder.close()
    assert fit_size((1920, 1080), (1000, 1000)) == (1000, 562)


def test_pts_of_every_frame_without_decoding(video: tuple[Path, FrameIndex]) -> None:
    root, frames = video
    assert video_pts_ms(root, "video/screen.mp4") == [frames.video_ms_of(i) for i in range(frames.count)]


def test_damaged_missing_and_unsafe_videos_are_sentences(tmp_path: Path) -> None:
    (tmp_path / "video").mkdir()
    (tmp_path / "video" / "screen.mp4").write_bytes(os.urandom(4096))
    with pytest.raises(VideoUnreadable, match="cannot be read"):
        VideoDecoder.open(tmp_path, "video/screen.mp4")
    with pytest.raises(VideoUnreadable, match="missing"):
        VideoDecoder.open(tmp_path, "video/other.mp4")
    os.mkfifo(tmp_path / "video" / "fifo.mp4")
    with pytest.raises(VideoUnreadable, match="FIFO"):
        VideoDecoder.open(tmp_path, "video/fifo.mp4")  # refused at once, never blocks
    outside = tmp_path.parent / f"{tmp_path.name}-outside.mp4"
    write_video(outside, fps=5, seconds=1)
    (tmp_path / "video" / "link.mp4").symlink_to(outside)
    with pytest.raises(VideoUnreadable, match="symbolic link"):
        VideoDecoder.open(tmp_path, "video/link.mp4")
