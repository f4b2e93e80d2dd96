"""SessionRecorder driven in-process on Xvfb: pause/resume, the stall check, a full disk."""

from __future__ import annotations

import errno
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from app.hashing import file_sha256
from app.recorder.archive import verify_zip
from app.recorder.session_recorder import (
    RecorderSettings,
    RecorderState,
    SessionRecorder,
    WriteHooks,
)
from app.sessions import is_exported, load_meta
from tests.recorder.conftest import REPO, XServer, run_cli, start_cli, wait_for_line
from tests.recorder.videocheck import decode
from tests.tmpfs import tiny_tmpfs

pytestmark = [pytest.mark.xvfb, pytest.mark.slow]


def wait_until(condition: Callable[[], bool], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return condition()


def test_pause_resume(x_display: XServer, data_dir: Path) -> None:
    recorder = SessionRecorder(data_dir, RecorderSettings(fps=10, capture_input=False))
    recorder.start()
    try:
        time.sleep(1.2)
        recorder.pause()
        assert recorder.state is RecorderState.PAUSED
        frames_at_pause = recorder.status().frame_count
        time.sleep(1.5)  # longer would trip nothing: the stall check sleeps while paused
        recorder.resume()
        time.sleep(1.2)
        meta = recorder.stop()
    finally:
        recorder.close()
    assert recorder.paths is not None
    [pause] = meta.pauses
    assert pause.end_ms is not None and pause.end_ms - pause.start_ms >= 1400
    times = [json.loads(line)["t"] for line in recorder.paths.frames.read_text().splitlines()]
    assert not [t for t in times if pause.start_ms + 50 < t < pause.end_ms]
    assert len([t for t in times if t >= pause.end_ms]) >= 8
    assert frames_at_pause <= len(times)
    wall = meta.ended_at - meta.created_at  # type: ignore[operator]
    assert meta.duration_ms <= wall - 1400
    assert meta.error is None and meta.frame_count == len(times)


def test_encoder_stall_is_reported(x_display: XServer, data_dir: Path) -> None:
    stalled = {"done": False}

    def stall_once() -> None:
        if not stalled["done"] and recorder.status().frame_count >= 5:
            stalled["done"] = True
            time.sleep(4.5)

    recorder = SessionRecorder(data_dir, RecorderSettings(fps=10, capture_input=False),
                               WriteHooks(video=stall_once))
    recorder.start()
    try:
        assert recorder.failed.wait(10)
        status = recorder.status()
        assert status.state is RecorderState.ERROR
        assert status.error and status.error.startswith("No video frame was written for 3 seconds")
        meta = recorder.stop()
        recorder.export()
    finally:
        recorder.close()
    assert meta.error == status.error and meta.frame_count >= 5
    assert recorder.paths is not None and is_exported(recorder.paths)


def test_disk_full_injected_stops_cleanly(x_display: XServer, data_dir: Path) -> None:
    def full_after_ten() -> None:
        if recorder.status().frame_count >= 10:
            raise OSError(errno.ENOSPC, "No space left on device")

    recorder = SessionRecorder(data_dir, RecorderSettings(fps=10, capture_input=False),
                               WriteHooks(video=full_after_ten))
    recorder.start()
    try:
        assert recorder.failed.wait(10)
        meta = recorder.stop()
    finally:
        recorder.close()
    assert meta.error and meta.error.startswith("The disk is full")
    assert meta.frame_count == 10 and meta.ended_at is not None
    assert recorder.paths is not None
    assert decode(recorder.paths.root / "video" / "screen.mp4").frames == 10


def test_disk_full_on_a_real_tiny_filesystem(xserver: XServer, tmp_path: Path) -> None:
    with tiny_tmpfs(tmp_path, "3m",
                    "the disk-full path is covered by the injected-ENOSPC test") as mount:
        data_dir = mount / "data"
        data_dir.mkdir()
        filler = mount / "filler"
        # Leave ~2 MB: room to start, then a busy screen fills it within seconds. The video is
        # then far bigger than the space freed at stop, so the zip cannot be written either.
        free = os.statvfs(mount).f_bavail * os.statvfs(mount).f_frsize
        filler.write_bytes(b"\0" * (free - 2_000_000))
        animator = subprocess.Popen([sys.executable, "-m", "tests.recorder.animator", "--rects", "300"],
                                    cwd=REPO, env=xserver.env())
        try:
            proc = start_cli(["--data-dir", str(data_dir), "record", "--duration", "40",
                              "--fps", "10"], xserver.env())
            wait_for_line(proc.stderr, "recording session")
            out, err = proc.communicate(timeout=90)
        finally:
            animator.terminate()
            animator.wait(10)
        assert proc.returncode == 1, err
        assert "The disk is full" in err
        # One sentence for the stop, said once; writer tracebacks go to the log, not here.
        assert "Traceback" not in err and err.count("The disk is full: recording stopped") == 1, err
        session_id = out.strip().splitlines()[-1]
        sessions = data_dir / "sessions"
        root = sessions / session_id
        meta = json.loads((root / "session-meta.json").read_text())
        assert meta["error"].startswith("The disk is full") and "endedAt" in meta
        assert meta["durationMs"] < 35_000
        assert decode(root / "video" / "screen.mp4").frames > 0
        assert not (root / "session.zip.partial").exists()
        if (root / ".exported").exists():
            # Under load fewer frames reach the disk before it fills, and the space freed at
            # stop can then hold the zip: an exported zip must be whole and verified.
            verify_zip(root / "session.zip")
            assert meta["zipSha256"] == file_sha256(root / "session.zip")
        else:
            assert not (root / "session.zip").exists()

        # Space again: the next `list` exports the stopped session (or finds it exported).
        filler.unlink()
        listed = run_cli(["--data-dir", str(data_dir), "list", "--json"], xserver.env())
        [item] = json.loads(listed.stdout)
        assert item["isExported"], listed.stderr
        from app.sessions import session_paths

        assert load_meta(session_paths(data_dir, session_id)).value.zip_sha256  # type: ignore[union-attr]
