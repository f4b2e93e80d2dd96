"""The app as a user installs it: a wheel built from the source, installed (with its dependencies,
from the configured package index) into a fresh virtual environment outside the repository, and
run from there — the command line, the window on Xvfb with every icon, and the desktop entry."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from app import __version__
from tests.install.desktop_files import exec_argv, read_entry, validate
from tests.recorder.conftest import XServer
from tests.ui.test_icons import names_the_code_uses

REPO = Path(__file__).resolve().parents[2]
# What a source distribution of the project holds; tests, docs and the rest stay behind, so the
# wheel can only work if the package declares everything it loads.
SOURCE_FILES = ("pyproject.toml", "README.md")

pytestmark = [pytest.mark.slow, pytest.mark.xvfb]


@dataclass(frozen=True)
class InstalledApp:
    venv: Path
    work: Path

    @property
    def python(self) -> Path:
        return self.venv / "bin" / "python"

    @property
    def sessionrec(self) -> Path:
        return self.venv / "bin" / "sessionrec"

    def env(self, **extra: str) -> dict[str, str]:
        """The user's environment, minus anything that would lead Python back to the repository,
        and without the test run's offscreen Qt platform: windows go to the given DISPLAY."""
        env = {k: v for k, v in os.environ.items()
               if k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV", "SESSIONREC_DATA_DIR",
                            "QT_QPA_PLATFORM", "DISPLAY")}
        env.update(extra)
        return env

    def run(self, argv: list[str], **extra: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(argv, cwd=self.work, env=self.env(**extra), capture_output=True,
                              text=True, timeout=180)


def _checked(argv: list[str], cwd: Path, timeout: float) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    result = subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    assert result.returncode == 0, f"{argv}: {result.stdout[-2000:]}{result.stderr[-3000:]}"


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[InstalledApp]:
    base = tmp_path_factory.mktemp("installed")
    source = base / "source"
    source.mkdir()
    for name in SOURCE_FILES:
        shutil.copy2(REPO / name, source / name)
    shutil.copytree(REPO / "app", source / "app", ignore=shutil.ignore_patterns("__pycache__"))
    started = time.monotonic()
    _checked([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(base / "dist"),
              str(source)], base, timeout=300)
    wheels = list((base / "dist").glob("sessionrec-*.whl"))
    assert len(wheels) == 1, wheels
    built = time.monotonic()
    venv = base / "venv"
    _checked([sys.executable, "-m", "venv", str(venv)], base, timeout=300)
    _checked([str(venv / "bin" / "python"), "-m", "pip", "install", "-q", str(wheels[0])], base,
             timeout=900)
    print(f"wheel built in {built - started:.1f} s, installed with its dependencies in "
          f"{time.monotonic() - built:.1f} s")
    work = base / "work"
    work.mkdir()
    try:
        yield InstalledApp(venv, work)
    finally:
        # About 500 MB of dependencies; pytest would keep the last three runs of it.
        shutil.rmtree(venv, ignore_errors=True)


@pytest.mark.timeout(1200)
def test_the_installed_command_line_runs_from_the_wheel(installed: InstalledApp) -> None:
    version = installed.run([str(installed.sessionrec), "--version"])
    assert version.returncode == 0, version.stderr
    assert version.stdout.strip() == f"sessionrec {__version__}"

    fresh = installed.work / "fresh-data"
    listing = installed.run([str(installed.sessionrec), "--data-dir", str(fresh), "list", "--json"])
    assert listing.returncode == 0, listing.stderr
    assert json.loads(listing.stdout) == []
    assert (fresh / "sessions").is_dir()

    where = installed.run([str(installed.python), "-I", "-c", "import app; print(app.__file__)"])
    assert Path(where.stdout.strip()).is_relative_to(installed.venv), where.stdout


@pytest.mark.timeout(1200)
def test_the_installed_window_shows_every_icon(installed: InstalledApp, xserver: XServer) -> None:
    names = sorted(names_the_code_uses())
    data_dir = installed.work / "window-data"
    check = installed.run([str(installed.python), "-I", str(Path(__file__).with_name("installed_check.py")),
                           str(data_dir), json.dumps(names)], DISPLAY=xserver.display)
    lines = [line for line in check.stdout.splitlines() if line.startswith("REPORT ")]
    assert check.returncode == 0 and lines, check.stdout[-2000:] + check.stderr[-3000:]
    report = json.loads(lines[-1].removeprefix("REPORT "))

    assert Path(report["appFile"]).is_relative_to(installed.venv), report["appFile"]
    assert set(names) <= set(report["packaged"])
    empty = [name for name, pixels in report["pixels"].items() if pixels == 0]
    assert empty == [], f"icons drawn empty from the installed package: {empty}"
    assert report["exitCode"] == 0 and report["platform"] == "xcb"
    # The real window asked for its icons and got every one.
    assert {"app", "record", "pause", "stop"} <= set(report["requested"])
    assert all(report["requested"].values()), report["requested"]
    assert report["windowIcon"] and report["desktopFileName"] == "sessionrec"


@pytest.mark.timeout(1200)
def test_the_desktop_entry_of_an_installed_app_starts_its_window(
        installed: InstalledApp, xserver: XServer) -> None:
    xdg = {"XDG_DATA_HOME": str(installed.work / "xdg-data"),
           "XDG_CONFIG_HOME": str(installed.work / "xdg-config")}
    result = installed.run([str(installed.sessionrec), "install-desktop-entry"], **xdg)
    assert result.returncode == 0, result.stderr
    menu = installed.work / "xdg-data" / "applications" / "sessionrec.desktop"
    validate(menu)
    entry = read_entry(menu)
    argv = exec_argv(entry["Exec"])
    assert argv == [str(installed.sessionrec)] and entry["TryExec"] == argv[0]

    # Start it the way the desktop would, and find its window by the class the entry names.
    data_dir = installed.work / "entry-data"
    window = subprocess.Popen([*argv, "--data-dir", str(data_dir), "gui", "--exit-after", "2"],
                              cwd=installed.work, env=installed.env(DISPLAY=xserver.display),
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert window.stdout is not None
        ready = window.stdout.readline()
        assert "window ready" in ready, ready
        x_env = installed.env(DISPLAY=xserver.display)
        found = subprocess.run(["xdotool", "search", "--class", entry["StartupWMClass"]], env=x_env,
                               capture_output=True, text=True, timeout=10)
        ids = found.stdout.split()
        assert len(ids) == 1, f"windows of class {entry['StartupWMClass']!r}: {ids}"
        props = subprocess.run(["xprop", "-id", ids[0], "WM_CLASS", "_GTK_APPLICATION_ID",
                                "_KDE_NET_WM_DESKTOP_FILE"], env=x_env, capture_output=True,
                               text=True, timeout=10).stdout.splitlines()
        # WM_CLASS (instance, class) matches StartupWMClass; the desktop file name set by the app
        # names the entry's file id, the way GNOME and KDE match a window to its entry.
        assert props == ['WM_CLASS(STRING) = "sessionrec", "sessionrec"',
                         '_GTK_APPLICATION_ID(UTF8_STRING) = "sessionrec"',
                         '_KDE_NET_WM_DESKTOP_FILE(UTF8_STRING) = "sessionrec"'], props
        assert menu.stem == "sessionrec"
    finally:
        try:
            _, err = window.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            window.kill()
            _, err = window.communicate()
    assert window.returncode == 0, err[-3000:]
