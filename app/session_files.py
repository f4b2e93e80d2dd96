"""The one way session files are opened: inside the session folder, no symlink anywhere on the
way, regular files only, never blocking on a FIFO, sizes bounded.

Paths are `(session_root, rel)` with `rel` a relative POSIX path inside the session folder
("actions.jsonl", "video/screen.mp4"). Each component is opened relative to the previous
directory's fd with O_NOFOLLOW, so a symlink swapped in anywhere is refused rather than
followed; the last component is opened O_NONBLOCK (a FIFO cannot hang us) and checked with
fstat to be a regular file before anyone reads it.

(This copy follows the API the trust-rule module publishes; the module on main replaces it.)
"""

from __future__ import annotations

import contextlib
import os
import secrets
import stat
from pathlib import Path
from typing import BinaryIO, TextIO

MAX_REL_LENGTH = 512


class UnsafeFile(OSError):
    """A session file that must not be opened; str() is one plain sentence."""

    def __init__(self, rel: str, what: str) -> None:
        super().__init__(f"The session file {rel[:120]} {what}.")
        self.rel = rel
        self.what = what

    def __str__(self) -> str:
        return str(self.args[0])


def check_rel(rel: str) -> str:
    """`rel` normalised; UnsafeFile when it could leave the folder or is not a plain name."""
    if not rel or len(rel) > MAX_REL_LENGTH:
        raise UnsafeFile(rel or "(empty)", "has an empty or too long name")
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in rel) or "\\" in rel:
        raise UnsafeFile(repr(rel)[1:-1], "has control characters or backslashes in its name")
    if rel.startswith("/"):
        raise UnsafeFile(rel, "is an absolute path")
    parts = [part for part in rel.split("/") if part not in ("", ".")]
    if not parts:
        raise UnsafeFile(rel, "names no file")
    if ".." in parts:
        raise UnsafeFile(rel, "points outside the session folder")
    return "/".join(parts)


def check_session_root(root: Path) -> None:
    try:
        info = os.lstat(root)
    except FileNotFoundError:
        raise
    if stat.S_ISLNK(info.st_mode):
        raise UnsafeFile(root.name, "folder is a symbolic link")
    if not stat.S_ISDIR(info.st_mode):
        raise UnsafeFile(root.name, "folder is not a directory")


def _open_dir_fd(root: Path, parts: list[str], create: bool = False) -> int:
    check_session_root(root)
    fd = os.open(root, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC)
    try:
        for part in parts:
            if create:
                with contextlib.suppress(FileExistsError):
                    os.mkdir(part, 0o700, dir_fd=fd)
            try:
                child = os.open(part, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC,
                                dir_fd=fd)
            except OSError as exc:
                if exc.errno in (40, 20):  # ELOOP (a symlink), ENOTDIR
                    raise UnsafeFile(part, "is a symbolic link or not a folder") from exc
                raise
            os.close(fd)
            fd = child
        return fd
    except BaseException:
        os.close(fd)
        raise


def open_fd(root: Path, rel: str, flags: int = os.O_RDONLY, create_mode: int = 0o600) -> int:
    rel = check_rel(rel)
    *dirs, name = rel.split("/")
    dir_fd = _open_dir_fd(root, dirs)
    try:
        try:
            fd = os.open(name, flags | os.O_NONBLOCK | os.O_NOFOLLOW | os.O_CLOEXEC, create_mode,
                         dir_fd=dir_fd)
        except OSError as exc:
            if exc.errno == 40:  # ELOOP
                raise UnsafeFile(rel, "is a symbolic link") from exc
            if exc.errno == 6:  # ENXIO: a FIFO without a writer, opened for writing
                raise UnsafeFile(rel, "is not a regular file") from exc
            raise
    finally:
        os.close(dir_fd)
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise UnsafeFile(rel, "is not a regular file")
        os.set_blocking(fd, True)
    except BaseException:
        os.close(fd)
        raise
    return fd


_MODES = {
    "rb": os.O_RDONLY,
    "ab": os.O_WRONLY | os.O_APPEND | os.O_CREAT,
    "r+b": os.O_RDWR,
    "wb": os.O_WRONLY | os.O_CREAT | os.O_TRUNC,
}


def open_binary(root: Path, rel: str, mode: str = "rb") -> BinaryIO:
    if mode not in _MODES:
        raise ValueError(f"unsupported mode {mode!r}")
    fd = open_fd(root, rel, _MODES[mode])
    return os.fdopen(fd, mode)  # type: ignore[return-value]


def open_text(root: Path, rel: str, mode: str = "r") -> TextIO:
    if mode not in ("r", "a"):
        raise ValueError(f"unsupported mode {mode!r}")
    fd = open_fd(root, rel, os.O_RDONLY if mode == "r" else os.O_WRONLY | os.O_APPEND | os.O_CREAT)
    return os.fdopen(fd, mode, encoding="utf-8")  # type: ignore[return-value]


def read_bytes(root: Path, rel: str, max_bytes: int) -> bytes:
    with open_binary(root, rel) as handle:
        size = os.fstat(handle.fileno()).st_size
        if size > max_bytes:
            raise UnsafeFile(rel, f"is too large ({size} bytes, at most {max_bytes})")
        data = handle.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise UnsafeFile(rel, f"is too large (more than {max_bytes} bytes)")
    return data


def stat_regular(root: Path, rel: str) -> os.stat_result | None:
    rel = check_rel(rel)
    *dirs, name = rel.split("/")
    try:
        dir_fd = _open_dir_fd(root, dirs)
    except FileNotFoundError:
        return None
    try:
        try:
            info = os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
        except FileNotFoundError:
            return None
    finally:
        os.close(dir_fd)
    if stat.S_ISLNK(info.st_mode):
        raise UnsafeFile(rel, "is a symbolic link")
    if not stat.S_ISREG(info.st_mode):
        raise UnsafeFile(rel, "is not a regular file")
    return info


def list_files(root: Path, rel_dir: str) -> list[str]:
    parts = check_rel(rel_dir).split("/")
    try:
        dir_fd = _open_dir_fd(root, parts)
    except FileNotFoundError:
        return []
    try:
        names = []
        for name in os.listdir(dir_fd):
            if name.startswith("."):
                continue
            try:
                info = os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
            except FileNotFoundError:
                continue
            if stat.S_ISREG(info.st_mode):
                names.append(name)
        return sorted(names)
    finally:
        os.close(dir_fd)


def truncate(root: Path, rel: str, size: int) -> None:
    fd = open_fd(root, rel, os.O_WRONLY)
    try:
        os.ftruncate(fd, size)
    finally:
        os.close(fd)


def unlink(root: Path, rel: str) -> None:
    rel = check_rel(rel)
    *dirs, name = rel.split("/")
    dir_fd = _open_dir_fd(root, dirs)
    try:
        os.unlink(name, dir_fd=dir_fd)
    finally:
        os.close(dir_fd)


def write_atomic(root: Path, rel: str, data: bytes, mode: int = 0o600) -> None:
    rel = check_rel(rel)
    *dirs, name = rel.split("/")
    dir_fd = _open_dir_fd(root, dirs)
    tmp = f".{name}.{os.getpid()}.{secrets.token_hex(4)}.tmp"
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, mode,
                     dir_fd=dir_fd)
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, name, src_dir_fd=dir_fd, dst_dir_fd=dir_fd)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp, dir_fd=dir_fd)
            raise
        with contextlib.suppress(OSError):
            os.fsync(dir_fd)
    finally:
        os.close(dir_fd)
