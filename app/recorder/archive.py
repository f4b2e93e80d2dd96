"""Export a finished session as session.zip, verified, then marked with .exported.

Steps: write `session.zip.partial` (ZIP64 allowed; video and PNGs stored as they are, JSON and
JSONL deflated; `manifest.json` last with the size and SHA-256 of every member), fsync, rename to
`session.zip`, read it back (every member's CRC via zipfile, every member's SHA-256 and size
against the manifest, no member missing or extra), hash the zip, record zipPath / fileSizeBytes /
zipSha256 in the meta, and only then write `.exported`. Any failure removes the partial or bad
zip and writes no marker, so `.exported` always means a complete, verified zip.

Every file is opened through app.session_files: only the session's own regular files are packed
(a link, FIFO or folder where a recording file belongs refuses the export with a sentence), and
the zip is written, renamed, read back and hashed without ever following a link.
"""

from __future__ import annotations

import contextlib
import dataclasses
import errno
import hashlib
import os
import threading
import time
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

from app import session_files
from app.hashing import stream_sha256
from app.jsonfile import MAX_JSON_BYTES, dumps, loads
from app.models import SessionMeta
from app.sessions import (
    ACTIONS_FILE,
    EXPORTED_MARKER,
    FRAMES_FILE,
    META_FILE,
    SCREENSHOTS_DIR,
    VIDEO_DIR,
    ZIP_FILE,
    ZIP_PARTIAL_FILE,
    SessionPaths,
    recording_problems,
    save_meta,
)

MANIFEST = "manifest.json"
CHUNK = 1024 * 1024
# Already-compressed media gains nothing from deflate and costs CPU.
STORED_SUFFIXES = (".mp4", ".png", ".jpg", ".jpeg")


class ExportError(Exception):
    """One sentence saying why the zip could not be written."""


class ExportCancelled(ExportError):
    pass


def members(paths: SessionPaths) -> list[tuple[str, int]]:
    """(path in the session = name in the zip, size) for everything the zip carries: regular
    files only; temp and hidden files are skipped; anything else where a recording file belongs
    raises UnsafeFile (the session is damaged, never silently exported without it)."""
    out: list[tuple[str, int]] = []
    for name in (META_FILE, ACTIONS_FILE, FRAMES_FILE):
        info = session_files.stat_regular(paths.root, name)
        if info is not None:
            out.append((name, info.st_size))
    for folder in (VIDEO_DIR, SCREENSHOTS_DIR):
        for file in session_files.list_files(paths.root, folder, strict=True):
            info = session_files.stat_regular(paths.root, f"{folder}/{file}")
            if info is not None:
                out.append((f"{folder}/{file}", info.st_size))
    return out


def _zip_info(name: str, mtime: float) -> zipfile.ZipInfo:
    # zipfile's ZipInfo.from_file would stat the path (following links); build it from the
    # descriptor's own stat instead. Zip times cannot be before 1980.
    stamp = time.localtime(mtime)
    date_time = max((stamp.tm_year, stamp.tm_mon, stamp.tm_mday, stamp.tm_hour, stamp.tm_min,
                     stamp.tm_sec), (1980, 1, 1, 0, 0, 0))
    info = zipfile.ZipInfo(name, date_time)
    info.external_attr = 0o600 << 16
    return info


def _copy_hashing(root: Path, dst: zipfile.ZipFile, name: str, cancel: threading.Event | None,
                  on_bytes: Callable[[int], None]) -> dict[str, object]:
    compress = zipfile.ZIP_STORED if name.endswith(STORED_SUFFIXES) else zipfile.ZIP_DEFLATED
    digest = hashlib.sha256()
    size = 0
    with session_files.open_binary(root, name) as reader:
        info = _zip_info(name, os.fstat(reader.fileno()).st_mtime)
        info.compress_type = compress
        with dst.open(info, "w", force_zip64=True) as writer:
            while chunk := reader.read(CHUNK):
                if cancel is not None and cancel.is_set():
                    raise ExportCancelled("The export was cancelled.")
                digest.update(chunk)
                writer.write(chunk)
                size += len(chunk)
                on_bytes(len(chunk))
    return {"path": name, "size": size, "sha256": digest.hexdigest()}


def write_zip(paths: SessionPaths, target: str = ZIP_PARTIAL_FILE,
              cancel: threading.Event | None = None,
              on_progress: Callable[[int, int], None] | None = None) -> None:
    """Write the zip to `target` (relative to the session folder)."""
    files = members(paths)
    total = sum(size for _, size in files)
    done = 0

    def on_bytes(count: int) -> None:
        nonlocal done
        done += count
        if on_progress is not None:
            on_progress(done, total)

    # A leftover (or a link planted) at the target is removed first, never written through.
    session_files.unlink(paths.root, target)
    with session_files.open_binary(paths.root, target, "xb") as raw:
        with zipfile.ZipFile(raw, "w", compression=zipfile.ZIP_DEFLATED, allowZip64=True,
                             compresslevel=6) as archive:
            entries = [_copy_hashing(paths.root, archive, name, cancel, on_bytes)
                       for name, _ in files]
            manifest = {"schemaVersion": 1, "sessionId": paths.session_id, "files": entries}
            manifest_info = _zip_info(MANIFEST, time.time())
            manifest_info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(manifest_info, dumps(manifest))
        raw.flush()
        os.fsync(raw.fileno())


def verify_zip(source: Path | BinaryIO) -> None:
    """Raise ExportError unless every member reads back (CRC) and matches the manifest.
    `source` is an open zip, or a path (opened without following a link)."""
    if isinstance(source, Path):
        with session_files.open_path(source) as handle:
            verify_zip(handle)
        return
    try:
        with zipfile.ZipFile(source) as archive:
            if archive.getinfo(MANIFEST).file_size > MAX_JSON_BYTES:
                raise ExportError("The zip's manifest is larger than any sessionrec writes.")
            manifest = loads(archive.read(MANIFEST))
            expected = {entry["path"]: entry for entry in manifest["files"]}
            names = set(archive.namelist()) - {MANIFEST}
            if names != set(expected):
                raise ExportError("The zip's contents do not match its manifest.")
            for name in sorted(names):
                digest = hashlib.sha256()
                size = 0
                # Reading to the end makes zipfile check the member's CRC-32.
                with archive.open(name) as member:
                    while chunk := member.read(CHUNK):
                        digest.update(chunk)
                        size += len(chunk)
                entry = expected[name]
                if size != entry["size"] or digest.hexdigest() != entry["sha256"]:
                    raise ExportError(f"The zip member {name} does not match its manifest.")
    except ExportError:
        raise
    except (zipfile.BadZipFile, KeyError, ValueError, TypeError) as exc:
        raise ExportError(f"The zip did not read back ({exc}).") from exc


def disk_sentence(exc: OSError, what: str) -> str:
    if exc.errno == errno.ENOSPC:
        return f"The disk is full: {what}; the recording is kept and can be exported once there is space."
    if isinstance(exc, session_files.UnsafeFile):
        return f"{what[:1].upper()}{what[1:]}: {str(exc).rstrip('.')}."
    return f"{what[:1].upper()}{what[1:]}: {exc.strerror or exc}."


def export_session(paths: SessionPaths, meta: SessionMeta, cancel: threading.Event | None = None,
                   on_progress: Callable[[int, int], None] | None = None) -> SessionMeta:
    """Write, verify and mark the zip; returns the meta with the zip fields filled in.
    Raises ExportError (one sentence) and leaves no partial zip and no marker on failure."""
    problems = recording_problems(paths)
    if problems:
        raise ExportError(f"The session cannot be exported: {problems[0]}.")
    try:
        session_files.unlink(paths.root, EXPORTED_MARKER)
        # The zip carries exactly this meta, without the zip's own fields (a crash after a
        # previous export's meta save must not leave stale ones in it).
        meta = dataclasses.replace(meta, zip_path=None, file_size_bytes=None, zip_sha256=None)
        save_meta(paths, meta)
        write_zip(paths, ZIP_PARTIAL_FILE, cancel, on_progress)
        session_files.rename(paths.root, ZIP_PARTIAL_FILE, ZIP_FILE)
        with session_files.open_binary(paths.root, ZIP_FILE) as written:
            verify_zip(written)
            size = os.fstat(written.fileno()).st_size
            written.seek(0)
            sha = stream_sha256(written)
        final = dataclasses.replace(meta, zip_path=ZIP_FILE, file_size_bytes=size, zip_sha256=sha)
        save_meta(paths, final)
        session_files.write_atomic(paths.root, EXPORTED_MARKER, b"")
        return final
    except BaseException as exc:
        for leftover in (ZIP_PARTIAL_FILE, ZIP_FILE, EXPORTED_MARKER):
            with contextlib.suppress(OSError):
                session_files.unlink(paths.root, leftover)
        if isinstance(exc, ExportError):
            raise
        if isinstance(exc, OSError):
            raise ExportError(disk_sentence(exc, "the zip could not be written")) from exc
        raise
