"""A real recorded session for the viewer tests: `sessionrec record` on Xvfb while xdotool clicks,
scrolls and types, with a moving block on screen so frames differ. Recorded once per test run;
tests that change it work on a copy (`copy_session`)."""

from __future__ import annotations

import json
import shutil
import struct
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import av

from app.sessions import session_paths
from tests.recorder.conftest import REPO, XServer, start_cli, wait_for_line

CLICKS = [(200, 150, "1"), (640, 360, "1"), (1000, 560, "3"), (300, 500, "1")]


@dataclass(frozen=True)
class Recorded:
    data_dir: Path
    session_id: str

    @property
    def root(self) -> Path:
        return session_paths(self.data_dir, self.session_id).root

    def actions(self) -> list[dict]:
        return [json.loads(line) for line in (self.root / "actions.jsonl").read_text().splitlines()]

    def frame_times(self) -> list[int]:
        return [json.loads(line)["t"] for line in (self.root / "frames.jsonl").read_text().splitlines()]


def record(xserver: XServer, data_dir: Path) -> Recorded:
    animator = subprocess.Popen([sys.executable, "-m", "tests.recorder.animator", "--rate", "10",
                                 "--rects", "0"], cwd=REPO, env=xserver.env())
    try:
        proc = start_cli(["--data-dir", str(data_dir), "record", "--duration", "7", "--fps", "10",
                          "--screenshot-every", "1"], xserver.env())
        wait_for_line(proc.stderr, "recording session")
        time.sleep(1.0)
        first = True
        for x, y, button in CLICKS[:3]:
            xserver.xdotool("mousemove", str(x), str(y))
            xserver.xdotool("click", button)
            time.sleep(0.4)
            if first:
                xserver.xdotool("click", "5")  # two scroll steps down
                xserver.xdotool("click", "5")
                time.sleep(0.4)
                first = False
        xserver.xdotool("type", "--delay", "60", "hello")
        xserver.xdotool("key", "Return")
        time.sleep(0.8)
        x, y, button = CLICKS[3]
        xserver.xdotool("mousemove", str(x), str(y))
        xserver.xdotool("click", button)
        out, err = proc.communicate(timeout=90)
    finally:
        animator.terminate()
        animator.wait(10)
    assert proc.returncode == 0, err
    return Recorded(data_dir, out.strip().splitlines()[-1])


def copy_session(source: Recorded, data_dir: Path) -> Recorded:
    target = session_paths(data_dir, source.session_id).root
    shutil.copytree(source.root, target, symlinks=True)
    return Recorded(data_dir, source.session_id)


def decoded_pts_ms(video: Path) -> list[float]:
    """Every frame's pts in ms, decoded independently of the viewer."""
    with av.open(str(video)) as container:
        stream = container.streams.video[0]
        base = stream.time_base or 1
        return [float((frame.pts or 0) * base) * 1000 for frame in container.decode(stream)]


def fragment_offsets(video: Path) -> list[int]:
    """Byte offsets of the `moof` boxes of a fragmented MP4 (where a crash could cut it)."""
    data = video.read_bytes()
    offsets, pos = [], 0
    while pos + 8 <= len(data):
        size, kind = struct.unpack(">I4s", data[pos:pos + 8])
        if size == 1:
            size = struct.unpack(">Q", data[pos + 8:pos + 16])[0]
        if size < 8:
            break
        if kind == b"moof":
            offsets.append(pos)
        pos += size
    return offsets
