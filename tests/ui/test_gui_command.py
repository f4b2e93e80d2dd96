"""`sessionrec gui` as a real process: the window starts, recovery and the queue come up, it quits."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from tests.factories import make_session

REPO = Path(__file__).resolve().parents[2]


def test_gui_command_starts_and_quits(data_dir: Path) -> None:
    make_session(data_dir, int(time.time() * 1000))
    make_session(data_dir, int(time.time() * 1000) - 1000, status="failed")
    env = dict(os.environ, PYTHONPATH=str(REPO), QT_QPA_PLATFORM="offscreen")
    env.pop("DISPLAY", None)
    result = subprocess.run([sys.executable, "-m", "app", "--data-dir", str(data_dir), "gui",
                             "--exit-after", "0.5"], cwd=REPO, env=env, capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "window ready with 2 sessions" in result.stdout
    assert (data_dir / "gui-settings.ini").is_file()
    assert (data_dir / "logs" / "sessionrec.log").is_file()


def test_gui_without_any_display_says_so_instead_of_aborting(data_dir: Path) -> None:
    env = {k: v for k, v in os.environ.items()
           if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}
    env["PYTHONPATH"] = str(REPO)
    result = subprocess.run([sys.executable, "-m", "app", "--data-dir", str(data_dir)],
                            cwd=REPO, env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 2, (result.returncode, result.stderr)
    assert "There is no screen to show the window on" in result.stderr
    assert result.stderr.count("\n") == 1  # one sentence, no Qt abort text


def test_gui_fps_out_of_range_is_one_sentence(data_dir: Path) -> None:
    env = dict(os.environ, PYTHONPATH=str(REPO), QT_QPA_PLATFORM="offscreen")
    result = subprocess.run([sys.executable, "-m", "app", "--data-dir", str(data_dir), "gui",
                             "--fps", "40"], cwd=REPO, env=env, capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 2
    assert result.stderr.strip() == "sessionrec: --fps must be between 1 and 30."
