"""kill -9 while recording, at chosen points relative to the keyframes: the recovered video
decodes cleanly from start to end, lost at most 1.5 s, and has exactly the frames frames.jsonl
lists up to the cut.

Fragments (~1 s) are cut on time, not at keyframes, so most of them start on a P-frame; the
points below put the kill just after a keyframe, just before one, and between two.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

from app.recorder.recovery import recover_interrupted
from app.recorder.video_writer import keyframe_distance
from app.sessions import is_exported, load_meta, session_paths
from tests.recorder.conftest import REPO, XServer
from tests.recorder.videocheck import decode_pts_ms, ffmpeg_errors
from tests.recorder.xtest_input import XTestInput

pytestmark = [pytest.mark.xvfb, pytest.mark.slow]

FPS = 10
KEYFRAME_EVERY_S = 2.0
G = keyframe_distance(FPS, KEYFRAME_EVERY_S)  # 20 frames


def frame_lines(path: Path) -> list[dict]:
    if not path.exists():
        return []
    text = path.read_text()
    return [json.loads(line) for line in text[: text.rfind("\n") + 1].splitlines()]


def start_child(x: XServer, data_dir: Path, *extra: str, fps: int = FPS
                ) -> tuple[subprocess.Popen[str], str]:
    proc = subprocess.Popen([sys.executable, "-m", "tests.recorder.record_child", str(data_dir),
                             "--fps", str(fps), "--keyframe-every", str(KEYFRAME_EVERY_S),
                             *extra], cwd=REPO, env=x.env(), stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    line = proc.stdout.readline()
    assert line.startswith("session "), line
    return proc, line.split()[1]


@pytest.mark.parametrize("frames_before_kill", [
    G + 1,            # the keyframe of 2 s and one frame after it are written
    2 * G - 1,        # the frame just before the keyframe of 4 s
    G + G // 2 + 3,   # between keyframes, away from both
], ids=["just-after-keyframe", "just-before-keyframe", "between-keyframes"])
def test_kill_9_recovers_a_clean_video(xserver: XServer, data_dir: Path,
                                       frames_before_kill: int) -> None:
    proc, session_id = start_child(xserver, data_dir, "--no-input")
    paths = session_paths(data_dir, session_id)
    deadline = time.monotonic() + 30
    try:
        while len(frame_lines(paths.frames)) < frames_before_kill and time.monotonic() < deadline:
            time.sleep(0.005)
    finally:
        proc.kill()
    killed_at = time.time() * 1000
    proc.wait(10)
    before = frame_lines(paths.frames)
    assert len(before) >= frames_before_kill

    [result] = recover_interrupted(data_dir)
    assert result.finalized and result.exported, result.sentence
    meta = load_meta(paths).value
    assert meta is not None and meta.recovered
    video = paths.root / "video" / "screen.mp4"
    assert ffmpeg_errors(video) == ""
    pts = decode_pts_ms(video)
    after = frame_lines(paths.frames)
    # Exactly the frames frames.jsonl had up to the cut, with their capture times as pts.
    assert len(pts) == len(after) == meta.frame_count > 0
    assert after == before[: len(after)]
    assert pts == [f["t"] - after[0]["t"] for f in after]
    covered_ms = after[-1]["t"] + 1000 / FPS
    assert killed_at - meta.created_at - covered_ms <= 1500
    assert is_exported(paths)


@pytest.mark.parametrize("fps", [10, 30])
def test_the_last_move_before_a_kill_is_kept(x_display: XServer, data_dir: Path, fps: int) -> None:
    """A merged move is written within one frame interval (and 30 ms after the pointer stops),
    so a kill 80 ms after the last move keeps it, even at 10 fps (100 ms frames)."""
    proc, session_id = start_child(x_display, data_dir, fps=fps)
    paths = session_paths(data_dir, session_id)
    injector = XTestInput(lambda: 0)
    try:
        while len(frame_lines(paths.frames)) < 5:
            time.sleep(0.01)
        points = [(100 + 90 * i, 80 + 40 * i) for i in range(5)]
        for x, y in points:
            injector.move(x, y)
            time.sleep(0.25)
        injector.move(777, 333)
        time.sleep(0.08)
    finally:
        proc.kill()
        proc.wait(10)
        injector.close()
    recover_interrupted(data_dir)
    actions = [json.loads(line) for line in paths.actions.read_text().splitlines()]
    moves = [(a["x"], a["y"]) for a in actions if a["type"] == "move"]
    assert moves[-6:] == [*points, (777, 333)], moves
