"""The one way to open a file of a session folder (the trust rule, DESIGN §9).

A data folder is untrusted input: it may be synced, restored, hand-edited or written by another
program. So every path inside a session folder is opened here, and only if:
- it is a relative path that stays inside the folder (no absolute path, no `..`, no empty or
  control-character component, no backslash);
- no component is a symbolic link: each directory is opened with `O_NOFOLLOW` relative to the
  previous one (`dir_fd`), so a link swapped in between a check and an open is refused too;
- the last component is a regular file (`S_ISREG` on the open descriptor); it is opened
  `O_NONBLOCK`, so a FIFO can never block, and the flag is cleared once the file is known regular;
- reads are bounded by the caller's size limit.
Nothing here follows a link, and nothing outside the session folder is read, written, truncated or
deleted because of what is inside it.
"""

from __future__ import annotations

import contextlib
import errno
import functools
import os
import re
import secrets
import shutil
import stat
from collections.abc import Iterator
from pathlib import Path, PurePosixPath
from typing import BinaryIO, TextIO, cast

# A session folder holds a handful of fixed names and screenshots; nothing longer is ours.
MAX_REL_LENGTH = 255
MAX_DEPTH = 4
FILE_MODE = 0o600
DIR_MODE = 0o700

_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
# O_NOCTTY: a terminal device put in place of a file must not become our controlling terminal.
_FILE_FLAGS = os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC | os.O_NOCTTY

_MODE_FLAGS = {
    "rb": os.O_RDONLY,
    "r": os.O_RDONLY,
    "r+b": os.O_RDWR,
    "ab": os.O_WRONLY | os.O_APPEND | os.O_CREAT,
    "a": os.O_WRONLY | os.O_APPEND | os.O_CREAT,
    "wb": os.O_WRONLY | os.O_CREAT,
    "w": os.O_WRONLY | os.O_CREAT,
    "xb": os.O_WRONLY | os.O_CREAT | os.O_EXCL,
}


class UnsafeFile(OSError):
    """A session path that breaks the trust rule; str() is one plain sentence."""

    def __init__(self, sentence: str, err: int = errno.EPERM) -> None:
        super().__init__(err, sentence)
        self.sentence = sentence

    def __str__(self) -> str:
        return self.sentence


def check_rel(rel: str | PurePosixPath) -> str:
    """The normalised relative path, or UnsafeFile when it could leave the folder."""
    return _check_rel(str(rel))


_UNSAFE_CHARS = re.compile(r"[\x00-\x1f\x7f\\]")


# A session has a handful of distinct names, checked again on every listing: remember the
# answers (only good ones are cached; a refusal raises every time).
@functools.lru_cache(maxsize=8192)
def _check_rel(text: str) -> str:
    if not text or len(text) > MAX_REL_LENGTH:
        raise UnsafeFile(f"The path '{_shown(text)}' is empty or too long for a session file.")
    if _UNSAFE_CHARS.search(text):
        raise UnsafeFile(f"The path '{_shown(text)}' contains characters a session file never has.")
    if text.startswith("/"):
        raise UnsafeFile(f"The path '{_shown(text)}' is absolute; session files are inside their "
                         "folder.")
    parts = text.split("/")
    if any(part in ("", ".", "..") for part in parts):
        raise UnsafeFile(f"The path '{_shown(text)}' leaves or skips around the session folder.")
    if len(parts) > MAX_DEPTH:
        raise UnsafeFile(f"The path '{_shown(text)}' is nested deeper than any session file.")
    return text


def _shown(text: str) -> str:
    clean = "".join(ch if ch.isprintable() else "?" for ch in text[:80])
    return clean + ("…" if len(text) > 80 else "")


def check_session_root(root: Path) -> None:
    """UnsafeFile unless `root` itself is a real directory (not a link to one)."""
    try:
        info = os.lstat(root)
    except FileNotFoundError:
        raise
    if stat.S_ISLNK(info.st_mode):
        raise UnsafeFile(f"The session folder {root.name} is a symbolic link, which is not followed.")
    if not stat.S_ISDIR(info.st_mode):
        raise UnsafeFile(f"The session folder {root.name} is not a folder.")


def _open_root(root: Path) -> int:
    try:
        return os.open(root, _DIR_FLAGS)
    except OSError as exc:
        if exc.errno in (errno.ELOOP, errno.ENOTDIR):
            check_session_root(root)
        raise


@contextlib.contextmanager
def _parent_fd(root: Path, rel: str, create_dirs: bool = False) -> Iterator[tuple[int, str]]:
    """(fd of the folder holding rel's last component, that component), walked without links."""
    parts = check_rel(rel).split("/")
    fd = _open_root(root)
    try:
        for index, part in enumerate(parts[:-1]):
            if create_dirs:
                with contextlib.suppress(FileExistsError):
                    os.mkdir(part, DIR_MODE, dir_fd=fd)
            try:
                next_fd = os.open(part, _DIR_FLAGS, dir_fd=fd)
            except OSError as exc:
                if exc.errno in (errno.ELOOP, errno.ENOTDIR):
                    where = "/".join(parts[: index + 1])
                    raise UnsafeFile(
                        f"{where} in session {root.name} is a symbolic link or not a folder, "
                        "which is not followed.", exc.errno) from exc
                raise
            os.close(fd)
            fd = next_fd
        yield fd, parts[-1]
    finally:
        os.close(fd)


def describe_kind(mode: int) -> str:
    return ("a symbolic link" if stat.S_ISLNK(mode)
            else "a folder" if stat.S_ISDIR(mode)
            else "a FIFO" if stat.S_ISFIFO(mode)
            else "a socket" if stat.S_ISSOCK(mode)
            else "a device" if stat.S_ISCHR(mode) or stat.S_ISBLK(mode)
            else "not a regular file")


def _refuse_kind(info: os.stat_result, rel: str, root: Path | None) -> None:
    if stat.S_ISREG(info.st_mode):
        return
    where = f"{rel} in session {root.name}" if root is not None else rel
    raise UnsafeFile(f"{where} is {describe_kind(info.st_mode)}; only regular files are opened.")


def open_fd(root: Path, rel: str, flags: int = os.O_RDONLY, create_mode: int = FILE_MODE,
            create_dirs: bool = False) -> int:
    """An fd of the regular file `rel` inside `root`, opened without following any link."""
    if flags & os.O_TRUNC:
        # Truncating before the kind is known could cut a file the rule must not touch.
        raise ValueError("open_fd never truncates on open; use truncate() after checking")
    with _parent_fd(root, rel, create_dirs) as (parent, name):
        try:
            fd = os.open(name, flags | _FILE_FLAGS, create_mode, dir_fd=parent)
        except OSError as exc:
            if exc.errno in (errno.ELOOP, errno.ENXIO, errno.EISDIR, errno.EWOULDBLOCK):
                try:
                    info: os.stat_result | None = os.stat(name, dir_fd=parent,
                                                          follow_symlinks=False)
                except OSError:
                    info = None
                if info is not None:
                    _refuse_kind(info, rel, root)  # names the kind (a link, a FIFO...)
                raise UnsafeFile(f"{rel} in session {root.name} cannot be opened safely "
                                 f"({exc.strerror}).", exc.errno) from exc
            raise
    try:
        _refuse_kind(os.fstat(fd), rel, root)
        # Known regular now: blocking reads and writes behave as usual.
        os.set_blocking(fd, True)
    except BaseException:
        os.close(fd)
        raise
    return fd


def open_regular(path: Path) -> int:
    """A read-only fd of the data folder's own file `path` (settings, credentials): the folders
    on the way are the user's choice and are followed, the file itself must be a regular file
    and not a link; opened non-blocking, so a FIFO there never hangs a command."""
    try:
        fd = os.open(path, os.O_RDONLY | _FILE_FLAGS)
    except OSError as exc:
        if exc.errno in (errno.ELOOP, errno.ENXIO, errno.EISDIR, errno.EWOULDBLOCK):
            try:
                info: os.stat_result | None = os.lstat(path)
            except OSError:
                info = None
            if info is not None:
                _refuse_kind(info, path.name, None)  # names the kind (a link, a FIFO...)
            raise UnsafeFile(f"{path.name} cannot be opened safely ({exc.strerror}).",
                             exc.errno) from exc
        raise
    try:
        _refuse_kind(os.fstat(fd), path.name, None)
        os.set_blocking(fd, True)
    except BaseException:
        os.close(fd)
        raise
    return fd


def open_binary(root: Path, rel: str, mode: str = "rb", create_dirs: bool = False,
                buffering: int = -1) -> BinaryIO:
    """`rel` as a binary file object; `buffering=0` gives an unbuffered FileIO (for writers that
    must reach the disk on every write, such as the video muxer)."""
    flags = _MODE_FLAGS[mode]
    fd = open_fd(root, rel, flags, create_dirs=create_dirs)
    if mode == "wb":
        os.ftruncate(fd, 0)
    return cast(BinaryIO, os.fdopen(fd, mode, buffering=buffering))


def open_path(path: Path, mode: str = "rb", buffering: int = -1) -> BinaryIO:
    """`open_binary` with the file's own folder as the root, for callers that hold a full path:
    neither that folder nor the file may be a link, and the file must be a regular file."""
    return open_binary(path.parent, path.name, mode, buffering=buffering)


def open_text(root: Path, rel: str, mode: str = "r", encoding: str = "utf-8",
              create_dirs: bool = False) -> TextIO:
    flags = _MODE_FLAGS[mode]
    fd = open_fd(root, rel, flags, create_dirs=create_dirs)
    if mode == "w":
        os.ftruncate(fd, 0)
    return cast(TextIO, os.fdopen(fd, mode, encoding=encoding))


def read_bytes(root: Path, rel: str, max_bytes: int) -> bytes:
    """The whole file, or UnsafeFile when it is larger than `max_bytes`."""
    fd = open_fd(root, rel)
    with os.fdopen(fd, "rb") as handle:
        data = handle.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise UnsafeFile(f"{rel} in session {root.name} is larger than any file sessionrec writes "
                         f"({max_bytes:,} bytes at most).", errno.EFBIG)
    return data


def stat_regular(root: Path, rel: str) -> os.stat_result | None:
    """lstat of `rel`: None when missing, UnsafeFile when it or a folder on the way is not plain."""
    try:
        with _parent_fd(root, rel) as (parent, name):
            info = os.stat(name, dir_fd=parent, follow_symlinks=False)
    except (FileNotFoundError, NotADirectoryError):
        return None
    _refuse_kind(info, rel, root)
    return info


def is_regular(root: Path, rel: str) -> bool:
    """True only for a regular file reached without links; never raises."""
    try:
        return stat_regular(root, rel) is not None
    except OSError:
        return False


def permission_problem(root: Path, rel: str, write: bool = False) -> str | None:
    """None when this process may read (and with `write`, write) the regular file `rel`, else a
    clause naming it; a missing file is no problem. Never opens the file (a cheap check for
    the list, where opening every file of every session would cost too much)."""
    try:
        with _parent_fd(root, rel) as (parent, name):
            os.stat(name, dir_fd=parent, follow_symlinks=False)
            wanted = os.R_OK | (os.W_OK if write else 0)
            if os.access(name, wanted, dir_fd=parent, effective_ids=True, follow_symlinks=False):
                return None
    except (FileNotFoundError, NotADirectoryError):
        return None
    what = "read and written" if write else "read"
    return f"{rel} cannot be {what} (permission denied)"


def exists_any(root: Path, rel: str) -> bool:
    """Whether anything (file, folder, link, FIFO) sits at `rel`; never follows, never raises."""
    try:
        with _parent_fd(root, rel) as (parent, name):
            os.stat(name, dir_fd=parent, follow_symlinks=False)
        return True
    except (OSError, ValueError):
        return False


def list_files(root: Path, rel_dir: str, strict: bool = False) -> list[str]:
    """Names of the regular, non-hidden files in a sub-folder, sorted; [] when it is missing.

    Other entries (links, folders, FIFOs) are skipped, or with `strict` refused (UnsafeFile):
    the export uses strict, so a link where a recording file should be is a damaged session,
    never a silently smaller zip."""
    check_rel(rel_dir)
    try:
        fd = _open_subdir(root, rel_dir)
    except FileNotFoundError:
        return []
    try:
        names = []
        for name in os.listdir(fd):
            if name.startswith("."):
                continue
            try:
                info = os.stat(name, dir_fd=fd, follow_symlinks=False)
            except FileNotFoundError:
                continue
            if stat.S_ISREG(info.st_mode):
                names.append(name)
            elif strict:
                _refuse_kind(info, f"{rel_dir}/{_shown(name)}", root)
        return sorted(names)
    finally:
        os.close(fd)


def list_names(root: Path) -> list[str]:
    """Every entry name directly in the session folder (any kind), sorted; never follows."""
    fd = _open_root(root)
    try:
        return sorted(os.listdir(fd))
    finally:
        os.close(fd)


def _open_subdir(root: Path, rel_dir: str) -> int:
    with _parent_fd(root, rel_dir + "/x") as (parent, _):
        return os.dup(parent)


def truncate(root: Path, rel: str, size: int) -> None:
    fd = open_fd(root, rel, os.O_WRONLY)
    try:
        os.ftruncate(fd, size)
    finally:
        os.close(fd)


def unlink(root: Path, rel: str, missing_ok: bool = True) -> None:
    """Remove `rel` (a file or a link, never what a link points to)."""
    try:
        with _parent_fd(root, rel) as (parent, name):
            info = os.stat(name, dir_fd=parent, follow_symlinks=False)
            if stat.S_ISDIR(info.st_mode):
                raise UnsafeFile(f"{rel} in session {root.name} is a folder, not a file.")
            os.unlink(name, dir_fd=parent)
    except FileNotFoundError:
        if not missing_ok:
            raise


def remove(root: Path, rel: str) -> None:
    """Remove `rel` whatever it is: a file or a link (never its target), or a folder with all
    it holds (walked by descriptors, links inside removed as links). Missing is fine."""
    try:
        with _parent_fd(root, rel) as (parent, name):
            info = os.stat(name, dir_fd=parent, follow_symlinks=False)
            if stat.S_ISDIR(info.st_mode):
                # The fd-based rmtree never follows a link, even one swapped in while it runs.
                shutil.rmtree(name, dir_fd=parent)
            else:
                os.unlink(name, dir_fd=parent)
    except FileNotFoundError:
        return


def rename(root: Path, src: str, dst: str) -> None:
    """Rename within the session folder; a link at `dst` is replaced, its target untouched."""
    with _parent_fd(root, src) as (src_parent, src_name), \
            _parent_fd(root, dst) as (dst_parent, dst_name):
        os.replace(src_name, dst_name, src_dir_fd=src_parent, dst_dir_fd=dst_parent)


def make_dir(root: Path, rel: str) -> None:
    """Create the sub-folder `rel` (mode 0700) and any missing folder on the way; never through
    a link. An existing real folder is fine."""
    with _parent_fd(root, rel + "/x", create_dirs=True):
        pass


def create_session_folder(root: Path) -> None:
    """A new, empty session folder, mode 0700 (FileExistsError if anything is there)."""
    os.mkdir(root, DIR_MODE)
    # mkdir's mode is filtered by the umask; the folder must be exactly private.
    os.chmod(root, DIR_MODE)


def write_atomic(root: Path, rel: str, data: bytes, mode: int = FILE_MODE) -> None:
    """Replace `rel` with `data` through a temp file in the same folder (flush, fsync, rename)."""
    with _parent_fd(root, rel, create_dirs=True) as (parent, name):
        tmp = f".{name}.{os.getpid()}.{secrets.token_hex(4)}.tmp"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC,
                     mode, dir_fd=parent)
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
                os.fchmod(handle.fileno(), mode)
            # rename over a link replaces the link itself, never its target.
            os.replace(tmp, name, src_dir_fd=parent, dst_dir_fd=parent)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp, dir_fd=parent)
            raise
        with contextlib.suppress(OSError):
            os.fsync(parent)
