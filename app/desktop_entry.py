"""The per-user desktop integration (freedesktop.org): a menu entry, the icon in the hicolor theme
and, on request, an XDG autostart entry. Qt-free; the PNG sizes are rendered by the caller.

Every file has a fixed name derived from `APP_ID`, so `remove` deletes exactly the files `install`
writes and nothing else: folders (shared with other applications) stay.
"""

from __future__ import annotations

import contextlib
import os
import sys
import sysconfig
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from app import __version__
from app.jsonfile import write_bytes_atomic

# The desktop file id (sessionrec.desktop), the icon name, the window's desktop file name and its
# WM_CLASS are all this one name, so the desktop can match the running window to its entry.
APP_ID = "sessionrec"
ICON_SIZES = (16, 24, 32, 48, 64, 128, 256)
# Written into every entry; `remove` leaves a .desktop file without it alone (not ours).
MARKER_KEY = "X-Sessionrec-Version"
CATEGORIES = "AudioVideo;Video;Recorder;"
MAX_ENTRY_BYTES = 1 << 20

# Characters that force an Exec argument into double quotes (Desktop Entry spec, "The Exec key").
_RESERVED = frozenset(" \t\"'\\><~|&;$*?#()`")
_ESCAPED_IN_QUOTES = frozenset('"`$\\')


class EntryError(Exception):
    """A one-sentence reason the entry cannot be written."""


@dataclass(frozen=True)
class DesktopDirs:
    data_home: Path
    config_home: Path

    @classmethod
    def from_environ(cls, environ: Mapping[str, str]) -> DesktopDirs:
        home = Path(environ.get("HOME") or Path.home())
        return cls(_xdg_dir(environ, "XDG_DATA_HOME", home / ".local" / "share"),
                   _xdg_dir(environ, "XDG_CONFIG_HOME", home / ".config"))

    @property
    def menu_entry(self) -> Path:
        return self.data_home / "applications" / f"{APP_ID}.desktop"

    @property
    def autostart_entry(self) -> Path:
        return self.config_home / "autostart" / f"{APP_ID}.desktop"

    @property
    def hicolor(self) -> Path:
        return self.data_home / "icons" / "hicolor"

    def png_icon(self, size: int) -> Path:
        return self.hicolor / f"{size}x{size}" / "apps" / f"{APP_ID}.png"

    @property
    def svg_icon(self) -> Path:
        return self.hicolor / "scalable" / "apps" / f"{APP_ID}.svg"

    def icon_files(self) -> list[Path]:
        return [*(self.png_icon(size) for size in ICON_SIZES), self.svg_icon]


def _xdg_dir(environ: Mapping[str, str], name: str, default: Path) -> Path:
    # The spec says a relative value is invalid and must be ignored.
    value = environ.get(name, "")
    return Path(value) if value and os.path.isabs(value) else default


@dataclass(frozen=True)
class Launcher:
    """How the desktop starts this installation: the command and the program TryExec checks."""

    argv: list[str]
    try_exec: str


def find_launcher(data_dir: Path | None = None) -> Launcher:
    """The `sessionrec` script of the interpreter running now (a venv's, pipx's, or the user
    scheme's), else `python -m app`; with `data_dir`, the entry opens that data folder."""
    python = os.path.abspath(sys.executable)  # not resolved: a venv's python is a symlink
    candidates = [Path(python).parent / APP_ID, Path(sysconfig.get_path("scripts")) / APP_ID]
    with contextlib.suppress(KeyError):
        user_scheme = sysconfig.get_preferred_scheme("user")
        candidates.append(Path(sysconfig.get_path("scripts", user_scheme)) / APP_ID)
    script = next((c for c in candidates if c.is_file() and os.access(c, os.X_OK)), None)
    argv = [str(script)] if script else [python, "-m", "app"]
    if data_dir is not None:
        argv += ["--data-dir", str(data_dir)]
    return Launcher(argv, argv[0])


def exec_argument(arg: str) -> str:
    """One argument of an Exec line, quoted as the Desktop Entry spec asks."""
    if any(ch in arg for ch in "\n\r\0"):
        raise EntryError(f"a desktop entry cannot start a program whose path contains a line break: {arg!r}.")
    arg = arg.replace("%", "%%")
    if arg and not any(ch in _RESERVED for ch in arg):
        return arg
    inner = "".join(f"\\{ch}" if ch in _ESCAPED_IN_QUOTES else ch for ch in arg)
    return f'"{inner}"'


def _string_value(value: str) -> str:
    # The general escaping of a desktop entry string value, applied after the Exec quoting.
    return value.replace("\\", "\\\\").replace("\t", "\\t")


def entry_text(launcher: Launcher, autostart: bool = False) -> str:
    exec_line = " ".join(exec_argument(arg) for arg in launcher.argv)
    lines = [
        "[Desktop Entry]",
        "Type=Application",
        "Version=1.4",
        f"Name={APP_ID}",
        "GenericName=Screen Session Recorder",
        "Comment=Record screen sessions (video, screenshots and input) and upload them to S3",
        f"Exec={_string_value(exec_line)}",
        f"TryExec={_string_value(launcher.try_exec)}",  # a plain path: no Exec quoting
        f"Icon={APP_ID}",
        "Terminal=false",
        f"Categories={CATEGORIES}",
        "Keywords=screen;recording;recorder;capture;session;S3;upload;",
        "StartupNotify=true",
        f"StartupWMClass={APP_ID}",
        f"{MARKER_KEY}={__version__}",
    ]
    if autostart:
        lines.append("X-GNOME-Autostart-enabled=true")
    return "\n".join(lines) + "\n"


@dataclass(frozen=True)
class InstallPlan:
    launcher: Launcher
    autostart: bool
    svg: bytes
    render_png: Callable[[int], bytes]


def install(dirs: DesktopDirs, plan: InstallPlan) -> list[Path]:
    """Write the icons, the menu entry and (with autostart) the login entry; returns what was
    written. The icons go first, so a menu entry never points at a missing icon."""
    files: dict[Path, bytes] = {dirs.png_icon(size): plan.render_png(size) for size in ICON_SIZES}
    files[dirs.svg_icon] = plan.svg
    files[dirs.menu_entry] = entry_text(plan.launcher).encode()
    if plan.autostart:
        files[dirs.autostart_entry] = entry_text(plan.launcher, autostart=True).encode()
    for path, data in files.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        write_bytes_atomic(path, data, mode=0o644)
    # Icon theme caches notice new icons by the theme folder's mtime (what xdg-icon-resource does).
    os.utime(dirs.hicolor)
    return list(files)


@dataclass(frozen=True)
class Removal:
    removed: list[Path]
    kept: list[Path]  # a .desktop file of that name that sessionrec did not write


def _is_our_entry(path: Path) -> bool:
    try:
        with path.open("rb") as handle:
            text = handle.read(MAX_ENTRY_BYTES).decode("utf-8", "replace")
    except OSError:
        return False
    return any(line.startswith(f"{MARKER_KEY}=") for line in text.splitlines())


def remove(dirs: DesktopDirs, autostart_only: bool = False) -> Removal:
    """Delete what `install` writes (only the autostart entry with `autostart_only`)."""
    entries = [dirs.autostart_entry] if autostart_only else [dirs.menu_entry, dirs.autostart_entry]
    icons = [] if autostart_only else dirs.icon_files()
    removed: list[Path] = []
    kept: list[Path] = []
    for path in [*entries, *icons]:
        if not path.is_symlink() and not path.exists():
            continue
        if path.is_dir() and not path.is_symlink():
            kept.append(path)
            continue
        if path in entries and not path.is_symlink() and not _is_our_entry(path):
            kept.append(path)
            continue
        path.unlink()
        removed.append(path)
    if icons and dirs.hicolor.is_dir():
        os.utime(dirs.hicolor)
    return Removal(removed, kept)
