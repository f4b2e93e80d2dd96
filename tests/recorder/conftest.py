"""A real Xvfb for the recorder tests, started once per test session on a free display."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class XServer:
    display: str
    width: int
    height: int

    def env(self, **extra: str) -> dict[str, str]:
        env = dict(os.environ, DISPLAY=self.display, PYTHONPATH=str(REPO))
        env.pop("QT_QPA_PLATFORM", None)
        env.update(extra)
        return env

    def xdotool(self, *args: str) -> None:
        subprocess.run(["xdotool", *args], env=self.env(), check=True, timeout=10)


def start_xvfb(width: int, height: int) -> tuple[subprocess.Popen[bytes], str]:
    if shutil.which("Xvfb") is None:
        raise RuntimeError("Xvfb is not installed (apt-get install xvfb)")
    read_fd, write_fd = os.pipe()
    proc = subprocess.Popen(
        ["Xvfb", "-displayfd", str(write_fd), "-screen", "0", f"{width}x{height}x24",
         "-nolisten", "tcp"],
        pass_fds=(write_fd,), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    os.close(write_fd)
    with os.fdopen(read_fd) as reader:
        number = reader.readline().strip()
    if not number:
        proc.kill()
        raise RuntimeError("Xvfb did not start")
    return proc, f":{number}"


@pytest.fixture(scope="session")
def xserver() -> Iterator[XServer]:
    proc, display = start_xvfb(1280, 720)
    try:
        yield XServer(display, 1280, 720)
    finally:
        proc.terminate()
        proc.wait(10)


@pytest.fixture
def x_display(xserver: XServer, monkeypatch: pytest.MonkeyPatch) -> XServer:
    """For in-process recorder tests: DISPLAY set (pynput reads it at import)."""
    monkeypatch.setenv("DISPLAY", xserver.display)
    return xserver


def run_cli(args: list[str], env: dict[str, str], timeout: float = 120
            ) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "app", *args], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=timeout)


def start_cli(args: list[str], env: dict[str, str]) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "app", *args], cwd=REPO, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def wait_for_line(stream: object, needle: str, timeout: float = 30) -> str:
    """Read a text stream until a line contains `needle`; returns that line."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = stream.readline()  # type: ignore[attr-defined]
        if not line:
            break
        if needle in line:
            return str(line)
    raise AssertionError(f"never saw {needle!r}")
