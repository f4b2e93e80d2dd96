"""Verify before upload: the bytes sent are the bytes the recorder wrote (docs/ARCHITECTURE.md).

The recorder records the zip's SHA-256 and size in session-meta.json when it exports. Before
an upload may end as `done`:
- before the first byte is sent: the zip is a regular file opened through app/session_files.py,
  its size equals `fileSizeBytes`, and zipfile can read its central directory;
- the SHA-256 of the whole file equals `zipSha256`. A single PutObject computes it in the
  checksum pass, before anything is sent. A multipart upload runs one sequential pass on its
  own thread (`SequentialDigests`) that also yields every part's checksum, so the parts are
  not read an extra time; the pass runs far ahead of the network, a mismatch stops the parts
  at once, and the upload is never completed before the hash matched.
Anything that does not match fails with kind `damaged` (permanent: retrying cannot fix it).
"""

from __future__ import annotations

import hashlib
import io
import os
import threading
import zipfile
from collections.abc import Callable

from app.sessions import SessionPaths, load_meta
from app.upload.session.errors import ErrorKind, UploadError
from app.upload.session.part_reader import (
    ReaderStopped,
    SeekableView,
    SharedFd,
    SliceDigest,
    digest_slice,
)

WAIT_SLICE_S = 0.1


def damaged(session_id: str, why: str) -> UploadError:
    return UploadError(ErrorKind.DAMAGED,
                       f"The zip of session {session_id} {why}, so it is not uploaded.", "verify")


def expected_sha256(paths: SessionPaths, size: int) -> str:
    """The SHA-256 the recorder wrote for this zip; UploadError(damaged) when it cannot be known
    or the size already tells the zip is not the one exported."""
    loaded = load_meta(paths)
    sid = paths.session_id
    meta = loaded.value
    if meta is None:
        raise damaged(sid, f"cannot be checked: its session details cannot be read "
                           f"({(loaded.problem or 'session-meta.json is missing').rstrip('.')})")
    sha = (meta.zip_sha256 or "").lower()
    if len(sha) != 64 or any(ch not in "0123456789abcdef" for ch in sha):
        raise damaged(sid, "cannot be checked: session-meta.json does not record its SHA-256")
    if meta.file_size_bytes is not None and meta.file_size_bytes != size:
        raise damaged(sid, f"is {size:,} bytes but was {meta.file_size_bytes:,} bytes when exported "
                           "(it was changed or damaged)")
    return sha


class _FdFile(SeekableView):
    """A read-only, seekable view of an open descriptor for zipfile (pread; fd left open)."""

    def __init__(self, fd: int, size: int) -> None:
        super().__init__(size)
        self._fd = fd
        # zipfile turns an OSError into "not a zip file"; the real cause is kept here.
        self.error: OSError | None = None

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        want = max(0, min(len(buffer), self._length - self._pos))
        if want == 0:
            return 0
        try:
            with memoryview(buffer) as view:
                got = os.preadv(self._fd, [view[:want]], self._pos)
        except OSError as exc:
            self.error = exc
            raise
        self._pos += got
        return got


def check_central_directory(fd: int, size: int, session_id: str) -> None:
    """zipfile reads the end record and every central directory entry, and each member's
    data lies before the directory; UploadError(damaged) otherwise. Reads only the directory."""
    raw = _FdFile(fd, size)
    try:
        with zipfile.ZipFile(io.BufferedReader(raw)) as archive:
            infos = archive.infolist()
            start_dir = getattr(archive, "start_dir", size)
    except OSError:
        raise
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, ValueError, IndexError,
            KeyError, NotImplementedError, OverflowError, UnicodeDecodeError) as exc:
        if raw.error is not None:
            raise raw.error from exc  # a disk read error, not a damaged zip
        raise damaged(session_id, f"is not a readable zip ({_reason(exc)})") from exc
    if not infos:
        raise damaged(session_id, "holds no files")
    for info in infos:
        if info.header_offset < 0 or info.header_offset + info.compress_size > start_dir:
            raise damaged(session_id, f"has a member ({_shown(info.filename)}) that lies outside "
                                      "the archive")


def _reason(exc: BaseException) -> str:
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return text[:120].rstrip(".")


def _shown(name: str) -> str:
    return "".join(ch if ch.isprintable() else "?" for ch in name[:60])


class SequentialDigests:
    """One in-order pass over the zip: its SHA-256, and each part's checksum on the way.

    Runs on its own thread; part workers take their digest from `part()` (waiting the few
    milliseconds the pass is ahead of them), and `result()` says whether the file's hash
    matched once the pass is done. Stops when any of `events` is set.
    """

    def __init__(self, file: SharedFd, size: int, part_size: int, algorithm: str | None,
                 with_md5: bool, expected: str, *events: threading.Event) -> None:
        self._file, self._size, self._part_size = file, size, part_size
        self._algorithm, self._with_md5 = algorithm, with_md5
        self._expected = expected
        self._events = events
        self._digests: dict[int, SliceDigest] = {}
        self._error: BaseException | None = None
        self._matched: bool | None = None
        self._cond = threading.Condition()
        self._thread = threading.Thread(target=self._run, name="upload-verify", daemon=True)

    def start(self) -> SequentialDigests:
        self._thread.start()
        return self

    def _run(self) -> None:
        whole = hashlib.sha256()
        try:
            count = max(1, -(-self._size // self._part_size))
            with self._file.use() as fd:
                for index in range(count):
                    offset = index * self._part_size
                    length = min(self._part_size, self._size - offset)
                    digest = digest_slice(fd, offset, length, self._algorithm, *self._events,
                                          with_md5=self._with_md5, also=(whole,))
                    with self._cond:
                        self._digests[index + 1] = digest
                        self._cond.notify_all()
            matched = whole.hexdigest() == self._expected
            with self._cond:
                self._matched = matched
                self._cond.notify_all()
        except BaseException as exc:  # handed to whoever waits; ReaderStopped on cancel
            with self._cond:
                self._error = exc
                self._cond.notify_all()

    def part(self, number: int) -> SliceDigest:
        """The digest of part `number`; waits for the pass (ReaderStopped on cancel/stop)."""
        with self._cond:
            while number not in self._digests:
                self._raise_if_stopped()
                self._cond.wait(WAIT_SLICE_S)
            return self._digests[number]

    def result(self) -> bool | None:
        """True/False once the whole file was hashed; None while the pass runs.
        Re-raises a read error of the pass."""
        with self._cond:
            if self._matched is None and self._error is not None and \
                    not isinstance(self._error, ReaderStopped):
                raise self._error
            return self._matched

    def wait(self, tick: Callable[[], None]) -> bool:
        """Wait for the pass to end, calling `tick` every WAIT_SLICE_S; returns `result()`."""
        while True:
            matched = self.result()
            if matched is not None:
                return matched
            with self._cond:
                self._raise_if_stopped()
                self._cond.wait(WAIT_SLICE_S)
            tick()

    def _raise_if_stopped(self) -> None:
        if self._error is not None:
            raise self._error
        if any(event.is_set() for event in self._events):
            raise ReaderStopped
