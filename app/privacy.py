"""Private by default: tighten a data folder made by an older build (or by hand) at start.

New folders are created 0700 and new files 0600 (app.paths, app.session_files, app.jsonfile,
app.logs). A data folder from before that, or restored from a backup, may still be 0755/0644:
at every start the data folder, `sessions/`, `logs/` and each session folder are brought to
0700, and the files directly in the data folder and in `logs/` to 0600. The files inside a
session folder that had to be tightened are tightened too (one walk, once: the next start finds
the folder private and skips it). A private folder already hides everything in it, so the cost
at a normal start is one lstat per session. Nothing is followed: links are left alone, and a
file is changed only through a descriptor opened on the file itself (never through a link).
"""

from __future__ import annotations

import contextlib
import os
import stat
from dataclasses import dataclass, field
from pathlib import Path

from app.paths import DIR_MODE, FILE_MODE, sessions_root
from app.sessions import iter_session_paths

_OPEN_DIR = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
_OPEN_FILE = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC | os.O_NOCTTY


@dataclass
class Tightened:
    folders: list[str] = field(default_factory=list)
    files: int = 0
    session_folders: int = 0

    def sentence(self) -> str | None:
        if not (self.folders or self.files or self.session_folders):
            return None
        parts = list(self.folders)
        if self.session_folders:
            parts.append(f"{self.session_folders} session folder(s)")
        if self.files:
            parts.append(f"{self.files} file(s)")
        return (f"Made the data folder private: tightened {', '.join(parts)} "
                f"to {DIR_MODE:04o} (folders) / {FILE_MODE:04o} (files).")


def _tighten_fd(fd: int, want: int) -> bool:
    info = os.fstat(fd)
    if stat.S_IMODE(info.st_mode) & ~want == 0:
        return False
    os.fchmod(fd, stat.S_IMODE(info.st_mode) & want)
    return True


def _tighten_dir_at(name: str, parent: int | None, want: int = DIR_MODE) -> bool:
    try:
        fd = os.open(name, _OPEN_DIR, dir_fd=parent)
    except OSError:
        return False  # missing, a link, or not ours: left alone
    try:
        return _tighten_fd(fd, want)
    except OSError:
        return False
    finally:
        os.close(fd)


def _tighten_files_in(folder: int, recurse: bool) -> int:
    """Tighten the regular files in an open folder (and its real sub-folders with `recurse`)."""
    count = 0
    for name in os.listdir(folder):
        try:
            info = os.stat(name, dir_fd=folder, follow_symlinks=False)
        except OSError:
            continue
        if stat.S_ISDIR(info.st_mode) and recurse:
            _tighten_dir_at(name, folder)
            with contextlib.suppress(OSError):
                sub = os.open(name, _OPEN_DIR, dir_fd=folder)
                try:
                    count += _tighten_files_in(sub, recurse)
                finally:
                    os.close(sub)
        elif stat.S_ISREG(info.st_mode) and stat.S_IMODE(info.st_mode) & ~FILE_MODE:
            try:
                fd = os.open(name, _OPEN_FILE, dir_fd=folder)
            except OSError:
                continue
            try:
                if stat.S_ISREG(os.fstat(fd).st_mode) and _tighten_fd(fd, FILE_MODE):
                    count += 1
            except OSError:
                pass
            finally:
                os.close(fd)
    return count


def _files_of(folder: Path, recurse: bool) -> int:
    try:
        fd = os.open(folder, _OPEN_DIR)
    except OSError:
        return 0
    try:
        return _tighten_files_in(fd, recurse)
    finally:
        os.close(fd)


def tighten_data_dir(data_dir: Path) -> str | None:
    """Bring the data folder to 0700/0600; returns one sentence saying what changed, or None."""
    done = Tightened()
    # The data folder itself may be a link the user chose (to another disk): it is followed.
    # Nothing inside it is: a link there is left as it is.
    with contextlib.suppress(OSError):
        fd = os.open(data_dir, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        try:
            if _tighten_fd(fd, DIR_MODE):
                done.folders.append("the data folder")
        finally:
            os.close(fd)
    for sub in ("sessions", "logs"):
        if _tighten_dir_at(str(data_dir / sub), None):
            done.folders.append(f"{sub}/")
    done.files += _files_of(data_dir, recurse=False) + _files_of(data_dir / "logs", recurse=False)
    try:
        sessions_fd = os.open(sessions_root(data_dir), _OPEN_DIR)
    except OSError:
        return done.sentence()
    try:
        for paths in iter_session_paths(data_dir):
            if _tighten_dir_at(paths.session_id, sessions_fd):
                done.session_folders += 1
                # Made by an older build: its files are likely 0644 too.
                done.files += _files_of(paths.root, recurse=True)
    finally:
        os.close(sessions_fd)
    return done.sentence()
