"""The zip of one upload, opened once and checked before anything is sent (verify before upload).

Every pass of an upload (hashing, parts, the final fstat) reads the one descriptor opened
here, so what is hashed and what is sent are the same inode even if a file is renamed over
the path meanwhile.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from app import session_files
from app.sessions import ZIP_FILE, SessionPaths
from app.upload.session.errors import ErrorKind, UploadError, disk_read_error
from app.upload.session.part_reader import ReaderStopped, SharedFd
from app.upload.session.zip_verify import check_central_directory, expected_sha256


@dataclass(frozen=True)
class OpenedZip:
    """The zip of one upload: one descriptor, read by every pass, and what it looked like."""

    root: Path
    file: SharedFd
    size: int
    mtime_ns: int
    ctime_ns: int
    expected_sha256: str

    def changed(self) -> bool:
        """Whether the open file was written to since it was opened (its inode, not the path)."""
        try:
            with self.file.use() as fd:
                info = os.fstat(fd)
        except (OSError, ReaderStopped):
            return True
        return (info.st_size, info.st_mtime_ns, info.st_ctime_ns) != \
            (self.size, self.mtime_ns, self.ctime_ns)


class FolderRemoved(Exception):
    """The session folder disappeared; the caller aborts and raises SESSION_REMOVED."""


def folder_gone(root: Path) -> bool:
    """The session folder no longer exists (a link put in its place is refused, not "gone")."""
    try:
        os.lstat(root)
    except FileNotFoundError:
        return True
    except OSError:
        return False
    return False


def _zip_missing() -> UploadError:
    return UploadError(ErrorKind.ZIP_MISSING,
                       "The session's zip file is missing, so there is nothing to upload.",
                       "FileNotFound")


def open_zip(paths: SessionPaths) -> OpenedZip:
    """Open and check the zip before anything is sent: a regular file reached without links,
    the size recorded at export, a readable central directory."""
    try:
        session_files.check_session_root(paths.root)
        fd = session_files.open_fd(paths.root, ZIP_FILE)
    except FileNotFoundError as exc:
        if folder_gone(paths.root):
            raise FolderRemoved from exc
        raise _zip_missing() from exc
    except session_files.UnsafeFile as exc:
        raise UploadError(ErrorKind.DAMAGED, f"{str(exc).rstrip('.')}, so it is not uploaded.",
                          "unsafe file") from exc
    except OSError as exc:
        raise disk_read_error(exc) from exc
    try:
        info = os.fstat(fd)
        expected = expected_sha256(paths, info.st_size)
        check_central_directory(fd, info.st_size, paths.session_id)
    except BaseException:
        os.close(fd)
        raise
    return OpenedZip(paths.root, SharedFd(fd), info.st_size, info.st_mtime_ns, info.st_ctime_ns,
                     expected)
